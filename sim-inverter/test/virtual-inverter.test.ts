/**
 * Each profile on the in-memory bus with fake timers: its heartbeat as the bridge receives it,
 * the battery as the inverter decodes it, the profile's reaction to a silent battery, the faults,
 * and the closed loop (the inverter's current into a battery whose state feeds the frames back).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { decodeInverterFrame, type BatteryState, type CanFrame, type InverterMessage } from '../../bridge/src/protocol/can';
import { MemoryCanNetwork } from '../../bridge/src/transport/memory-bus';
import type { CanBus } from '../../bridge/src/transport/types';
import { patchOf } from '../src/checker';
import { INVERTER_PROFILES, type CodecName, type InverterProfile, type InverterProfileName } from '../src/profiles';
import { VirtualInverter, type CurrentSink, type VirtualInverterOptions } from '../src/virtual-inverter';
import { FakeTruth, THRESHOLDS, baseState, frameOfSet, frameSet } from './support';

interface Rig {
  inverter: VirtualInverter;
  network: MemoryCanNetwork;
  bridge: CanBus;
  /** The inverter's own endpoint. */
  own: CanBus;
  /** Frames the bridge side received, with the (fake) time. */
  heard: { atMs: number; frame: CanFrame }[];
  /** Starts a bridge that sends frameSet(codec, state()) every period (frames 2 ms apart). */
  transmit(codec: CodecName, state?: () => BatteryState, filter?: (frame: CanFrame) => boolean): void;
}

const timers: ReturnType<typeof setInterval>[] = [];

async function rig(profile: InverterProfileName | InverterProfile, options: Partial<VirtualInverterOptions> = {}): Promise<Rig> {
  const network = new MemoryCanNetwork();
  const bridge = network.attach('bridge');
  await bridge.open();
  const heard: Rig['heard'] = [];
  bridge.onFrame((frame) => heard.push({ atMs: Date.now(), frame }));
  const own = network.attach('inverter');
  const inverter = new VirtualInverter({ profile, bus: own, thresholds: THRESHOLDS, random: sequence(), ...options });
  await inverter.start();
  const transmit: Rig['transmit'] = (codec, state = baseState, filter = () => true) => {
    const sendSet = (): void => {
      frameSet(codec, state())
        .filter(filter)
        .forEach((frame, i) => setTimeout(() => void bridge.send(frame), 2 * i));
    };
    sendSet();
    timers.push(setInterval(sendSet, THRESHOLDS.framePeriodMs));
  };
  return { inverter, network, bridge, own, heard, transmit };
}

/** A deterministic stand-in for Math.random. */
function sequence(): () => number {
  let x = 0.1234;
  return () => (x = (x * 9301 + 0.49297) % 1);
}

function messages(heard: Rig['heard'], fromMs = 0): InverterMessage[] {
  return heard.filter((h) => h.atMs >= fromMs).map((h) => {
    const decoded = decodeInverterFrame(h.frame);
    if (!decoded.ok) throw new Error(decoded.detail);
    return decoded.message;
  });
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  vi.useRealTimers();
});

