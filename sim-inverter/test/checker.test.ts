/**
 * The checker on crafted frame streams: each kind of violation is flagged (and only it), a
 * well-behaved bridge draws none, and the real captures of vectors/can-frames.json that
 * are valid stay quiet while the negative examples are flagged.
 */
import { describe, expect, test } from 'vitest';
import { canFrame, type BatteryState, type CanFrame } from '../../bridge/src/protocol/can';
import { ALL_VECTORS, PROFILE_OF_PROTOCOL, frameOf, type Vector } from '../../bridge/test/protocol/can/helpers';
import { Checker, VIOLATION_RULES, patchOf, reactionBoundMs, type BatteryTruth, type CheckerThresholds, type ViolationRule } from '../src/checker';
import { INVERTER_PROFILES, type CodecName, type InverterProfileName } from '../src/profiles';
import { FakeTruth, THRESHOLDS, baseState, frameOfSet, frameSet, limitsFrame } from './support';

function checker(profile: InverterProfileName, options: { truth?: BatteryTruth; thresholds?: Partial<CheckerThresholds> } = {}): Checker {
  return new Checker({ profile: INVERTER_PROFILES[profile], thresholds: { ...THRESHOLDS, ...options.thresholds }, truth: options.truth });
}

function rules(c: Checker): ViolationRule[] {
  return c.violations.map((v) => v.rule);
}

/** A bridge that sends `state` every period (frames 2 ms apart) and ticks every 100 ms, from..to. */
function run(c: Checker, codec: CodecName, fromMs: number, toMs: number, state: (atMs: number) => BatteryState = () => baseState(), periodMs = 1000): void {
  for (let t = fromMs; t < toMs; t += 100) {
    if ((t - fromMs) % periodMs === 0) frameSet(codec, state(t)).forEach((f, i) => c.feed(f, t + 2 * i));
    c.tick(t + 50);
  }
}

function withState(change: (s: BatteryState) => void): BatteryState {
  const s = baseState();
  change(s);
  return s;
}

/** The broadcast profiles; Pylon HV (request/response) is tested in hv-inverter.test.ts. */
const CODEC_OF: Record<Exclude<InverterProfileName, 'pylon-hv' | 'sofar-hv'>, CodecName> = {
  'pylon-lv': 'pylon-lv',
  deye: 'pylon-lv',
  'goodwe-lv': 'goodwe-lv',
  sofar: 'pylon-lv',
  'sma-si': 'sma-si',
  victron: 'victron',
  none: 'pylon-lv',
};

describe('a well-behaved bridge', () => {
  test.each(Object.keys(CODEC_OF) as (keyof typeof CODEC_OF)[])('%s: 30 s of frame sets with fresh BMS data draw no violation', (profile) => {
    const truth = new FakeTruth();
    const c = checker(profile, { truth });
    for (let t = 0; t < 30_000; t += 500) {
      truth.serve(t);
      run(c, CODEC_OF[profile], t, t + 500, () => baseState(), 1000);
    }
    expect(c.violations).toEqual([]);
    expect(c.frames.length).toBeGreaterThanOrEqual(30 * frameSet(CODEC_OF[profile], baseState()).length);
  });

  test('fault silence: after frame sets that declare the fault (system error, zero limits) the set may pause, and start again', () => {
    const c = checker('pylon-lv');
    const fault = () => withState((s) => {
      s.chargeCurrentLimitA = 0;
      s.dischargeCurrentLimitA = 0;
      s.alarms = { ...s.alarms, systemError: true };
    });
    run(c, 'pylon-lv', 0, 3000, fault);
    expect(c.faultDeclared).toBe(true);
    for (let t = 3000; t < 9000; t += 100) c.tick(t);
    run(c, 'pylon-lv', 9000, 12_000);
    expect(c.violations).toEqual([]);
  });

  test('fault silence right after a set whose frames trickled out over 100 ms: its first ids are not late', () => {
    const c = checker('pylon-lv');
    const fault = () => withState((s) => {
      s.chargeCurrentLimitA = 0;
      s.dischargeCurrentLimitA = 0;
      s.alarms = { ...s.alarms, systemError: true };
    });
    run(c, 'pylon-lv', 0, 2000, fault);
    frameSet('pylon-lv', fault()).forEach((f, i) => c.feed(f, 2000 + 25 * i));
    for (let t = 2000; t < 6000; t += 50) c.tick(t);
    expect(c.violations).toEqual([]);
  });

  test('a pause the scenario caused (suspendTiming, then resync) is not the bridge\'s', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 3000);
    c.suspendTiming();
    for (let t = 3000; t < 9000; t += 100) c.tick(t);
    c.resync();
    run(c, 'pylon-lv', 9000, 12_000);
    expect(c.violations).toEqual([]);
  });

  test('a gap of exactly 1.5 periods is allowed', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 1000);
    run(c, 'pylon-lv', 1500, 4000);
    expect(c.violations).toEqual([]);
  });
});

