/**
 * Read-all reply → BmsSnapshot (§2.4-2.7). A TLV walk, not fixed offsets, so old firmware without
 * 0xB8-0xC0 decodes too. Two passes: 0xC0 comes last but selects the 0x84 coding (§2.7).
 * Safe on any bytes: validates framing and checksum itself and never throws.
 */
import { copyBytes, hex, readUintBE } from './bytes';
import { jkError, type JkError } from './errors';
import { decodeField, SETTINGS_FIELDS, SNAPSHOT_FIELDS, type FieldMap, type FieldValue } from './fields';
import {
  JK_HEADER_BYTES,
  JK_RECORD_BY_ID,
  JK_RESPONSE_RECORDS,
  JK_TRAILER_BYTES,
  JkOffset,
  JkTransmissionType,
  validateFrame,
} from './frame';
import type { BmsSnapshot, JkSettings, JkTemperatureCoding } from './snapshot';
import { decodeCurrent } from './units';

export interface JkRecord {
  id: number;
  /** Offset of the id byte in the frame. */
  offset: number;
  /** Value bytes; for 0x79 without its length byte. */
  value: Uint8Array;
}

export type JkRecordsResult = { ok: true; records: JkRecord[] } | { ok: false; error: JkError };
export type JkDecodeResult = { ok: true; snapshot: BmsSnapshot } | { ok: false; error: JkError };

export interface JkDecodeOptions {
  /** Sub-zero coding of 0x80-0x82 (§2.6, unresolved in the field); default 'doc'. */
  temperatureCoding?: JkTemperatureCoding;
}

/** The raw records of a checksummed frame in wire order (first pass of decodeResponse; for logs and tests). */
export function readRecords(frame: Uint8Array): JkRecordsResult {
  const bad = validateFrame(frame);
  return bad ? { ok: false, error: bad } : walkRecords(frame);
}

export function decodeResponse(frame: Uint8Array, opts: JkDecodeOptions = {}): JkDecodeResult {
  const bad = validateFrame(frame);
  if (bad) return { ok: false, error: bad };
  // §2.10: a half-duplex adapter echoes our own request (type 0) before the reply.
  const type = frame[JkOffset.transmissionType];
  if (type !== JkTransmissionType.reply) {
    return failure('NOT_A_RESPONSE', `transmission type ${type}, expected ${JkTransmissionType.reply} (reply)`);
  }
  const walked = walkRecords(frame);
  if (!walked.ok) return walked;

  const values = new Map(walked.records.map((record) => [record.id, record.value]));
  const missing = JK_RESPONSE_RECORDS.filter((spec) => !spec.optional && !values.has(spec.id));
  if (missing.length > 0) {
    return failure('BAD_RECORD', `missing record(s) ${missing.map((spec) => hex(spec.id)).join(' ')}`);
  }
  // Non-null below: 0x79 and 0x84 are mandatory and were checked just above.
  const cellsMv = decodeCells(values.get(0x79)!);
  if (!Array.isArray(cellsMv)) return { ok: false, error: cellsMv };

  const coding = opts.temperatureCoding ?? 'doc';
  const protocolVersion = values.get(0xc0)?.[0] ?? null;
  const snapshot = {
    ...decodeFields(SNAPSHOT_FIELDS, values, coding),
    command: frame[JkOffset.command],
    cellsMv,
    currentMa: decodeCurrent(readUintBE(values.get(0x84)!, 0, 2), protocolVersion),
    settings: decodeFields(SETTINGS_FIELDS, values, coding) as JkSettings,
    protocolVersion,
  } as BmsSnapshot;
  return { ok: true, snapshot };
}

/** §2.4 sketch: id, then the table length (0x79: a length byte 3N first), up to the record number. */
function walkRecords(frame: Uint8Array): JkRecordsResult {
  const end = frame.length - JK_TRAILER_BYTES;
  const records: JkRecord[] = [];
  const seen = new Set<number>();
  let p = JK_HEADER_BYTES;
  while (p < end) {
    const offset = p;
    const id = frame[p++];
    const spec = JK_RECORD_BY_ID.get(id);
    if (!spec) return failure('UNKNOWN_ID', `id ${hex(id)} at offset ${offset} is not a read-all record`);
    if (seen.has(id)) return failure('BAD_RECORD', `id ${hex(id)} at offset ${offset} appears twice`);
    let length = spec.length;
    if (length === null) {
      if (p >= end) return failure('BAD_RECORD', `id ${hex(id)} at offset ${offset} has no length byte`);
      length = frame[p++];
      if (length % 3 !== 0) {
        return failure('BAD_RECORD', `id ${hex(id)} at offset ${offset}: length ${length} is not a multiple of 3`);
      }
    }
    // The walk must land exactly on the record number (§2.4), never run into it.
    if (p + length > end) {
      return failure(
        'BAD_RECORD',
        `id ${hex(id)} at offset ${offset} needs ${length} value byte(s), the record number starts at ${end}`,
      );
    }
    records.push({ id, offset, value: copyBytes(frame, p, p + length) });
    seen.add(id);
    p += length;
  }
  return { ok: true, records };
}

/** 0x79: N × {index, mV}. Indices are 1..N in every capture (§2.5); anything else would misplace cells. */
function decodeCells(value: Uint8Array): number[] | JkError {
  const cellsMv: number[] = [];
  for (let p = 0; p < value.length; p += 3) {
    const expected = cellsMv.length + 1;
    if (value[p] !== expected) {
      return jkError('BAD_RECORD', `0x79 entry ${expected} has cell index ${value[p]}, expected ${expected}`);
    }
    cellsMv.push(readUintBE(value, p + 1, 2));
  }
  return cellsMv;
}

function decodeFields<T>(
  fields: readonly FieldMap<T>[],
  values: ReadonlyMap<number, Uint8Array>,
  coding: JkTemperatureCoding,
): Partial<Record<keyof T, FieldValue>> {
  const out: Partial<Record<keyof T, FieldValue>> = {};
  for (const field of fields) {
    const value = values.get(field.id);
    // Absent only for optional records (checked by the caller): leave the key out, not undefined.
    if (value) out[field.key] = decodeField(field, value, coding);
  }
  return out;
}

function failure(code: JkError['code'], detail: string): { ok: false; error: JkError } {
  return { ok: false, error: jkError(code, detail) };
}