describe('heartbeats and decoding per profile', () => {
  test.each([
    ['pylon-lv', 'pylon-lv', 'PYLON'],
    ['goodwe-lv', 'goodwe-lv', 'GOODWE'],
  ] as const)('%s: 0x305 8×00 every second; the battery decodes as sent', async (profile, codec, name) => {
    const r = await rig(profile);
    r.transmit(codec);
    await vi.advanceTimersByTimeAsync(5_050);
    expect(r.heard.map((h) => h.atMs)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(messages(r.heard)).toEqual(Array(5).fill({ kind: 'keepalive', id: 0x305 }));
    const s = baseState();
    expect(r.inverter.decoded).toMatchObject({
      chargeVoltageV: s.chargeVoltageV,
      chargeCurrentLimitA: s.chargeCurrentLimitA,
      dischargeCurrentLimitA: s.dischargeCurrentLimitA,
      socPct: s.socPct,
      voltageV: s.voltageV,
      requests: { chargeEnable: true, dischargeEnable: true },
      identity: { manufacturer: name },
    });
    expect(r.inverter.link).toBe('ok');
    expect(r.inverter.checker.violations).toEqual([]);
    await r.inverter.stop();
  });

  test('deye: 0x305 only in reply to 0x356, a few ms after it', async () => {
    const r = await rig('deye');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(r.heard).toEqual([]);
    r.transmit('pylon-lv');
    await vi.advanceTimersByTimeAsync(3_050);
    const sent356 = r.inverter.checker.frames.filter((f) => f.frame.id === 0x356).map((f) => f.atMs);
    expect(sent356).toHaveLength(4);
    expect(r.heard.map((h) => h.atMs)).toEqual(sent356.map((t) => t + INVERTER_PROFILES.deye.replyDelayMs));
    expect(messages(r.heard).every((m) => m.kind === 'keepalive' && m.id === 0x305)).toBe(true);
    expect(r.inverter.decoded.chargeVoltageV).toBe(55.2);
  });

  test('deye: every lateReplies.everyMs one reply comes lateReplies.delayMs late and the 0x356 meanwhile go unanswered', async () => {
    expect(INVERTER_PROFILES.deye.lateReplies).toEqual({ everyMs: 7_200_000, delayMs: 3_500 });
    const profile: InverterProfile = { ...INVERTER_PROFILES.deye, lateReplies: { everyMs: 20_000, delayMs: 3_500 } };
    const r = await rig(profile);
    r.transmit('pylon-lv');
    await vi.advanceTimersByTimeAsync(45_000);
    const times = r.heard.map((h) => h.atMs);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const longGaps = gaps.filter((g) => g > 1000);
    // At 20 s and 40 s the reply to the 0x356 (4th of the set, +6 ms) comes 3.5 s late; the 0x356
    // sent meanwhile goes unanswered, so the bridge sees 4.5 s between two 0x305.
    expect(longGaps).toEqual([4500, 4500]);
    expect(times.find((t) => t > 20_000 && t < 25_000)).toBe(20_000 + 3 * 2 + 5 + 3_500);
  });

  test('sma-si: 0x305/0x306/0x307 with the measured data every second', async () => {
    const r = await rig('sma-si');
    r.inverter.setDemand({ unit: 'A', amps: 20 });
    // The SI uses HiResSOC instead of SOC when present (§5.2) and reports what it uses.
    r.transmit('sma-si', () => ({ ...baseState(), socHiResPct: 60.5 }));
    await vi.advanceTimersByTimeAsync(3_050);
    expect(r.heard.map((h) => [h.atMs, h.frame.id])).toEqual([1000, 2000, 3000].flatMap((t) => [[t, 0x305], [t, 0x306], [t, 0x307]]));
    const [battery, status, relays] = messages(r.heard, 3000);
    expect(battery).toMatchObject({ kind: 'sma-battery', voltageV: 52.3, temperatureC: 21.5, socPct: 60.5 });
    expect(battery.kind === 'sma-battery' && battery.currentA).toBeCloseTo(20, 1);
    expect(status).toEqual({ kind: 'sma-status', sohPct: 100, chargingProcedure: 10, operatingState: 1, activeErrorNumber: 0, chargeVoltageSetpointV: 55.2 });
    expect(relays).toMatchObject({ kind: 'sma-relays', ac2RelayClosed: true });
    expect(r.inverter.checker.violations).toEqual([]);
  });

  test('sma-si: 60 s without 0x355 → standby with F952, no current; back when 0x355 returns (§5.5)', async () => {
    const r = await rig('sma-si');
    r.inverter.setDemand({ unit: 'A', amps: 20 });
    let send355 = true;
    r.transmit('sma-si', baseState, (f) => f.id !== 0x355 || send355);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(r.inverter.model.currentA).toBe(20);
    send355 = false;
    await vi.advanceTimersByTimeAsync(59_000);
    expect(r.inverter.link).toBe('ok');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(r.inverter.link).toBe('timed-out');
    expect(r.inverter.describeLink()).toMatch(/F952/);
    expect(r.inverter.model.currentA).toBe(0);
    expect(messages(r.heard, Date.now())[1]).toMatchObject({ kind: 'sma-status', operatingState: 4, activeErrorNumber: 952 });
    send355 = true;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(r.inverter.link).toBe('ok');
    expect(r.inverter.model.currentA).toBeGreaterThan(0);
  });

  test('sma-si: a CVL or DVL out of range is ignored and the last accepted value stays (§5.1)', async () => {
    const r = await rig('sma-si');
    let state = baseState();
    r.transmit('sma-si', () => state);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(r.inverter.decoded).toMatchObject({ chargeVoltageV: 55.2, dischargeVoltageV: 48 });
    state = { ...baseState(), chargeVoltageV: 64, dischargeVoltageV: 51.2, chargeCurrentLimitA: 20 };
    await vi.advanceTimersByTimeAsync(1_000);
    // The in-range CCL is taken, the out-of-range CVL and DVL are not.
    expect(r.inverter.decoded).toMatchObject({ chargeVoltageV: 55.2, dischargeVoltageV: 48, chargeCurrentLimitA: 20 });
    expect(r.inverter.checker.violations.map((v) => v.rule)).toEqual(expect.arrayContaining(['cvl-window', 'dvl-window']));
    // A Pylon inverter takes them as sent.
    const pylon = await rig('pylon-lv');
    pylon.transmit('pylon-lv', () => ({ ...baseState(), dischargeVoltageV: 51.2 }));
    await vi.advanceTimersByTimeAsync(1_500);
    expect(pylon.inverter.decoded.dischargeVoltageV).toBe(51.2);
  });

  test('sma-si: a quick stop (0x00F) means standby until the start command (§5.2)', async () => {
    const r = await rig('sma-si');
    r.inverter.setDemand({ unit: 'A', amps: 10 });
    r.transmit('sma-si');
    await vi.advanceTimersByTimeAsync(3_000);
    await r.bridge.send({ id: 0x00f, data: new Uint8Array(0) });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(r.inverter.link).toBe('quick-stop');
    expect(r.inverter.model.currentA).toBe(0);
    expect((await r.inverter.commands.execute('start')).ok).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.inverter.link).toBe('ok');
    expect(r.inverter.model.currentA).toBe(10);
  });

  test('sma-si: the inhibit time is judged on wire time when the bus tells how long a frame waited', async () => {
    // A bus that hands each frame over `lateMs` after it arrived, as a busy event loop does, and
    // says so when `tells` (SocketCAN's kernel stamp) or not (a pty).
    const network = new MemoryCanNetwork();
    const bridge = network.attach('bridge');
    await bridge.open();
    const wire = network.attach('inverter');
    await wire.open();
    const delays: { lateMs: number; tells: boolean }[] = [];
    const own: CanBus = Object.assign(Object.create(wire) as CanBus, {
      onFrame: (listener: (frame: CanFrame, waitedMs?: number) => void) =>
        wire.onFrame((frame) => {
          const { lateMs, tells } = delays.shift() ?? { lateMs: 0, tells: false };
          setTimeout(() => listener(frame, tells ? lateMs : undefined), lateMs);
        }),
    });
    const inverter = new VirtualInverter({ profile: 'sma-si', bus: own, thresholds: THRESHOLDS, random: sequence() });
    await inverter.start();
    const limits = frameOfSet('sma-si', baseState(), 0x351);
    const minInterval = () => inverter.checker.violations.filter((v) => v.rule === 'min-interval');
    /** Two 0x351 `gapMs` apart on the wire, handed over `lateMs` late each; a second later. */
    const pair = async (gapMs: number, lateMs: [number, number], tells: boolean): Promise<void> => {
      delays.push({ lateMs: lateMs[0], tells }, { lateMs: lateMs[1], tells });
      await bridge.send(limits);
      await vi.advanceTimersByTimeAsync(gapMs);
      await bridge.send(limits);
      await vi.advanceTimersByTimeAsync(1_000);
    };
    // 205 ms apart on the wire, the first handed over 10 ms late: 195 ms apart as heard.
    await pair(205, [10, 0], true);
    expect(inverter.decoded.chargeCurrentLimitA).toBe(baseState().chargeCurrentLimitA);
    expect(minInterval()).toEqual([]);
    // 195 ms apart on the wire, the second handed over 10 ms late: still too close.
    await pair(195, [0, 10], true);
    expect(minInterval()).toHaveLength(1);
    // Where the bus cannot tell, the time heard is all there is.
    await pair(205, [10, 0], false);
    expect(minInterval()).toHaveLength(2);
    await inverter.stop();
  });

  test('victron: 0x305 8×00, 0x306 8×00 and 0x307 "VIC" every second; 3 s without 0x351 stops it (§6.1)', async () => {
    const r = await rig('victron');
    r.inverter.setDemand({ unit: 'A', amps: -10 });
    let send351 = true;
    r.transmit('victron', baseState, (f) => f.id !== 0x351 || send351);
    await vi.advanceTimersByTimeAsync(2_050);
    expect(messages(r.heard)).toEqual([
      { kind: 'keepalive', id: 0x305 },
      { kind: 'keepalive', id: 0x306 },
      { kind: 'victron-307' },
      { kind: 'keepalive', id: 0x305 },
      { kind: 'keepalive', id: 0x306 },
      { kind: 'victron-307' },
    ]);
    expect(r.inverter.decoded).toMatchObject({ chargeVoltageV: 55.2, cells: { minCellMv: 3265, maxCellMv: 3275 } });
    expect(r.inverter.model.currentA).toBe(-10);
    send351 = false;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(r.inverter.link).toBe('timed-out');
    expect(r.inverter.model.currentA).toBe(0);
  });

  test('none: never sends anything, but still decodes and checks', async () => {
    const r = await rig('none', { codec: 'victron' });
    r.transmit('victron');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.heard).toEqual([]);
    expect(r.inverter.decoded.chargeVoltageV).toBe(55.2);
    expect(r.inverter.checker.codec.name).toBe('victron');
    expect(r.inverter.checker.violations).toEqual([]);
  });
});

