/**
 * The real bridge process end to end: `node dist/bridge/src/main.js` (built once with tsc) against
 * a REAL socat pty on which a BMS stand-in replays the 16S OpenDTU captures, with the CAN side on
 * stdout (dry run) or on a second pty with a fake SLCAN adapter behind it. Timings are shortened
 * with --set so the whole file runs in a few seconds of wall time; every wait is awaited.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../../../sim-kit/src/pty';
import type { CanFrame } from '../../src/protocol/can';
import { SerialLink } from '../../src/transport/serial-link';
import { CAPTURE } from '../bms/support';
import { FakeSlcanAdapter } from '../transport/support/fake-slcan-adapter';
import { buildDist, candumpFrames, CapturedBms, decodePylon, expected356, runBridge, type BridgeRun } from './support';

const PYLON_SET = [0x359, 0x351, 0x355, 0x356, 0x35c, 0x35e];
const CAPTURES = [CAPTURE.s16a, CAPTURE.s16b];
const POLL_MS = 200;
const STALE_MS = 800;
/** Short real-time settings; faultAfterMs is long so a silent BMS stays in stale for the test. */
const FAST = [
  ['bms.pollIntervalMs', POLL_MS],
  ['bms.replyTimeoutMs', 100],
  ['can.periodMs', 200],
  ['state.staleAfterMs', STALE_MS],
  ['state.faultAfterMs', 20_000],
].flatMap(([key, value]) => ['--set', `${key}=${value}`]);

const cleanups: Array<() => Promise<unknown>> = [];

async function ptyPair(): Promise<PtyPair> {
  const pair = await openPtyPair();
  cleanups.push(() => pair.close());
  return pair;
}

async function capturedBms(devicePath: string): Promise<CapturedBms> {
  const bms = await CapturedBms.open(devicePath, CAPTURES);
  cleanups.push(() => bms.close());
  return bms;
}

function bridge(args: string[]): BridgeRun {
  const run = runBridge(args);
  cleanups.push(async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await run.exited;
  });
  return run;
}

/** SIGTERM, and how long the process took to exit. */
async function terminate(run: BridgeRun): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const start = Date.now();
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  return { ...exit, ms: Date.now() - start };
}

const byId = <F extends CanFrame>(frames: readonly F[], id: number): F[] => frames.filter((f) => f.id === id);

beforeAll(() => {
  buildDist();
}, 180_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('bridge process, dry run (--can stdout)', () => {
  it('prints nothing before the first BMS reply, then candump -L lines of the Pylon LV set; SIGTERM exits 0', async () => {
    const bmsPty = await ptyPair();
    const bms = await capturedBms(bmsPty.pathB);
    bms.answering = false;
    const run = bridge(['--bms', bmsPty.pathA, '--can', 'stdout', ...FAST]);

    await run.waitFor(() => bms.requestTimes.length >= 3, 'three unanswered polls');
    expect(run.stdout).toEqual([]);

    bms.answering = true;
    await run.waitFor(() => run.stdout.length >= 2 * PYLON_SET.length, 'two frame sets on stdout');
    for (const line of run.stdout) expect(line.text).toMatch(/^\(\d{10}\.\d{6}\) can0 [0-9A-F]{3}#(?:[0-9A-F]{2}){0,8}$/);
    const frames = candumpFrames(run.stdout);
    expect(frames.slice(0, 6).map((f) => f.id)).toEqual(PYLON_SET);
    // The first set is built from the first reply, i.e. the first capture.
    expect(decodePylon(frames[3])).toEqual(expected356(CAPTURES[0]));
    const each356 = byId(frames, 0x356).map(decodePylon);
    for (const m of each356) expect(CAPTURES.map(expected356)).toContainEqual(m);
    expect(decodePylon(frames[1]).chargeCurrentLimitA).toBeGreaterThan(0);

    const exit = await terminate(run);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(2000);
    // On the way out it leaves zero limits standing, not the last ones.
    const all = candumpFrames(run.stdout);
    expect(decodePylon(byId(all, 0x351).at(-1)!)).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0 });
  });

  it('a BMS that goes silent: within staleAfterMs the frames carry CCL = DCL = 0 and the 0x35C flags cleared', async () => {
    const bmsPty = await ptyPair();
    const bms = await capturedBms(bmsPty.pathB);
    const run = bridge(['--bms', bmsPty.pathA, '--can', 'stdout', ...FAST]);
    await run.waitFor(() => byId(candumpFrames(run.stdout), 0x35c).length >= 2, 'two frame sets while the BMS answers');

    const before = candumpFrames(run.stdout);
    expect(decodePylon(byId(before, 0x351).at(-1)!).chargeCurrentLimitA).toBeGreaterThan(0);
    expect(decodePylon(byId(before, 0x35c).at(-1)!).requests).toMatchObject({ chargeEnable: true, dischargeEnable: true });

    const silentAt = Date.now();
    bms.answering = false;
    const zeroed = () =>
      byId(candumpFrames(run.stdout), 0x351).find((f) => {
        const limits = decodePylon(f);
        return f.atMs >= silentAt && limits.chargeCurrentLimitA === 0 && limits.dischargeCurrentLimitA === 0;
      });
    await run.waitFor(() => zeroed() !== undefined, 'a zero-limit 0x351 after the BMS went silent', 3000);

    // The last snapshot came at most one poll before the silence: stale follows staleAfterMs later.
    const staleAfter = zeroed()!.atMs - silentAt;
    expect(staleAfter).toBeGreaterThanOrEqual(STALE_MS - POLL_MS - 50);
    expect(staleAfter).toBeLessThanOrEqual(STALE_MS + 500);
    await run.waitFor(() => run.stdout.filter((l) => l.atMs >= silentAt + staleAfter).length >= 2 * PYLON_SET.length, 'two stale frame sets');

    const stale = candumpFrames(run.stdout.filter((l) => l.atMs >= silentAt + staleAfter));
    for (const f of byId(stale, 0x351)) expect(decodePylon(f)).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0 });
    for (const f of byId(stale, 0x35c)) {
      expect(decodePylon(f).requests).toEqual({ chargeEnable: false, dischargeEnable: false, forceChargeI: false, forceChargeII: false, fullCharge: false });
    }
    // Stale still reports the last known measurements.
    for (const f of byId(stale, 0x356)) expect(CAPTURES.map(expected356)).toContainEqual(decodePylon(f));
    expect(await terminate(run)).toMatchObject({ code: 0 });
  });
});

