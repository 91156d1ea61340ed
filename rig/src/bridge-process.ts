/**
 * The bridge as users run it: the production entry point (dist/bridge/src/main.js) in its own
 * process, with JSON logs on stderr that scenarios read to know its state. With a command (or
 * RIG_BRIDGE_COMMAND set, e.g. to an installed jk-can-bridge), that command runs instead: how CI
 * proves the packed product works, not just this tree's build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

/** The repository root, whether this file runs from source (ts-node) or from dist/. */
const HERE = path.resolve(__dirname, '../..');
const ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;
export const BRIDGE_ENTRY = path.join(ROOT, 'dist/bridge/src/main.js');
/** The installed bridge the rig runs instead of BRIDGE_ENTRY, when set. */
export const INSTALLED_BRIDGE = process.env.RIG_BRIDGE_COMMAND || undefined;
/** Test-only preload that lets a scenario raise an error inside the chart (chart-fault.ts). */
const CHART_FAULT_PRELOAD = path.join(ROOT, 'dist/rig/src/chart-fault.js');

export interface BridgeProcessOptions {
  /** An installed bridge command to run instead of BRIDGE_ENTRY (default RIG_BRIDGE_COMMAND). */
  command?: string;
  /** Preload the test-only chart fault (chart-fault.ts); injectChartError() then triggers it. */
  chartFault?: boolean;
  /** Extra environment (e.g. libfaketime's LD_PRELOAD and FAKETIME for a wall-clock jump). */
  env?: NodeJS.ProcessEnv;
}

/** How the child ended. */
export interface BridgeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What the process handle and the kernel say about the child. */
export type BridgeLiveness = 'running' | 'stopped' | 'exited';

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
  private readonly exited: Promise<BridgeExit>;
  private exitSeen: BridgeExit | null = null;
  private waiters: Array<() => void> = [];

  /** The command that started it, for people to read. */
  readonly commandLine: string;

  constructor(args: string[], options: BridgeProcessOptions = {}) {
    const command = options.command ?? INSTALLED_BRIDGE;
    const argv = [...args, '--log-format', 'json'];
    // The test-only chart fault is a Node preload, so it needs this tree's entry point run by node.
    if (options.chartFault === true && command !== undefined) throw new Error('the chart fault hook needs the bridge from this tree, not an installed command');
    const preload = options.chartFault === true ? ['--require', CHART_FAULT_PRELOAD] : [];
    const [file, fileArgs] = command === undefined ? [process.execPath, [...preload, BRIDGE_ENTRY, ...argv]] : [command, argv];
    const entry = path.relative(process.cwd(), BRIDGE_ENTRY);
    this.commandLine = [command ?? `node ${entry.startsWith('..') ? BRIDGE_ENTRY : entry}`, ...args].join(' ');
    this.child = spawn(file, fileArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } });
    if (this.child.pid === undefined) throw new Error(`could not start ${command ?? BRIDGE_ENTRY}`);
    this.pid = this.child.pid;
    readline.createInterface({ input: this.child.stderr! }).on('line', (raw) => this.onLine(raw));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitSeen = { code, signal };
        resolve(this.exitSeen);
        for (const wake of this.waiters.splice(0)) wake();
      }),
    );
  }

  /** How the child ended (its exit event); null while it has not. */
  get exit(): BridgeExit | null {
    return this.exitSeen;
  }

  /**
   * From the process handle: 'exited' once the exit event came, 'stopped' while the kernel has it
   * stopped or it is a zombie (/proc/<pid>/stat state T, t or Z), else 'running'.
   */
  get liveness(): BridgeLiveness {
    if (this.exitSeen !== null) return 'exited';
    let state: string;
    try {
      // Field 3, after the command name in parentheses (which may itself contain spaces).
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return 'exited';
    }
    return state === 'T' || state === 't' || state === 'Z' ? 'stopped' : 'running';
  }

  /** Resolves with how the child ended, or rejects after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<BridgeExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bridge: still running after ${timeoutMs} ms; last lines:\n${this.tail(8)}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP, as a swapping machine or a long stall freezes a process; resume() continues it. */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** Raises an error inside the chart at its next policy step (needs the chartFault option). */
  injectChartError(): void {
    this.child.kill('SIGUSR2');
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
    if (this.exitSeen !== null) return this.exitSeen.code;
    // A frozen child would not act on SIGTERM.
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const { code } = await this.exited;
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
