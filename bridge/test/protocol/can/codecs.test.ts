/**
 * Table tests of the profile codecs' decisions: 0x359 bit mapping, 0x35A pair encoding, CVL/CCL/DCL
 * stop encodings, names, invalid markers, Victron extras, decode errors and mergeBatteryState.
 */
import { describe, expect, test } from 'vitest';
import {
  ALARM_KINDS,
  FALLBACK_CHARGE_VOLTAGE_V,
  STOP_CURRENT_MAX_A,
  PROFILES,
  canFrame,
  goodweModuleCount,
  mergeBatteryState,
  type AlarmKind,
  type BatteryState,
  type BatteryStatePatch,
  type CanFrame,
  type ProfileName,
} from '../../../src/protocol/can';
import { baseState, hexOf, vector } from './helpers';

function frame(profile: ProfileName, state: BatteryState, id: number): CanFrame {
  const f = PROFILES[profile].encode(state).find((x) => x.id === id);
  if (!f) throw new Error(`${profile} sent no 0x${id.toString(16)}`);
  return f;
}

function withState(change: (s: BatteryState) => void): BatteryState {
  const s = baseState();
  change(s);
  return s;
}

describe('Pylon 0x359 alarm bits follow the V1.2 table (§3.2, §3.5 "Trust the doc")', () => {
  // [level, kind] → bytes 0-3 expected when only that condition is raised; written from the PDF table.
  const TABLE: readonly (readonly [('alarms' | 'warnings'), AlarmKind, string])[] = [
    ['alarms', 'highVoltage', '02 00 00 00'],
    ['alarms', 'lowVoltage', '04 00 00 00'],
    ['alarms', 'highTemperature', '08 00 00 00'],
    ['alarms', 'lowTemperature', '10 00 00 00'],
    ['alarms', 'highDischargeCurrent', '80 00 00 00'],
    ['alarms', 'highChargeCurrent', '00 01 00 00'],
    ['alarms', 'systemError', '00 08 00 00'],
    ['alarms', 'general', '00 08 00 00'],
    ['alarms', 'bmsInternal', '00 08 00 00'],
    ['alarms', 'contactor', '00 08 00 00'],
    ['alarms', 'shortCircuit', '00 08 00 00'],
    ['alarms', 'communication', '00 00 00 08'], // only slot: table 4 "internal communication fail"
    ['alarms', 'cellImbalance', '00 00 00 00'], // bit 4 is a clone extension, not used
    ['alarms', 'highTemperatureCharge', '00 00 00 00'],
    ['alarms', 'lowTemperatureCharge', '00 00 00 00'],
    ['warnings', 'highVoltage', '00 00 02 00'],
    ['warnings', 'lowVoltage', '00 00 04 00'],
    ['warnings', 'highTemperature', '00 00 08 00'],
    ['warnings', 'lowTemperature', '00 00 10 00'],
    ['warnings', 'highDischargeCurrent', '00 00 80 00'],
    ['warnings', 'highChargeCurrent', '00 00 00 01'],
    ['warnings', 'communication', '00 00 00 08'],
    ['warnings', 'systemError', '00 00 00 00'], // never escalated to a protection bit (§10.9)
    ['warnings', 'general', '00 00 00 00'],
    ['warnings', 'bmsInternal', '00 00 00 00'],
    ['warnings', 'contactor', '00 00 00 00'],
    ['warnings', 'shortCircuit', '00 00 00 00'],
    ['warnings', 'cellImbalance', '00 00 00 00'],
    ['warnings', 'highTemperatureCharge', '00 00 00 00'],
    ['warnings', 'lowTemperatureCharge', '00 00 00 00'],
  ];

  test('the table covers every kind at both levels', () => {
    for (const level of ['alarms', 'warnings'] as const) {
      expect(TABLE.filter(([l]) => l === level).map(([, k]) => k).sort()).toEqual([...ALARM_KINDS].sort());
    }
  });

  test.each(TABLE.map(([level, kind, bytes]) => [`${level}.${kind}`, level, kind, bytes] as const))('%s → %s', (_, level, kind, bytes) => {
    for (const profile of ['pylon-lv', 'goodwe-lv'] as const) {
      const f = frame(profile, withState((s) => (s[level][kind] = true)), 0x359);
      expect(hexOf(f.data.subarray(0, 4))).toBe(bytes);
    }
  });

  test('every protection/alarm bit decodes to its own kind, clear bits to false', () => {
    const cases: readonly (readonly [number, number, 'alarms' | 'warnings', AlarmKind])[] = [
      [0, 1, 'alarms', 'highVoltage'],
      [0, 2, 'alarms', 'lowVoltage'],
      [0, 3, 'alarms', 'highTemperature'],
      [0, 4, 'alarms', 'lowTemperature'],
      [0, 7, 'alarms', 'highDischargeCurrent'],
      [1, 0, 'alarms', 'highChargeCurrent'],
      [1, 3, 'alarms', 'systemError'],
      [2, 1, 'warnings', 'highVoltage'],
      [2, 2, 'warnings', 'lowVoltage'],
      [2, 3, 'warnings', 'highTemperature'],
      [2, 4, 'warnings', 'lowTemperature'],
      [2, 7, 'warnings', 'highDischargeCurrent'],
      [3, 0, 'warnings', 'highChargeCurrent'],
      [3, 3, 'warnings', 'communication'],
    ];
    for (const [byte, bit, level, kind] of cases) {
      const data = [0, 0, 0, 0, 1, 0x50, 0x4e];
      data[byte] = 1 << bit;
      const r = PROFILES['pylon-lv'].decode(canFrame(0x359, data));
      if (!r.ok) throw new Error(r.detail);
      const raised = [...Object.entries(r.patch.alarms ?? {}).map(([k, v]) => v && `alarms.${k}`), ...Object.entries(r.patch.warnings ?? {}).map(([k, v]) => v && `warnings.${k}`)].filter(Boolean);
      expect(raised).toEqual([`${level}.${kind}`]);
      expect(Object.keys(r.patch.alarms ?? {})).toHaveLength(7);
      expect(Object.keys(r.patch.warnings ?? {})).toHaveLength(7);
    }
  });

  test('reserved bits (e.g. the imbalance extension bit 4 of byte 1) are visible in the message but raise nothing', () => {
    const r = PROFILES['pylon-lv'].decode(canFrame(0x359, [0, 0x10, 0, 0x10, 1, 0x50, 0x4e]));
    if (!r.ok) throw new Error(r.detail);
    expect(r.message).toMatchObject({ kind: 'pylon-flags', protectionByte1: 0x10, alarmByte3: 0x10 });
    expect(Object.values(r.patch.alarms ?? {}).some(Boolean)).toBe(false);
    expect(Object.values(r.patch.warnings ?? {}).some(Boolean)).toBe(false);
  });

  test('module count: Pylon sends identity.moduleCount, never 0, at most 255 (§10.2)', () => {
    expect(frame('pylon-lv', withState((s) => (s.identity.moduleCount = 0)), 0x359).data[4]).toBe(1);
    expect(frame('pylon-lv', withState((s) => (s.identity.moduleCount = 300)), 0x359).data[4]).toBe(255);
    expect(frame('pylon-lv', withState((s) => (s.identity.moduleCount = 3)), 0x359).data[4]).toBe(3);
  });

  test('module count: Goodwe sends the nearest number of 5.4 kWh LX U5.4-L modules (§4)', () => {
    expect(goodweModuleCount(280)).toBe(3); // 14.3 kWh → 2.65
    expect(goodweModuleCount(100)).toBe(1); // 5.1 kWh
    expect(goodweModuleCount(20)).toBe(1); // never 0
    expect(goodweModuleCount(Number.NaN)).toBe(1);
    expect(goodweModuleCount(1e6)).toBe(255);
    expect(frame('goodwe-lv', withState((s) => ((s.identity.capacityAh = 420), (s.identity.moduleCount = 9))), 0x359).data[4]).toBe(4);
  });
});

