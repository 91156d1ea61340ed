/**
 * Which snapshot field each fixed-length record fills, and how (§2.5). One table drives both
 * decode and encode, so the two stay exact inverses. Value widths come from JK_RESPONSE_RECORDS.
 * 0x79 (cells), 0x84 (current, needs 0xC0) and 0xC0 itself are handled by decode/encode directly.
 */
import { hex, readUintBE, writeUintBE } from './bytes';
import type { BmsSnapshot, JkSettings, JkTemperatureCoding } from './snapshot';
import { decodeTemperature, encodeTemperature } from './units';

/** Keys of T whose (possibly optional) value is a V; null-able keys such as protocolVersion are excluded. */
type KeysOf<T, V> = { [K in keyof T]-?: Exclude<T[K], undefined> extends V ? K : never }[keyof T];

export type FieldValue = number | boolean | string;

/**
 * uint: unsigned BE, times `scale` (0x83/0x8E/0x8F are 10 mV on the wire);
 * int: two's complement (0xA5-0xA8, §2.5); temperature: §2.6 offset coding (0x80-0x82);
 * bool: 0 off, any other value on; latin1: fixed width, NUL padded, one char per byte (§2.10).
 */
export type FieldMap<T> =
  | { id: number; key: KeysOf<T, number>; codec: 'uint'; scale?: number }
  | { id: number; key: KeysOf<T, number>; codec: 'int' | 'temperature' }
  | { id: number; key: KeysOf<T, boolean>; codec: 'bool' }
  | { id: number; key: KeysOf<T, string>; codec: 'latin1' };

export const SNAPSHOT_FIELDS: readonly FieldMap<BmsSnapshot>[] = [
  { id: 0x80, key: 'mosfetTempC', codec: 'temperature' },
  { id: 0x81, key: 't1TempC', codec: 'temperature' },
  { id: 0x82, key: 't2TempC', codec: 'temperature' },
  { id: 0x83, key: 'packMv', codec: 'uint', scale: 10 },
  { id: 0x85, key: 'socPct', codec: 'uint' },
  { id: 0x86, key: 'tempSensorCount', codec: 'uint' },
  { id: 0x87, key: 'cycles', codec: 'uint' },
  { id: 0x89, key: 'cycleCapacityAh', codec: 'uint' },
  { id: 0x8a, key: 'cellCount', codec: 'uint' },
  { id: 0x8b, key: 'alarms', codec: 'uint' },
  { id: 0x8c, key: 'status', codec: 'uint' },
];

export const SETTINGS_FIELDS: readonly FieldMap<JkSettings>[] = [
  { id: 0x8e, key: 'packOvpMv', codec: 'uint', scale: 10 },
  { id: 0x8f, key: 'packUvpMv', codec: 'uint', scale: 10 },
  { id: 0x90, key: 'cellOvpMv', codec: 'uint' },
  { id: 0x91, key: 'cellOvpRecoveryMv', codec: 'uint' },
  { id: 0x92, key: 'cellOvpDelayS', codec: 'uint' },
  { id: 0x93, key: 'cellUvpMv', codec: 'uint' },
  { id: 0x94, key: 'cellUvpRecoveryMv', codec: 'uint' },
  { id: 0x95, key: 'cellUvpDelayS', codec: 'uint' },
  { id: 0x96, key: 'cellDiffProtectionMv', codec: 'uint' },
  { id: 0x97, key: 'dischargeOcpA', codec: 'uint' },
  { id: 0x98, key: 'dischargeOcpDelayS', codec: 'uint' },
  { id: 0x99, key: 'chargeOcpA', codec: 'uint' },
  { id: 0x9a, key: 'chargeOcpDelayS', codec: 'uint' },
  { id: 0x9b, key: 'balanceStartMv', codec: 'uint' },
  { id: 0x9c, key: 'balanceTriggerMv', codec: 'uint' },
  { id: 0x9d, key: 'balancerEnabled', codec: 'bool' },
  { id: 0x9e, key: 'mosfetOtpC', codec: 'uint' },
  { id: 0x9f, key: 'mosfetOtpRecoveryC', codec: 'uint' },
  { id: 0xa0, key: 'boxOtpC', codec: 'uint' },
  { id: 0xa1, key: 'boxOtpRecoveryC', codec: 'uint' },
  { id: 0xa2, key: 'tempDiffProtectionC', codec: 'uint' },
  { id: 0xa3, key: 'chargeOtpC', codec: 'uint' },
  { id: 0xa4, key: 'dischargeOtpC', codec: 'uint' },
  { id: 0xa5, key: 'chargeUtpC', codec: 'int' },
  { id: 0xa6, key: 'chargeUtpRecoveryC', codec: 'int' },
  { id: 0xa7, key: 'dischargeUtpC', codec: 'int' },
  { id: 0xa8, key: 'dischargeUtpRecoveryC', codec: 'int' },
  { id: 0xa9, key: 'cellCountSetting', codec: 'uint' },
  { id: 0xaa, key: 'capacityAh', codec: 'uint' },
  { id: 0xab, key: 'chargeMosfetSwitch', codec: 'bool' },
  { id: 0xac, key: 'dischargeMosfetSwitch', codec: 'bool' },
  { id: 0xad, key: 'currentCalibrationMa', codec: 'uint' },
  { id: 0xae, key: 'boardAddress', codec: 'uint' },
  { id: 0xaf, key: 'batteryType', codec: 'uint' },
  { id: 0xb0, key: 'sleepWaitS', codec: 'uint' },
  { id: 0xb1, key: 'lowCapacityAlarmPct', codec: 'uint' },
  { id: 0xb2, key: 'password', codec: 'latin1' },
  { id: 0xb3, key: 'dedicatedCharger', codec: 'bool' },
  { id: 0xb4, key: 'deviceId', codec: 'latin1' },
  { id: 0xb5, key: 'manufactureDate', codec: 'latin1' },
  { id: 0xb6, key: 'runtimeMinutes', codec: 'uint' },
  { id: 0xb7, key: 'softwareVersion', codec: 'latin1' },
  { id: 0xb8, key: 'startCurrentCalibration', codec: 'bool' },
  { id: 0xb9, key: 'actualCapacityAh', codec: 'uint' },
  { id: 0xba, key: 'manufacturerId', codec: 'latin1' },
];

