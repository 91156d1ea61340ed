/**
 * The pylon-hv virtual inverter on the in-memory bus with fake timers, against a hand-made HV
 * battery (the bridge's codec, not the bridge): its polling, how it judges answers (partial, late,
 * unsolicited, inconsistent, wrong byte order), its reaction to silence and to the forbidden frame,
 * and the commands a person or a scenario sends.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  PYLON_HV_DEFAULT_VARIANT,
  decodePylonHvRequest,
  encodePylonHvEnsemble,
  encodePylonHvEquipment,
  type BatteryState,
  type PylonHvRequest,
  type PylonHvVariant,
} from '../../bridge/src/protocol/can';
import { MemoryCanNetwork } from '../../bridge/src/transport/memory-bus';
import type { CanBus } from '../../bridge/src/transport/types';
import { VirtualInverter } from '../src/virtual-inverter';
import { FakeTruth, THRESHOLDS, baseState } from './support';

/** A 24 S pack: 24 cells of 3300 mV, 79.2 V. */
function hvState(): BatteryState {
  return {
    ...baseState(),
    chargeVoltageV: 82.8,
    dischargeVoltageV: 67.2,
    voltageV: 79.2,
    cells: { ...baseState().cells, maxCellMv: 3305, minCellMv: 3295 },
    pack: { cellCount: 24, cycles: 3, nominalVoltageV: 77 },
  };
}

interface Battery {
  requests: PylonHvRequest[];
  /** What the battery answers with; null = silent. */
  answer: { state: () => BatteryState; variant: PylonHvVariant; delayMs: number; drop: number[] } | null;
}

interface Rig {
  inverter: VirtualInverter;
  bridge: CanBus;
  battery: Battery;
  truth: FakeTruth;
}

async function rig(): Promise<Rig> {
  const network = new MemoryCanNetwork();
  const bridge = network.attach('bridge');
  await bridge.open();
  const truth = new FakeTruth();
  let busy = false;
  const pending = new Set<'ensemble' | 'equipment'>();
  const battery: Battery = { requests: [], answer: { state: hvState, variant: PYLON_HV_DEFAULT_VARIANT, delayMs: 5, drop: [] } };
  bridge.onFrame((frame) => {
    const decoded = decodePylonHvRequest(frame);
    if (!decoded.ok) return;
    battery.requests.push(decoded.request);
    const a = battery.answer;
    if (a === null || decoded.request.kind !== 'info' || decoded.request.info === 'cells') return;
    // One set at a time, like a CAN controller's queue: a request arriving while a set is going
    // out is answered by the next set (the bridge coalesces the same way).
    if (busy) {
      pending.add(decoded.request.info);
      return;
    }
    const answer = (info: 'ensemble' | 'equipment'): void => {
      busy = true;
      const set = info === 'ensemble' ? encodePylonHvEnsemble(a.state(), a.variant) : encodePylonHvEquipment(a.state(), a.variant);
      const frames = set.filter((f) => !a.drop.includes(f.id));
      frames.forEach((f, i) => setTimeout(() => void bridge.send(f), a.delayMs + i));
      setTimeout(() => {
        busy = false;
        const next = [...pending][0];
        if (next !== undefined) {
          pending.delete(next);
          answer(next);
        }
      }, a.delayMs + frames.length);
    };
    answer(decoded.request.info);
  });
  const inverter = new VirtualInverter({ profile: 'pylon-hv', bus: network.attach('inverter'), thresholds: { ...THRESHOLDS, maxChargeVoltageV: 87.6 }, truth });
  await inverter.start();
  // The battery truth follows the state, served every 500 ms as a BMS poll would.
  const serve = (): void => truth.serve(Date.now(), { maxCellMv: 3305, minCellMv: 3295, packMv: 79_200 });
  serve();
  timers.push(setInterval(serve, 500));
  return { inverter, bridge, battery, truth };
}

const timers: ReturnType<typeof setInterval>[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  vi.useRealTimers();
});

