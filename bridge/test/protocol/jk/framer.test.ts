import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildReadAllRequest,
  decodeResponse,
  JkFramer,
  type JkFramerOutput,
} from '../../../src/protocol/jk';
import {
  bytesOf,
  concat,
  fromHex,
  JK4E57_VECTORS,
  MODERN_RESPONSE_VECTORS,
  split,
  toHex,
  withFixedChecksum,
} from './helpers';

/** Real frames: every checksummed reply and request of the vector file. */
const REAL_FRAMES = JK4E57_VECTORS.filter(
  (v) => v.expected.checksum_valid !== false && v.expected.complete !== false,
).map((v) => ({ id: v.id, bytes: bytesOf(v) }));
const REPLY = bytesOf('4e57-resp-16s-opendtu-0');
const REPLY2 = bytesOf('4e57-resp-7s-kenura');
const REQUEST = buildReadAllRequest();
const JUNK_A = fromHex('00FF4E0068574E');
const JUNK_B = fromHex('1234');

function feed(chunks: Uint8Array[], framer = new JkFramer()): JkFramerOutput[] {
  return [...chunks.flatMap((chunk) => framer.push(chunk)), ...framer.flush()];
}

/** A readable summary: frames as hex, discards as code + hex. */
function summary(outputs: JkFramerOutput[]): string[] {
  return outputs.map((o) => (o.kind === 'frame' ? `frame ${toHex(o.bytes)}` : `${o.code} ${toHex(o.bytes)}`));
}

describe('JkFramer: chunking (§2.10: a reply arrives in several pieces)', () => {
  it.each(REAL_FRAMES.map((f) => [f.id, f.bytes] as const))('%s: every two-chunk split gives the one frame', (_id, bytes) => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const framer = new JkFramer();
      const outputs = [...framer.push(bytes.subarray(0, cut)), ...framer.push(bytes.subarray(cut))];
      expect(summary(outputs), `cut at ${cut}`).toEqual([`frame ${toHex(bytes)}`]);
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('copies Node Buffer chunks: outputs and the buffer never alias the caller\'s memory', () => {
    const chunk = Buffer.from(concat(REQUEST, REPLY.subarray(0, 10)));
    const framer = new JkFramer();
    const [frame] = framer.push(chunk);
    chunk.fill(0);
    expect(frame.bytes.constructor).toBe(Uint8Array);
    expect(toHex(frame.bytes)).toBe(toHex(REQUEST));
    expect(summary(framer.push(REPLY.subarray(10)))).toEqual([`frame ${toHex(REPLY)}`]);
  });

  it('reports command, source and transmission type of each frame', () => {
    expect(feed([REQUEST, REPLY]).map((o) => o.kind === 'frame' && [o.command, o.source, o.transmissionType])).toEqual([
      [0x06, 0x03, 0],
      [0x06, 0x00, 1],
    ]);
  });

  const STREAM = concat(JUNK_A, REQUEST, REPLY, JUNK_B, bytesOf('4e57-resp-fragment-cmd03').subarray(0, 7), REPLY2);
  const streamOutput = summary(feed([STREAM]));

  it('splits a mixed stream into junk, echo, reply, junk, cut-off header, reply', () => {
    expect(streamOutput.map((line) => line.split(' ')[0])).toEqual([
      'JUNK',
      'frame',
      'frame',
      'JUNK',
      'TRUNCATED',
      'frame',
    ]);
  });

  it('gives the same output for every two-chunk split of that stream', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(summary(feed([STREAM.subarray(0, cut), STREAM.subarray(cut)])), `cut at ${cut}`).toEqual(streamOutput);
    }
  });

  it('gives the same output for random multi-chunk splits, byte-by-byte included', () => {
    expect(summary(feed(Array.from(STREAM, (b) => Uint8Array.of(b))))).toEqual(streamOutput);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(summary(feed(split(STREAM, cuts)))).toEqual(streamOutput);
      }),
      { numRuns: 300 },
    );
  });
});

