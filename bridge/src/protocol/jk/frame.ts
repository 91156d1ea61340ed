/**
 * JK "4E 57" frame layer (shared/spec/jk-serial-protocol.md §2.1-2.5): constants, the record
 * table, the sum16 checksum, frame validation and frame assembly. Pure: bytes in, bytes out.
 */
import { hex, readUintBE, writeUintBE } from './bytes';
import { jkError, type JkError } from './errors';

export const JK_STX0 = 0x4e; // 'N'
export const JK_STX1 = 0x57; // 'W'
/** End identifier 'h' (§2.1); it is inside the checksummed range. */
export const JK_END = 0x68;

/** STX(2) LENGTH(2) terminal(4) command(1) source(1) type(1): the info field starts at 11. */
export const JK_HEADER_BYTES = 11;
/** record number(4) end(1) checksum(4) after the info field. */
export const JK_TRAILER_BYTES = 9;
/** LENGTH of a frame with an empty info field (OpenDTU's 20-byte read-all, §2.3). */
export const JK_MIN_LENGTH = JK_HEADER_BYTES + JK_TRAILER_BYTES - 2;
/** Default size limit: a 32-cell reply is 339 bytes (§2.4), so 600 leaves room without letting a
 * corrupted LENGTH stall the framer for long. */
export const JK_DEFAULT_MAX_FRAME_BYTES = 600;

/** Byte offsets inside every frame (§2.1). */
export const JkOffset = { length: 2, terminal: 4, command: 8, source: 9, transmissionType: 10 } as const;

/** Command words (§2.2). */
export const JkCommand = { activate: 0x01, write: 0x02, read: 0x03, pair: 0x05, readAll: 0x06 } as const;
/** Frame source byte (§2.1). */
export const JkFrameSource = { bms: 0, bluetooth: 1, gps: 2, pc: 3 } as const;
/** Transmission type byte (§2.1). */
export const JkTransmissionType = { request: 0, reply: 1, upload: 2 } as const;

export interface JkRecordSpec {
  readonly id: number;
  /** Value bytes after the id; null for 0x79, whose first value byte is its own length (3N). */
  readonly length: number | null;
  /** Absent on old firmware that stops after 0xB7 (§2.4, vector 4e57-resp-20s-vendor-example-old-fw). */
  readonly optional: boolean;
}

function rec(id: number, length: number | null, optional = false): JkRecordSpec {
  return { id, length, optional };
}

/**
 * The records of a read-all reply in the order the BMS sends them (§2.4), with the value lengths
 * of §2.5. 0x88/0x8D do not exist; the write-only ids 0xBB-0xBF never occur in a reply.
 */
export const JK_RESPONSE_RECORDS: readonly JkRecordSpec[] = [
  rec(0x79, null),
  rec(0x80, 2), rec(0x81, 2), rec(0x82, 2), rec(0x83, 2), rec(0x84, 2),
  rec(0x85, 1), rec(0x86, 1), rec(0x87, 2), rec(0x89, 4), rec(0x8a, 2),
  rec(0x8b, 2), rec(0x8c, 2), rec(0x8e, 2), rec(0x8f, 2), rec(0x90, 2),
  rec(0x91, 2), rec(0x92, 2), rec(0x93, 2), rec(0x94, 2), rec(0x95, 2),
  rec(0x96, 2), rec(0x97, 2), rec(0x98, 2), rec(0x99, 2), rec(0x9a, 2),
  rec(0x9b, 2), rec(0x9c, 2), rec(0x9d, 1), rec(0x9e, 2), rec(0x9f, 2),
  rec(0xa0, 2), rec(0xa1, 2), rec(0xa2, 2), rec(0xa3, 2), rec(0xa4, 2),
  rec(0xa5, 2), rec(0xa6, 2), rec(0xa7, 2), rec(0xa8, 2), rec(0xa9, 1),
  rec(0xaa, 4), rec(0xab, 1), rec(0xac, 1), rec(0xad, 2), rec(0xae, 1),
  rec(0xaf, 1), rec(0xb0, 2), rec(0xb1, 1), rec(0xb2, 10), rec(0xb3, 1),
  rec(0xb4, 8), rec(0xb5, 4), rec(0xb6, 4), rec(0xb7, 15),
  rec(0xb8, 1, true), rec(0xb9, 4, true), rec(0xba, 24, true), rec(0xc0, 1, true),
];

export const JK_RECORD_BY_ID: ReadonlyMap<number, JkRecordSpec> = new Map(
  JK_RESPONSE_RECORDS.map((spec) => [spec.id, spec]),
);

/**
 * §2.1: 16-bit sum of bytes[0] (the 0x4E) through bytes[endInclusiveIndex] (the 0x68 end byte),
 * masked: dbus-serialbattery compares the unmasked sum, which the spec warns against.
 */
export function jkChecksum(bytes: Uint8Array, endInclusiveIndex: number): number {
  let sum = 0;
  for (let i = 0; i <= endInclusiveIndex; i++) sum += bytes[i];
  return sum & 0xffff;
}