describe('faults', () => {
  test('heartbeat off stops the 0x305, on resumes it', async () => {
    const r = await rig('pylon-lv');
    expect(await r.inverter.commands.execute('heartbeat off')).toEqual({ ok: true, output: 'heartbeat off' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(r.heard).toEqual([]);
    await r.inverter.commands.execute('heartbeat on');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(r.heard.map((h) => h.atMs)).toEqual([6000, 7000]);
  });

  test('late: periodic heartbeats come that much later; Deye replies too', async () => {
    const r = await rig('pylon-lv');
    await r.inverter.commands.execute('late 500');
    await vi.advanceTimersByTimeAsync(4_600);
    expect(r.heard.map((h) => h.atMs)).toEqual([1500, 3000, 4500]);
    await r.inverter.commands.execute('late off');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(r.heard.map((h) => h.atMs).slice(3)).toEqual([5600, 6600]);

    const d = await rig('deye');
    await d.inverter.commands.execute('late 2s');
    d.transmit('pylon-lv');
    await vi.advanceTimersByTimeAsync(2_100);
    expect(d.heard.map((h) => h.atMs)).toEqual([6600 + 3 * 2 + 5 + 2000]);
  });

  test('off-bus: hears and sends nothing for the duration, then picks up without blaming the gap on the bridge', async () => {
    const r = await rig('pylon-lv');
    r.transmit('pylon-lv');
    await vi.advanceTimersByTimeAsync(3_050);
    await r.inverter.commands.execute('off-bus 3s');
    const recorded = r.inverter.checker.frames.length;
    await vi.advanceTimersByTimeAsync(2_900);
    expect(r.inverter.checker.frames.length).toBe(recorded);
    expect(r.heard.filter((h) => h.atMs > 3050 && h.atMs < 6050)).toEqual([]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(r.inverter.checker.frames.length).toBeGreaterThan(recorded);
    expect(r.heard.some((h) => h.atMs > 6050)).toBe(true);
    expect(r.inverter.checker.violations).toEqual([]);
  });

  test('inject and garbage put foreign frames on the bus', async () => {
    const r = await rig('pylon-lv');
    expect((await r.inverter.commands.execute('inject 351#0000000000000000')).ok).toBe(true);
    expect((await r.inverter.commands.execute('garbage 5')).output).toBe('sent 5 garbage frames');
    await vi.advanceTimersByTimeAsync(10);
    expect(r.heard).toHaveLength(6);
    expect(r.heard[0].frame).toEqual({ id: 0x351, data: new Uint8Array(8) });
    for (const { frame } of r.heard.slice(1)) {
      expect(frame.id).toBeLessThan(0x800);
      expect(frame.data.length).toBeLessThanOrEqual(8);
    }
    expect((await r.inverter.commands.execute('inject 351#XYZ')).ok).toBe(false);
  });

  test('a refused send is counted, not thrown', async () => {
    const r = await rig('pylon-lv');
    r.network.failNextSend('ENOBUFS', r.own);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(r.inverter.sendStats).toMatchObject({ sent: 1, failed: 1 });
    expect(r.inverter.sendStats.lastError).toMatch(/ENOBUFS/);
  });

  test('a lost bus (interface gone) is reopened every second; the gap is not blamed on the bridge', async () => {
    const r = await rig('pylon-lv');
    r.transmit('pylon-lv');
    await vi.advanceTimersByTimeAsync(2_500);
    r.network.failNextOpen(r.own);
    r.network.disconnect(r.own);
    expect(r.inverter.busError).toMatch(/interface went away/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.inverter.busError).toMatch(/no such interface/);
    expect((await r.inverter.commands.execute('status')).output).toMatch(/BUS LOST: OPEN_FAILED/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.inverter.busError).toBeNull();
    const heardBefore = r.heard.length;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(r.heard.length).toBeGreaterThan(heardBefore);
    expect(r.inverter.checker.violations).toEqual([]);
  });

  test('transport faults need a transport that offers them', async () => {
    const r = await rig('pylon-lv');
    const result = await r.inverter.commands.execute('bus-off 5s');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/slcan-pty/);
  });
});

describe('closed loop on a simulated clock', () => {
  /** A small 16 S pack: cells rise 1 mV per 0.01 Ah charged; terminal voltage adds I × 5 mΩ. */
  class Pack implements CurrentSink {
    cellMv = 3400;
    currentA = 0;
    readonly log: { atMs: number; amps: number }[] = [];
    readonly truth = new FakeTruth();
    setCurrentA(amps: number): void {
      this.currentA = amps;
      this.log.push({ atMs: Date.now(), amps });
    }
    tick(dtMs: number): void {
      this.cellMv += (this.currentA * dtMs) / 3_600_000 / 0.01;
      this.truth.serve(Date.now(), { maxCellMv: this.cellMv + 10, minCellMv: this.cellMv - 10, packMv: 16 * this.cellMv + this.currentA * 5 });
    }
  }

  test('the current follows CCL as the bridge lowers it and stops at charge-stop, with no violation', async () => {
    const pack = new Pack();
    const r = await rig('pylon-lv', { truth: pack.truth, sink: pack, model: { rampAPerS: 1000 } });
    timers.push(setInterval(() => pack.tick(500), 500));
    pack.tick(0);
    // A toy bridge: CCL 100 A, 20 A above 3450 mV, 0 at the charge-stop threshold.
    const cclFor = (maxCellMv: number): number => (maxCellMv >= THRESHOLDS.chargeStopCellMv ? 0 : maxCellMv >= 3450 ? 20 : 100);
    r.transmit('pylon-lv', () => {
      const s = baseState();
      s.chargeVoltageV = 58;
      s.chargeCurrentLimitA = cclFor(pack.truth.lastAccepted()!.maxCellMv);
      s.voltageV = pack.truth.lastAccepted()!.packMv / 1000;
      return s;
    });
    r.inverter.setDemand({ unit: 'W', watts: 6000 });
    await vi.advanceTimersByTimeAsync(120_000);

    // At every step the current stayed within the CCL the inverter had decoded by then.
    const limits = r.inverter.checker.frames.filter((f) => f.frame.id === 0x351).map((f) => ({ atMs: f.atMs, ccl: patchOf(f)!.chargeCurrentLimitA! }));
    for (const { atMs, amps } of pack.log) {
      const inForce = limits.filter((l) => l.atMs <= atMs).at(-1);
      expect(amps).toBeLessThanOrEqual(inForce?.ccl ?? 0);
    }
    expect(Math.max(...pack.log.map((l) => l.amps))).toBeCloseTo(100, 6);
    expect(limits.some((l) => l.ccl === 20)).toBe(true);
    expect(pack.cellMv + 10).toBeGreaterThanOrEqual(THRESHOLDS.chargeStopCellMv);
    expect(pack.currentA).toBe(0);
    expect(r.inverter.model.reason).toBe('ccl');
    expect(r.inverter.checker.violations).toEqual([]);
  });
});