describe('JkFramer: resynchronisation (§2.10)', () => {
  it('reports junk before and between frames as one JUNK item per run, across chunks', () => {
    const outputs = feed([JUNK_A.subarray(0, 3), JUNK_A.subarray(3), REPLY, JUNK_B, REPLY2]);
    expect(summary(outputs)).toEqual([
      `JUNK ${toHex(JUNK_A)}`,
      `frame ${toHex(REPLY)}`,
      `JUNK ${toHex(JUNK_B)}`,
      `frame ${toHex(REPLY2)}`,
    ]);
    expect(outputs[0]).toMatchObject({ detail: '7 bytes outside any 4E 57 frame' });
  });

  it('emits two frames that arrive in one chunk', () => {
    expect(summary(feed([concat(REPLY, REPLY2)]))).toEqual([`frame ${toHex(REPLY)}`, `frame ${toHex(REPLY2)}`]);
  });

  it('discards a bad-checksum frame with its detail and then emits the good frame after it', () => {
    const bad = REPLY.slice();
    bad[100] ^= 0x01;
    const outputs = feed([concat(bad, REPLY2)]);
    expect(summary(outputs)).toEqual([`BAD_CHECKSUM ${toHex(bad)}`, `frame ${toHex(REPLY2)}`]);
    expect(outputs[0]).toMatchObject({ detail: 'checksum 0x53BB, expected 0x53BA' });
  });

  it('finds a real frame hidden inside a corrupted one (rescan from the byte after the bad STX)', () => {
    // A header claiming 0x0100 bytes, swallowing the request and part of the reply that follow it.
    const liar = fromHex('4E570100');
    const stream = concat(liar, REQUEST, REPLY);
    expect(summary(feed([stream]))).toEqual([
      `BAD_END ${toHex(liar)}`,
      `frame ${toHex(REQUEST)}`,
      `frame ${toHex(REPLY)}`,
    ]);
  });

  it('a truncated frame followed by a complete one: the fragment is discarded, the frame kept', () => {
    const fragment = bytesOf('4e57-resp-fragment-cmd03');
    const outputs = feed([fragment, REPLY2]);
    expect(summary(outputs)).toEqual([`BAD_END ${toHex(fragment)}`, `frame ${toHex(REPLY2)}`]);
  });

  it('rejects an oversized LENGTH at once instead of waiting for it', () => {
    const framer = new JkFramer();
    const outputs = framer.push(concat(fromHex('4E57FFFF'), REPLY));
    expect(summary(outputs)).toEqual([`BAD_LENGTH 4E57FFFF`, `frame ${toHex(REPLY)}`]);
    expect(outputs[0]).toMatchObject({ detail: 'LENGTH 0xFFFF means a 65537-byte frame, above the 600-byte limit' });
  });

  it('honours a smaller maxFrameBytes (a 291-byte reply is then too long)', () => {
    const outputs = feed([REPLY], new JkFramer({ maxFrameBytes: 290 }));
    expect(outputs[0]).toMatchObject({ kind: 'discarded', code: 'BAD_LENGTH' });
    expect(outputs.some((o) => o.kind === 'frame')).toBe(false);
  });

  it('rejects a LENGTH below 0x12', () => {
    expect(summary(feed([concat(fromHex('4E570011'), REQUEST)]))).toEqual([
      'BAD_LENGTH 4E570011',
      `frame ${toHex(REQUEST)}`,
    ]);
  });

  it('emits an echoed request (type 0) followed by the reply; only the reply decodes', () => {
    const outputs = feed([concat(REQUEST, REPLY)]);
    expect(outputs.map((o) => o.kind === 'frame' && o.transmissionType)).toEqual([0, 1]);
    const decoded = outputs.map((o) => (o.kind === 'frame' ? decodeResponse(o.bytes).ok : null));
    expect(decoded).toEqual([false, true]);
  });

  it('treats 0x4E followed by anything but 0x57 as junk', () => {
    const framer = new JkFramer();
    expect(framer.push(Uint8Array.of(0x4e))).toEqual([]);
    expect(framer.bufferedBytes).toBe(1);
    expect(summary(framer.push(concat(Uint8Array.of(0x4e, 0x00), REQUEST)))).toEqual([
      'JUNK 4E4E00',
      `frame ${toHex(REQUEST)}`,
    ]);
  });
});