const rules = (r: Rig): string[] => [...new Set(r.inverter.checker.violations.map((v) => v.rule))];

describe('polling', () => {
  test('asks for the equipment until it has it, then the ensemble every second; a good battery draws no violation', async () => {
    const r = await rig();
    await vi.advanceTimersByTimeAsync(10_050);
    const kinds = r.battery.requests.map((q) => (q.kind === 'info' ? q.info : q.kind));
    expect(kinds.slice(0, 2)).toEqual(['equipment', 'ensemble']);
    expect(kinds.filter((k) => k === 'ensemble')).toHaveLength(10);
    expect(kinds.filter((k) => k === 'equipment')).toHaveLength(1);
    expect(r.inverter.checker.violations).toEqual([]);
    expect(r.inverter.checker.replies?.answered).toBe(11);
    expect(r.inverter.link).toBe('ok');
    expect(r.inverter.decoded).toMatchObject({ voltageV: 79.2, chargeCurrentLimitA: 100, dischargeCurrentLimitA: 150, pack: { cellCount: 24 } });
  });

  test('"heartbeat off" = the inverter stops asking; the battery falls silent with it, which is no violation', async () => {
    const r = await rig();
    await vi.advanceTimersByTimeAsync(3_050);
    r.inverter.heartbeat.setEnabled(false);
    const asked = r.battery.requests.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(r.battery.requests).toHaveLength(asked);
    expect(r.inverter.checker.violations).toEqual([]);
  });
});

describe('judging the answers', () => {
  test('a partial answer is a violation naming the missing id', async () => {
    const r = await rig();
    r.battery.answer = { state: hvState, variant: PYLON_HV_DEFAULT_VARIANT, delayMs: 5, drop: [0x4280] };
    await vi.advanceTimersByTimeAsync(2_050);
    const missing = r.inverter.checker.violations.filter((v) => v.rule === 'missing-reply');
    expect(missing.length).toBeGreaterThan(0);
    expect(missing[0].detail).toMatch(/00004280 missing/);
  });

  test('an answer after the 800 ms reply timeout is late', async () => {
    const r = await rig();
    r.battery.answer = { state: hvState, variant: PYLON_HV_DEFAULT_VARIANT, delayMs: 850, drop: [] };
    await vi.advanceTimersByTimeAsync(3_050);
    expect(rules(r)).toEqual(['late-reply']);
  });

  test('no answer at all is silence: counted, not a violation; after 10 s the inverter raises F58 and stops using the battery', async () => {
    const r = await rig();
    r.battery.answer = null;
    await vi.advanceTimersByTimeAsync(11_050);
    expect(r.inverter.checker.violations).toEqual([]);
    expect(r.inverter.checker.replies?.unanswered).toBeGreaterThanOrEqual(10);
    expect(r.inverter.link).toBe('timed-out');
    expect(r.inverter.describeLink()).toMatch(/F58/);
  });

  test('a reply set nobody asked for is unsolicited (a Pylon HV battery never broadcasts)', async () => {
    const r = await rig();
    r.inverter.heartbeat.setEnabled(false);
    for (const f of encodePylonHvEnsemble(hvState())) await r.bridge.send(f);
    await vi.advanceTimersByTimeAsync(10);
    expect(rules(r)).toEqual(['unsolicited-reply']);
  });

  test('one request may be answered by the set that crosses it on the wire, not by two more', async () => {
    const r = await rig();
    r.inverter.heartbeat.setEnabled(false);
    r.battery.answer = null;
    r.inverter.sendHvRequest({ kind: 'info', info: 'ensemble' });
    await vi.advanceTimersByTimeAsync(10);
    for (const f of encodePylonHvEnsemble(hvState())) await r.bridge.send(f);
    await vi.advanceTimersByTimeAsync(10);
    for (const f of encodePylonHvEnsemble(hvState())) await r.bridge.send(f);
    await vi.advanceTimersByTimeAsync(10);
    expect(r.inverter.checker.violations).toEqual([]);
    for (const f of encodePylonHvEnsemble(hvState())) await r.bridge.send(f);
    await vi.advanceTimersByTimeAsync(10);
    expect(rules(r)).toEqual(['unsolicited-reply']);
  });

  test('a battery answering big-endian to a little-endian inverter is caught (cell range, consistency, truth)', async () => {
    const r = await rig();
    r.battery.answer = { state: hvState, variant: { ...PYLON_HV_DEFAULT_VARIANT, byteOrder: 'be' }, delayMs: 5, drop: [] };
    await vi.advanceTimersByTimeAsync(3_050);
    // 79.2 V reads as 614.7 V (still a possible HV string), but 3305 mV cells read as 59660 mV.
    expect(rules(r)).toEqual(expect.arrayContaining(['cell-range', 'inconsistent-frames', 'truth-mismatch']));
  });

  test('cells that disagree with the battery are a truth mismatch; a pack voltage that disagrees with its cells is inconsistent', async () => {
    const r = await rig();
    r.battery.answer = {
      state: () => ({ ...hvState(), voltageV: 70, cells: { ...hvState().cells, maxCellMv: 3400, minCellMv: 3390 } }),
      variant: PYLON_HV_DEFAULT_VARIANT,
      delayMs: 5,
      drop: [],
    };
    await vi.advanceTimersByTimeAsync(3_050);
    expect(rules(r)).toEqual(expect.arrayContaining(['truth-mismatch', 'inconsistent-frames']));
  });
});