/** Decodes the field's value, `length` bytes of `frame` from `start`. */
export function decodeField<T>(field: FieldMap<T>, frame: Uint8Array, start: number, length: number, coding: JkTemperatureCoding): FieldValue {
  switch (field.codec) {
    case 'uint':
      return readUintBE(frame, start, length) * (field.scale ?? 1);
    case 'int': {
      const unsigned = readUintBE(frame, start, length);
      const half = 2 ** (8 * length - 1);
      return unsigned >= half ? unsigned - 2 * half : unsigned;
    }
    case 'temperature':
      return decodeTemperature(readUintBE(frame, start, length), coding);
    case 'bool':
      return frame[start] !== 0;
    case 'latin1': {
      // §2.10: strip trailing NUL padding only; inner NULs are data (0xBA "beki" + 8×00 + model).
      let end = start + length;
      while (end > start && frame[end - 1] === 0) end--;
      let text = '';
      for (let i = start; i < end; i++) text += String.fromCharCode(frame[i]);
      return text;
    }
  }
}

/** Inverse of decodeField; numbers are rounded to the wire resolution, RangeError if they do not fit. */
export function encodeField<T>(
  field: FieldMap<T>,
  value: FieldValue | undefined,
  width: number,
  coding: JkTemperatureCoding,
): Uint8Array {
  const label = `record ${hex(field.id)} (${String(field.key)})`;
  const out = new Uint8Array(width);
  if (field.codec === 'latin1') {
    if (typeof value !== 'string') throw new RangeError(`${label} must be a string, got ${String(value)}`);
    if (value.length > width) throw new RangeError(`${label} "${value}" is longer than ${width} bytes`);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0xff) throw new RangeError(`${label} has character U+${code.toString(16)}, not a byte`);
      out[i] = code;
    }
    return out;
  }
  if (field.codec === 'bool') {
    if (typeof value !== 'boolean') throw new RangeError(`${label} must be a boolean, got ${String(value)}`);
    out[0] = value ? 1 : 0;
    return out;
  }
  if (typeof value !== 'number') throw new RangeError(`${label} must be a number, got ${String(value)}`);
  const span = 2 ** (8 * width);
  let raw: number;
  let min = 0;
  let max = span - 1;
  switch (field.codec) {
    case 'uint':
      raw = Math.round(value / (field.scale ?? 1));
      break;
    case 'temperature':
      raw = encodeTemperature(value, coding);
      break;
    case 'int':
      raw = Math.round(value);
      min = -span / 2;
      max = span / 2 - 1;
      break;
  }
  // Written as a negated range test so NaN is rejected too.
  if (!(raw >= min && raw <= max)) throw new RangeError(`${label} value ${value} does not fit ${width} byte(s)`);
  writeUintBE(out, 0, width, raw < 0 ? raw + span : raw);
  return out;
}