describe('Pylon 0x35C request bits (§3.2)', () => {
  test.each([
    ['chargeEnable', 0x80],
    ['dischargeEnable', 0x40],
    ['forceChargeI', 0x20],
    ['forceChargeII', 0x10],
    ['fullCharge', 0x08],
  ] as const)('%s → 0x%s', (flag, bit) => {
    const s = withState((x) => (x.requests = { chargeEnable: false, dischargeEnable: false, forceChargeI: false, forceChargeII: false, fullCharge: false }));
    s.requests[flag] = true;
    expect([...frame('pylon-lv', s, 0x35c).data]).toEqual([bit, 0]);
  });
});

describe('0x35A pairs (§5.3, §5.7, §6.2)', () => {
  test('SMA: 2 on pairs 1-13 when all is well, 0 on the reserved pairs 14-16', () => {
    expect(hexOf(frame('sma-si', baseState(), 0x35a).data)).toBe('AA AA AA 02 AA AA AA 02');
  });

  test('the dfch all-alarms frame from its alarm/warning set, on SMA too (minus the reserved pairs)', () => {
    const raised: AlarmKind[] = ['highVoltage', 'lowVoltage', 'highTemperature', 'lowTemperature', 'highTemperatureCharge', 'lowTemperatureCharge', 'highDischargeCurrent', 'highChargeCurrent', 'bmsInternal', 'cellImbalance'];
    const s = withState((x) => raised.forEach((k) => ((x.alarms[k] = true), (x.warnings[k] = true))));
    expect(hexOf(frame('victron', s, 0x35a).data)).toBe(vector('dfch-test-35a-all-alarms').data);
    expect(hexOf(frame('sma-si', s, 0x35a).data)).toBe('56 55 69 01 56 55 69 01');
  });

  test.each(['sma-si', 'victron'] as const)('%s: systemError raises General, communication raises BMS internal', (profile) => {
    const data = frame(profile, withState((s) => ((s.alarms.systemError = true), (s.warnings.communication = true))), 0x35a).data;
    expect(data[0] & 0x03).toBe(1); // pair 1, alarms
    expect((data[6] >> 6) & 0x03).toBe(1); // pair 12, warnings
    expect(data[4] & 0x03).toBe(2);
    expect((data[2] >> 6) & 0x03).toBe(2);
  });

  test('decoding: 0 and 3 leave a kind unknown, 1 raises, 2 clears', () => {
    const r = PROFILES['sma-si'].decode(canFrame(0x35a, [0b11_10_01_00, 0, 0, 0, 0, 0, 0, 0]));
    if (!r.ok) throw new Error(r.detail);
    expect(r.patch.alarms).toEqual({ highVoltage: true, lowVoltage: false });
    expect(r.patch.warnings).toEqual({});
  });
});

