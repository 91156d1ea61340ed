import { describe, expect, it } from 'vitest';
import {
  buildReadAllRequest,
  chargeMosfetOn,
  decodeResponse,
  dischargeMosfetOn,
  jkChecksum,
  JkStatusBit,
  readRecords,
  type BmsSnapshot,
  type JkRecord,
} from '../../../src/protocol/jk';
import {
  bytesOf,
  MODERN_RESPONSE_VECTORS,
  recordOffset,
  reframe,
  RESPONSE_VECTORS,
  toHex,
  vector,
  withFixedChecksum,
  type JkVector,
} from './helpers';

type View = { frame: Uint8Array; s: BmsSnapshot; records: Map<number, JkRecord> };

const u16 = (record: JkRecord | undefined) => (record ? (record.value[0] << 8) | record.value[1] : undefined);
const hex4 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
const bit = (value: number, n: number) => (value & (1 << n)) !== 0;

/**
 * Every key of a vector's `expected`, mapped explicitly onto the snapshot (or, for wire-level keys,
 * onto the frame and its raw records), in the vector's own units.
 */
const EXPECTED: Record<string, (v: View) => unknown> = {
  frame_total_bytes: ({ frame }) => frame.length,
  length_field: ({ frame }) => frame.length - 2,
  checksum_u16: ({ frame }) => `0x${toHex(frame.subarray(frame.length - 2))}`,
  checksum_valid: ({ frame }) =>
    jkChecksum(frame, frame.length - 5) === ((frame[frame.length - 2] << 8) | frame[frame.length - 1]),
  command: ({ s }) => s.command,
  frame_source: ({ frame }) => frame[9],
  transmission_type: ({ frame }) => frame[10],
  terminal_id_hex: ({ frame }) => toHex(frame.subarray(4, 8)),
  record_number_hex: ({ frame }) => toHex(frame.subarray(frame.length - 9, frame.length - 5)),
  data_ids_in_order: ({ records }) => [...records.keys()].map((id) => id.toString(16).toUpperCase()).join(' '),
  cell_bytes_0x79: ({ records }) => records.get(0x79)?.value.length,
  cell_count: ({ s }) => s.cellsMv.length,
  cell_index_bytes: ({ records }) => Array.from(records.get(0x79)?.value ?? []).filter((_, i) => i % 3 === 0),
  cells_mV: ({ s }) => s.cellsMv,
  power_tube_temp_raw: ({ records }) => u16(records.get(0x80)),
  power_tube_temp_C: ({ s }) => s.mosfetTempC,
  box_temp_sensor1_raw: ({ records }) => u16(records.get(0x81)),
  box_temp_sensor1_C: ({ s }) => s.t1TempC,
  battery_temp_sensor2_raw: ({ records }) => u16(records.get(0x82)),
  battery_temp_sensor2_C: ({ s }) => s.t2TempC,
  total_voltage_raw: ({ records }) => u16(records.get(0x83)),
  total_voltage_V: ({ s }) => s.packMv / 1000,
  protocol_version_0xC0: ({ s }) => s.protocolVersion,
  current_raw: ({ records }) => u16(records.get(0x84)),
  current_A: ({ s }) => s.currentMa / 1000,
  current_encoding: ({ s }) =>
    s.protocolVersion === 1
      ? 'C0=0x01: bit15=1 charge(+), magnitude=bits0-14 * 0.01 A'
      : 'C0 absent/0x00: (10000 - raw) * 0.01 A, + = charge',
  soc_pct: ({ s }) => s.socPct,
  temp_sensor_count: ({ s }) => s.tempSensorCount,
  cycles: ({ s }) => s.cycles,
  total_cycle_capacity_Ah: ({ s }) => s.cycleCapacityAh,
  cell_count_0x8A: ({ s }) => s.cellCount,
  alarms_0x8B: ({ s }) => hex4(s.alarms),
  status_0x8C: ({ s }) => hex4(s.status),
  status_decoded: ({ s }) => ({
    charge_mos_on: chargeMosfetOn(s),
    discharge_mos_on: dischargeMosfetOn(s),
    balancing: bit(s.status, JkStatusBit.balancing),
    bit3: bit(s.status, JkStatusBit.batteryOnline),
  }),
  total_ovp_V: ({ s }) => s.settings.packOvpMv / 1000,
  total_uvp_V: ({ s }) => s.settings.packUvpMv / 1000,
  cell_ovp_mV: ({ s }) => s.settings.cellOvpMv,
  cell_ovpr_mV: ({ s }) => s.settings.cellOvpRecoveryMv,
  cell_ovp_delay_s: ({ s }) => s.settings.cellOvpDelayS,
  cell_uvp_mV: ({ s }) => s.settings.cellUvpMv,
  cell_uvpr_mV: ({ s }) => s.settings.cellUvpRecoveryMv,
  cell_uvp_delay_s: ({ s }) => s.settings.cellUvpDelayS,
  cell_diff_protection_mV: ({ s }) => s.settings.cellDiffProtectionMv,
  discharge_ocp_A: ({ s }) => s.settings.dischargeOcpA,
  discharge_ocp_delay_s: ({ s }) => s.settings.dischargeOcpDelayS,
  charge_ocp_A: ({ s }) => s.settings.chargeOcpA,
  charge_ocp_delay_s: ({ s }) => s.settings.chargeOcpDelayS,
  balance_start_mV: ({ s }) => s.settings.balanceStartMv,
  balance_trigger_delta_mV: ({ s }) => s.settings.balanceTriggerMv,
  mos_otp_C: ({ s }) => s.settings.mosfetOtpC,
  mos_otpr_C: ({ s }) => s.settings.mosfetOtpRecoveryC,
  box_otp_C: ({ s }) => s.settings.boxOtpC,
  box_otpr_C: ({ s }) => s.settings.boxOtpRecoveryC,
  temp_diff_protection_C: ({ s }) => s.settings.tempDiffProtectionC,
  charge_otp_C: ({ s }) => s.settings.chargeOtpC,
  discharge_otp_C: ({ s }) => s.settings.dischargeOtpC,
  current_calibration_mA: ({ s }) => s.settings.currentCalibrationMa,
  sleep_wait_s: ({ s }) => s.settings.sleepWaitS,
  balancer_switch_0x9D: ({ s }) => Number(s.settings.balancerEnabled),
  charge_utp_C: ({ s }) => s.settings.chargeUtpC,
  charge_utpr_C: ({ s }) => s.settings.chargeUtpRecoveryC,
  discharge_utp_C: ({ s }) => s.settings.dischargeUtpC,
  discharge_utpr_C: ({ s }) => s.settings.dischargeUtpRecoveryC,
  cell_count_setting_0xA9: ({ s }) => s.settings.cellCountSetting,
  capacity_setting_Ah: ({ s }) => s.settings.capacityAh,
  charge_mos_switch_0xAB: ({ s }) => Number(s.settings.chargeMosfetSwitch),
  discharge_mos_switch_0xAC: ({ s }) => Number(s.settings.dischargeMosfetSwitch),
  board_address_0xAE: ({ s }) => s.settings.boardAddress,
  battery_type_0xAF: ({ s }) => s.settings.batteryType,
  low_capacity_alarm_pct: ({ s }) => s.settings.lowCapacityAlarmPct,
  password_0xB2: ({ s }) => s.settings.password,
  dedicated_charger_0xB3: ({ s }) => Number(s.settings.dedicatedCharger),
  device_id_0xB4: ({ s }) => s.settings.deviceId,
  manufacturing_date_0xB5: ({ s }) => s.settings.manufactureDate,
  runtime_minutes_0xB6: ({ s }) => s.settings.runtimeMinutes,
  software_version_0xB7: ({ s }) => s.settings.softwareVersion,
  start_current_calibration_0xB8: ({ s }) => Number(s.settings.startCurrentCalibration),
  actual_capacity_Ah_0xB9: ({ s }) => s.settings.actualCapacityAh,
  manufacturer_id_0xBA: ({ s }) => s.settings.manufacturerId,
};

