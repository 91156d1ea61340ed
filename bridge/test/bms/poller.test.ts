/**
 * BmsPoller over the in-memory ByteLink twin, on Vitest's fake timers: every delay is virtual and
 * every assertion is awaited (design/MODELS.md §7 lessons 4 and 8). The far end is a scripted BMS
 * that answers with the captured replies of vectors/jk-frames.json.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BmsPoller, type PollerEvent } from '../../src/bms/poller';
import { systemClock } from '../../src/clock';
import { decodeResponse, encodeResponse, type BmsSnapshot } from '../../src/protocol/jk';
import { createMemoryLinkPair, type MemoryPeer } from '../../src/transport/memory-link';
import type { ByteLink } from '../../src/transport/types';
import { bytesOf, concat, MODERN_RESPONSE_VECTORS, reframe, split } from '../protocol/jk/helpers';
import type { PollerOptions } from '../../src/bms/poller';
import { CAPTURE, captured, pollerOptions, READ_ALL_REQUEST, recordingLog, silentLog, startPoller } from './support';

/** One piece of a reply, sent `afterMs` after the request reached the BMS. */
interface Piece {
  afterMs: number;
  bytes: Uint8Array;
}

/**
 * A scripted BMS at the far end of the memory twin: `answer(n)` gives the pieces sent in reply to
 * the n-th request (0-based). It records each request with the (fake) time it arrived.
 */
function scriptedBms(peer: MemoryPeer, answer: (n: number, request: Uint8Array) => Piece[]) {
  const requests: Array<{ atMs: number; bytes: Uint8Array }> = [];
  peer.onWrite((bytes) => {
    const n = requests.length;
    requests.push({ atMs: Date.now(), bytes });
    for (const piece of answer(n, bytes)) {
      if (piece.afterMs === 0) peer.emitData(piece.bytes);
      else setTimeout(() => peer.emitData(piece.bytes), piece.afterMs);
    }
  });
  return { requests, times: () => requests.map((r) => r.atMs) };
}

const at = (afterMs: number, bytes: Uint8Array): Piece => ({ afterMs, bytes });
const reply = (id: string, afterMs = 0): Piece[] => [at(afterMs, bytesOf(id))];