describe('bridge process on SLCAN (--can slcan:<pty>)', () => {
  it('sets the adapter up (S6, O) and sends it the Pylon LV frame set built from the captures', async () => {
    const bmsPty = await ptyPair();
    await capturedBms(bmsPty.pathB);
    const canPty = await ptyPair();
    const adapterEnd = new SerialLink({ path: canPty.pathB });
    await adapterEnd.open();
    cleanups.push(() => adapterEnd.close());
    const adapter = new FakeSlcanAdapter(adapterEnd);

    const run = bridge(['--bms', bmsPty.pathA, '--can', `slcan:${canPty.pathA}`, ...FAST]);
    await run.waitFor(() => adapter.framesFromHost.length >= 2 * PYLON_SET.length, 'two frame sets at the SLCAN adapter');

    expect(adapter.commands.slice(0, 3)).toEqual(['C', 'S6', 'O']);
    expect(adapter.bitrate).toBe(500_000);
    const frames = adapter.framesFromHost;
    expect(frames.slice(0, 6).map((f) => f.id)).toEqual(PYLON_SET);
    expect(new Set(frames.map((f) => f.id))).toEqual(new Set(PYLON_SET));
    expect(decodePylon(frames[3])).toEqual(expected356(CAPTURES[0]));
    expect(decodePylon(frames[5])).toMatchObject({ identity: { manufacturer: 'PYLON' } });

    expect(await terminate(run)).toMatchObject({ code: 0, signal: null });
    // The shutdown set reached the adapter: zero limits are the last ones the inverter saw.
    expect(decodePylon(byId(adapter.framesFromHost, 0x351).at(-1)!)).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0 });
  });
});

describe('bridge process, refused configuration', () => {
  it('exits 2 with one stderr line per problem and prints nothing on stdout', async () => {
    const run = bridge(['--bms', 'ttyUSB0', '--can', 'can0', '--set', 'bms.pollIntervalMs=fast', '--set', 'state.bogus=1']);
    const exit = await run.exited;
    expect(exit).toEqual({ code: 2, signal: null });
    expect(run.stdout).toEqual([]);
    expect(run.stderr().trimEnd().split('\n')).toEqual([
      'config error: --set bms.pollIntervalMs=fast: bms.pollIntervalMs: Invalid input: expected number, received string',
      'config error: --set state.bogus=1: state.bogus: unknown key',
      'config error: --bms: bms.link: "ttyUSB0": a serial device needs its full path, e.g. /dev/ttyUSB0',
      expect.stringMatching(/^config error: --can: can\.bus: "can0": did you mean socketcan:can0\?/),
      'bridge not started (see --help)',
    ]);
  });

  it('a YAML error in the file is reported with file:line:col, exit 2', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bridge-e2e-')), 'bridge.yaml');
    writeFileSync(file, 'bms:\n  link: /dev/ttyUSB0\n  link: /dev/ttyUSB1\n');
    const run = bridge(['--config', file, '--can', 'stdout']);
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(run.stderr().split('\n')[0]).toBe(`config error: ${file}:3:3: Map keys must be unique`);
  });
});