describe('0x351 stop encodings and clamps (§1, §10.4, §10.8)', () => {
  const limits = (s: BatteryState, profile: ProfileName = 'pylon-lv') => {
    const d = frame(profile, s, 0x351).data;
    const s16 = (o: number) => ((d[o] | (d[o + 1] << 8)) << 16) >> 16;
    return { cvl: (d[0] | (d[1] << 8)) / 10, ccl: s16(2) / 10, dcl: s16(4) / 10, dvl: (d[6] | (d[7] << 8)) / 10 };
  };

  test('negative or NaN limits go out as 0; too large ones as the s16 maximum', () => {
    expect(limits(withState((s) => ((s.chargeCurrentLimitA = -10), (s.dischargeCurrentLimitA = -120))))).toMatchObject({ ccl: 0, dcl: 0 });
    expect(limits(withState((s) => ((s.chargeCurrentLimitA = Number.NaN), (s.dischargeCurrentLimitA = Number.NaN))))).toMatchObject({ ccl: 0, dcl: 0 });
    expect(limits(withState((s) => ((s.chargeCurrentLimitA = 1e9), (s.dischargeCurrentLimitA = 5000))))).toMatchObject({ ccl: 3276.7, dcl: 3276.7 });
  });

  test.each(['pylon-lv', 'goodwe-lv', 'sma-si', 'victron'] as const)('%s: a cleared enable flag forces a real limit to 0', (profile) => {
    expect(limits(withState((s) => (s.requests.chargeEnable = false)), profile)).toMatchObject({ ccl: 0, dcl: 150 });
    expect(limits(withState((s) => (s.requests.dischargeEnable = false)), profile)).toMatchObject({ ccl: 100, dcl: 0 });
  });

  test.each(['pylon-lv', 'goodwe-lv', 'sma-si', 'victron'] as const)('%s: the 0.1 A stop encoding reaches the wire with the flag clear (Sofar, §10.5)', (profile) => {
    const stopped = withState((s) => {
      s.requests.chargeEnable = false;
      s.requests.dischargeEnable = false;
      s.chargeCurrentLimitA = 0.1;
      s.dischargeCurrentLimitA = 0.1;
    });
    expect(STOP_CURRENT_MAX_A).toBe(0.1);
    expect(limits(stopped, profile)).toMatchObject({ ccl: 0.1, dcl: 0.1 });
    // 0x351 bytes 2-5: 01 00 01 00.
    expect(hexOf(frame(profile, stopped, 0x351).data).split(' ').slice(2, 6).join(' ')).toBe('01 00 01 00');
  });

  test.each([0, -5, 0.04, Number.NaN, Number.NEGATIVE_INFINITY])('CVL %s is never sent: present pack voltage instead, and CCL 0', (cvl) => {
    expect(limits(withState((s) => (s.chargeVoltageV = cvl)))).toEqual({ cvl: 52.3, ccl: 0, dcl: 150, dvl: 48 });
  });

  test('with no pack voltage either, CVL is 48.0 V: the growatt2solis pre-data frame', () => {
    const s = withState((x) => Object.assign(x, { chargeVoltageV: 0, voltageV: 0, dischargeCurrentLimitA: 0, dischargeVoltageV: 0 }));
    expect(FALLBACK_CHARGE_VOLTAGE_V).toBe(48);
    expect(hexOf(frame('pylon-lv', s, 0x351).data)).toBe(vector('g2s-351-no-data-safe-default').data);
  });
});

