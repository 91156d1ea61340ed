import { describe, expect, it } from 'vitest';
import {
  buildPairRequest,
  buildReadAllRequest,
  buildWriteRequest,
  isJkError,
  parseRequest,
  type JkRequest,
} from '../../../src/protocol/jk';
import { bytesOf, concat, REQUEST_VECTORS, reframe, toHex, vector } from './helpers';

describe('request builders reproduce the vectors byte for byte (§2.3, §2.8)', () => {
  const cases: [string, () => Uint8Array][] = [
    ['4e57-req-read-all-pc', () => buildReadAllRequest()],
    ['4e57-req-read-all-gps', () => buildReadAllRequest({ source: 'gps' })],
    ['4e57-req-read-cmd03', () => buildReadAllRequest({ command: 0x03 })],
    ['4e57-req-read-all-20byte', () => buildReadAllRequest({ withDataId: false })],
    ['4e57-req-pair-esphome', () => buildPairRequest()],
    ['4e57-req-write-charge-mos-off', () => buildWriteRequest(0xab, 0)],
    ['4e57-req-write-charge-mos-on', () => buildWriteRequest(0xab, 1)],
  ];
  it.each(cases)('%s', (id, build) => {
    expect(toHex(build())).toBe(vector(id).hex);
  });

  it('rejects write ids and values that are not single bytes', () => {
    expect(() => buildWriteRequest(0x1ab, 0)).toThrow('write id 427 is not a byte');
    expect(() => buildWriteRequest(0xab, 256)).toThrow('write value 256 is not a byte');
    expect(() => buildWriteRequest(0xab, -1)).toThrow(RangeError);
  });
});

describe('parseRequest (§2.11 point 2)', () => {
  /** Expected keys of the request vectors, mapped onto JkRequest and the raw frame. */
  function view(frame: Uint8Array, request: JkRequest, keys: string[]): Record<string, unknown> {
    const length = frame.length - 2;
    const map: Record<string, () => unknown> = {
      length_field: () => length,
      command: () => request.command,
      frame_source: () => request.source,
      transmission_type: () => request.transmissionType,
      data_id: () => request.dataId,
      register: () => request.dataId,
      value: () => request.value[0],
      record_number: () => toHex(frame.subarray(length - 7, length - 3)),
      end: () => frame[length - 3],
      checksum: () => `0x${toHex(frame.subarray(length, length + 2))}`,
      checksum_covers: () =>
        `bytes[0..${length - 3}] (${toHex(frame.subarray(0, 1))}..${toHex(frame.subarray(length - 3, length - 2))})`,
    };
    return Object.fromEntries(
      keys.map((key) => {
        if (!map[key]) throw new Error(`no mapping for expected key ${key}`);
        return [key, map[key]()];
      }),
    );
  }

  const valid = REQUEST_VECTORS.filter((v) => v.expected.checksum_valid !== false);
  it.each(valid.map((v) => [v.id, v] as const))('accepts %s with its expected fields', (_id, v) => {
    const frame = bytesOf(v);
    const parsed = parseRequest(frame);
    if (isJkError(parsed)) throw new Error(`${parsed.code}: ${parsed.detail}`);
    expect(view(frame, parsed, Object.keys(v.expected))).toEqual(v.expected);
  });

  it('separates the 20-, 21- and 22-byte forms into dataId and value', () => {
    expect(parseRequest(buildReadAllRequest({ withDataId: false }))).toMatchObject({ dataId: null, value: new Uint8Array(0) });
    expect(parseRequest(buildReadAllRequest())).toMatchObject({ dataId: 0, value: new Uint8Array(0) });
    expect(parseRequest(buildWriteRequest(0xac, 1))).toMatchObject({ command: 2, source: 2, dataId: 0xac, value: Uint8Array.of(1) });
  });

  it('rejects the real PR #343 write whose checksum left out the 0x68', () => {
    const v = vector('4e57-req-write-bad-checksum-pr343');
    expect(parseRequest(bytesOf(v))).toEqual({
      code: 'BAD_CHECKSUM',
      detail: `checksum 0x0168, expected ${String(v.expected.correct_checksum)}`,
    });
  });

  it('rejects a checksummed frame that is too long to be a request, such as a reply', () => {
    expect(parseRequest(bytesOf('4e57-resp-7s-kenura'))).toEqual({
      code: 'BAD_REQUEST',
      detail: 'LENGTH 0x0106 is not a request (0x0012..0x0014)',
    });
    const threeByteInfo = reframe(buildWriteRequest(0xab, 1), (info) => [...info, 0]);
    expect(parseRequest(threeByteInfo)).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('rejects framing errors and trailing bytes instead of guessing', () => {
    const request = buildReadAllRequest();
    expect(parseRequest(request.subarray(0, 20))).toMatchObject({ code: 'TRUNCATED' });
    expect(parseRequest(concat(request, Uint8Array.of(0)))).toMatchObject({ code: 'BAD_LENGTH' });
    expect(parseRequest(concat(Uint8Array.of(0), request))).toMatchObject({ code: 'JUNK' });
  });

  it('returns a value that does not alias the input buffer', () => {
    const frame = buildWriteRequest(0xab, 1);
    const parsed = parseRequest(frame);
    frame[12] = 0;
    expect(parsed).toMatchObject({ value: Uint8Array.of(1) });
  });
});
