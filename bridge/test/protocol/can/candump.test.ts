import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canFrame, formatCandumpLine, parseCandumpLine, type CanFrame } from '../../../src/protocol/can';
import { frameOf, vector } from './helpers';

describe('formatCandumpLine (candump -L)', () => {
  test('the real Pylontech 0x351', () => {
    expect(formatCandumpLine(frameOf(vector('setfire-new-351')), 'can0', 1700000000.123456)).toBe('(1700000000.123456) can0 351#1002C012C012C201');
  });

  test('29-bit ids take 8 digits, DLC 0 has no data, seconds are zero-padded to 10 digits', () => {
    expect(formatCandumpLine(canFrame(0x4200, [0, 0, 0, 0, 0, 0, 0, 0], true), 'vcan0', 1.5)).toBe('(0000000001.500000) vcan0 00004200#0000000000000000');
    expect(formatCandumpLine(canFrame(0x00f, []), 'can1', 0)).toBe('(0000000000.000000) can1 00F#');
  });

  test('microseconds are rounded, not truncated, and carry into the seconds', () => {
    expect(formatCandumpLine(canFrame(0x305, []), 'can0', 12.9999996)).toBe('(0000000013.000000) can0 305#');
  });

  test.each([
    ['an 11-bit id above 0x7FF', canFrame(0x800, []), 'can0', 0],
    ['a 29-bit id above 0x1FFFFFFF', canFrame(0x20000000, [], true), 'can0', 0],
    ['9 data bytes', canFrame(0x351, new Uint8Array(9)), 'can0', 0],
    ['a negative timestamp', canFrame(0x351, []), 'can0', -1],
    ['a NaN timestamp', canFrame(0x351, []), 'can0', Number.NaN],
    ['an interface name with a space', canFrame(0x351, []), 'can 0', 0],
  ] as const)('throws RangeError for %s', (_, f, iface, ts) => {
    expect(() => formatCandumpLine(f, iface, ts)).toThrow(RangeError);
  });
});

describe('parseCandumpLine', () => {
  test('a line with padded interface column and the -x "R" marker', () => {
    expect(parseCandumpLine('(1700000000.123456)  can0  351#1002c012C012C201 R\n')).toEqual({
      ok: true,
      frame: { id: 0x351, data: new Uint8Array([0x10, 0x02, 0xc0, 0x12, 0xc0, 0x12, 0xc2, 0x01]) },
      iface: 'can0',
      timestampSec: 1700000000.123456,
    });
  });

  test('8 digits mean 29-bit even for a small id (canplayer does the same)', () => {
    expect(parseCandumpLine('(0000000001.000000) vcan0 00000305#')).toMatchObject({ ok: true, frame: { id: 0x305, ext: true, data: new Uint8Array(0) } });
  });

  test.each([
    ['empty', ''],
    ['no timestamp', 'can0 351#00'],
    ['no interface', '(1.000000) 351#00'],
    ['4-digit id', '(1.000000) can0 0351#00'],
    ['odd hex', '(1.000000) can0 351#123'],
    ['non-hex data', '(1.000000) can0 351#ZZ'],
    ['9 bytes', '(1.000000) can0 351#000000000000000000'],
    ['11-bit id above 0x7FF', '(1.000000) can0 FFF#00'],
    ['error frame flag', '(1.000000) can0 20000080#0000000000000000'],
    ['remote frame', '(1.000000) can0 351#R'],
    ['CAN FD', '(1.000000) can0 351##100'],
    ['missing #', '(1.000000) can0 351'],
  ])('%s → ok: false with a reason', (_, line) => {
    const r = parseCandumpLine(line);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.detail).not.toBe('');
  });

  const frameArb: fc.Arbitrary<CanFrame> = fc.oneof(
    fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), data: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ id: fc.integer({ min: 0, max: 0x1fffffff }), data: fc.uint8Array({ maxLength: 8 }), ext: fc.constant(true) }),
  );

  test('parse(format(frame)) round-trips frame, interface and timestamp to the microsecond', () => {
    fc.assert(
      fc.property(frameArb, fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/), fc.integer({ min: 0, max: 4_000_000_000_000_000 }), (frame, iface, micros) => {
        const line = formatCandumpLine(frame, iface, micros / 1e6);
        const r = parseCandumpLine(line);
        expect(r).toEqual({ ok: true, frame, iface, timestampSec: expect.any(Number) });
        if (r.ok) expect(Math.round(r.timestampSec * 1e6)).toBe(micros);
        if (r.ok) expect(formatCandumpLine(r.frame, r.iface, r.timestampSec)).toBe(line);
      }),
    );
  });
});
