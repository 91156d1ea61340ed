/**
 * Properties over random BatteryStates (fast-check):
 * - no encoder ever emits what the negative vectors show (negative DCL/CCL, CVL 0, a battery-side
 *   0x305, a NUL-padded Pylon name, 0x359/0x35C towards an SMA), not even for hostile input,
 *   and no encoder throws;
 * - encode → decode gives the state back within wire resolution, for every profile, compared
 *   with an expectation written here from the spec, not from the codec's tables.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  PROFILES,
  STOP_CURRENT_MAX_A,
  goodweModuleCount,
  isInverterHeartbeat,
  mergeBatteryState,
  type AlarmKind,
  type AlarmSet,
  type BatteryState,
  type BatteryStatePatch,
  type CanFrame,
  type ProfileCodec,
  type ProfileName,
} from '../../../src/protocol/can';
import { frameOf, hexOf, hostileStateArb, validStateArb, vector } from './helpers';

/** The broadcast 0x35x family; Pylon HV (request/response, 29-bit) has its own tests in pylon-hv.test.ts. */
type BroadcastProfileName = Exclude<ProfileName, 'pylon-hv'>;
const PROFILE_NAMES = (Object.keys(PROFILES) as ProfileName[]).filter((n): n is BroadcastProfileName => n !== 'pylon-hv');

const NEGATIVE_VECTORS = ['pylonemu-351', 'diybms87-351-negative-dcl', 'pylonemu-305-from-battery', 'pylon-example-356-SYNTHETIC', 'pylonemu-35e'].map((id) => frameOf(vector(id)));

/** DLC per id as §1 recommends: Pylontech DLCs in Pylon mode, 8-byte frames for Victron. */
const PYLON_DLC: Record<number, number> = { 0x359: 7, 0x351: 8, 0x355: 4, 0x356: 6, 0x35c: 2, 0x35e: 8 };
const EXPECTED_DLC: Record<BroadcastProfileName, (id: number) => number> = {
  'pylon-lv': (id) => PYLON_DLC[id],
  'goodwe-lv': (id) => PYLON_DLC[id],
  'sma-si': (id) => ({ 0x351: 8, 0x355: 6, 0x356: 6, 0x35a: 8, 0x35e: 8, 0x35f: 8 })[id] ?? -1,
  victron: () => 8,
};

const s16 = (d: Uint8Array, o: number) => ((d[o] | (d[o + 1] << 8)) << 16) >> 16;
const u16 = (d: Uint8Array, o: number) => d[o] | (d[o + 1] << 8);

function checkFrameSet(name: BroadcastProfileName, frames: CanFrame[]): void {
  const profile = PROFILES[name];
  expect(frames.map((f) => f.id)).toEqual([...profile.frameIds]);
  for (const f of frames) {
    expect(f.ext).toBeUndefined();
    expect(f.data.length).toBe(EXPECTED_DLC[name](f.id));
    expect(isInverterHeartbeat(f)).toBe(false);
    if (f.id === 0x351) {
      expect(u16(f.data, 0)).toBeGreaterThan(0); // CVL never 0 (§10.4)
      expect(s16(f.data, 2)).toBeGreaterThanOrEqual(0); // CCL
      expect(s16(f.data, 4)).toBeGreaterThanOrEqual(0); // DCL (§10.8)
    }
    if (f.id === 0x35e && name !== 'victron') expect([...f.data].every((b) => b >= 0x20 && b <= 0x7e)).toBe(true);
    if (f.id === 0x359) {
      expect(f.data[4]).toBeGreaterThan(0); // module count never 0 (§10.2)
      expect([f.data[5], f.data[6]]).toEqual([0x50, 0x4e]);
    }
  }
  if (name === 'sma-si') expect(frames.some((f) => f.id === 0x359 || f.id === 0x35c)).toBe(false);
}