function viewOf(frame: Uint8Array): View {
  const decoded = decodeResponse(frame);
  if (!decoded.ok) throw new Error(`${decoded.error.code}: ${decoded.error.detail}`);
  const walked = readRecords(frame);
  if (!walked.ok) throw new Error(walked.error.detail);
  return { frame, s: decoded.snapshot, records: new Map(walked.records.map((r) => [r.id, r])) };
}

function mapExpected(v: JkVector, view: View): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(v.expected).map((key) => {
      const map = EXPECTED[key];
      if (!map) throw new Error(`${v.id}: no mapping for expected key ${key}`);
      return [key, map(view)];
    }),
  );
}

describe('decodeResponse on the captured replies (§2.4-2.9)', () => {
  it.each(MODERN_RESPONSE_VECTORS.map((v) => [v.id, v] as const))('%s decodes to its expected values', (_id, v) => {
    expect(mapExpected(v, viewOf(bytesOf(v)))).toEqual(v.expected);
  });

  it('keeps the inner NULs of 0xBA and strips only trailing ones', () => {
    const opendtu = viewOf(bytesOf('4e57-resp-16s-opendtu-0')).s.settings;
    expect(opendtu.manufacturerId).toBe(`beki${'\0'.repeat(8)}JK_B1A24S15P`);
    expect(opendtu.deviceId).toBe('beki');
    expect(viewOf(bytesOf('4e57-resp-7s-kenura')).s.settings.manufacturerId).toBe('Input UserdaJK_B1A8S20P');
  });

  it('echoes command 0x03 when the reply carries it (mpp-solar poll, §2.2)', () => {
    const frame = bytesOf('4e57-resp-14s-esphome-doc');
    frame[8] = 0x03;
    const decoded = decodeResponse(withFixedChecksum(frame));
    expect(decoded.ok && decoded.snapshot.command).toBe(0x03);
  });
});

