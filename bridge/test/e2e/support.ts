/**
 * End-to-end support: build the bridge with tsc once, run the real entry point
 * (`node dist/bridge/src/main.js`) as a child process, and play a BMS on the far end of a socat pty
 * that answers each read-all request with a captured reply. Everything here reuses the project's
 * transports and codecs; nothing is re-implemented.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseCandumpLine, pylonLv, type BatteryStatePatch, type CanFrame } from '../../src/protocol/can';
import { JkFramer, JkCommand, parseRequest } from '../../src/protocol/jk';
import { SerialLink } from '../../src/transport/serial-link';
import { bytesOf, vector } from '../protocol/jk/helpers';
import { eventually } from '../transport/support/eventually';

export const ROOT = path.resolve(__dirname, '../../..');
export const ENTRY = path.join(ROOT, 'dist/bridge/src/main.js');

/** `npx tsc -p tsconfig.build.json`, run with this Node so no npx lookup is involved. */
export function buildDist(): void {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
}

/**
 * A BMS on one end of a pty: it reads requests with the JK framer and answers each read-all with
 * the next capture, in order, while `answering` is true.
 */
export class CapturedBms {
  answering = true;
  /** Arrival times (Date.now()) of every read-all request, answered or not. */
  readonly requestTimes: number[] = [];
  private replies = 0;
  private readonly framer = new JkFramer();

  private constructor(
    private readonly link: SerialLink,
    private readonly captureIds: readonly string[],
  ) {
    link.onData((chunk) => {
      for (const out of this.framer.push(chunk)) {
        if (out.kind !== 'frame') continue;
        const request = parseRequest(out.bytes);
        if ('code' in request || (request.command !== JkCommand.readAll && request.command !== JkCommand.read)) continue;
        this.requestTimes.push(Date.now());
        if (!this.answering) continue;
        const id = this.captureIds[this.replies++ % this.captureIds.length];
        link.write(bytesOf(id)).catch(() => undefined); // the bridge may be gone already
      }
    });
  }

  static async open(devicePath: string, captureIds: readonly string[]): Promise<CapturedBms> {
    const link = new SerialLink({ path: devicePath });
    await link.open();
    return new CapturedBms(link, captureIds);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

export interface StdoutLine {
  text: string;
  atMs: number;
}

export interface BridgeRun {
  child: ChildProcess;
  stdout: StdoutLine[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits (real time) until `check` holds; the failure message carries the bridge's stderr. */
  waitFor(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export function runBridge(args: string[]): BridgeRun {
  const child = spawn(process.execPath, [ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: StdoutLine[] = [];
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (text) => stdout.push({ text, atMs: Date.now() }));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout,
    stderr: () => stderr,
    exited,
    async waitFor(check, what, timeoutMs = 5000) {
      try {
        await eventually(check, what, timeoutMs);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- bridge stderr ---\n${stderr}`);
      }
    },
  };
}

/** The candump -L lines as frames; throws on any line that is not one. */
export function candumpFrames(lines: readonly StdoutLine[]): Array<CanFrame & { atMs: number; iface: string }> {
  return lines.map(({ text, atMs }) => {
    const parsed = parseCandumpLine(text);
    if (!parsed.ok) throw new Error(`stdout line is not candump -L: ${text} (${parsed.detail})`);
    return { ...parsed.frame, atMs, iface: parsed.iface };
  });
}

/** One frame decoded with the Pylon LV profile codec. */
export function decodePylon(frame: CanFrame): BatteryStatePatch {
  const result = pylonLv.decode(frame);
  if (!result.ok) throw new Error(`0x${frame.id.toString(16)}: ${result.detail}`);
  return result.patch;
}

/** What a capture's own annotations say 0x356 must carry (0.01 V, 0.1 A, the warmer battery sensor). */
export function expected356(captureId: string): { voltageV: number; currentA: number; temperatureC: number } {
  const e = vector(captureId).expected;
  return {
    voltageV: e.total_voltage_V as number,
    currentA: Math.round((e.current_A as number) * 10) / 10,
    temperatureC: Math.max(e.box_temp_sensor1_C as number, e.battery_temp_sensor2_C as number),
  };
}