describe('invariant 5 and the frame set', () => {
  test('one id stops while the others go on: period, once, naming the id and the gap', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 2000);
    const lastAt = c.lastSeenMs(0x359)!;
    for (let t = 2000; t < 6000; t += 100) {
      if (t % 1000 === 0) frameSet('pylon-lv', baseState()).filter((f) => f.id !== 0x359).forEach((f) => c.feed(f, t));
      c.tick(t + 50);
    }
    expect(c.violations).toHaveLength(1);
    const v = c.violations[0];
    expect(v).toMatchObject({ rule: 'period', id: 0x359 });
    expect(v.atMs - lastAt).toBeGreaterThan(1500);
    expect(v.atMs - lastAt).toBeLessThanOrEqual(1600);
    expect(v.detail).toMatch(/0x359 not seen for \d+ ms/);
  });

  test('the whole set every 2 s (a slow bridge) makes every id late', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 6000, undefined, 2000);
    const late = c.violations.filter((v) => v.rule === 'period');
    expect(new Set(late.map((v) => v.id))).toEqual(new Set(frameSet('pylon-lv', baseState()).map((f) => f.id)));
    expect(rules(c).every((r) => r === 'period')).toBe(true);
  });

  test('an id of the set that never comes: missing-id', () => {
    const c = checker('pylon-lv');
    for (let t = 0; t < 3000; t += 1000) {
      frameSet('pylon-lv', baseState())
        .filter((f) => f.id !== 0x35c)
        .forEach((f) => c.feed(f, t));
      c.tick(t + 600);
    }
    expect(c.violations).toHaveLength(1);
    expect(c.violations[0]).toMatchObject({ rule: 'missing-id', id: 0x35c });
  });

  test('old leniency: a pause of the whole set longer than staleAfterMs while connected is a period violation of every id', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 3000);
    run(c, 'pylon-lv', 3000 + 1000 + THRESHOLDS.staleAfterMs, 12_000);
    const late = c.violations.filter((v) => v.rule === 'period');
    expect(new Set(late.map((v) => v.id))).toEqual(new Set(frameSet('pylon-lv', baseState()).map((f) => f.id)));
  });

  test('old leniency: a bridge that stops for good (crashed) is reported while the pause lasts, not only when frames resume', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 3000);
    for (let t = 3000; t < 5000; t += 100) c.tick(t);
    expect(c.violations.map((v) => v.rule)).toContain('period');
  });

  test('stale (zero limits, no system error): the pause is not fault silence, and one frame per period is not the set', () => {
    const stale = () => withState((s) => {
      s.chargeCurrentLimitA = 0;
      s.dischargeCurrentLimitA = 0;
    });
    const paused = checker('pylon-lv');
    run(paused, 'pylon-lv', 0, 3000, stale);
    for (let t = 3000; t < 6000; t += 100) paused.tick(t);
    expect(paused.faultDeclared).toBe(false);
    expect(paused.violations.map((v) => v.rule)).toContain('period');

    const oneFrame = checker('pylon-lv');
    run(oneFrame, 'pylon-lv', 0, 2000, stale);
    for (let t = 2000; t < 6000; t += 100) {
      if (t % 1000 === 0) oneFrame.feed(frameOfSet('pylon-lv', stale(), 0x351), t);
      oneFrame.tick(t + 50);
    }
    const late = new Set(oneFrame.violations.filter((v) => v.rule === 'period').map((v) => v.id));
    expect(late).toEqual(new Set(frameSet('pylon-lv', stale()).map((f) => f.id).filter((id) => id !== 0x351)));
  });

  test('resync: a gap the inverter could not hear is not blamed on the bridge', () => {
    const c = checker('pylon-lv');
    run(c, 'pylon-lv', 0, 2000);
    c.resync();
    run(c, 'pylon-lv', 4000, 7000);
    expect(c.violations).toEqual([]);
  });
});