export type JkFrameInspection =
  | { kind: 'complete'; totalBytes: number }
  /** totalBytes is null while the LENGTH field has not arrived. */
  | { kind: 'incomplete'; totalBytes: number | null }
  | { kind: 'invalid'; error: JkError };

/**
 * Judges bytes[0..] as the start of a frame, in the order of §2.1: STX, plausible LENGTH, wait for
 * LENGTH+2 bytes, 0x68 at LENGTH-3, checksum bytes 0/1 == 0, sum16. Bytes past the frame are
 * ignored, so the framer can call this on its whole buffer.
 */
export function inspectFrame(bytes: Uint8Array, maxFrameBytes: number): JkFrameInspection {
  if (bytes.length >= 1 && bytes[0] !== JK_STX0) return invalidStx(bytes);
  if (bytes.length >= 2 && bytes[1] !== JK_STX1) return invalidStx(bytes);
  if (bytes.length < 4) return { kind: 'incomplete', totalBytes: null };

  const length = readUintBE(bytes, JkOffset.length, 2);
  const totalBytes = length + 2;
  if (length < JK_MIN_LENGTH) {
    return invalid('BAD_LENGTH', `LENGTH ${hex(length, 4)} is below the minimum ${hex(JK_MIN_LENGTH, 4)}`);
  }
  if (totalBytes > maxFrameBytes) {
    return invalid(
      'BAD_LENGTH',
      `LENGTH ${hex(length, 4)} means a ${totalBytes}-byte frame, above the ${maxFrameBytes}-byte limit`,
    );
  }
  if (bytes.length < totalBytes) return { kind: 'incomplete', totalBytes };

  const endIndex = length - 3;
  if (bytes[endIndex] !== JK_END) {
    return invalid('BAD_END', `byte ${endIndex} is ${hex(bytes[endIndex])}, expected the 0x68 end identifier`);
  }
  // §2.1: the two high checksum bytes are an unused CRC16 and always 0.
  const crc = readUintBE(bytes, length - 2, 2);
  if (crc !== 0) return invalid('BAD_CHECKSUM', `checksum high bytes ${hex(crc, 4)}, expected 0x0000`);
  const stated = readUintBE(bytes, length, 2);
  const computed = jkChecksum(bytes, endIndex);
  if (stated !== computed) {
    return invalid('BAD_CHECKSUM', `checksum ${hex(stated, 4)}, expected ${hex(computed, 4)}`);
  }
  return { kind: 'complete', totalBytes };
}

/** Validates that `bytes` is exactly one complete, checksummed frame; null when it is. */
export function validateFrame(bytes: Uint8Array): JkError | null {
  const inspection = inspectFrame(bytes, Number.MAX_SAFE_INTEGER);
  if (inspection.kind === 'invalid') return inspection.error;
  if (inspection.kind === 'incomplete') {
    const expected = inspection.totalBytes === null ? 'a 4-byte header' : `${inspection.totalBytes} bytes`;
    return jkError('TRUNCATED', `got ${bytes.length} bytes, expected ${expected}`);
  }
  if (inspection.totalBytes !== bytes.length) {
    return jkError(
      'BAD_LENGTH',
      `LENGTH ${hex(inspection.totalBytes - 2, 4)} means ${inspection.totalBytes} bytes, got ${bytes.length}`,
    );
  }
  return null;
}

export interface JkFrameHeader {
  command: number;
  source: number;
  transmissionType: number;
}

/**
 * Assembles a frame around an information field (§2.1): terminal and record number 0 as in every
 * capture, checksum high bytes 0, sum16 over 0x4E..0x68.
 */
export function buildFrame(header: JkFrameHeader, info: Uint8Array): Uint8Array {
  const total = JK_HEADER_BYTES + info.length + JK_TRAILER_BYTES;
  if (total - 2 > 0xffff) throw new RangeError(`info field of ${info.length} bytes does not fit LENGTH`);
  for (const [name, value] of Object.entries(header)) {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) {
      throw new RangeError(`${name} ${value} is not a byte`);
    }
  }
  const frame = new Uint8Array(total);
  frame[0] = JK_STX0;
  frame[1] = JK_STX1;
  writeUintBE(frame, JkOffset.length, 2, total - 2);
  frame[JkOffset.command] = header.command;
  frame[JkOffset.source] = header.source;
  frame[JkOffset.transmissionType] = header.transmissionType;
  frame.set(info, JK_HEADER_BYTES);
  const endIndex = total - 5;
  frame[endIndex] = JK_END;
  writeUintBE(frame, total - 2, 2, jkChecksum(frame, endIndex));
  return frame;
}

function invalid(code: JkError['code'], detail: string): JkFrameInspection {
  return { kind: 'invalid', error: jkError(code, detail) };
}

function invalidStx(bytes: Uint8Array): JkFrameInspection {
  const got = Array.from(bytes.subarray(0, 2), (b) => hex(b)).join(' ');
  return invalid('JUNK', `starts with ${got}, expected the 4E 57 start of frame`);
}
