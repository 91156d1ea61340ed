/**
 * One short real-time run of the poller over a REAL socat pty pair: the poller's SerialLink opens
 * one end, a BMS stand-in opens the other with a second SerialLink and answers each read-all
 * request with a capture, written in three pieces. About a second of wall time.
 */
import { afterEach, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../../../sim-kit/src/pty';
import { JkFramer, parseRequest } from '../../src/protocol/jk';
import { SerialLink } from '../../src/transport/serial-link';
import { bytesOf, split } from '../protocol/jk/helpers';
import { eventually } from '../transport/support/eventually';
import { CAPTURE, captured, pollerOptions, READ_ALL_REQUEST, startPoller, type PollerProbe } from './support';

let pty: PtyPair | undefined;
let bmsEnd: SerialLink | undefined;
let probe: PollerProbe | undefined;

afterEach(async () => {
  await probe?.poller.stop();
  await bmsEnd?.close();
  await pty?.close();
});

it('polls a BMS stand-in across a real pty and decodes its captured replies', async () => {
  pty = await openPtyPair();
  bmsEnd = new SerialLink({ path: pty.pathB });
  await bmsEnd.open();
  const far = bmsEnd;
  const framer = new JkFramer();
  const requests: number[][] = [];
  const order = [CAPTURE.s16a, CAPTURE.s16b];
  far.onData((chunk) => {
    for (const out of framer.push(chunk)) {
      if (out.kind !== 'frame') continue;
      requests.push([...out.bytes]);
      const request = parseRequest(out.bytes);
      if ('code' in request || request.command !== 0x06) continue;
      const reply = bytesOf(order[(requests.length - 1) % order.length]);
      void (async () => {
        for (const piece of split(reply, [97, 200])) await far.write(piece);
      })();
    }
  });

  probe = startPoller(new SerialLink({ path: pty.pathA }), pollerOptions({ pollIntervalMs: 300, replyTimeoutMs: 200 }));
  const running = probe;
  await eventually(() => running.of('snapshot').length >= 3, 'three snapshots over the pty', 5000);

  expect(running.of('snapshot').slice(0, 3).map((e) => e.snapshot)).toMatchObject([order[0], order[1], order[0]].map(captured));
  expect(requests.slice(0, 3)).toEqual([[...READ_ALL_REQUEST], [...READ_ALL_REQUEST], [...READ_ALL_REQUEST]]);
  expect(running.poller.stats).toMatchObject({ timeouts: 0, implausible: 0, errors: {} });

  // socat going away is a lost link, reported once.
  await pty.close();
  await eventually(() => running.of('link-down').length === 1, 'link-down after the pty pair closed');
  expect(running.of('link-down')[0].error.code).toBe('DISCONNECTED');
});