describe('frame format, codec verdicts and profile rules', () => {
  const cases: { name: string; profile: InverterProfileName; frames: CanFrame[]; rule: ViolationRule; id?: number }[] = [
    { name: '0x351 with DLC 4', profile: 'pylon-lv', frames: [canFrame(0x351, [0x28, 0x02, 0xe8, 0x03])], rule: 'dlc', id: 0x351 },
    { name: '0x35C with DLC 0', profile: 'pylon-lv', frames: [canFrame(0x35c, [])], rule: 'dlc', id: 0x35c },
    { name: 'Victron 0x360 byte 0 = 0x12', profile: 'victron', frames: [canFrame(0x360, [0x12, 0, 0, 0, 0, 0, 0, 0])], rule: 'bad-value', id: 0x360 },
    { name: '29-bit 0x351', profile: 'pylon-lv', frames: [canFrame(0x351, frameOfSet('pylon-lv', baseState(), 0x351).data, true)], rule: 'extended-id', id: 0x351 },
    { name: '0x359 to a Sunny Island', profile: 'sma-si', frames: [frameOfSet('pylon-lv', baseState(), 0x359)], rule: 'forbidden-id', id: 0x359 },
    { name: '0x35C to a Sunny Island', profile: 'sma-si', frames: [frameOfSet('pylon-lv', baseState(), 0x35c)], rule: 'forbidden-id', id: 0x35c },
    { name: '0x305 from the battery', profile: 'pylon-lv', frames: [canFrame(0x305, new Uint8Array(8))], rule: 'forbidden-id', id: 0x305 },
    { name: 'Victron 0x370 to a Sunny Island', profile: 'sma-si', frames: [canFrame(0x370, [0x4a, 0x4b])], rule: 'unexpected-id', id: 0x370 },
    { name: 'CVL 0', profile: 'victron', frames: [limitsFrame(0, 0, 100, 44)], rule: 'cvl-zero', id: 0x351 },
    { name: 'CVL above the configured maximum', profile: 'pylon-lv', frames: [limitsFrame(58.6, 10, 10, 48)], rule: 'cvl-above-max', id: 0x351 },
    { name: 'negative CCL', profile: 'pylon-lv', frames: [limitsFrame(55.2, -5, 10, 48)], rule: 'ccl-negative', id: 0x351 },
    { name: 'negative DCL', profile: 'pylon-lv', frames: [limitsFrame(55.2, 10, -120, 48)], rule: 'dcl-negative', id: 0x351 },
    { name: 'SMA CVL 40 V (below 41 V)', profile: 'sma-si', frames: [limitsFrame(40, 10, 10, 42)], rule: 'cvl-window', id: 0x351 },
    { name: 'SMA DVL 50 V (above 48 V)', profile: 'sma-si', frames: [limitsFrame(55, 10, 10, 50)], rule: 'dvl-window', id: 0x351 },
    { name: 'SOC 101 %', profile: 'pylon-lv', frames: [canFrame(0x355, [101, 0, 100, 0])], rule: 'soc-range', id: 0x355 },
    { name: 'hi-res SOC 120.00 %', profile: 'victron', frames: [canFrame(0x355, [90, 0, 100, 0, 0xe0, 0x2e])], rule: 'soc-range', id: 0x355 },
    { name: 'SMA HiResSOC 0.00 % with SOC 60 %', profile: 'sma-si', frames: [canFrame(0x355, [60, 0, 100, 0, 0, 0])], rule: 'soc-mismatch', id: 0x355 },
    { name: 'SOH 200 %', profile: 'pylon-lv', frames: [canFrame(0x355, [50, 0, 200, 0])], rule: 'soh-range', id: 0x355 },
    // 52.3 V in 0.1 V units (ArminJo #5, §10.3) reads as 5.23 V.
    { name: '0x356 voltage in 0.1 V units', profile: 'deye', frames: [canFrame(0x356, [0x0b, 0x02, 0, 0, 0xfa, 0])], rule: 'voltage-range', id: 0x356 },
    { name: '0x356 temperature 128.4 °C', profile: 'pylon-lv', frames: [canFrame(0x356, [0x4e, 0x13, 0x02, 0x03, 0x04, 0x05])], rule: 'temperature-range', id: 0x356 },
  ];

  test.each(cases)('$name → $rule', ({ profile, frames, rule, id }) => {
    const c = checker(profile);
    frames.forEach((f, i) => c.feed(f, 1000 + i));
    expect(c.violations).toHaveLength(1);
    expect(c.violations[0]).toMatchObject({ rule, id, atMs: 1000 });
  });

  test('SMA inhibit time: the same id within 200 ms is flagged, at 200 ms it is not', () => {
    const c = checker('sma-si');
    const limits = frameOfSet('sma-si', baseState(), 0x351);
    c.feed(limits, 0);
    c.feed(limits, 200);
    expect(c.violations).toEqual([]);
    c.feed(limits, 350);
    expect(c.violations).toEqual([expect.objectContaining({ rule: 'min-interval', id: 0x351, atMs: 350 })]);
  });

  test('Sofar: CCL 0 A after a non-zero limit is flagged (it keeps the old limit); 0.1 A is its stop', () => {
    // These streams carry 0x351 alone, so only this rule is judged.
    const ignored = (c: Checker) => c.violations.filter((v) => v.rule === 'zero-ignored');
    const c = checker('sofar');
    c.feed(limitsFrame(55.2, 50, 60, 48), 0);
    c.feed(limitsFrame(55.2, 0.1, 60, 48), 250);
    c.feed(limitsFrame(55.2, 0, 60, 48), 500);
    expect(ignored(c)).toEqual([]);
    c.feed(limitsFrame(55.2, 50, 60, 48), 750);
    c.feed(limitsFrame(55.2, 0, 60, 48), 1000);
    expect(ignored(c)).toEqual([expect.objectContaining({ rule: 'zero-ignored', id: 0x351, atMs: 1000 })]);
    expect(ignored(c)[0].detail).toBe('CCL 0 A: a sofar inverter ignores 0 A and keeps 50 A (spec §10.5: send 0.1 A)');
    // The same frames on a Pylon inverter are fine.
    const pylon = checker('pylon-lv');
    [0, 500, 1000].forEach((t, i) => pylon.feed(limitsFrame(55.2, [50, 0.1, 0][i], 60, 48), t));
    expect(ignored(pylon)).toEqual([]);
  });

  test('every rule has a case in this file', () => {
    const covered = new Set<ViolationRule>([
      ...cases.map((c) => c.rule),
      'zero-ignored',
      'period',
      'missing-id',
      'min-interval',
      'charge-at-charge-stop',
      'limits-with-stale-data',
      'discharge-at-discharge-stop',
      // Pylon HV answers: hv-inverter.test.ts "judging the answers".
      'missing-reply',
      'late-reply',
      'unsolicited-reply',
      'cell-range',
      'inconsistent-frames',
      'truth-mismatch',
    ]);
    expect([...covered].sort()).toEqual([...VIOLATION_RULES].sort());
  });
});