/** A copy of the capture's snapshot with `edit` applied, re-encoded as a valid reply frame. */
function edited(id: string, edit: (s: BmsSnapshot) => void): Uint8Array {
  const decoded = decodeResponse(bytesOf(id));
  if (!decoded.ok) throw new Error(`${id} does not decode: ${decoded.error.detail}`);
  edit(decoded.snapshot);
  return encodeResponse(decoded.snapshot);
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('polling cadence', () => {
  it('sends the canonical read-all request every pollIntervalMs and reports each captured reply as a snapshot', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => reply(CAPTURE.s16a));
    const probe = startPoller(link);
    await advance(3500);

    expect(bms.times()).toEqual([0, 1000, 2000, 3000]);
    for (const request of bms.requests) expect([...request.bytes]).toEqual([...READ_ALL_REQUEST]);
    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'snapshot', 'snapshot', 'snapshot', 'snapshot']);
    const first = probe.of('snapshot')[0];
    expect(first.atMs).toBe(0);
    expect(first.snapshot).toMatchObject(captured(CAPTURE.s16a));
    expect(probe.poller.stats).toEqual({ polls: 4, snapshots: 4, timeouts: 0, implausible: 0, errors: {}, reconnects: 0 });
    await probe.poller.stop();
  });

  it.each([
    { request: { command: 0x06, source: 'gps' }, vectorId: '4e57-req-read-all-gps' },
    { request: { command: 0x03, source: 'pc' }, vectorId: '4e57-req-read-cmd03' },
  ] as const)('sends the configured request variant $vectorId byte for byte', async ({ request, vectorId }) => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => []);
    const probe = startPoller(link, pollerOptions({ request }));
    await advance(0);
    expect(bms.requests.map((r) => [...r.bytes])).toEqual([[...bytesOf(vectorId)]]);
    await probe.poller.stop();
  });

  it('a silent BMS: each poll ends as missed after replyTimeoutMs and the next poll still comes on time', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => []);
    const probe = startPoller(link);
    await advance(2999);

    expect(bms.times()).toEqual([0, 1000, 2000]);
    expect(probe.of('missed')).toEqual([
      { type: 'missed', reason: 'no reply within 300 ms', atMs: 300 },
      { type: 'missed', reason: 'no reply within 300 ms', atMs: 1300 },
      { type: 'missed', reason: 'no reply within 300 ms', atMs: 2300 },
    ]);
    expect(probe.poller.stats).toMatchObject({ polls: 3, timeouts: 3, snapshots: 0, errors: {} });
    await probe.poller.stop();
  });

  it('a silent stretch is logged once as a warning, its repeats at debug, and the BMS coming back at info', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    scriptedBms(peer, (n) => (n < 3 ? [] : reply(CAPTURE.s16a)));
    const { log, records } = recordingLog();
    const probe = startPoller(link, pollerOptions(), log);
    await advance(3500);
    await probe.poller.stop();

    expect(records.filter((r) => /^BMS (poll missed|answering again)/.test(r.msg))).toEqual([
      { level: 40, msg: 'BMS poll missed: no reply within 300 ms on memory bms (repeats are logged at debug level)' },
      { level: 20, msg: 'BMS poll missed: no reply within 300 ms (2 in a row)' },
      { level: 20, msg: 'BMS poll missed: no reply within 300 ms (3 in a row)' },
      { level: 30, msg: 'BMS answering again after 3 missed poll(s)' },
    ].map((r) => expect.objectContaining(r)));
  });

  it('a reply that comes after its timeout is ignored and moves the next request to minGapMs after its last byte', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, (n) => (n === 0 ? reply(CAPTURE.s16a, 950) : reply(CAPTURE.s16a)));
    const probe = startPoller(link, pollerOptions({ minGapMs: 400 }));
    await advance(2500);

    // Without the late bytes the second request would go out at 1000.
    expect(bms.times()).toEqual([0, 1350, 2350]);
    expect(probe.events.map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 0],
      ['missed', 300],
      ['snapshot', 1350],
      ['snapshot', 2350],
    ]);
    await probe.poller.stop();
  });

  it('a slow reply inside its window keeps minGapMs before the next request', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => reply(CAPTURE.s16a, 250));
    const probe = startPoller(link, pollerOptions({ minGapMs: 900 }));
    await advance(2600);
    expect(bms.times()).toEqual([0, 1150, 2300]);
    expect(probe.poller.stats).toMatchObject({ snapshots: 3, timeouts: 0 });
    await probe.poller.stop();
  });

  it('never has two requests outstanding, whatever the BMS does (property)', async () => {
    const { pollIntervalMs, replyTimeoutMs, minGapMs } = pollerOptions();
    const behaviour = fc.oneof(
      fc.record({
        kind: fc.constant('reply' as const),
        delayMs: fc.integer({ min: 0, max: replyTimeoutMs - 50 }),
        cuts: fc.array(fc.nat(), { maxLength: 5 }),
        duplicate: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('late' as const), delayMs: fc.integer({ min: replyTimeoutMs + 1, max: 950 }) }),
      fc.record({ kind: fc.constant('none' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(behaviour, { minLength: 1, maxLength: 8 }), async (script) => {
        const [link, peer] = createMemoryLinkPair('bms');
        const frame = bytesOf(CAPTURE.s16a);
        /** When each request's exchange ended: its last reply byte, or its timeout. */
        const settledAt: number[] = [];
        const lastByteAt: number[] = [];
        const bms = scriptedBms(peer, (n) => {
          const step = script[n] ?? { kind: 'none' as const };
          const start = Date.now();
          if (step.kind === 'none') {
            settledAt[n] = start + replyTimeoutMs;
            return [];
          }
          if (step.kind === 'late') {
            settledAt[n] = start + replyTimeoutMs;
            lastByteAt[n] = start + step.delayMs;
            return [at(step.delayMs, frame)];
          }
          // Chunks 5 ms apart, all inside the reply window.
          const pieces = split(frame, step.cuts).map((bytes, i) => at(step.delayMs + 5 * i, bytes));
          const last = pieces[pieces.length - 1].afterMs;
          settledAt[n] = start + last;
          lastByteAt[n] = start + last;
          if (step.duplicate) pieces.push(at(last, frame));
          return pieces;
        });
        const probe = startPoller(link);
        await advance(script.length * (pollIntervalMs + minGapMs));
        const end = Date.now();
        await probe.poller.stop();

        const times = bms.times();
        for (let i = 1; i < times.length; i++) {
          expect(times[i]).toBeGreaterThanOrEqual(settledAt[i - 1]);
          expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(pollIntervalMs);
          if (lastByteAt[i - 1] !== undefined) expect(times[i] - lastByteAt[i - 1]).toBeGreaterThanOrEqual(minGapMs);
        }
        // Polls whose exchange ended before the poller was stopped: answered ones gave a snapshot each.
        const ended = times.map((_, i) => script[i]?.kind ?? 'none').filter((_kind, i) => settledAt[i] <= end);
        const answered = ended.filter((kind) => kind === 'reply').length;
        expect(probe.poller.stats).toMatchObject({ polls: times.length, snapshots: answered, timeouts: ended.length - answered, errors: {} });
        vi.clearAllTimers();
      }),
      { numRuns: 60 },
    );
  });
});

