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
  type JkRecordSpec,
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

/** The raw records of a checksummed frame in wire order (for logs and tests); values are copies. */
export function readRecords(frame: Uint8Array): JkRecordsResult {
  const bad = validateFrame(frame);
  if (bad) return { ok: false, error: bad };
  const records: JkRecord[] = [];
  const walkError = walkRecords(frame, (id, offset, start, length) =>
    records.push({ id, offset, value: copyBytes(frame, start, start + length) }),
  );
  return walkError ? { ok: false, error: walkError } : { ok: true, records };
}

/** Ids that every read-all reply carries (§2.4); the rest are absent on old firmware. */
const MANDATORY_IDS = JK_RESPONSE_RECORDS.filter((spec) => !spec.optional).map((spec) => spec.id);

/**
 * Runs at poll rate, and the benchmark holds it to 200 000 16S frames/s, so it allocates no
 * per-record objects: the walk records where each value starts, in a flat table indexed by id.
 */
export function decodeResponse(frame: Uint8Array, opts: JkDecodeOptions = {}): JkDecodeResult {
  const bad = validateFrame(frame);
  if (bad) return { ok: false, error: bad };
  // §2.10: a half-duplex adapter echoes our own request (type 0) before the reply.
  const type = frame[JkOffset.transmissionType];
  if (type !== JkTransmissionType.reply) {
    return failure('NOT_A_RESPONSE', `transmission type ${type}, expected ${JkTransmissionType.reply} (reply)`);
  }
  const values: RecordTable = { frame, start: new Int16Array(256).fill(ABSENT), length: new Uint8Array(256) };
  const walkError = walkRecords(frame, (id, _offset, start, length) => {
    values.start[id] = start;
    values.length[id] = length;
  });
  if (walkError) return { ok: false, error: walkError };

  const missing = MANDATORY_IDS.filter((id) => values.start[id] === ABSENT);
  if (missing.length > 0) {
    return failure('BAD_RECORD', `missing record(s) ${missing.map((id) => hex(id)).join(' ')}`);
  }
  // Non-null below: 0x79 and 0x84 are mandatory and were checked just above.
  const cellsMv = decodeCells(frame, values.start[0x79], values.length[0x79]);
  if (!Array.isArray(cellsMv)) return { ok: false, error: cellsMv };

  const coding = opts.temperatureCoding ?? 'doc';
  const protocolVersion = values.start[0xc0] === ABSENT ? null : frame[values.start[0xc0]];
  const snapshot = decodeFields(SNAPSHOT_FIELDS, values, coding, {}) as unknown as BmsSnapshot;
  snapshot.command = frame[JkOffset.command];
  snapshot.cellsMv = cellsMv;
  snapshot.currentMa = decodeCurrent(readUintBE(frame, values.start[0x84], 2), protocolVersion);
  snapshot.settings = decodeFields(SETTINGS_FIELDS, values, coding, {}) as JkSettings;
  snapshot.protocolVersion = protocolVersion;
  return { ok: true, snapshot };
}

/** Where each record's value starts in the frame, and its length, by id (0x00-0xFF). */
interface RecordTable {
  frame: Uint8Array;
  start: Int16Array;
  length: Uint8Array;
}
const ABSENT = -1;

/** Record lengths by id for the walk; null = 0x79's length byte; undefined = not a read-all id. */
const SPEC_BY_ID: (JkRecordSpec | undefined)[] = Array.from({ length: 256 }, (_, id) => JK_RECORD_BY_ID.get(id));

/**
 * §2.4 sketch: id, then the table length (0x79: a length byte 3N first), up to the record number.
 * Calls visit with where each record's value bytes are; returns the first problem, or null.
 */
function walkRecords(
  frame: Uint8Array,
  visit: (id: number, offset: number, start: number, length: number) => void,
): JkError | null {
  const end = frame.length - JK_TRAILER_BYTES;
  const seen = new Uint8Array(256);
  let p = JK_HEADER_BYTES;
  while (p < end) {
    const offset = p;
    const id = frame[p++];
    const spec = SPEC_BY_ID[id];
    if (!spec) return jkError('UNKNOWN_ID', `id ${hex(id)} at offset ${offset} is not a read-all record`);
    if (seen[id]) return jkError('BAD_RECORD', `id ${hex(id)} at offset ${offset} appears twice`);
    let length = spec.length;
    if (length === null) {
      if (p >= end) return jkError('BAD_RECORD', `id ${hex(id)} at offset ${offset} has no length byte`);
      length = frame[p++];
      if (length % 3 !== 0) {
        return jkError('BAD_RECORD', `id ${hex(id)} at offset ${offset}: length ${length} is not a multiple of 3`);
      }
    }
    // The walk must land exactly on the record number (§2.4), never run into it.
    if (p + length > end) {
      return jkError(
        'BAD_RECORD',
        `id ${hex(id)} at offset ${offset} needs ${length} value byte(s), the record number starts at ${end}`,
      );
    }
    visit(id, offset, p, length);
    seen[id] = 1;
    p += length;
  }
  return null;
}

/** 0x79: N × {index, mV}. Indices are 1..N in every capture (§2.5); anything else would misplace cells. */
function decodeCells(frame: Uint8Array, start: number, length: number): number[] | JkError {
  const cellsMv: number[] = [];
  for (let p = start; p < start + length; p += 3) {
    const expected = cellsMv.length + 1;
    if (frame[p] !== expected) {
      return jkError('BAD_RECORD', `0x79 entry ${expected} has cell index ${frame[p]}, expected ${expected}`);
    }
    cellsMv.push(readUintBE(frame, p + 1, 2));
  }
  return cellsMv;
}

/** Fills `out` from the table; returns it. */
function decodeFields<T>(
  fields: readonly FieldMap<T>[],
  values: RecordTable,
  coding: JkTemperatureCoding,
  out: Partial<Record<keyof T, FieldValue>>,
): Partial<Record<keyof T, FieldValue>> {
  for (const field of fields) {
    const start = values.start[field.id];
    // Absent only for optional records (checked by the caller): leave the key out, not undefined.
    if (start !== ABSENT) out[field.key] = decodeField(field, values.frame, start, values.length[field.id], coding);
  }
  return out;
}

function failure(code: JkError['code'], detail: string): { ok: false; error: JkError } {
  return { ok: false, error: jkError(code, detail) };
}
