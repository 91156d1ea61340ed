import { afterEach, describe, expect, it, vi } from 'vitest';
import { openPtyPair } from '../../../sim-kit/src/pty';
import { canFrame } from '../../src/protocol/can/frame';
import { decodePylonHvRequest } from '../../src/protocol/can';
import type { CanFrame } from '../../src/protocol/can/frame';
import { createMemoryLinkPair, type MemoryPeer } from '../../src/transport/memory-link';
import { SerialLink } from '../../src/transport/serial-link';
import { SlcanBus, type TransportLog } from '../../src/transport/slcan-bus';
import type { TransportError } from '../../src/transport/types';
import { expectTransportError } from './support/byte-link-contract';
import { canBusContract } from './support/can-bus-contract';
import { FakeSlcanAdapter, type FakeSlcanAdapterOptions } from './support/fake-slcan-adapter';

canBusContract('slcan-bus over a real pty, fake adapter on the far end', async () => {
  const pty = await openPtyPair();
  const adapterPort = new SerialLink({ path: pty.pathB });
  await adapterPort.open();
  const adapter = new FakeSlcanAdapter(adapterPort);
  const bus = new SlcanBus({ link: new SerialLink({ path: pty.pathA }) });
  const spare: { close(): Promise<void> }[] = [];
  return {
    bus,
    peer: { send: (frame) => adapter.sendToHost(frame), received: adapter.framesFromHost },
    disappear: () => pty.close(),
    // A pty with nothing behind it: the port opens, but no adapter ever answers.
    stampsReceiveTime: false,
    unreachable: async () => {
      const silent = await openPtyPair();
      const silentBus = new SlcanBus({ link: new SerialLink({ path: silent.pathA }), replyTimeoutMs: 200 });
      spare.push(silentBus, silent);
      return silentBus;
    },
    dispose: async () => {
      await bus.close();
      await adapterPort.close();
      await pty.close();
      for (const thing of spare) await thing.close();
    },
  };
});

/** An SLCAN bus on a memory link, with a fake adapter on the far end. */
function onMemory(adapterOptions: FakeSlcanAdapterOptions = {}, busOptions: { bitrate?: number; log?: TransportLog } = {}) {
  const [link, peer] = createMemoryLinkPair('ttyACM0');
  const adapter = new FakeSlcanAdapter({ write: (bytes) => peer.emitData(bytes), onData: (listener) => peer.onWrite(listener) }, adapterOptions);
  const bus = new SlcanBus({ link, replyTimeoutMs: 500, ...busOptions });
  return { link, peer, adapter, bus };
}

const text = (peer: MemoryPeer): string => new TextDecoder().decode(peer.written());

const CR = [0x0d];
const BEL = [0x07];

/**
 * An SLCAN bus on a memory link whose far end answers each line the bus writes (one line per
 * write) with whatever `answer` returns, or stays silent on undefined.
 */
function scripted(answer: (line: string) => number[] | undefined, replyTimeoutMs = 500) {
  const [link, peer] = createMemoryLinkPair('ttyACM0');
  peer.onWrite((chunk) => {
    const reply = answer(new TextDecoder().decode(chunk));
    if (reply) peer.emitData(reply);
  });
  return { peer, bus: new SlcanBus({ link, replyTimeoutMs }) };
}

/** Answers commands with \r and frames as `frames` says. */
const answerFrames = (frames: number[] | undefined) => (line: string) => (line.startsWith('t') ? frames : CR);

