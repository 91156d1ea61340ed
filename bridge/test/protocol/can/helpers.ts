/**
 * Shared test material for the CAN codecs: the golden vectors of vectors/can-frames.json
 * (read in place), a realistic BatteryState, and fast-check arbitraries for valid and hostile states.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type { AlarmKind, AlarmSet, BatteryState } from '../../../src/protocol/can/battery-state';
import { ALARM_KINDS } from '../../../src/protocol/can/battery-state';
import { canFrame, type CanFrame } from '../../../src/protocol/can/frame';
import type { ProfileName } from '../../../src/protocol/can';

export interface Vector {
  id: string;
  protocol: 'pylon-lv' | 'goodwe' | 'sma' | 'victron' | 'pylon-hv';
  can_id: string;
  data: string;
  dlc: number;
  decoded: Record<string, unknown>;
  direction: string;
  extended_id?: boolean;
}

const VECTORS_PATH = path.resolve(__dirname, '../../../../vectors/can-frames.json');
export const ALL_VECTORS: readonly Vector[] = JSON.parse(fs.readFileSync(VECTORS_PATH, 'utf8')) as Vector[];

/**
 * Pylontech high-voltage (29-bit request/response, §7) is out of scope for these codecs: the
 * bridge serves LV inverters only. Its vectors are filtered out here, not skipped.
 */
export const VECTORS: readonly Vector[] = ALL_VECTORS.filter((v) => v.protocol !== 'pylon-hv');

export const PROFILE_OF_PROTOCOL: Record<Exclude<Vector['protocol'], 'pylon-hv'>, ProfileName> = {
  'pylon-lv': 'pylon-lv',
  goodwe: 'goodwe-lv',
  sma: 'sma-si',
  victron: 'victron',
};

export function vector(id: string): Vector {
  const v = ALL_VECTORS.find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}

export function bytesOf(v: Vector): number[] {
  return v.data === '' ? [] : v.data.split(' ').map((h) => parseInt(h, 16));
}

export function frameOf(v: Vector): CanFrame {
  return canFrame(parseInt(v.can_id, 16), bytesOf(v), v.extended_id === true);
}

/** The vectors write bytes the Python way ("PYLON\\0\\0\\0", "\\x124VxVIC\\0"). */
export function unescapePy(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})|\\0/g, (_, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : '\0'));
}