describe('0x35E names (§10.1, §6.3)', () => {
  const name = (profile: ProfileName, manufacturer: string) => hexOf(frame(profile, withState((s) => (s.identity.manufacturer = manufacturer)), 0x35e).data);

  test('defaults: PYLON and GOODWE space padded, SMA space padded, Victron neutral and NUL padded', () => {
    expect(name('pylon-lv', '')).toBe(vector('g2s-35e').data);
    expect(name('goodwe-lv', '')).toBe('47 4F 4F 44 57 45 20 20');
    expect(name('sma-si', '')).toBe('53 4D 41 20 20 20 20 20');
    expect(name('victron', '')).toBe('4A 4B 2D 42 4D 53 00 00');
    expect(PROFILES.victron.defaultManufacturer).not.toMatch(/PYLON/i);
  });

  test('a given name is cut to 8 printable ASCII characters; NULs and non-ASCII never reach the bus', () => {
    expect(name('pylon-lv', 'PYLONDIY-EXTRA')).toBe('50 59 4C 4F 4E 44 49 59');
    expect(name('pylon-lv', 'PYLON\0\0\0')).toBe(vector('setfire-new-35e').data);
    expect(name('pylon-lv', 'Ä\0\u0007')).toBe(vector('g2s-35e').data); // nothing printable left → default
    expect(name('pylon-lv', '     ')).toBe(vector('g2s-35e').data);
  });
});

describe('SMA invalid markers (§5.1, §5.2)', () => {
  test('HiResSOC 0xFFFF when unknown (null or not a number)', () => {
    expect(hexOf(frame('sma-si', withState((s) => (s.socHiResPct = null)), 0x355).data.subarray(4))).toBe('FF FF');
    expect(hexOf(frame('sma-si', withState((s) => (s.socHiResPct = Number.NaN)), 0x355).data.subarray(4))).toBe('FF FF');
    expect(hexOf(frame('sma-si', withState((s) => (s.socHiResPct = 85.5)), 0x355).data.subarray(4))).toBe('66 21');
  });

  test('0x35F: Bat-Type and manufacturer id invalid, version and capacity filled', () => {
    const s = withState((x) => Object.assign(x.identity, { firmwareMajor: 2, firmwareMinor: 4, capacityAh: 630 }));
    expect(hexOf(frame('sma-si', s, 0x35f).data)).toBe('FF FF 02 04 76 02 FF FF');
  });
});

describe('Victron extras (§6.2)', () => {
  test('0x373 in mV, mV, K, K: the BYD frame quoted in §6.2', () => {
    const s = withState((x) => Object.assign(x.cells, { minCellMv: 3306, maxCellMv: 3329, minTemperatureC: 13.85, maxTemperatureC: 16.85 }));
    const f = frame('victron', s, 0x373);
    expect(hexOf(f.data)).toBe('EA 0C 01 0D 1F 01 22 01');
    const r = PROFILES.victron.decode(f);
    expect(r.ok && r.patch.cells).toEqual({ minCellMv: 3306, maxCellMv: 3329, minTemperatureC: 13.85, maxTemperatureC: 16.85 });
  });

  test('0x360 is 0xFF for either force-charge request', () => {
    expect(frame('victron', withState((s) => (s.requests.forceChargeII = true)), 0x360).data[0]).toBe(0xff);
    expect(frame('victron', withState((s) => (s.requests.forceChargeI = true)), 0x360).data[0]).toBe(0xff);
    expect(frame('victron', baseState(), 0x360).data[0]).toBe(0x00);
  });

  test('0x372 reports every module blocking a disabled direction', () => {
    const s = withState((x) => ((x.requests.chargeEnable = false), (x.identity.moduleCount = 2)));
    expect(hexOf(frame('victron', s, 0x372).data)).toBe('02 00 02 00 00 00 00 00');
  });

  test('unknown temperature sensor numbers give empty ids', () => {
    expect(hexOf(frame('victron', baseState(), 0x376).data)).toBe('00 00 00 00 00 00 00 00');
    expect(hexOf(frame('victron', baseState(), 0x374).data)).toBe('34 00 00 00 00 00 00 00');
  });

  test('a non-numeric cell id ("b0 m3", diyBMS) is kept in the message only', () => {
    const r = PROFILES.victron.decode(canFrame(0x374, [0x62, 0x30, 0x20, 0x6d, 0x33, 0, 0, 0]));
    expect(r).toMatchObject({ ok: true, patch: {}, message: { kind: 'cell-id', which: 'minVoltage', text: 'b0 m3\0\0\0' } });
  });
});