describe('old firmware without 0xB8-0xC0 (vendor example, §2.4, §2.7)', () => {
  const v = vector('4e57-resp-20s-vendor-example-old-fw');

  it('is rejected as BAD_CHECKSUM as captured (the vendor edited bytes)', () => {
    expect(decodeResponse(bytesOf(v))).toEqual({
      ok: false,
      error: { code: 'BAD_CHECKSUM', detail: 'checksum 0x4923, expected 0x485C' },
    });
  });

  it('decodes its TLV layout once the checksum bytes are fixed: offset current, no 0xC0', () => {
    const fixed = withFixedChecksum(bytesOf(v));
    const { checksum_u16: _stated, checksum_valid: _valid, ...expected } = v.expected;
    const view = viewOf(fixed);
    expect(mapExpected({ ...v, expected }, view)).toEqual(expected);
    expect(view.s.currentMa).toBe(0);
    expect(view.s.protocolVersion).toBeNull();
    expect(Object.keys(view.s.settings)).not.toContain('manufacturerId');
    expect(Object.keys(view.s.settings)).not.toContain('startCurrentCalibration');
  });
});

describe('decodeResponse rejects malformed input with a specific code', () => {
  const good = bytesOf('4e57-resp-16s-opendtu-0');
  const at = (id: number) => recordOffset(good, id) - 11; // index in the info array
  const cases: [string, string, string, Uint8Array][] = [
    ['an echoed request', 'NOT_A_RESPONSE', 'transmission type 0, expected 1 (reply)', buildReadAllRequest()],
    [
      'an active upload (type 2)',
      'NOT_A_RESPONSE',
      'transmission type 2, expected 1 (reply)',
      (() => {
        const f = good.slice();
        f[10] = 2;
        return withFixedChecksum(f);
      })(),
    ],
    ['a truncated capture', 'TRUNCATED', 'got 50 bytes, expected 285 bytes', bytesOf('4e57-resp-fragment-cmd03')],
    [
      'the old-firmware checksum',
      'BAD_CHECKSUM',
      'checksum 0x4923, expected 0x485C',
      bytesOf('4e57-resp-20s-vendor-example-old-fw'),
    ],
    [
      'id 0x88, which does not exist',
      'UNKNOWN_ID',
      'id 0x88 at offset 61 is not a read-all record',
      reframe(good, (info) => void (info[at(0x80)] = 0x88)),
    ],
    [
      'write-only id 0xBB inside a reply',
      'UNKNOWN_ID',
      'id 0xBB at offset 282 is not a read-all record',
      reframe(good, (info) => [...info, 0xbb, 0x01]),
    ],
    [
      '0x79 length not a multiple of 3',
      'BAD_RECORD',
      'id 0x79 at offset 11: length 47 is not a multiple of 3',
      reframe(good, (info) => void (info[1] = 47)),
    ],
    [
      'a duplicated record',
      'BAD_RECORD',
      'id 0x85 at offset 280 appears twice',
      reframe(good, (info) => [...info.slice(0, -2), 0x85, 0x2e]),
    ],
    [
      'a record running into the record number',
      'BAD_RECORD',
      'id 0xC0 at offset 280 needs 1 value byte(s), the record number starts at 281',
      reframe(good, (info) => info.slice(0, -1)),
    ],
    [
      'a missing mandatory record (0x80 cut out)',
      'BAD_RECORD',
      'missing record(s) 0x80',
      reframe(good, (info) => [...info.slice(0, at(0x80)), ...info.slice(at(0x81))]),
    ],
    [
      'cell indices not 1..N',
      'BAD_RECORD',
      '0x79 entry 2 has cell index 3, expected 2',
      reframe(good, (info) => void (info[2 + 3] = 3)),
    ],
    ['an empty buffer', 'TRUNCATED', 'got 0 bytes, expected a 4-byte header', new Uint8Array(0)],
  ];
  it.each(cases)('%s → %s', (_name, code, detail, frame) => {
    expect(decodeResponse(frame)).toEqual({ ok: false, error: { code, detail } });
  });

  it('readRecords returns the same walk errors, and the raw records of a good frame', () => {
    const badLength = reframe(good, (info) => void (info[1] = 47));
    expect(readRecords(badLength)).toMatchObject({ ok: false, error: { code: 'BAD_RECORD' } });
    const walked = readRecords(good);
    expect(walked.ok && walked.records.slice(0, 2).map((r) => [r.id, r.offset, r.value.length])).toEqual([
      [0x79, 11, 48],
      [0x80, 61, 2],
    ]);
  });
});

it('every full 4E 57 reply in the vector file is covered by the tests above', () => {
  expect(RESPONSE_VECTORS.map((v) => v.id).sort()).toEqual(
    [...MODERN_RESPONSE_VECTORS.map((v) => v.id), '4e57-resp-20s-vendor-example-old-fw'].sort(),
  );
});
