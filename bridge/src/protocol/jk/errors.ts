/**
 * Why bytes were not accepted as a JK "4E 57" frame or response. Tests assert on the code,
 * logs carry the detail (which always names the offending value and the expected one).
 */
export type JkErrorCode =
  | 'JUNK' // bytes that do not start with the 4E 57 STX (§2.1)
  | 'BAD_LENGTH' // LENGTH below 0x12, above the size limit, or not matching the buffer
  | 'BAD_END' // no 0x68 end identifier at LENGTH-3 (§2.1)
  | 'BAD_CHECKSUM' // checksum bytes 0/1 not zero, or sum16 mismatch (§2.1)
  | 'TRUNCATED' // fewer bytes than LENGTH+2 (framer: flushed on reply timeout)
  | 'UNKNOWN_ID' // a data id that is not in the read-all table (§2.4, §2.5)
  | 'BAD_RECORD' // TLV walk inconsistent: bad 0x79 length, overrun, duplicate, missing record
  | 'NOT_A_RESPONSE' // transmission type is not 1 "reply" (§2.2), e.g. an echoed request
  | 'BAD_REQUEST'; // a checksummed frame that is not a request (LENGTH not 0x12..0x14, §2.11)

export interface JkError {
  code: JkErrorCode;
  detail: string;
}

export function jkError(code: JkErrorCode, detail: string): JkError {
  return { code, detail };
}

export function isJkError(value: unknown): value is JkError {
  return typeof value === 'object' && value !== null && 'code' in value && 'detail' in value;
}