describe('slcan-bus specifics', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes, sets 500 kbit/s and opens the channel, in that order', async () => {
    const { bus, peer, adapter } = onMemory();
    await bus.open();
    expect(text(peer)).toBe('C\rS6\rO\r');
    expect(adapter.channelOpen).toBe(true);
    expect(bus.description).toBe('slcan 500000 bit/s on memory ttyACM0');
  });

  it('sets the configured bit rate', async () => {
    const { bus, adapter } = onMemory({}, { bitrate: 250_000 });
    await bus.open();
    expect(adapter.commands.slice(0, 3)).toEqual(['C', 'S5', 'O']);
    expect(adapter.bitrate).toBe(250_000);
  });

  it('refuses to be built for a bit rate SLCAN cannot set', () => {
    expect(() => onMemory({}, { bitrate: 300_000 })).toThrow(RangeError);
  });

  it('fails with "no SLCAN adapter answered" when nothing answers, and releases the port', async () => {
    vi.useFakeTimers();
    const { bus, peer } = onMemory({ silent: true });
    const outcome = bus.open().then(
      () => 'opened',
      (e: TransportError) => e.message,
    );
    await vi.advanceTimersByTimeAsync(499);
    expect(peer.linkIsOpen).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe('OPEN_FAILED: no SLCAN adapter answered on memory ttyACM0 (no reply to C within 500 ms)');
    expect(peer.linkIsOpen).toBe(false);
    expect(bus.isOpen).toBe(false);
  });

  it('opens although the adapter answers C with BEL (its channel was already closed)', async () => {
    const { bus, adapter } = onMemory();
    await bus.open();
    expect(adapter.commands[0]).toBe('C');
    expect(bus.isOpen).toBe(true);
  });

  it('closes an adapter left open by an earlier run before setting the bit rate', async () => {
    const { bus, adapter } = onMemory();
    adapter.bitrate = 500_000;
    adapter.channelOpen = true;
    await bus.open();
    expect(adapter.commands.slice(0, 3)).toEqual(['C', 'S6', 'O']);
    expect(bus.isOpen).toBe(true);
  });

  it.each([
    ['S6', 'OPEN_FAILED: SLCAN adapter on memory ttyACM0 rejected the bit rate command (S6)'],
    ['O', 'OPEN_FAILED: SLCAN adapter on memory ttyACM0 refused to open the CAN channel (O)'],
  ])('fails to open when the adapter answers %s with BEL, and releases the port', async (refused, message) => {
    const { bus, peer } = onMemory({ refuse: [refused] });
    const error = await expectTransportError(bus.open(), 'OPEN_FAILED');
    expect(error.message).toBe(message);
    expect(peer.linkIsOpen).toBe(false);
  });

  it('fails to open when the adapter stops answering halfway', async () => {
    vi.useFakeTimers();
    const { bus } = scripted((line) => (line === 'C\r' ? CR : undefined));
    const outcome = bus.open().then(
      () => 'opened',
      (e: TransportError) => e.message,
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(await outcome).toBe('OPEN_FAILED: SLCAN adapter on memory ttyACM0 did not answer S6 within 500 ms');
  });

  it('fails to open with OPEN_FAILED when the port goes away during the handshake', async () => {
    const [link, peer] = createMemoryLinkPair('ttyACM0');
    const bus = new SlcanBus({ link });
    peer.onWrite(() => peer.disconnect('unplugged'));
    const error = await expectTransportError(bus.open(), 'OPEN_FAILED');
    expect(error.message).toContain('unplugged');
    expect(bus.isOpen).toBe(false);
  });

  it("passes on the port's OPEN_FAILED when the port cannot be opened", async () => {
    const [link, peer] = createMemoryLinkPair('ttyACM0');
    peer.failNextOpen('no such device');
    const error = await expectTransportError(new SlcanBus({ link }).open(), 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: memory ttyACM0: no such device');
  });

  it('sends a frame as a t line and accepts the Lawicel z acknowledgement', async () => {
    const { bus, peer, adapter } = onMemory({ frameAck: 'z' });
    await bus.open();
    peer.clearWrites();
    await bus.send(canFrame(0x351, [0x10, 0x02]));
    await bus.send(canFrame(0x1806e5f4, [1], true));
    expect(text(peer)).toBe('t35121002\rT1806E5F4101\r');
    expect(adapter.framesFromHost.map((f) => f.id)).toEqual([0x351, 0x1806e5f4]);
  });

  it('fails a send that the adapter answers with BEL, and stays open', async () => {
    const { bus } = scripted(answerFrames(BEL));
    await bus.open();
    const error = await expectTransportError(bus.send(canFrame(0x351, [1])), 'WRITE_FAILED');
    expect(error.message).toBe(
      'WRITE_FAILED: slcan 500000 bit/s on memory ttyACM0: the adapter refused the frame (BEL): transmit buffer full or channel not open',
    );
    expect(bus.isOpen).toBe(true);
  });

  it('sends one line at a time, each after the answer to the previous one', async () => {
    const { bus, peer } = scripted(answerFrames(undefined));
    await bus.open();
    peer.clearWrites();
    const first = bus.send(canFrame(0x351, [1]));
    const second = bus.send(canFrame(0x355, [2]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(text(peer)).toBe('t351101\r');
    peer.emitData(CR);
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(text(peer)).toBe('t351101\rt355102\r');
    peer.emitData(CR);
    await second;
  });

  it('fails an unanswered send after the timeout and pairs a late answer with nobody', async () => {
    vi.useFakeTimers();
    let frameAnswer: number[] | undefined;
    const { bus, peer } = scripted((line) => (line.startsWith('t') ? frameAnswer : CR));
    await bus.open();
    const outcome = bus.send(canFrame(0x351, [1])).then(
      () => 'sent',
      (e: TransportError) => e.message,
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(await outcome).toBe('WRITE_FAILED: slcan 500000 bit/s on memory ttyACM0: the adapter did not acknowledge the frame within 500 ms');
    // The late OK for the timed-out frame must not count as the answer to the next one, which is refused.
    peer.emitData(CR);
    frameAnswer = BEL;
    await expectTransportError(bus.send(canFrame(0x355, [2])), 'WRITE_FAILED');
  });

  it('delivers frames that arrive between and inside answers', async () => {
    const { bus, adapter } = onMemory();
    await bus.open();
    const ids: number[] = [];
    bus.onFrame((f) => ids.push(f.id));
    await adapter.sendRaw('t3050\r\rt3062AABB');
    await adapter.sendRaw('\rT1806E5F40\r');
    await new Promise((resolve) => setImmediate(resolve));
    expect(ids).toEqual([0x305, 0x306, 0x1806e5f4]);
  });

  it('delivers an inverter\'s Pylon HV request (T line, 29-bit 0x4200) as an extended frame the HV codec reads', async () => {
    const { bus, adapter } = onMemory();
    await bus.open();
    const frames: CanFrame[] = [];
    bus.onFrame((f) => frames.push(f));
    await adapter.sendRaw('T0000420080200000000000000\r');
    await new Promise((resolve) => setImmediate(resolve));
    expect(frames.map((f) => [f.id, f.ext])).toEqual([[0x4200, true]]);
    expect(decodePylonHvRequest(frames[0])).toEqual({ ok: true, request: { kind: 'info', info: 'equipment' } });
  });

  it('counts unreadable lines from the adapter and carries on, logging at most one line a minute', async () => {
    vi.useFakeTimers();
    const warnings: unknown[] = [];
    const { bus, adapter } = onMemory({}, { log: { warn: (details, message) => warnings.push([message, details]) } });
    await bus.open();
    const ids: number[] = [];
    bus.onFrame((f) => ids.push(f.id));
    await adapter.sendRaw('t35\rV1013\rt3050\r');
    await vi.advanceTimersByTimeAsync(59_000);
    await adapter.sendRaw('\xff\x01\r');
    await vi.advanceTimersByTimeAsync(1000);
    await adapter.sendRaw('t3G1\r');
    await vi.advanceTimersByTimeAsync(0);
    expect(ids).toEqual([0x305]);
    const bus_ = 'slcan 500000 bit/s on memory ttyACM0';
    expect(warnings).toEqual([
      ['SLCAN adapter sent an unreadable line (1 since open; more within a minute are only counted)', { bus: bus_, line: 't35', detail: 'id must be 3 hex digits', count: 1 }],
      ['SLCAN adapter sent an unreadable line (4 since open; more within a minute are only counted)', { bus: bus_, line: 't3G1', detail: 'id must be 3 hex digits', count: 4 }],
    ]);
    expect(bus.isOpen).toBe(true);
  });

  describe('junk on the line is not a failure (issue 10, bug 7)', () => {
    const junkAnd = (answer: string) => (line: string) => (line.startsWith('t') ? [...new TextEncoder().encode(answer)] : CR);

    it.each([
      ['printable junk before z\\r', 'x!#z\r'],
      ['binary junk before \\r', '\u00ff\u0013\u0000\r'],
      ['40 bytes of junk before z\\r', `${'Q'.repeat(40)}z\r`],
    ])('%s: the frame counts as acknowledged at once, not after the reply timeout', async (_name, answer) => {
      vi.useFakeTimers();
      const { bus } = scripted(junkAnd(answer));
      await bus.open();
      let sent = false;
      const sending = bus.send(canFrame(0x351, [1])).then(() => (sent = true));
      await vi.advanceTimersByTimeAsync(1);
      expect(sent).toBe(true);
      await sending;
      expect(bus.isOpen).toBe(true);
    });

    it('a BEL inside junk: the frame is sent once more and goes through', async () => {
      let frames = 0;
      const { bus, peer } = scripted((line) => (line.startsWith('t') ? (++frames === 1 ? [0x41, 0x07, 0x42] : CR) : CR));
      await bus.open();
      peer.clearWrites();
      await bus.send(canFrame(0x351, [1]));
      expect(text(peer)).toBe('t351101\rt351101\r');
      expect(bus.isOpen).toBe(true);
    });
  });

  it('reports one DISCONNECTED when the port is lost, failing the send in flight and those queued', async () => {
    const { bus, peer } = scripted(answerFrames(undefined));
    const lost: TransportError[] = [];
    bus.onDisconnect((e) => lost.push(e));
    await bus.open();
    const inFlight = bus.send(canFrame(0x351, [1]));
    const queued = bus.send(canFrame(0x355, [2]));
    await new Promise((resolve) => setImmediate(resolve));
    peer.disconnect('unplugged');
    await expectTransportError(inFlight, 'DISCONNECTED');
    await expectTransportError(queued, 'DISCONNECTED');
    expect(lost.map((e) => e.message)).toEqual([
      'DISCONNECTED: slcan 500000 bit/s on memory ttyACM0: adapter lost: DISCONNECTED: memory ttyACM0: unplugged',
    ]);
    expect(bus.isOpen).toBe(false);
  });

  it('closes the adapter channel, waits for its answer, then closes the port', async () => {
    const { bus, peer, adapter } = onMemory();
    await bus.open();
    await bus.close();
    expect(adapter.commands.at(-1)).toBe('C');
    expect(adapter.channelOpen).toBe(false);
    expect(peer.linkIsOpen).toBe(false);
  });

  it('reopens only after a close in progress has finished', async () => {
    const { bus, adapter, peer } = onMemory();
    await bus.open();
    const closing = bus.close();
    const reopening = bus.open();
    await Promise.all([closing, reopening]);
    expect(bus.isOpen).toBe(true);
    expect(peer.linkIsOpen).toBe(true);
    expect(adapter.commands).toEqual(['C', 'S6', 'O', 'C', 'C', 'S6', 'O']);
  });

  it('closes without waiting for ever when the adapter does not answer the final C', async () => {
    vi.useFakeTimers();
    let answering = true;
    const { bus, peer } = scripted(() => (answering ? CR : undefined));
    await bus.open();
    answering = false;
    let closed = false;
    const closing = bus.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(peer.linkIsOpen).toBe(false);
  });

  it('fails sends still queued when the bus closes with NOT_OPEN', async () => {
    const { bus, peer } = scripted(answerFrames(undefined));
    await bus.open();
    const inFlight = bus.send(canFrame(0x351, [1]));
    const queued = bus.send(canFrame(0x355, [2]));
    await new Promise((resolve) => setImmediate(resolve));
    await bus.close();
    await expectTransportError(inFlight, 'NOT_OPEN');
    await expectTransportError(queued, 'NOT_OPEN');
    expect(text(peer)).toBe('C\rS6\rO\rt351101\rC\r');
  });
});