describe('reassembly and bad input', () => {
  it('reassembles any captured reply split into 1..6 chunks into exactly one snapshot (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MODERN_RESPONSE_VECTORS),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.integer({ min: 0, max: 40 }),
        async (v, cuts, gapMs) => {
          const [link, peer] = createMemoryLinkPair('bms');
          const chunks = split(bytesOf(v), cuts);
          scriptedBms(peer, (n) => (n === 0 ? chunks.map((bytes, i) => at(i * gapMs, bytes)) : []));
          const probe = startPoller(link);
          await advance(999);
          await probe.poller.stop();

          const snapshots = probe.of('snapshot');
          expect(snapshots).toHaveLength(1);
          expect(snapshots[0].snapshot).toMatchObject(captured(v.id));
          expect(probe.poller.stats.errors).toEqual({});
          vi.clearAllTimers();
        },
      ),
      { numRuns: 80 },
    );
  });

  const good = bytesOf(CAPTURE.s16a);
  const badChecksum = good.slice();
  badChecksum[badChecksum.length - 1] ^= 0x01;
  // LENGTH and checksum are right, but the 0x79 length byte (3N) says 47: the TLV walk fails.
  const brokenRecords = reframe(good, (info) => {
    info[1] = 47;
  });
  const junk = Uint8Array.from([0x00, 0xff, 0x13, 0x37, 0x68]);

  it.each([
    { name: 'junk only', pieces: [at(0, junk)], errors: { JUNK: 1 }, snapshots: 0 },
    { name: 'junk, then a good reply', pieces: [at(0, concat(junk, good))], errors: { JUNK: 1 }, snapshots: 1 },
    { name: 'a reply with a bad checksum', pieces: [at(0, badChecksum)], errors: { BAD_CHECKSUM: 1 }, snapshots: 0 },
    {
      name: 'the vendor example (captured with a wrong checksum)',
      pieces: [at(0, bytesOf('4e57-resp-20s-vendor-example-old-fw'))],
      // The frame holds a second 4E 57 (offset 245), rejected on its own as a bad LENGTH.
      errors: { BAD_CHECKSUM: 1, BAD_LENGTH: 1 },
      snapshots: 0,
    },
    { name: 'a bad-checksum reply, then a good one', pieces: [at(0, badChecksum), at(20, good)], errors: { BAD_CHECKSUM: 1 }, snapshots: 1 },
    { name: 'a reply cut off after 150 bytes', pieces: [at(0, good.subarray(0, 150))], errors: { TRUNCATED: 1 }, snapshots: 0 },
    { name: 'the captured 50-byte fragment', pieces: [at(0, bytesOf('4e57-resp-fragment-cmd03'))], errors: { TRUNCATED: 1 }, snapshots: 0 },
    { name: 'a checksummed reply with broken records', pieces: [at(0, brokenRecords)], errors: { BAD_RECORD: 1 }, snapshots: 0 },
  ])('$name: counted in stats.errors by code, never a snapshot from bad bytes', async ({ pieces, errors, snapshots }) => {
    const [link, peer] = createMemoryLinkPair('bms');
    scriptedBms(peer, (n) => (n === 0 ? pieces : []));
    const probe = startPoller(link);
    await advance(999);
    await probe.poller.stop();

    expect(probe.poller.stats.errors).toEqual(errors);
    expect(probe.of('snapshot')).toHaveLength(snapshots);
    expect(probe.of('missed')).toHaveLength(1 - snapshots);
    if (snapshots === 1) expect(probe.of('snapshot')[0].snapshot).toMatchObject(captured(CAPTURE.s16a));
  });

  it('skips the request echoed by a half-duplex adapter (type 0) and takes the reply behind it', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    scriptedBms(peer, (_n, request) => [at(0, request), at(1, good)]);
    const probe = startPoller(link);
    await advance(1500);
    await probe.poller.stop();
    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'snapshot', 'snapshot']);
    expect(probe.poller.stats).toMatchObject({ snapshots: 2, timeouts: 0, errors: {} });
  });

  it('an echo with no reply behind it is a missed poll, not data and not an error', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    scriptedBms(peer, (_n, request) => [at(0, request)]);
    const probe = startPoller(link);
    await advance(999);
    await probe.poller.stop();
    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'missed']);
    expect(probe.poller.stats.errors).toEqual({});
  });
});