describe('decode errors', () => {
  test.each([
    ['SMA never decodes 0x359 (not allowed on its bus, §5.1)', 'sma-si', canFrame(0x359, [0, 0, 0, 0, 1, 0x50, 0x4e]), 'UNKNOWN_ID'],
    ['Pylon does not decode a Victron 0x372', 'pylon-lv', canFrame(0x372, [2, 0, 0, 0, 0, 0, 0, 0]), 'UNKNOWN_ID'],
    ['a 29-bit 0x351 is not the 11-bit one (§6.1)', 'victron', canFrame(0x351, [0x48, 2, 0, 5, 0, 5, 0xae, 1], true), 'UNKNOWN_ID'],
    ['0x351 with 5 bytes lacks DCL', 'pylon-lv', canFrame(0x351, [0x38, 2, 0x58, 2, 0x84]), 'BAD_DLC'],
    ['0x356 with 9 bytes is no classical frame', 'victron', canFrame(0x356, new Uint8Array(9)), 'BAD_DLC'],
    ['0x35A needs all 8 bytes', 'sma-si', canFrame(0x35a, [0xaa, 0xaa]), 'BAD_DLC'],
    ['0x35E with no bytes', 'pylon-lv', canFrame(0x35e, []), 'BAD_DLC'],
    ['0x360 byte 0 other than 00/FF', 'victron', canFrame(0x360, [0x01, 0, 0, 0, 0, 0, 0, 0]), 'BAD_VALUE'],
  ] as const)('%s', (_, profile, f, code) => {
    const r = PROFILES[profile].decode(f);
    expect(r).toMatchObject({ ok: false, id: f.id, code });
    expect(r.ok ? '' : r.detail).not.toBe('');
  });

  test('short but sufficient frames decode: 0x351 without DVL, 0x359 without "PN"', () => {
    const limits = PROFILES['pylon-lv'].decode(canFrame(0x351, [0x38, 2, 0x58, 2, 0x84, 3]));
    expect(limits.ok && limits.patch).toEqual({ chargeVoltageV: 56.8, chargeCurrentLimitA: 60, dischargeCurrentLimitA: 90 });
    const flags = PROFILES['goodwe-lv'].decode(canFrame(0x359, [0, 0, 0, 0, 4]));
    expect(flags.ok && flags.message).toMatchObject({ moduleCount: 4, markerBytes: null, pnMarker: false, byte7: null });
  });
});

describe('mergeBatteryState', () => {
  test('later scalars win, groups merge member by member, undefined is ignored, inputs are untouched', () => {
    const a: BatteryStatePatch = { socPct: 50, voltageV: 52.1, alarms: { highVoltage: true }, identity: { manufacturer: 'PYLON' } };
    const b: BatteryStatePatch = { socPct: 51, alarms: { lowVoltage: false }, voltageV: undefined, requests: { chargeEnable: true } };
    const aCopy = structuredClone(a);
    const bCopy = structuredClone(b);
    const merged = mergeBatteryState(a, b);
    expect(merged).toStrictEqual({ socPct: 51, voltageV: 52.1, alarms: { highVoltage: true, lowVoltage: false }, identity: { manufacturer: 'PYLON' }, requests: { chargeEnable: true } });
    expect(a).toEqual(aCopy);
    expect(b).toEqual(bCopy);
    merged.requests!.chargeEnable = false;
    expect(b.requests?.chargeEnable).toBe(true); // no shared nested objects
  });

  test('null is a value (SMA HiResSOC invalid) and replaces a number', () => {
    expect(mergeBatteryState({ socHiResPct: 85.5 }, { socHiResPct: null })).toEqual({ socHiResPct: null });
  });
});