describe('no encoder emits a forbidden frame', () => {
  test.each(PROFILE_NAMES)('%s, valid states: frame set, DLCs, limits, and none of the negative vectors', (name) => {
    fc.assert(
      fc.property(validStateArb, (state) => {
        const frames = PROFILES[name].encode(state);
        checkFrameSet(name, frames);
        for (const neg of NEGATIVE_VECTORS) expect(frames.some((f) => f.id === neg.id && hexOf(f.data) === hexOf(neg.data))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  test.each(PROFILE_NAMES)('%s, hostile states (NaN, negatives, NUL names): never throws, same guarantees', (name) => {
    fc.assert(
      fc.property(hostileStateArb, (state) => checkFrameSet(name, PROFILES[name].encode(state))),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip. The expectations below restate the spec independently of the codec modules.

function decodeAll(profile: ProfileCodec, frames: CanFrame[]): BatteryStatePatch {
  return frames.reduce<BatteryStatePatch>((acc, f) => {
    const r = profile.decode(f);
    if (!r.ok) throw new Error(`${r.code} ${r.detail}`);
    return mergeBatteryState(acc, r.patch);
  }, {});
}

function near(actual: number | null | undefined, expected: number, tolerance: number, what: string): void {
  expect(typeof actual, what).toBe('number');
  expect(Math.abs((actual as number) - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance + 1e-9);
}

const S16_MAX_A = 3276.7;
const on = (set: AlarmSet, ...kinds: AlarmKind[]) => kinds.some((k) => set[k] === true);

function expectedName(state: BatteryState, fallback: string): string {
  const printable = state.identity.manufacturer.replace(/[^\x20-\x7e]/g, '').slice(0, 8).replace(/[\0 ]+$/, '');
  return printable === '' ? fallback : printable;
}

function checkCommon(state: BatteryState, got: BatteryStatePatch): void {
  near(got.chargeVoltageV, state.chargeVoltageV, 0.05, 'CVL');
  // A cleared flag passes only the stop encoding (≤ 0.1 A, Sofar §10.5) and zeroes a real limit.
  const sent = (amps: number, enabled: boolean) => (enabled || amps <= STOP_CURRENT_MAX_A ? Math.min(amps, S16_MAX_A) : 0);
  near(got.chargeCurrentLimitA, sent(state.chargeCurrentLimitA, state.requests.chargeEnable), 0.05, 'CCL');
  near(got.dischargeCurrentLimitA, sent(state.dischargeCurrentLimitA, state.requests.dischargeEnable), 0.05, 'DCL');
  near(got.dischargeVoltageV, state.dischargeVoltageV, 0.05, 'DVL');
  near(got.socPct, state.socPct, 0.5, 'SOC');
  near(got.sohPct, state.sohPct, 0.5, 'SOH');
  near(got.voltageV, state.voltageV, 0.005, 'V');
  near(got.currentA, state.currentA, 0.05, 'I');
  near(got.temperatureC, state.temperatureC, 0.05, 'T');
}

/** Pylon V1.2 tables (§3.2) with the level rules of pylon-lv.ts: decoded view of an encoded state. */
function expectedPylonAlarms(state: BatteryState): { alarms: AlarmSet; warnings: AlarmSet } {
  const { alarms: a, warnings: w } = state;
  return {
    alarms: {
      highVoltage: on(a, 'highVoltage'),
      lowVoltage: on(a, 'lowVoltage'),
      highTemperature: on(a, 'highTemperature'),
      lowTemperature: on(a, 'lowTemperature'),
      highDischargeCurrent: on(a, 'highDischargeCurrent'),
      highChargeCurrent: on(a, 'highChargeCurrent'),
      systemError: on(a, 'systemError', 'general', 'bmsInternal', 'contactor', 'shortCircuit'),
    },
    warnings: {
      highVoltage: on(w, 'highVoltage'),
      lowVoltage: on(w, 'lowVoltage'),
      highTemperature: on(w, 'highTemperature'),
      lowTemperature: on(w, 'lowTemperature'),
      highDischargeCurrent: on(w, 'highDischargeCurrent'),
      highChargeCurrent: on(w, 'highChargeCurrent'),
      communication: on(w, 'communication') || on(a, 'communication'),
    },
  };
}

/** SMA/Victron pairs 1-13 (§5.3), systemError on General and communication on BMS internal. */
function expectedPairs(set: AlarmSet): AlarmSet {
  return {
    general: on(set, 'general', 'systemError'),
    highVoltage: on(set, 'highVoltage'),
    lowVoltage: on(set, 'lowVoltage'),
    highTemperature: on(set, 'highTemperature'),
    lowTemperature: on(set, 'lowTemperature'),
    highTemperatureCharge: on(set, 'highTemperatureCharge'),
    lowTemperatureCharge: on(set, 'lowTemperatureCharge'),
    highDischargeCurrent: on(set, 'highDischargeCurrent'),
    highChargeCurrent: on(set, 'highChargeCurrent'),
    contactor: on(set, 'contactor'),
    shortCircuit: on(set, 'shortCircuit'),
    bmsInternal: on(set, 'bmsInternal', 'communication'),
    cellImbalance: on(set, 'cellImbalance'),
  };
}

const ROUND_TRIP: Record<BroadcastProfileName, (state: BatteryState, got: BatteryStatePatch) => void> = {
  'pylon-lv': (state, got) => {
    expect(got).not.toHaveProperty('socHiResPct'); // DLC 4
    expect({ alarms: got.alarms, warnings: got.warnings }).toEqual(expectedPylonAlarms(state));
    expect(got.requests).toEqual(state.requests);
    expect(got.identity).toEqual({ moduleCount: state.identity.moduleCount, manufacturer: expectedName(state, 'PYLON') });
  },
  'goodwe-lv': (state, got) => {
    expect({ alarms: got.alarms, warnings: got.warnings }).toEqual(expectedPylonAlarms(state));
    expect(got.requests).toEqual(state.requests);
    const modules = Math.min(255, Math.max(1, Math.round((state.identity.capacityAh * 51.2) / 5400)));
    expect(got.identity).toEqual({ moduleCount: modules, manufacturer: expectedName(state, 'GOODWE') });
  },
  'sma-si': (state, got) => {
    if (state.socHiResPct === null) expect(got.socHiResPct).toBeNull();
    else near(got.socHiResPct, state.socHiResPct, 0.005, 'HiResSOC');
    expect(got.alarms).toEqual(expectedPairs(state.alarms));
    expect(got.warnings).toEqual(expectedPairs(state.warnings));
    expect(got).not.toHaveProperty('requests'); // SMA cannot express them (§5.6)
    const { identity: id } = state;
    expect(got.identity).toEqual({ manufacturer: expectedName(state, 'SMA'), firmwareMajor: id.firmwareMajor, firmwareMinor: id.firmwareMinor, capacityAh: id.capacityAh });
  },
  victron: (state, got) => {
    near(got.socHiResPct, state.socHiResPct ?? 0, 0.005, 'HiResSOC'); // null → 0 as BYD (§6.2)
    expect(got.alarms).toEqual(expectedPairs(state.alarms));
    expect(got.warnings).toEqual(expectedPairs(state.warnings));
    const r = state.requests;
    expect(got.requests).toEqual({ chargeEnable: r.chargeEnable, dischargeEnable: r.dischargeEnable, forceChargeI: r.forceChargeI || r.forceChargeII });
    const { identity: id } = state;
    expect(got.identity).toEqual({
      manufacturer: expectedName(state, 'JK-BMS'),
      firmwareMajor: id.firmwareMajor,
      firmwareMinor: id.firmwareMinor,
      moduleCount: id.moduleCount,
      capacityAh: id.capacityAh,
    });
    const c = state.cells;
    expect(got.cells?.minCellMv).toBe(c.minCellMv);
    expect(got.cells?.maxCellMv).toBe(c.maxCellMv);
    near(got.cells?.minTemperatureC, c.minTemperatureC, 0.51, 'min cell T (1 K)');
    near(got.cells?.maxTemperatureC, c.maxTemperatureC, 0.51, 'max cell T (1 K)');
    expect(got.cells?.minCellNumber).toBe(c.minCellNumber);
    expect(got.cells?.maxCellNumber).toBe(c.maxCellNumber);
    expect(got.cells?.minTemperatureSensorNumber).toBe(c.minTemperatureSensorNumber);
    expect(got.cells?.maxTemperatureSensorNumber).toBe(c.maxTemperatureSensorNumber);
  },
};

describe('encode → decode round trip within resolution', () => {
  test.each(PROFILE_NAMES)('%s', (name) => {
    fc.assert(
      fc.property(validStateArb, (state) => {
        const got = decodeAll(PROFILES[name], PROFILES[name].encode(state));
        checkCommon(state, got);
        ROUND_TRIP[name](state, got);
      }),
      { numRuns: 300 },
    );
  });

  test('the Goodwe module count used above is the exported rule', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 70000 }), (ah) => goodweModuleCount(ah) === Math.min(255, Math.max(1, Math.round((ah * 51.2) / 5400)))));
  });
});
