/**
 * Host → BMS requests (§2.3, §2.8): builders for the bridge, parseRequest for the virtual BMS.
 */
import { copyBytes, hex } from './bytes';
import { jkError, type JkError } from './errors';
import {
  buildFrame,
  JK_HEADER_BYTES,
  JK_MIN_LENGTH,
  JK_TRAILER_BYTES,
  JkCommand,
  JkFrameSource,
  JkOffset,
  JkTransmissionType,
  validateFrame,
} from './frame';

export interface JkReadAllOptions {
  /** 0x06 "read all" (default) or 0x03 "read" with id 0: both return every record (§2.2). */
  command?: 0x06 | 0x03;
  /** 'pc' (3, the vendor's canonical request, default) or 'gps' (2, what esphome sends). */
  source?: 'pc' | 'gps';
  /** false gives OpenDTU's 20-byte form without the id byte (LENGTH 0x12, §2.3). */
  withDataId?: boolean;
}

/** Read-all request; the defaults give the canonical `4E 57 00 13 … 06 03 00 00 … 68 00 00 01 29`. */
export function buildReadAllRequest(opts: JkReadAllOptions = {}): Uint8Array {
  const { command = JkCommand.readAll, source = 'pc', withDataId = true } = opts;
  return buildRequest(command, JkFrameSource[source], withDataId ? [0x00] : []);
}

/** Password/"pair" frame esphome sends before writes (§2.8 step 1); the BMS does not answer it. */
export function buildPairRequest(): Uint8Array {
  return buildRequest(JkCommand.pair, JkFrameSource.gps, [0x00, 0x00]);
}

/**
 * Single-byte write `[id][value]` (§2.8), frame source GPS as esphome (esphome#20). Only 0xAB/0xAC
 * are known to work; multi-byte values are unverified, so they are not offered.
 */
export function buildWriteRequest(id: number, value: number): Uint8Array {
  for (const [name, byte] of [['id', id], ['value', value]] as const) {
    if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) throw new RangeError(`write ${name} ${byte} is not a byte`);
  }
  return buildRequest(JkCommand.write, JkFrameSource.gps, [id, value]);
}

export interface JkRequest {
  command: number;
  source: number;
  /** Returned, not checked: §2.11 gives no rule for it, so the virtual BMS decides. */
  transmissionType: number;
  /** The info field's first byte; null in the 20-byte form without an id. */
  dataId: number | null;
  /** Bytes after the id: one byte for writes and pair, empty otherwise. */
  value: Uint8Array;
}

/** §2.11 point 2: LENGTH 0x12 (no id), 0x13 (id) or 0x14 (id + 1-byte value). */
const MAX_REQUEST_INFO_BYTES = 2;

/**
 * Parses a request frame for the virtual BMS. Anything else (bad framing or checksum, e.g. the
 * PR #343 write, or a frame of another size) is a JkError, which §2.11 says to ignore silently.
 */
export function parseRequest(frame: Uint8Array): JkRequest | JkError {
  const bad = validateFrame(frame);
  if (bad) return bad;
  const infoLength = frame.length - JK_HEADER_BYTES - JK_TRAILER_BYTES;
  if (infoLength > MAX_REQUEST_INFO_BYTES) {
    const range = `${hex(JK_MIN_LENGTH, 4)}..${hex(JK_MIN_LENGTH + MAX_REQUEST_INFO_BYTES, 4)}`;
    return jkError('BAD_REQUEST', `LENGTH ${hex(frame.length - 2, 4)} is not a request (${range})`);
  }
  return {
    command: frame[JkOffset.command],
    source: frame[JkOffset.source],
    transmissionType: frame[JkOffset.transmissionType],
    dataId: infoLength === 0 ? null : frame[JK_HEADER_BYTES],
    value: copyBytes(frame, JK_HEADER_BYTES + 1, JK_HEADER_BYTES + infoLength),
  };
}

function buildRequest(command: number, source: number, info: number[]): Uint8Array {
  return buildFrame({ command, source, transmissionType: JkTransmissionType.request }, Uint8Array.from(info));
}
