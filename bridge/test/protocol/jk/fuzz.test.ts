/**
 * Property tests (fast-check): ≥ 100 000 generated inputs through the framer and the decoder.
 * Random bytes, random streams of real frames with byte flips, insertions, deletions and
 * truncations, in random chunkings; replies mutated inside the info field with LENGTH and checksum
 * repaired, so the TLV walk itself is attacked; and random info fields in valid frames.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildFrame,
  decodeResponse,
  encodeResponse,
  JK_RESPONSE_RECORDS,
  JkFramer,
  parseRequest,
  readRecords,
  validateFrame,
  type JkErrorCode,
  type JkFramerOutput,
} from '../../../src/protocol/jk';
import {
  bytesOf,
  concat,
  JK4E57_VECTORS,
  MODERN_RESPONSE_VECTORS,
  mutate,
  reframe,
  split,
  withFixedChecksum,
  type Mutation,
} from './helpers';

const CODES: readonly JkErrorCode[] = [
  'JUNK',
  'BAD_LENGTH',
  'BAD_END',
  'BAD_CHECKSUM',
  'TRUNCATED',
  'UNKNOWN_ID',
  'BAD_RECORD',
  'NOT_A_RESPONSE',
  'BAD_REQUEST',
];

const REAL_FRAMES = JK4E57_VECTORS.filter(
  (v) => v.expected.checksum_valid !== false && v.expected.complete !== false,
).map(bytesOf);
const REPLIES = [
  ...MODERN_RESPONSE_VECTORS.map(bytesOf),
  withFixedChecksum(bytesOf('4e57-resp-20s-vendor-example-old-fw')),
];

/** Bytes biased towards the protocol's own markers (about 1 in 6), so random data often looks like a frame. */
const MARKERS = [0x4e, 0x57, 0x68, 0x00, 0x01, 0x79, 0xc0];
const bytes = (maxLength: number) =>
  fc.uint8Array({ maxLength, size: 'max' }).map((raw) => raw.map((b) => (b < 42 ? MARKERS[b % MARKERS.length] : b)));
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const coding = fc.constantFrom('doc' as const, 'esphome' as const);
/** flipWeight > 1 favours byte flips, which keep the TLV structure and so reach the value decoders. */
const mutation = (flipWeight: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    {
      arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      weight: flipWeight,
    },
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );

/** A reply-shaped info field: the §2.4 records in order with random values, each present 19 times in 20. */
const structuredInfo: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    ...JK_RESPONSE_RECORDS.map((spec) =>
      fc.option(
        spec.length === null
          ? fc
              .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
              .map((mvs) => [spec.id, mvs.length * 3, ...mvs.flatMap((mv, i) => [i + 1, mv >> 8, mv & 0xff])])
          : fc.uint8Array({ minLength: spec.length, maxLength: spec.length }).map((v) => [spec.id, ...v]),
        { freq: 20 },
      ),
    ),
  )
  .map((parts) => Uint8Array.from(parts.flatMap((part) => part ?? [])));

let inputs = 0;
/** ~3-6 s each on an idle machine; the margin is for loaded CI runners, not for more work. */
const FUZZ_TIMEOUT_MS = 60_000;

/** A plain throw: expect() per byte-level check would dominate the run time of 100 000 inputs. */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

/** Framer invariants on one stream in one chunking; decoder and parser must not throw on any frame. */
function checkStream(stream: Uint8Array, chunks: Uint8Array[], maxFrameBytes: number): void {
  inputs++;
  const framer = new JkFramer({ maxFrameBytes });
  const outputs: JkFramerOutput[] = [];
  for (const chunk of chunks) {
    outputs.push(...framer.push(chunk));
    check(framer.bufferedBytes <= maxFrameBytes, `buffer grew to ${framer.bufferedBytes}`);
  }
  outputs.push(...framer.flush());
  check(framer.bufferedBytes === 0, 'flush left bytes behind');
  for (const o of outputs) {
    check(o.bytes.length > 0 && o.bytes.length <= maxFrameBytes, `${o.kind} of ${o.bytes.length} bytes`);
    if (o.kind === 'frame') {
      check(validateFrame(o.bytes) === null, 'emitted a frame that does not validate');
      checkDecoders(o.bytes);
    } else {
      check(CODES.includes(o.code), `unknown code ${o.code}`);
    }
  }
  // Nothing dropped, nothing duplicated: the outputs re-assemble the input.
  check(Buffer.from(concat(...outputs.map((o) => o.bytes))).equals(Buffer.from(stream)), 'bytes lost or duplicated');
}