describe('reactions and commands', () => {
  test('the charge-forbidden frame stops charging although CCL is offered by nobody else', async () => {
    const r = await rig();
    r.inverter.setDemand({ unit: 'W', watts: 3000 });
    await vi.advanceTimersByTimeAsync(3_050);
    expect(r.inverter.model.currentA).toBeGreaterThan(0);
    r.battery.answer = { state: () => ({ ...hvState(), requests: { ...hvState().requests, chargeEnable: false } }), variant: PYLON_HV_DEFAULT_VARIANT, delayMs: 5, drop: [] };
    await vi.advanceTimersByTimeAsync(2_050);
    expect(r.inverter.decoded.requests?.chargeEnable).toBe(false);
    expect(r.inverter.model.currentA).toBe(0);
  });

  test.each([
    ['hv sleep', { kind: 'sleep', sleep: true }],
    ['hv wake', { kind: 'sleep', sleep: false }],
    ['hv charge', { kind: 'command', charge: true, discharge: false }],
    ['hv both', { kind: 'command', charge: true, discharge: true }],
    ['hv mask', { kind: 'mask-comm-failure' }],
  ] as const)('"%s" sends the command on the bus', async (line, request) => {
    const r = await rig();
    r.inverter.heartbeat.setEnabled(false);
    expect((await r.inverter.commands.execute(line)).ok).toBe(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(r.battery.requests).toEqual([request]);
  });

  test('"hv storm 300 1s" sends 300 ensemble requests within the second; answers that cover several requests are not violations', async () => {
    const r = await rig();
    r.inverter.heartbeat.setEnabled(false);
    expect((await r.inverter.commands.execute('hv storm 300 1s')).ok).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(r.battery.requests.filter((q) => q.kind === 'info')).toHaveLength(300);
    expect(r.inverter.checker.violations).toEqual([]);
    expect(r.inverter.checker.replies?.answered).toBeGreaterThan(50);
  });

  test('hv on a broadcast profile is refused with the reason', async () => {
    const network = new MemoryCanNetwork();
    const inverter = new VirtualInverter({ profile: 'pylon-lv', bus: network.attach('inverter'), thresholds: THRESHOLDS });
    expect(await inverter.commands.execute('hv sleep')).toMatchObject({ ok: false, output: expect.stringMatching(/does not speak Pylon HV/) });
  });
});