describe('plausibility', () => {
  const s16 = captured(CAPTURE.s16a);
  const cellSum = s16.cellsMv.reduce((a, b) => a + b, 0);

  it('learns the cell count from the first valid reply and reports a different count as implausible', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    scriptedBms(peer, (n) => reply(n === 1 ? CAPTURE.s13 : CAPTURE.s16a));
    const probe = startPoller(link);
    await advance(2500);
    await probe.poller.stop();

    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'snapshot', 'implausible', 'snapshot']);
    expect(probe.of('implausible')[0]).toEqual({ type: 'implausible', problems: ['expected 16 cells, BMS reports 13'], atMs: 1000 });
    expect(probe.poller.stats).toMatchObject({ polls: 3, snapshots: 2, implausible: 1, timeouts: 0 });
  });

  it('an implausible first reply teaches no cell count', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const dead13 = edited(CAPTURE.s13, (s) => {
      s.cellsMv[0] = 0;
    });
    scriptedBms(peer, (n) => (n === 0 ? [at(0, dead13)] : reply(CAPTURE.s16a)));
    const probe = startPoller(link);
    await advance(1500);
    await probe.poller.stop();
    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'implausible', 'snapshot']);
  });

  it('enforces a configured cell count from the first reply on', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    scriptedBms(peer, () => reply(CAPTURE.s16a));
    const probe = startPoller(link, pollerOptions({ plausibility: { cellCount: 15 } }));
    await advance(500);
    await probe.poller.stop();
    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'implausible']);
    expect(probe.of('implausible')[0].problems).toEqual(['expected 15 cells, BMS reports 16']);
  });

  it.each([
    {
      name: 'a 0 mV cell (broken sense wire)',
      edit: (s: BmsSnapshot) => {
        s.cellsMv[4] = 0;
        s.packMv -= 3320; // keep the pack consistent so only the cell is wrong
      },
      problems: ['cell 5 at 0 mV is outside 1000..5000 mV'],
    },
    {
      name: 'a pack voltage 2 V off the cell sum',
      edit: (s: BmsSnapshot) => {
        s.packMv += 2000;
      },
      problems: [`pack voltage ${s16.packMv + 2000} mV differs from the cell sum ${cellSum} mV by more than 1500 mV`],
    },
  ])('$name → an implausible event with the problem text, and polling goes on', async ({ edit, problems }) => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bad = edited(CAPTURE.s16a, edit);
    const bms = scriptedBms(peer, (n) => (n === 0 ? [at(0, bad)] : reply(CAPTURE.s16a)));
    const probe = startPoller(link);
    await advance(1500);
    await probe.poller.stop();

    expect(probe.of('implausible')).toEqual([{ type: 'implausible', problems, atMs: 0 }]);
    expect(probe.of('snapshot').map((e) => e.atMs)).toEqual([1000]);
    expect(bms.times()).toEqual([0, 1000]);
  });
});

