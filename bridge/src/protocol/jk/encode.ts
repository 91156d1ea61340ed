/**
 * BmsSnapshot → read-all reply, the exact inverse of decodeResponse (§2.4, §2.11 point 3), for the
 * virtual BMS. Records go out in the table order of §2.4; 0xB8/0xB9/0xBA are sent when the
 * snapshot has them and 0xC0 when protocolVersion is not null, so a modern snapshot gives
 * LENGTH = 241 + 3N and an old-firmware one (no 0xB8-0xC0) LENGTH = 207 + 3N.
 */
import { hex, writeUintBE } from './bytes';
import { encodeField, SETTINGS_FIELDS, SNAPSHOT_FIELDS } from './fields';
import { buildFrame, JK_RESPONSE_RECORDS, JkFrameSource, JkTransmissionType, type JkRecordSpec } from './frame';
import type { BmsSnapshot, JkTemperatureCoding } from './snapshot';
import { encodeCurrent } from './units';

export interface JkEncodeOptions {
  /** Sub-zero coding of 0x80-0x82 (§2.6); default 'doc' (−5 °C → 105). */
  temperatureCoding?: JkTemperatureCoding;
}

/**
 * Throws RangeError when a value cannot be represented (e.g. 90 cells, 400 A, a 16-character
 * software version); scaled quantities are rounded to the wire resolution (10 mV, 10 mA).
 */
export function encodeResponse(snapshot: BmsSnapshot, opts: JkEncodeOptions = {}): Uint8Array {
  const coding = opts.temperatureCoding ?? 'doc';
  const info: number[] = [];
  for (const spec of JK_RESPONSE_RECORDS) {
    const value = encodeRecord(spec, snapshot, coding);
    if (!value) continue;
    info.push(spec.id);
    if (spec.length === null) info.push(value.length); // 0x79 length byte (§2.5)
    info.push(...value);
  }
  return buildFrame(
    { command: snapshot.command, source: JkFrameSource.bms, transmissionType: JkTransmissionType.reply },
    Uint8Array.from(info),
  );
}

const SNAPSHOT_FIELD_BY_ID = new Map(SNAPSHOT_FIELDS.map((field) => [field.id, field]));
const SETTINGS_FIELD_BY_ID = new Map(SETTINGS_FIELDS.map((field) => [field.id, field]));

/** The value bytes of one record, or null when the snapshot leaves an optional record out. */
function encodeRecord(spec: JkRecordSpec, snapshot: BmsSnapshot, coding: JkTemperatureCoding): Uint8Array | null {
  if (spec.length === null) return encodeCells(snapshot.cellsMv);
  if (spec.id === 0x84) return uint(encodeCurrent(snapshot.currentMa, snapshot.protocolVersion), spec.length);
  if (spec.id === 0xc0) return snapshot.protocolVersion === null ? null : byte(snapshot.protocolVersion);
  const field = SNAPSHOT_FIELD_BY_ID.get(spec.id);
  if (field) return encodeField(field, snapshot[field.key], spec.length, coding);
  const setting = SETTINGS_FIELD_BY_ID.get(spec.id);
  if (!setting) throw new Error(`record ${hex(spec.id)} has no snapshot field`); // table drift guard
  const value = snapshot.settings[setting.key];
  if (value === undefined && spec.optional) return null;
  return encodeField(setting, value, spec.length, coding);
}

/** 0x79 value: N × {1-based index, u16 mV}; the length byte 3N limits N to 85. */
function encodeCells(cellsMv: readonly number[]): Uint8Array {
  if (cellsMv.length * 3 > 0xff) throw new RangeError(`${cellsMv.length} cells do not fit record 0x79 (at most 85)`);
  const out = new Uint8Array(cellsMv.length * 3);
  cellsMv.forEach((mv, i) => {
    const whole = Math.round(mv);
    if (!(whole >= 0 && whole <= 0xffff)) throw new RangeError(`cell ${i + 1} voltage ${mv} mV does not fit u16`);
    out[i * 3] = i + 1;
    writeUintBE(out, i * 3 + 1, 2, whole);
  });
  return out;
}

function uint(value: number, width: number): Uint8Array {
  const out = new Uint8Array(width);
  writeUintBE(out, 0, width, value);
  return out;
}

function byte(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new RangeError(`protocolVersion ${value} is not a byte`);
  }
  return uint(value, 1);
}