export function hexOf(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

export function noAlarms(): AlarmSet {
  return Object.fromEntries(ALARM_KINDS.map((k) => [k, false])) as AlarmSet;
}

/** A plausible 16 S, 280 Ah pack at rest. */
export function baseState(): BatteryState {
  return {
    chargeVoltageV: 55.2,
    chargeCurrentLimitA: 100,
    dischargeCurrentLimitA: 150,
    dischargeVoltageV: 48,
    socPct: 60,
    sohPct: 100,
    socHiResPct: null,
    voltageV: 52.3,
    currentA: -5.2,
    temperatureC: 21.5,
    alarms: noAlarms(),
    warnings: noAlarms(),
    requests: { chargeEnable: true, dischargeEnable: true, forceChargeI: false, forceChargeII: false, fullCharge: false },
    identity: { manufacturer: '', moduleCount: 2, capacityAh: 280, firmwareMajor: 1, firmwareMinor: 0 },
    cells: { minCellMv: 3265, maxCellMv: 3275, minCellNumber: 4, maxCellNumber: 11, minTemperatureC: 20, maxTemperatureC: 23 },
  };
}

function alarmSet(value: fc.Arbitrary<boolean | undefined>): fc.Arbitrary<AlarmSet> {
  return fc.record(Object.fromEntries(ALARM_KINDS.map((k) => [k, value])) as Record<AlarmKind, fc.Arbitrary<boolean | undefined>>);
}

const between = (min: number, max: number) => fc.double({ min, max, noNaN: true });

/** States the bridge can legitimately produce (ranges of a 48 V LV pack, ARCHITECTURE invariant 4). */
export const validStateArb: fc.Arbitrary<BatteryState> = fc.record({
  chargeVoltageV: between(40, 63),
  chargeCurrentLimitA: between(0, 1000),
  dischargeCurrentLimitA: between(0, 1000),
  dischargeVoltageV: between(40, 50),
  socPct: between(0, 100),
  sohPct: between(0, 100),
  socHiResPct: fc.option(between(0, 100), { nil: null }),
  voltageV: between(40, 60),
  currentA: between(-500, 500),
  temperatureC: between(-40, 100),
  alarms: alarmSet(fc.boolean()),
  warnings: alarmSet(fc.boolean()),
  requests: fc.record({ chargeEnable: fc.boolean(), dischargeEnable: fc.boolean(), forceChargeI: fc.boolean(), forceChargeII: fc.boolean(), fullCharge: fc.boolean() }),
  identity: fc.record({
    manufacturer: fc.oneof(fc.constant(''), fc.stringMatching(/^[A-Z][A-Za-z0-9 -]{0,7}$/)),
    moduleCount: fc.integer({ min: 1, max: 255 }),
    capacityAh: fc.integer({ min: 5, max: 5000 }),
    firmwareMajor: fc.integer({ min: 0, max: 255 }),
    firmwareMinor: fc.integer({ min: 0, max: 255 }),
  }),
  cells: fc.record(
    {
      minCellMv: fc.integer({ min: 2000, max: 3700 }),
      maxCellMv: fc.integer({ min: 2000, max: 3700 }),
      minCellNumber: fc.integer({ min: 1, max: 32 }),
      maxCellNumber: fc.integer({ min: 1, max: 32 }),
      minTemperatureC: between(-40, 100),
      maxTemperatureC: between(-40, 100),
      minTemperatureSensorNumber: fc.integer({ min: 1, max: 8 }),
      maxTemperatureSensorNumber: fc.integer({ min: 1, max: 8 }),
    },
    { requiredKeys: ['minCellMv', 'maxCellMv', 'minCellNumber', 'maxCellNumber', 'minTemperatureC', 'maxTemperatureC'] },
  ),
});

/** Anything a buggy caller could pass: NaN, infinities, negatives, names with NULs and non-ASCII. */
const anyNumber = fc.oneof(fc.double(), fc.constantFrom(0, -0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e12, -1e12));
export const hostileStateArb: fc.Arbitrary<BatteryState> = fc.record({
  chargeVoltageV: anyNumber,
  chargeCurrentLimitA: anyNumber,
  dischargeCurrentLimitA: anyNumber,
  dischargeVoltageV: anyNumber,
  socPct: anyNumber,
  sohPct: anyNumber,
  socHiResPct: fc.option(anyNumber, { nil: null }),
  voltageV: anyNumber,
  currentA: anyNumber,
  temperatureC: anyNumber,
  alarms: alarmSet(fc.option(fc.boolean(), { nil: undefined })),
  warnings: alarmSet(fc.option(fc.boolean(), { nil: undefined })),
  requests: fc.record({ chargeEnable: fc.boolean(), dischargeEnable: fc.boolean(), forceChargeI: fc.boolean(), forceChargeII: fc.boolean(), fullCharge: fc.boolean() }),
  identity: fc.record({
    manufacturer: fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('PYLON\0\0\0', '\0', '        ', 'ÄÖÜ')),
    moduleCount: anyNumber,
    capacityAh: anyNumber,
    firmwareMajor: anyNumber,
    firmwareMinor: anyNumber,
  }),
  cells: fc.record(
    {
      minCellMv: anyNumber,
      maxCellMv: anyNumber,
      minCellNumber: anyNumber,
      maxCellNumber: anyNumber,
      minTemperatureC: anyNumber,
      maxTemperatureC: anyNumber,
      minTemperatureSensorNumber: anyNumber,
      maxTemperatureSensorNumber: anyNumber,
    },
    { requiredKeys: ['minCellMv', 'maxCellMv', 'minCellNumber', 'maxCellNumber', 'minTemperatureC', 'maxTemperatureC'] },
  ),
});