describe('JkFramer: flush, reset and the buffer bound', () => {
  it('holds the 50-byte fragment, then flush reports it TRUNCATED and empties the buffer', () => {
    const fragment = bytesOf('4e57-resp-fragment-cmd03');
    const framer = new JkFramer();
    expect(framer.push(fragment)).toEqual([]);
    expect(framer.bufferedBytes).toBe(50);
    expect(framer.flush()).toEqual([
      { kind: 'discarded', code: 'TRUNCATED', bytes: fragment, detail: 'stream ended after 50 of 285 bytes' },
    ]);
    expect(framer.bufferedBytes).toBe(0);
    expect(framer.push(REPLY)).toHaveLength(1);
  });

  it('flush still emits a complete frame that a cut-off header had swallowed', () => {
    const cutOff = bytesOf('4e57-resp-fragment-cmd03').subarray(0, 7); // claims 285 bytes
    const framer = new JkFramer();
    expect([...framer.push(cutOff), ...framer.push(REPLY2)]).toEqual([]);
    const outputs = framer.flush();
    expect(summary(outputs)).toEqual([`TRUNCATED ${toHex(cutOff)}`, `frame ${toHex(REPLY2)}`]);
    expect(outputs[0]).toMatchObject({ detail: 'stream ended after 271 of 285 bytes' });
  });

  it('flush reports a pending junk run, and a partial header as TRUNCATED', () => {
    const framer = new JkFramer();
    expect(framer.push(JUNK_B)).toEqual([]);
    expect(summary(framer.flush())).toEqual(['JUNK 1234']);
    expect(summary(framer.push(concat(JUNK_B, fromHex('4E57'))))).toEqual(['JUNK 1234']);
    const outputs = framer.flush();
    expect(summary(outputs)).toEqual(['TRUNCATED 4E57']);
    expect(outputs[0]).toMatchObject({ detail: 'stream ended inside a frame header (2 of 4 bytes)' });
    expect(framer.flush()).toEqual([]);
    framer.push(concat(JUNK_B, fromHex('4E'))); // a lone 0x4E may be the start of an STX
    expect(summary(framer.flush())).toEqual(['JUNK 1234', 'TRUNCATED 4E']);
  });

  it('reset forgets buffered bytes', () => {
    const framer = new JkFramer();
    framer.push(REPLY.subarray(0, 100));
    framer.reset();
    expect(framer.bufferedBytes).toBe(0);
    expect(summary(framer.push(REQUEST))).toEqual([`frame ${toHex(REQUEST)}`]);
  });

  it('never keeps more than maxFrameBytes: a long junk run goes out in maxFrameBytes pieces', () => {
    const framer = new JkFramer({ maxFrameBytes: 100 });
    const outputs = framer.push(new Uint8Array(1050).fill(0x11));
    expect(outputs.map((o) => o.bytes.length)).toEqual(new Array(10).fill(100));
    expect(framer.bufferedBytes).toBe(50);
    expect(framer.flush().map((o) => o.bytes.length)).toEqual([50]);
  });

  it('rejects a maxFrameBytes below the 20-byte minimum frame', () => {
    expect(() => new JkFramer({ maxFrameBytes: 19 })).toThrow(RangeError);
  });

  it('accepts every modern reply and the fixed old-firmware one under the default limit', () => {
    const frames = [...MODERN_RESPONSE_VECTORS.map(bytesOf), withFixedChecksum(bytesOf('4e57-resp-20s-vendor-example-old-fw'))];
    expect(feed(frames).map((o) => o.kind)).toEqual(frames.map(() => 'frame'));
  });
});
