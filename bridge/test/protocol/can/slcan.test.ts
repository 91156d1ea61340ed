import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  SLCAN_BITRATES,
  SLCAN_MAX_LINE_LENGTH,
  SlcanLineSplitter,
  canFrame,
  encodeSlcanFrame,
  parseSlcanBitrateCommand,
  parseSlcanFrame,
  slcanBitrateCommand,
  type CanFrame,
  type SlcanMessage,
} from '../../../src/protocol/can';
import { frameOf, vector } from './helpers';

describe('frame codec', () => {
  test('11-bit: t<3 hex id><dlc><data>\\r', () => {
    expect(encodeSlcanFrame(frameOf(vector('setfire-new-351')))).toBe('t35181002C012C012C201\r');
    expect(encodeSlcanFrame(canFrame(0x00f, []))).toBe('t00F0\r');
  });

  test('29-bit: T<8 hex id><dlc><data>\\r', () => {
    expect(encodeSlcanFrame(canFrame(0x4200, [0x02, 0, 0, 0, 0, 0, 0, 0], true))).toBe('T0000420080200000000000000\r');
  });

  test('invalid frames throw RangeError', () => {
    expect(() => encodeSlcanFrame(canFrame(0x800, []))).toThrow(RangeError);
    expect(() => encodeSlcanFrame(canFrame(0x351, new Uint8Array(9)))).toThrow(RangeError);
  });

  test('parse: any hex case, with or without \\r, optional 4-digit timestamp', () => {
    expect(parseSlcanFrame('t3512abcd')).toEqual({ ok: true, frame: { id: 0x351, data: new Uint8Array([0xab, 0xcd]) } });
    expect(parseSlcanFrame('T1FFFFFFF0\r')).toEqual({ ok: true, frame: { id: 0x1fffffff, data: new Uint8Array(0), ext: true } });
    expect(parseSlcanFrame('t3051001A2B')).toEqual({ ok: true, frame: { id: 0x305, data: new Uint8Array([0x00]) }, timestampMs: 0x1a2b });
  });

  test.each([
    ['remote frame', 'r3510'],
    ['29-bit remote', 'R000003510'],
    ['not a frame', 'O'],
    ['short id', 't35'],
    ['non-hex id', 't3G18'],
    ['DLC 9', 't3519000000000000000000'],
    ['DLC letter', 't351A'],
    ['too few data bytes', 't351200'],
    ['junk after data', 't3511001X'],
    ['5-digit tail', 't351100112345'],
    ['29-bit id above 0x1FFFFFFF', 'T200000000'],
  ])('%s → ok: false', (_, text) => {
    const r = parseSlcanFrame(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.detail).not.toBe('');
  });

  const frameArb: fc.Arbitrary<CanFrame> = fc.oneof(
    fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), data: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ id: fc.integer({ min: 0, max: 0x1fffffff }), data: fc.uint8Array({ maxLength: 8 }), ext: fc.constant(true) }),
  );

  test('parse(encode(frame)) = frame, and every encoded line fits the splitter bound', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const line = encodeSlcanFrame(frame);
        expect(line.length - 1).toBeLessThanOrEqual(SLCAN_MAX_LINE_LENGTH);
        expect(parseSlcanFrame(line)).toEqual({ ok: true, frame });
      }),
    );
  });
});

describe('bit rates', () => {
  test('S0 … S8 (Lawicel)', () => {
    expect(SLCAN_BITRATES).toEqual({ S0: 10_000, S1: 20_000, S2: 50_000, S3: 100_000, S4: 125_000, S5: 250_000, S6: 500_000, S7: 800_000, S8: 1_000_000 });
    expect(slcanBitrateCommand(500_000)).toBe('S6\r');
    expect(slcanBitrateCommand(1_000_000)).toBe('S8\r');
    expect(() => slcanBitrateCommand(83_333)).toThrow(RangeError);
  });

  test('device side reads them back', () => {
    expect(parseSlcanBitrateCommand('S6\r')).toBe(500_000);
    expect(parseSlcanBitrateCommand('S0')).toBe(10_000);
    expect(parseSlcanBitrateCommand('S9')).toBeUndefined();
    expect(parseSlcanBitrateCommand('toString')).toBeUndefined();
  });
});

