/**
 * Public API of the pure JK "4E 57" codec (shared/spec/jk-serial-protocol.md §2). No I/O here:
 * transports feed JkFramer, the bridge decodes replies, the virtual BMS parses requests and
 * encodes replies.
 */
export * from './snapshot';
export type { JkError, JkErrorCode } from './errors';
export { isJkError } from './errors';
export {
  buildFrame,
  inspectFrame,
  jkChecksum,
  validateFrame,
  JK_DEFAULT_MAX_FRAME_BYTES,
  JK_END,
  JK_HEADER_BYTES,
  JK_MIN_LENGTH,
  JK_RECORD_BY_ID,
  JK_RESPONSE_RECORDS,
  JK_STX0,
  JK_STX1,
  JK_TRAILER_BYTES,
  JkCommand,
  JkFrameSource,
  JkOffset,
  JkTransmissionType,
} from './frame';
export type { JkFrameHeader, JkFrameInspection, JkRecordSpec } from './frame';
export { buildPairRequest, buildReadAllRequest, buildWriteRequest, parseRequest } from './request';
export type { JkReadAllOptions, JkRequest } from './request';
export { JkFramer } from './framer';
export type { JkFramerOptions, JkFramerOutput } from './framer';
export { decodeResponse, readRecords } from './decode';
export type { JkDecodeOptions, JkDecodeResult, JkRecord, JkRecordsResult } from './decode';
export { encodeResponse } from './encode';
export type { JkEncodeOptions } from './encode';