describe('safety invariants 1-3 against the battery truth', () => {
  const charging = limitsFrame(55.2, 50, 0, 48);
  const discharging = limitsFrame(55.2, 0, 60, 48);
  const stopped = limitsFrame(55.2, 0, 0, 48);
  // These streams carry 0x351 alone, so the frame-set rules (missing-id) are not what is judged.
  const SAFETY: readonly ViolationRule[] = ['charge-at-charge-stop', 'limits-with-stale-data', 'discharge-at-discharge-stop'];
  const safety = (c: Checker) => c.violations.filter((v) => SAFETY.includes(v.rule));

  const BOUND = reactionBoundMs(THRESHOLDS);
  const LAG = THRESHOLDS.pollIntervalMs + THRESHOLDS.replyTimeMs;

  test('the reaction bound is poll + reply time + processing margin, no frame period', () => {
    expect(BOUND).toBe(500 + 30 + 100);
  });

  test('1: CCL > 0 is allowed within the reaction bound from the measurement and flagged beyond it', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(9_500);
    c.tick(9_600);
    truth.measure({ maxCellMv: 3500 });
    c.tick(10_000);
    truth.serve(10_000 + LAG, { maxCellMv: 3500 });
    c.feed(charging, 10_000 + BOUND);
    expect(safety(c)).toEqual([]);
    c.feed(charging, 10_001 + BOUND);
    expect(safety(c)).toEqual([expect.objectContaining({ rule: 'charge-at-charge-stop', id: 0x351 })]);
    expect(safety(c)[0].detail).toMatch(/3500 mV/);
    c.feed(stopped, 11_000);
    c.feed(discharging, 11_500);
    expect(safety(c)).toHaveLength(1);
  });

  test('1: on a Sofar, CCL 0.1 A is a stop; on a Pylon inverter it is charging', () => {
    for (const [profile, flagged] of [['sofar', []], ['pylon-lv', ['charge-at-charge-stop']]] as const) {
      const truth = new FakeTruth();
      const c = checker(profile, { truth });
      truth.serve(0);
      c.tick(0);
      truth.measure({ maxCellMv: 3520 });
      c.tick(100);
      truth.serve(400, { maxCellMv: 3520 });
      c.tick(400);
      c.feed(limitsFrame(55.2, 0.1, 0.1, 48), 1000);
      expect(safety(c).map((v) => v.rule), profile).toEqual(flagged);
    }
  });

  test('old leniency: a decrease held back to the next frame period (poll + timeout + period = 1800 ms) is flagged', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0);
    c.tick(0);
    truth.measure({ maxCellMv: 3520 });
    c.tick(100);
    truth.serve(400, { maxCellMv: 3520 });
    c.tick(400);
    // The bridge had the data at 400 ms and sent CCL > 0 again with its periodic set at 1000 ms.
    c.feed(charging, 1000);
    expect(safety(c).map((v) => v.rule)).toEqual(['charge-at-charge-stop']);
  });

  test('old leniency: the clock starts when the BMS measured the cell, not when its reply was served', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0);
    c.tick(0);
    truth.measure({ maxCellMv: 3520 });
    c.tick(100);
    // The next acceptable reply comes a poll later; from it the old judge allowed a whole bound again.
    truth.serve(100 + LAG, { maxCellMv: 3520 });
    c.feed(charging, 100 + BOUND + 50);
    expect(safety(c).map((v) => v.rule)).toEqual(['charge-at-charge-stop']);
  });

  test('1: replies a bridge must reject do not start the clock: it starts one poll and reply before the first acceptable one', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0);
    c.tick(0);
    truth.measure({ maxCellMv: 3520 });
    for (let t = 100; t <= 3000; t += 100) c.tick(t); // bad replies meanwhile: nothing acceptable
    truth.serve(3000, { maxCellMv: 3520 });
    c.feed(charging, 3000 - LAG + BOUND);
    expect(safety(c)).toEqual([]);
    c.feed(charging, 3001 - LAG + BOUND);
    expect(safety(c).map((v) => v.rule)).toEqual(['charge-at-charge-stop']);
  });

  test('1: a cell the acceptable data does not show yet is not judged by invariant 1', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0);
    c.tick(0);
    truth.measure({ maxCellMv: 3520 });
    for (let t = 100; t <= 2000; t += 100) c.tick(t);
    c.feed(charging, 2000);
    expect(safety(c)).toEqual([]);
  });

  test('1: the reaction clock starts with the first sample past the threshold, not the newest', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0, { maxCellMv: 3510 });
    c.tick(0);
    truth.serve(2000, { maxCellMv: 3520 });
    c.feed(charging, 2100);
    expect(safety(c).map((v) => v.rule)).toEqual(['charge-at-charge-stop']);
  });

  test('1: a cell back below charge-stop resets the clock', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0, { maxCellMv: 3550 });
    c.tick(10);
    truth.serve(500, { maxCellMv: 3400 });
    c.tick(510);
    truth.serve(1000, { maxCellMv: 3500 });
    c.tick(1000);
    c.feed(charging, 1000 + BOUND);
    expect(safety(c)).toEqual([]);
  });

  test('2: limits > 0 are flagged once the BMS data is older than staleAfterMs + one period, zero limits are not', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0);
    const bound = THRESHOLDS.staleAfterMs + THRESHOLDS.framePeriodMs;
    c.feed(charging, bound);
    expect(safety(c)).toEqual([]);
    c.feed(discharging, bound + 1);
    expect(safety(c)).toEqual([expect.objectContaining({ rule: 'limits-with-stale-data', atMs: bound + 1 })]);
    c.feed(stopped, bound + 2000);
    expect(safety(c)).toHaveLength(1);
  });

  test('2: limits > 0 before the BMS served anything are flagged', () => {
    const c = checker('pylon-lv', { truth: new FakeTruth() });
    c.feed(charging, 0);
    expect(safety(c).map((v) => v.rule)).toEqual(['limits-with-stale-data']);
  });

  test('3: DCL > 0 with a cell at discharge-stop is flagged beyond the reaction bound', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    truth.serve(0, { minCellMv: 2800 });
    c.tick(0);
    c.feed(discharging, BOUND);
    c.feed(charging, 2500);
    expect(safety(c)).toEqual([]);
    c.feed(discharging, 2500);
    expect(safety(c)).toEqual([expect.objectContaining({ rule: 'discharge-at-discharge-stop', id: 0x351 })]);
  });

  test('without a truth, invariants 1-3 are not judged', () => {
    const c = checker('pylon-lv');
    c.feed(charging, 0);
    c.feed(discharging, 100_000);
    expect(safety(c)).toEqual([]);
  });
});