/** Inputs already checked (unmutated captures recur often; the codec is deterministic). */
const checked = new Set<string>();

/** Decoder, parser and record walk on any bytes: no throw; a decoded reply re-encodes to itself. */
function checkDecoders(frame: Uint8Array, temperatureCoding: 'doc' | 'esphome' = 'doc'): void {
  const key = temperatureCoding + Buffer.from(frame).toString('latin1');
  if (checked.has(key)) return;
  checked.add(key);
  const parsed = parseRequest(frame);
  check(!('code' in parsed) || CODES.includes(parsed.code), 'parseRequest: unknown code');
  const walked = readRecords(frame);
  check(walked.ok || CODES.includes(walked.error.code), 'readRecords: unknown code');
  const decoded = decodeResponse(frame, { temperatureCoding });
  if (!decoded.ok) {
    check(CODES.includes(decoded.error.code), 'decodeResponse: unknown code');
    return;
  }
  const again = decodeResponse(encodeResponse(decoded.snapshot, { temperatureCoding }), { temperatureCoding });
  check(again.ok && isDeepStrictEqual(again.snapshot, decoded.snapshot), 'decode(encode(snapshot)) differs');
}

describe('fuzz: framer and decoder never throw and keep their invariants', () => {
  it('random byte streams in random chunks (40 000 inputs)', () => {
    fc.assert(
      fc.property(bytes(400), cuts, fc.constantFrom(600, 64, 20), (stream, cutPoints, max) => {
        checkStream(stream, split(stream, cutPoints), max);
        checkDecoders(stream);
      }),
      { numRuns: 40_000 },
    );
  }, FUZZ_TIMEOUT_MS);

  it('mutated streams of real frames in random chunks (30 000 inputs)', () => {
    const frames = fc.array(fc.constantFrom(...REAL_FRAMES), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(frames, fc.array(mutation(1), { maxLength: 4 }), cuts, (picked, mutations, cutPoints) => {
        const stream = mutate(concat(...picked), mutations);
        checkStream(stream, split(stream, cutPoints), 600);
        checkDecoders(stream);
      }),
      { numRuns: 30_000 },
    );
  }, FUZZ_TIMEOUT_MS);

  it('replies mutated inside the info field, LENGTH and checksum repaired (20 000 inputs)', () => {
    const infoMutations = fc.array(mutation(8), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(fc.constantFrom(...REPLIES), infoMutations, coding, (reply, mutations, tc) => {
        inputs++;
        checkDecoders(reframe(reply, (info) => Array.from(mutate(Uint8Array.from(info), mutations))), tc);
      }),
      { numRuns: 20_000 },
    );
  }, FUZZ_TIMEOUT_MS);

  it('random and reply-shaped info fields in valid frames (10 000 inputs)', () => {
    const header = fc.record({
      command: fc.integer({ min: 0, max: 255 }),
      source: fc.integer({ min: 0, max: 3 }),
      transmissionType: fc.constantFrom(0, 1, 1, 1, 2),
    });
    fc.assert(
      fc.property(header, fc.oneof(bytes(320), structuredInfo), coding, (h, info, tc) => {
        const frame = buildFrame(h, info);
        checkDecoders(frame, tc);
        checkStream(frame, [frame], 600);
      }),
      { numRuns: 10_000 },
    );
  }, FUZZ_TIMEOUT_MS);

  it('ran at least 100 000 inputs', () => {
    expect(inputs).toBeGreaterThanOrEqual(100_000);
  });
});