describe('link loss and reopening', () => {
  it('link loss → link-down, the reply window is dropped, reopen after reconnectInitialMs → link-up and polling resumes', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, (n) => (n === 1 ? [] : reply(CAPTURE.s16a)));
    const probe = startPoller(link);
    await advance(1100);
    peer.disconnect('adapter unplugged'); // at 1100, while request 1 waits for its reply
    await advance(1900);
    await probe.poller.stop();

    expect(probe.events.map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 0],
      ['snapshot', 0],
      ['link-down', 1100],
      ['link-up', 2100],
      ['snapshot', 2100],
    ]);
    const down = probe.of('link-down')[0];
    expect(down.error.code).toBe('DISCONNECTED');
    expect(down.error.message).toContain('adapter unplugged');
    expect(bms.times()).toEqual([0, 1000, 2100]);
    expect(probe.poller.stats).toMatchObject({ reconnects: 1, timeouts: 0 });
  });

  /** The memory link, with every open attempt timed and the first `failures` of them refused. */
  function flakyOpens(failures: number): { link: ByteLink; peer: MemoryPeer; attempts: number[]; failMore(n: number): void } {
    const [inner, peer] = createMemoryLinkPair('bms');
    const attempts: number[] = [];
    let left = failures;
    const link: ByteLink = {
      get description() {
        return inner.description;
      },
      get isOpen() {
        return inner.isOpen;
      },
      open: () => {
        attempts.push(Date.now());
        if (left > 0) {
          left -= 1;
          peer.failNextOpen('no such device');
        }
        return inner.open();
      },
      write: (bytes) => inner.write(bytes),
      close: () => inner.close(),
      onData: (listener) => inner.onData(listener),
      onDisconnect: (listener) => inner.onDisconnect(listener),
    };
    return { link, peer, attempts, failMore: (n) => (left += n) };
  }

  it('open failures back off exponentially up to reconnectMaxMs, then the first successful open polls at once', async () => {
    const flaky = flakyOpens(6);
    const bms = scriptedBms(flaky.peer, () => reply(CAPTURE.s16a));
    const probe = startPoller(flaky.link); // back-off 1000 ms doubling, capped at 8000 ms
    await advance(32_000);
    await probe.poller.stop();

    expect(flaky.attempts).toEqual([0, 1000, 3000, 7000, 15_000, 23_000, 31_000]);
    expect(probe.events.slice(0, 2).map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 31_000],
      ['snapshot', 31_000],
    ]);
    expect(bms.times()[0]).toBe(31_000);
  });

  it('a reopen after a loss that keeps failing backs off from reconnectInitialMs again', async () => {
    const flaky = flakyOpens(1);
    scriptedBms(flaky.peer, () => reply(CAPTURE.s16a));
    const probe = startPoller(flaky.link);
    await advance(1500); // open failed at 0, succeeded at 1000
    flaky.failMore(2);
    flaky.peer.disconnect(); // lost at 1500
    await advance(10_000);
    await probe.poller.stop();

    expect(flaky.attempts).toEqual([0, 1000, 2500, 4500, 8500]);
    expect(probe.events.filter((e) => e.type.startsWith('link')).map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 1000],
      ['link-down', 1500],
      ['link-up', 8500],
    ]);
  });

  it('stop() closes the link and leaves no timer behind, even when it lands while an open is failing', async () => {
    const flaky = flakyOpens(1);
    const probe = startPoller(flaky.link);
    await probe.poller.stop(); // the open attempt is still settling
    await advance(0);
    expect(vi.getTimerCount()).toBe(0);
    await advance(60_000);
    expect(flaky.attempts).toEqual([0]);

    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => []);
    const startedAt = Date.now();
    const running = startPoller(link);
    await advance(100); // stopped inside the first reply window
    await running.poller.stop();
    expect(link.isOpen).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await advance(5000);
    expect(bms.times()).toEqual([startedAt]);
    expect(running.events.map((e) => e.type)).toEqual(['link-up']);
  });
});