describe('SlcanLineSplitter', () => {
  const STREAM = 't35181002C012C012C201\r\r\x07z\rZ\rV1013\rO\rt3G1\rT0000420080200000000000000\r';
  const EXPECTED: SlcanMessage[] = [
    { kind: 'frame', frame: { id: 0x351, data: new Uint8Array([0x10, 0x02, 0xc0, 0x12, 0xc0, 0x12, 0xc2, 0x01]) } },
    { kind: 'ok' },
    { kind: 'error' },
    { kind: 'tx-ack' },
    { kind: 'tx-ack' },
    { kind: 'command', text: 'V1013' },
    { kind: 'command', text: 'O' },
    { kind: 'invalid', text: 't3G1', detail: 'id must be 3 hex digits' },
    { kind: 'frame', frame: { id: 0x4200, data: new Uint8Array([0x02, 0, 0, 0, 0, 0, 0, 0]), ext: true } },
  ];

  test('one chunk, as a string and as bytes', () => {
    expect(new SlcanLineSplitter().push(STREAM)).toEqual(EXPECTED);
    expect(new SlcanLineSplitter().push(Uint8Array.from(STREAM, (c) => c.charCodeAt(0)))).toEqual(EXPECTED);
  });

  test('the same messages at every split point, and byte by byte', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const s = new SlcanLineSplitter();
      expect([...s.push(STREAM.slice(0, cut)), ...s.push(STREAM.slice(cut))]).toEqual(EXPECTED);
    }
    const s = new SlcanLineSplitter();
    expect([...STREAM].flatMap((c) => s.push(c))).toEqual(EXPECTED);
  });

  test('\\r\\n is one terminator; a lone \\n is not an OK', () => {
    expect(new SlcanLineSplitter().push('O\r\n\n\r')).toEqual([{ kind: 'command', text: 'O' }, { kind: 'ok' }]);
  });

  test('BEL ends a pending partial line', () => {
    expect(new SlcanLineSplitter().push('t35\x07t3050\r')).toEqual([
      { kind: 'invalid', text: 't35', detail: 'unterminated line before BEL' },
      { kind: 'error' },
      { kind: 'frame', frame: { id: 0x305, data: new Uint8Array(0) } },
    ]);
  });

  test('non-printable bytes in a line make it invalid', () => {
    expect(new SlcanLineSplitter().push(new Uint8Array([0x4f, 0x00, 0x0d]))).toEqual([{ kind: 'invalid', text: 'O\0', detail: 'not an SLCAN line' }]);
    expect(new SlcanLineSplitter().push(new Uint8Array([0xff, 0x0d]))[0]).toMatchObject({ kind: 'invalid' });
  });

  test('a megabyte of garbage without \\r is kept bounded and reported once when it ends, and the stream recovers', () => {
    const s = new SlcanLineSplitter();
    const garbage = new Uint8Array(1 << 20).fill(0x41);
    expect(s.push(garbage)).toEqual([]);
    expect(s.push(garbage)).toEqual([]); // still skipping: nothing kept beyond the first characters
    const out = s.push('AAAA\rt3050\r');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ kind: 'invalid', detail: `line longer than ${SLCAN_MAX_LINE_LENGTH} characters` });
    expect(out[0].kind === 'invalid' && out[0].text.length).toBe(SLCAN_MAX_LINE_LENGTH);
    expect(out[1]).toEqual({ kind: 'frame', frame: { id: 0x305, data: new Uint8Array(0) } });
  });

  test('an overlong line ended by BEL is reported before the error reply', () => {
    const out = new SlcanLineSplitter().push(`${'x'.repeat(40)}\x07`);
    expect(out.map((m) => m.kind)).toEqual(['invalid', 'error']);
  });

  test('a line of exactly the maximum length is accepted', () => {
    const line = 'T1FFFFFFF8' + '00'.repeat(8) + 'EA5F';
    expect(line).toHaveLength(SLCAN_MAX_LINE_LENGTH);
    expect(new SlcanLineSplitter().push(`${line}\r`)).toEqual([{ kind: 'frame', frame: { id: 0x1fffffff, data: new Uint8Array(8), ext: true }, timestampMs: 0xea5f }]);
  });

  test('random chunking of random frames and replies never loses or invents a message', () => {
    const item = fc.oneof(
      fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), data: fc.uint8Array({ maxLength: 8 }) }).map((frame): [string, SlcanMessage] => [encodeSlcanFrame(frame), { kind: 'frame', frame }]),
      fc.constant<[string, SlcanMessage]>(['\r', { kind: 'ok' }]),
      fc.constant<[string, SlcanMessage]>(['\x07', { kind: 'error' }]),
      fc.constant<[string, SlcanMessage]>(['z\r', { kind: 'tx-ack' }]),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (items, cuts) => {
        const stream = items.map(([text]) => text).join('');
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const s = new SlcanLineSplitter();
        const got: SlcanMessage[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          got.push(...s.push(stream.slice(from, p)));
          from = p;
        }
        expect(got).toEqual(items.map(([, m]) => m));
      }),
    );
  });
});
