import { describe, expect, it } from 'vitest';
import {
  buildFrame,
  inspectFrame,
  jkChecksum,
  JK_DEFAULT_MAX_FRAME_BYTES,
  JK_RESPONSE_RECORDS,
  validateFrame,
} from '../../../src/protocol/jk';
import { bytesOf, fromHex, JK4E57_VECTORS, MODERN_RESPONSE_VECTORS, vector } from './helpers';

describe('jkChecksum (§2.1)', () => {
  it('sums 0x4E through the 0x68 end byte: the canonical request gives 0x0129', () => {
    const request = bytesOf('4e57-req-read-all-pc');
    expect(jkChecksum(request, 16)).toBe(0x0129);
    // PR #343: leaving the 0x68 out gives the 0x0168 the BMS ignored.
    expect(jkChecksum(request, 15)).toBe(0x0129 - 0x68);
  });

  it('reproduces the stated checksum of every capture whose checksum_valid is true', () => {
    for (const v of MODERN_RESPONSE_VECTORS) {
      const frame = bytesOf(v);
      const stated = (frame[frame.length - 2] << 8) | frame[frame.length - 1];
      expect(jkChecksum(frame, frame.length - 5), v.id).toBe(stated);
      expect(`0x${stated.toString(16).toUpperCase().padStart(4, '0')}`).toBe(v.expected.checksum_u16);
    }
  });

  it('masks the sum to 16 bits', () => {
    expect(jkChecksum(new Uint8Array(300).fill(0xff), 299)).toBe((300 * 0xff) & 0xffff);
  });
});

describe('JK_RESPONSE_RECORDS (§2.4, §2.5)', () => {
  it('lists the ids in the order every modern capture sends them', () => {
    const ids = JK_RESPONSE_RECORDS.map((r) => r.id.toString(16).toUpperCase()).join(' ');
    for (const v of MODERN_RESPONSE_VECTORS) expect(ids, v.id).toBe(v.expected.data_ids_in_order);
  });

  it('gives the fixed part 0x80..0xC0 the 221 bytes of §2.4 (LENGTH = 241 + 3N)', () => {
    const fixed = JK_RESPONSE_RECORDS.filter((r) => r.length !== null);
    expect(fixed.reduce((sum, r) => sum + 1 + (r.length ?? 0), 0)).toBe(221);
  });

  it('marks exactly 0xB8, 0xB9, 0xBA and 0xC0 optional (absent on old firmware)', () => {
    expect(JK_RESPONSE_RECORDS.filter((r) => r.optional).map((r) => r.id)).toEqual([0xb8, 0xb9, 0xba, 0xc0]);
  });
});

describe('inspectFrame / validateFrame (§2.1 order)', () => {
  const good = bytesOf('4e57-resp-16s-opendtu-0');

  it('accepts every checksummed vector, request or reply', () => {
    const checksummed = JK4E57_VECTORS.filter((e) => e.expected.checksum_valid !== false && e.expected.complete !== false);
    for (const v of checksummed) {
      expect(validateFrame(bytesOf(v)), v.id).toBeNull();
    }
  });

  it('asks for more bytes while the header or body is incomplete', () => {
    const first = (n: number) => inspectFrame(good.subarray(0, n), JK_DEFAULT_MAX_FRAME_BYTES);
    expect(first(1)).toEqual({ kind: 'incomplete', totalBytes: null });
    expect(first(3)).toEqual({ kind: 'incomplete', totalBytes: null });
    expect(first(290)).toEqual({ kind: 'incomplete', totalBytes: 291 });
  });

  it('ignores bytes after the frame, so the framer can inspect its whole buffer', () => {
    expect(inspectFrame(Uint8Array.from([...good, 0x4e, 0x57]), 600)).toEqual({ kind: 'complete', totalBytes: 291 });
  });

  const modify = (index: number, value: number) => {
    const copy = good.slice();
    copy[index] = value;
    return copy;
  };
  const cases: [string, string, string, Uint8Array][] = [
    ['first byte not 0x4E', 'JUNK', 'starts with 0x4F 0x57, expected the 4E 57 start of frame', modify(0, 0x4f)],
    ['second byte not 0x57', 'JUNK', 'starts with 0x4E 0x58, expected the 4E 57 start of frame', modify(1, 0x58)],
    ['LENGTH below 0x12', 'BAD_LENGTH', 'LENGTH 0x0011 is below the minimum 0x0012', fromHex('4E5700110000000006030000000000680000')],
    ['LENGTH above the limit', 'BAD_LENGTH', 'LENGTH 0xFFFF means a 65537-byte frame, above the 600-byte limit', fromHex('4E57FFFF')],
    ['no 0x68 at LENGTH-3', 'BAD_END', 'byte 286 is 0x69, expected the 0x68 end identifier', modify(286, 0x69)],
    ['checksum high bytes set', 'BAD_CHECKSUM', 'checksum high bytes 0x0100, expected 0x0000', modify(287, 0x01)],
    ['sum off by one', 'BAD_CHECKSUM', 'checksum 0x53BA, expected 0x53BB', modify(290, 0xba)],
    ['data byte changed', 'BAD_CHECKSUM', 'checksum 0x53BB, expected ', modify(100, good[100] ^ 0x01)],
  ];
  it.each(cases)('%s → %s', (_name, code, detail, bytes) => {
    const inspection = inspectFrame(bytes, JK_DEFAULT_MAX_FRAME_BYTES);
    expect(inspection.kind).toBe('invalid');
    if (inspection.kind !== 'invalid') return;
    expect(inspection.error.code).toBe(code);
    expect(inspection.error.detail.startsWith(detail)).toBe(true);
  });

  it('validateFrame also rejects a short buffer (TRUNCATED) and trailing bytes (BAD_LENGTH)', () => {
    expect(validateFrame(bytesOf('4e57-resp-fragment-cmd03'))).toEqual({
      code: 'TRUNCATED',
      detail: 'got 50 bytes, expected 285 bytes',
    });
    expect(validateFrame(good.subarray(0, 2))?.code).toBe('TRUNCATED');
    expect(validateFrame(Uint8Array.from([...good, 0]))).toEqual({
      code: 'BAD_LENGTH',
      detail: 'LENGTH 0x0121 means 291 bytes, got 292',
    });
    expect(validateFrame(new Uint8Array(0))?.code).toBe('TRUNCATED');
  });
});

describe('buildFrame', () => {
  it('assembles the canonical request around its one-byte info field', () => {
    const frame = buildFrame({ command: 0x06, source: 0x03, transmissionType: 0 }, Uint8Array.of(0x00));
    expect(frame).toEqual(bytesOf(vector('4e57-req-read-all-pc')));
  });

  it('rejects header values that are not bytes', () => {
    expect(() => buildFrame({ command: 0x106, source: 0, transmissionType: 1 }, new Uint8Array(0))).toThrow(
      'command 262 is not a byte',
    );
    expect(() => buildFrame({ command: 6, source: 0, transmissionType: 1 }, new Uint8Array(0x10000))).toThrow(RangeError);
  });
});