describe('recording and scenario queries', () => {
  test('"CCL reached 0 within N ms of event X"', () => {
    const truth = new FakeTruth();
    const c = checker('pylon-lv', { truth });
    const eventAt = 3_200;
    run(c, 'pylon-lv', 0, 8000, (t) => {
      truth.serve(t);
      return withState((s) => {
        if (t >= 4000) s.chargeCurrentLimitA = 0;
      });
    });
    const cclZero = (r: Parameters<Parameters<Checker['timeUntil']>[0]>[0]) => patchOf(r)?.chargeCurrentLimitA === 0;
    expect(c.timeUntil(cclZero, eventAt)).toBe(4000 + 2 - eventAt);
    expect(c.firstFrameAfter(eventAt, cclZero)).toMatchObject({ atMs: 4002, frame: { id: 0x351 } });
    expect(c.timeUntil(cclZero, 9000)).toBeUndefined();
  });

  test('every frame and every violation is recorded with its time; listeners hear violations; clear forgets both', () => {
    const c = checker('pylon-lv');
    const heard: ViolationRule[] = [];
    const off = c.onViolation((v) => heard.push(v.rule));
    c.feed(canFrame(0x355, [101, 0, 100, 0]), 5);
    c.feed(canFrame(0x7ff, [1]), 7);
    expect(c.frames.map((r) => [r.atMs, r.frame.id])).toEqual([
      [5, 0x355],
      [7, 0x7ff],
    ]);
    expect(c.frames[1].decoded).toMatchObject({ ok: false, code: 'UNKNOWN_ID' });
    expect(c.violations).toEqual([{ atMs: 5, rule: 'soc-range', id: 0x355, detail: 'SOC 101 % outside 0-100' }]);
    expect(heard).toEqual(['soc-range']);
    off();
    c.feed(canFrame(0x355, [102, 0, 100, 0]), 9);
    expect(heard).toEqual(['soc-range']);
    c.clear();
    expect(c.frames).toEqual([]);
    expect(c.violations).toEqual([]);
  });

  test('maxFrames keeps the newest records', () => {
    const c = new Checker({ profile: INVERTER_PROFILES['pylon-lv'], thresholds: THRESHOLDS, maxFrames: 3 });
    for (let t = 0; t < 5; t++) c.feed(canFrame(0x7ff, [t]), t);
    expect(c.frames.map((r) => r.atMs)).toEqual([2, 3, 4]);
  });
});

