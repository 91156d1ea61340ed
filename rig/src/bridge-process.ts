/**
 * The bridge as users run it: the production entry point (dist/bridge/src/main.js) in its own
 * process, with JSON logs on stderr that scenarios read to know its state. With a command (or
 * RIG_BRIDGE_COMMAND set, e.g. to an installed jk-can-bridge), that command runs instead: how CI
 * proves the packed product works, not just this tree's build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

/** The repository root, whether this file runs from source (ts-node) or from dist/. */
const HERE = path.resolve(__dirname, '../..');
const ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;
export const BRIDGE_ENTRY = path.join(ROOT, 'dist/bridge/src/main.js');
/** The installed bridge the rig runs instead of BRIDGE_ENTRY, when set. */
export const INSTALLED_BRIDGE = process.env.RIG_BRIDGE_COMMAND || undefined;

export interface BridgeLogLine {
  atMs: number;
  level: number;
  msg: string;
  /** The chart's state value, on status lines. */
  state?: { bms: unknown; inverter: string; can: unknown };
  raw: string;
}

export class BridgeProcess {
  readonly logs: BridgeLogLine[] = [];
  private readonly child: ChildProcess;
  /** The bridge's process id (for /proc measurements). */
  readonly pid: number;
  private readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  /** The command that started it, for people to read. */
  readonly commandLine: string;

  constructor(args: string[], command = INSTALLED_BRIDGE) {
    const argv = [...args, '--log-format', 'json'];
    const [file, fileArgs] = command === undefined ? [process.execPath, [BRIDGE_ENTRY, ...argv]] : [command, argv];
    const entry = path.relative(process.cwd(), BRIDGE_ENTRY);
    this.commandLine = [command ?? `node ${entry.startsWith('..') ? BRIDGE_ENTRY : entry}`, ...args].join(' ');
    this.child = spawn(file, fileArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`could not start ${command ?? BRIDGE_ENTRY}`);
    this.pid = this.child.pid;
    readline.createInterface({ input: this.child.stderr! }).on('line', (raw) => this.onLine(raw));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  private onLine(raw: string): void {
    let parsed: { level?: number; msg?: string; state?: BridgeLogLine['state'] } = {};
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      parsed = { level: 50, msg: raw };
    }
    this.logs.push({ atMs: Date.now(), level: parsed.level ?? 30, msg: parsed.msg ?? '', state: parsed.state, raw });
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Latest bms state as a dotted name: "connected", "stale", "fault.silent"... */
  get bmsState(): string | undefined {
    return stateName(this.statusLines().at(-1)?.state?.bms);
  }

  statusLines(): BridgeLogLine[] {
    return this.logs.filter((line) => line.state !== undefined);
  }

  /** Resolves with the first log line (already seen or new) matching, or rejects after timeoutMs. */
  async waitFor(description: string, predicate: (line: BridgeLogLine) => boolean, timeoutMs: number, sinceMs = 0): Promise<BridgeLogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find((line) => line.atMs >= sinceMs && predicate(line));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`bridge: no log line "${description}" within ${timeoutMs} ms; last lines:\n${this.tail(8)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForState(region: 'bms' | 'inverter' | 'can', name: string, timeoutMs: number, sinceMs = 0): Promise<BridgeLogLine> {
    return this.waitFor(`${region} ${name}`, (line) => line.state !== undefined && stateName(line.state[region]) === name, timeoutMs, sinceMs);
  }

  tail(n: number): string {
    return this.logs
      .slice(-n)
      .map((line) => `  ${line.msg}`)
      .join('\n');
  }

  /** SIGTERM, as systemd stops it; resolves with the exit code (SIGKILL after graceMs). */
  async stop(graceMs = 5000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Like a power cut: no shutdown frames. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** {connected: 'fresh'} → "connected"; {fault: 'silent'} → "fault.silent"; "stale" → "stale". */
export function stateName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const [key, sub] = Object.entries(value)[0] ?? [];
  if (key === undefined) return undefined;
  if (key === 'connected' || key === 'link') return key === 'link' ? `link.${stateName(sub)}` : 'connected';
  return `${key}.${stateName(sub)}`;
}