describe('time (issue 10)', () => {
  it('bug 1: a wall-clock step of ±1 h changes nothing: polls stay on time and event times stay monotonic', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => reply(CAPTURE.s16a, 20));
    const probe = startPoller(link);
    await advance(2500);
    vi.setSystemTime(Date.now() - 3_600_000); // NTP steps the clock back an hour
    await advance(2000);
    vi.setSystemTime(Date.now() + 7_200_000); // and then forward two
    await advance(2000);
    await probe.poller.stop();

    // The scripted BMS records wall-clock times: the two steps show there, and only there.
    expect(bms.times()).toEqual([0, 1000, 2000, 3000 - 3_600_000, 4000 - 3_600_000, 5000 + 3_600_000, 6000 + 3_600_000]);
    expect(probe.of('snapshot').map((e) => e.atMs)).toEqual([20, 1020, 2020, 3020, 4020, 5020, 6020]);
    expect(probe.poller.stats).toMatchObject({ polls: 7, snapshots: 7, timeouts: 0 });
  });

  it('bug 5: a reply read after a stall longer than its window is late, never data', async () => {
    // A stall (SIGSTOP, a swapping Pi): time jumps, then the bytes that came long ago are read
    // before the reply timer fires, which is the order an event loop wakes up in.
    let stalledMs = 0;
    const clock = { ...systemClock, now: () => systemClock.now() + stalledMs };
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, (n) => (n === 1 ? [] : reply(CAPTURE.s16a)));
    const events: PollerEvent[] = [];
    const poller = new BmsPoller(link, pollerOptions(), (e) => events.push(e), clock, silentLog);
    poller.start();
    await advance(1100); // request 1 went out at 1000 and waits
    stalledMs = 10_000;
    peer.emitData(bytesOf(CAPTURE.s16a));
    await advance(0);
    expect(events.map((e) => e.type)).toEqual(['link-up', 'snapshot', 'missed']);
    expect(poller.stats).toMatchObject({ snapshots: 1, timeouts: 1 });
    // the next poll goes out at once (its interval passed during the stall) and counts again
    await advance(400);
    expect(bms.times()).toHaveLength(3);
    expect(events.map((e) => e.type)).toEqual(['link-up', 'snapshot', 'missed', 'snapshot']);
    await poller.stop();
  });
});

describe('a link that goes quiet (issue 10, bugs 3 and 6)', () => {
  /** The memory link with its opens counted: a BMS restarted behind a live pty answers only a fresh open. */
  function countedOpens() {
    const [inner, peer] = createMemoryLinkPair('bms');
    let opens = 0;
    const link: ByteLink = {
      get description() {
        return inner.description;
      },
      get isOpen() {
        return inner.isOpen;
      },
      open: () => {
        opens += 1;
        return inner.open();
      },
      write: (bytes) => inner.write(bytes),
      close: () => inner.close(),
      onData: (listener) => inner.onData(listener),
      onDisconnect: (listener) => inner.onDisconnect(listener),
    };
    return { link, peer, opens: () => opens };
  }

  it('is closed and reopened after reopenAfterMissedPolls misses in a row, and polling resumes on the fresh link', async () => {
    const quiet = countedOpens();
    // The BMS answers the first two polls, dies (no disconnect is reported: the pty lives on),
    // and its restarted self answers only once the link has been opened again.
    scriptedBms(quiet.peer, (n) => (n < 2 || quiet.opens() > 1 ? reply(CAPTURE.s16a) : []));
    const { log, records } = recordingLog();
    const probe = startPoller(quiet.link, pollerOptions({ reopenAfterMissedPolls: 3 }), log);
    await advance(7000);
    await probe.poller.stop();

    // polls at 0, 1000 answered; 2000, 3000, 4000 missed (4300: third miss) → closed, reopened at 5300
    expect(probe.events.map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 0],
      ['snapshot', 0],
      ['snapshot', 1000],
      ['missed', 2300],
      ['missed', 3300],
      ['missed', 4300],
      ['link-down', 4300],
      ['link-up', 5300],
      ['snapshot', 5300],
      ['snapshot', 6300],
    ]);
    expect(quiet.opens()).toBe(2);
    expect(probe.of('link-down')[0].error.message).toBe('DISCONNECTED: memory bms: no reply to 3 polls in a row');
    expect(records.filter((r) => /quiet/.test(r.msg))).toEqual([
      expect.objectContaining({ level: 40, msg: 'BMS link memory bms quiet: no reply to 3 polls in a row; reopening it (repeats are logged at debug level)' }),
    ]);
  });

  it('keeps reopening a link that stays quiet, warning once', async () => {
    const quiet = countedOpens();
    scriptedBms(quiet.peer, () => []);
    const { log, records } = recordingLog();
    const probe = startPoller(quiet.link, pollerOptions({ reopenAfterMissedPolls: 2 }), log);
    await advance(10_000);
    await probe.poller.stop();
    // 2 misses (1300) + 1000 back-off → reopen at 2300; 2 more (3600) → 4600; (5900) → 6900; (8200) → 9200
    expect(probe.of('link-up').map((e) => e.atMs)).toEqual([0, 2300, 4600, 6900, 9200]);
    expect(records.filter((r) => /quiet/.test(r.msg)).map((r) => r.level)).toEqual([40, 20, 20, 20]);
  });
});