describe('golden vectors (vectors/can-frames.json)', () => {
  /** The negative examples the spec names (§12) and the 0 V placeholder, with what flags them. */
  const NEGATIVE: Record<string, ViolationRule> = {
    'pylonemu-351': 'dcl-negative',
    'diybms87-351-negative-dcl': 'dcl-negative',
    'pylon-example-356-SYNTHETIC': 'temperature-range',
    'pylonemu-305-from-battery': 'forbidden-id',
    'uksa-readme-356': 'voltage-range',
  };
  const INVERTER_OF_PROTOCOL: Record<Exclude<Vector['protocol'], 'pylon-hv'>, InverterProfileName> = {
    'pylon-lv': 'pylon-lv',
    goodwe: 'goodwe-lv',
    sma: 'sma-si',
    victron: 'victron',
  };
  // Pylon HV (29-bit request/response, §7) has no inverter profile here.
  const lv = ALL_VECTORS.filter((v) => v.protocol !== 'pylon-hv');
  const battery = lv.filter((v) => v.direction.startsWith('battery->inverter'));
  const inverterSide = lv.filter((v) => v.direction === 'inverter->battery');

  function judge(v: Vector): ViolationRule[] {
    const protocol = v.protocol as Exclude<Vector['protocol'], 'pylon-hv'>;
    const c = checker(INVERTER_OF_PROTOCOL[protocol]);
    expect(c.codec.name).toBe(PROFILE_OF_PROTOCOL[protocol]);
    c.feed(frameOf(v), 0);
    return rules(c);
  }

  test('the negative examples exist in the file', () => {
    expect(Object.keys(NEGATIVE).every((id) => battery.some((v) => v.id === id))).toBe(true);
    expect(battery.length).toBeGreaterThan(50);
  });

  test.each(battery.filter((v) => !(v.id in NEGATIVE)).map((v) => [v.id, v] as const))('%s: quiet', (_, v) => {
    expect(judge(v)).toEqual([]);
  });

  test.each(Object.entries(NEGATIVE))('%s: flagged as %s', (id, rule) => {
    expect(judge(battery.find((v) => v.id === id)!)).toEqual([rule]);
  });

  test.each(inverterSide.map((v) => [v.id, v] as const))('%s: an inverter frame coming from the battery side is flagged', (_, v) => {
    expect(judge(v)).toEqual(['forbidden-id']);
  });
});