describe('adaptive pace (poll-schedule.ts) on the simulated clock', () => {
  /** The capture with the highest cell at `highMv` (below the 1500 mV pack tolerance). */
  const cellAt = (highMv: number) => edited(CAPTURE.s16a, (s) => void (s.cellsMv[3] = highMv));
  const fastOn = (overrides: Partial<PollerOptions['fastPoll']> = {}) =>
    pollerOptions({ fastPoll: { enabled: true, afterChangePolls: 0, ...overrides } });

  it('near the charge stop the next request goes minGapMs after the last reply byte; mid-range it waits the relaxed interval', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    // Replies end 20 ms after each request; polls 0-2 see a cell at 3480 mV (within 50 mV of 3500), then 3300 mV.
    const bms = scriptedBms(peer, (n) => [at(20, n < 3 ? cellAt(3480) : cellAt(3300))]);
    const probe = startPoller(link, fastOn());
    await advance(3000);
    await probe.poller.stop();

    expect(bms.times()).toEqual([0, 120, 240, 360, 1360, 2360]);
    expect(probe.of('snapshot').map((e) => e.atMs)).toEqual([20, 140, 260, 380, 1380, 2380]);
  });

  it('never sends a request sooner than minGapMs after the last packet on the wire, whatever the replies and the pace (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delayMs: fc.integer({ min: 0, max: 450 }), near: fc.boolean(), chunks: fc.integer({ min: 1, max: 4 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (steps) => {
          const [link, peer] = createMemoryLinkPair('bms');
          // Every packet on the wire in the order it happened: our requests and the BMS's reply pieces.
          const wire: Array<{ request: boolean; atMs: number }> = [];
          let n = 0;
          peer.onWrite(() => {
            wire.push({ request: true, atMs: Date.now() });
            const step = steps[n++ % steps.length];
            const frame = cellAt(step.near ? 3490 : 3300);
            const size = Math.ceil(frame.length / step.chunks);
            for (let i = 0; i < step.chunks; i++) {
              setTimeout(() => {
                wire.push({ request: false, atMs: Date.now() });
                peer.emitData(frame.subarray(i * size, (i + 1) * size));
              }, step.delayMs + 3 * i);
            }
          });
          const probe = startPoller(link, fastOn({ afterChangePolls: 2 }));
          await advance(6000);
          await probe.poller.stop();
          expect(probe.poller.stats.polls).toBeGreaterThan(5);
          wire.forEach((packet, i) => {
            if (packet.request && i > 0) expect(packet.atMs - wire[i - 1].atMs).toBeGreaterThanOrEqual(100);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('after a change of state (here the first reply) afterChangePolls come back to back, then the relaxed interval', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, () => reply(CAPTURE.s16a));
    const probe = startPoller(link, fastOn({ afterChangePolls: 3 }));
    await advance(2500);
    await probe.poller.stop();
    expect(bms.times()).toEqual([0, 100, 200, 300, 1300, 2300]);
  });

  it('a silent BMS is polled at the relaxed interval, however near a limit its last reply was', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, (n) => (n === 0 ? reply(CAPTURE.s16a) : []));
    const probe = startPoller(link, pollerOptions({ fastPoll: { enabled: true, afterChangePolls: 0, cellMarginMv: 1000 } }));
    await advance(2500);
    await probe.poller.stop();
    // Fast after the reply at 0 (every cell is within 1000 mV of a stop); the miss at 400 relaxes the pace.
    expect(bms.times()).toEqual([0, 100, 1100, 2100]);
    expect(probe.of('missed').map((e) => e.atMs)).toEqual([400, 1400, 2400]);
  });

  it('logs one debug line when the pace changes, none per poll', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    const bms = scriptedBms(peer, (n) => [at(0, cellAt(n >= 2 && n < 6 ? 3470 : 3300))]);
    const { log, records } = recordingLog();
    const probe = startPoller(link, fastOn(), log);
    await advance(5000);
    await probe.poller.stop();
    expect(bms.times()).toEqual([0, 1000, 2000, 2100, 2200, 2300, 2400, 3400, 4400]);
    expect(records.filter((r) => /^BMS polling/.test(r.msg))).toEqual([
      expect.objectContaining({ level: 20, msg: 'BMS polling back to back: a cell at 3470 mV is within 50 mV of the charge stop (3500 mV)' }),
      expect.objectContaining({ level: 20, msg: 'BMS polling every 1000 ms again' }),
    ]);
  });
});
