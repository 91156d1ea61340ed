/**
 * The CAN link actor's queue under a request storm (issue 13): a keyed command still waiting is
 * replaced by the newer one, so a bus slower than the requests never builds a backlog, and what
 * goes out is the newest answer. And what counts as losing the link (issue 10, bugs 7 and 9): one
 * failed send (a transient ENOBUFS, junk read as an adapter's refusal) loses that frame only; a
 * run of them, or a failure that says the bus is gone, reports CAN.DOWN once. And a profile's
 * inhibit time kept on the wire (issue 11: SMA, 200 ms between frames of one id,
 * inverter-can-protocols.md §5.1), from each frame's acknowledgement, on fake timers.
 */
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { assign, createActor, sendTo, setup } from 'xstate';
import { systemClock } from '../../src/clock';
import { canLinkActor, type CanLinkCommand, type CanLinkInput, type IoEvent } from '../../src/machine/actors';
import { canFrame, type CanFrame } from '../../src/protocol/can';
import { MemoryCanNetwork } from '../../src/transport/memory-bus';
import type { CanBus } from '../../src/transport/types';

/** A bus whose every send waits until the test releases it (a slow adapter). */
function slowBus() {
  const sent: CanFrame[] = [];
  const waiting: Array<() => void> = [];
  const bus: CanBus = {
    description: 'slow test bus',
    isOpen: true,
    open: async () => undefined,
    close: async () => undefined,
    send: (frame) =>
      new Promise<void>((resolve) =>
        waiting.push(() => {
          sent.push(frame);
          resolve();
        }),
      ),
    onFrame: () => () => undefined,
    onDisconnect: () => () => undefined,
  };
  const releaseAll = async (): Promise<void> => {
    for (let i = 0; i < 1000 && waiting.length + 1 > 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = waiting.shift();
      if (next === undefined) return;
      next();
    }
  };
  return { bus, sent, releaseAll };
}

const reply = (n: number): CanFrame[] => [canFrame(0x4210, [n], true), canFrame(0x4220, [n], true)];

describe('canLink queue', () => {
  it('200 keyed replies while the bus is busy: the one in flight, then only the newest', async () => {
    const { bus, sent, releaseAll } = slowBus();
    const actor = createActor(canLinkActor, { input: { bus, log: pino({ level: 'silent' }), isInverterFrame: () => false, downAfterFailedSends: 3, clock: systemClock, minFrameIntervalMs: 0 } });
    actor.start();
    actor.send({ type: 'TRANSMIT', frames: reply(1), key: 'ensemble' } satisfies CanLinkCommand);
    await Promise.resolve(); // the first answer is on its way (waiting for the bus)
    for (let n = 2; n <= 200; n++) actor.send({ type: 'TRANSMIT', frames: reply(n), key: 'ensemble' } satisfies CanLinkCommand);
    await releaseAll();
    expect(sent.map((f) => [f.id, f.data[0]])).toEqual([
      [0x4210, 1],
      [0x4220, 1],
      [0x4210, 200],
      [0x4220, 200],
    ]);
    actor.stop();
  });

  it('different keys and unkeyed sets are each sent, in order', async () => {
    const { bus, sent, releaseAll } = slowBus();
    const actor = createActor(canLinkActor, { input: { bus, log: pino({ level: 'silent' }), isInverterFrame: () => false, downAfterFailedSends: 3, clock: systemClock, minFrameIntervalMs: 0 } });
    actor.start();
    actor.send({ type: 'TRANSMIT', frames: reply(1) });
    actor.send({ type: 'TRANSMIT', frames: [canFrame(0x7310, [2], true)], key: 'equipment' });
    actor.send({ type: 'TRANSMIT', frames: [canFrame(0x4210, [3], true)], key: 'ensemble' });
    actor.send({ type: 'TRANSMIT', frames: [canFrame(0x351, [4])] });
    await releaseAll();
    expect(sent.map((f) => f.data[0])).toEqual([1, 1, 2, 3, 4]);
    actor.stop();
  });
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

function startLink(downAfterFailedSends = 3) {
  const network = new MemoryCanNetwork();
  const bus = network.attach('bridge');
  const inverter = network.attach('inverter');
  const heard: number[] = [];
  inverter.onFrame((f) => heard.push(f.id));
  const parent = setup({
    types: { context: {} as { events: IoEvent[] }, events: {} as IoEvent | { type: 'SEND'; frames: CanFrame[] } },
    actors: { canLink: canLinkActor },
  }).createMachine({
    context: { events: [] },
    invoke: { id: 'canLink', src: 'canLink', input: (): CanLinkInput => ({ bus, log: pino({ level: 'silent' }), downAfterFailedSends, isInverterFrame: () => false, clock: systemClock, minFrameIntervalMs: 0 }) },
    on: {
      SEND: { actions: sendTo('canLink', ({ event }): CanLinkCommand => ({ type: 'TRANSMIT', frames: (event as { frames: CanFrame[] }).frames })) },
      '*': { actions: assign({ events: ({ context, event }) => [...context.events, event as IoEvent] }) },
    },
  });
  void inverter.open();
  const actor = createActor(parent);
  actor.start();
  return {
    network,
    bus: bus as CanBus,
    heard,
    send: (...ids: number[]) => actor.send({ type: 'SEND', frames: ids.map((id) => canFrame(id, [1])) }),
    downs: () => actor.getSnapshot().context.events.filter((e) => e.type === 'CAN.DOWN'),
  };
}

describe('CAN link actor: what takes the link down', () => {
  it('one failed send (ENOBUFS or a refusal) loses that frame only; the link stays up', async () => {
    for (const code of ['ENOBUFS', 'WRITE_FAILED'] as const) {
      const link = startLink();
      await settle();
      link.network.failNextSend(code, link.bus);
      link.send(0x351, 0x355, 0x356);
      await settle();
      expect(link.downs()).toEqual([]);
      expect(link.heard).toEqual([0x355, 0x356]);
    }
  });

  it('downAfterFailedSends failures in a row report CAN.DOWN once', async () => {
    const link = startLink(3);
    await settle();
    for (let i = 0; i < 3; i++) {
      link.network.failNextSend('ENOBUFS', link.bus);
      link.send(0x351);
      await settle();
    }
    expect(link.downs()).toHaveLength(1);
    expect(link.downs()[0]).toMatchObject({ type: 'CAN.DOWN', error: expect.stringContaining('injected ENOBUFS') });
  });

  it('a success in between starts the count again', async () => {
    const link = startLink(2);
    await settle();
    for (let i = 0; i < 3; i++) {
      link.network.failNextSend('ENOBUFS', link.bus);
      link.send(0x351, 0x355);
      await settle();
    }
    expect(link.downs()).toEqual([]);
    expect(link.heard).toEqual([0x355, 0x355, 0x355]);
  });

  it('a bus that is gone (BUS_OFF, DISCONNECTED) is down at the first failure', async () => {
    const link = startLink(3);
    await settle();
    link.network.failNextSend('BUS_OFF', link.bus);
    link.send(0x351, 0x355);
    await settle();
    expect(link.downs()).toHaveLength(1);
    expect(link.heard).toEqual([]);
  });
});

describe('canLink inhibit time', () => {
  async function link(minFrameIntervalMs: number) {
    const network = new MemoryCanNetwork();
    const inverter = network.attach('inverter');
    await inverter.open();
    const heard: { atMs: number; id: number }[] = [];
    inverter.onFrame((frame) => heard.push({ atMs: Date.now(), id: frame.id }));
    const actor = createActor(canLinkActor, {
      input: { bus: network.attach('bridge'), log: pino({ level: 'silent' }), isInverterFrame: () => false, downAfterFailedSends: 3, clock: systemClock, minFrameIntervalMs },
    });
    actor.start();
    await vi.advanceTimersByTimeAsync(1);
    return { actor, heard, t0: Date.now() };
  }

  const set = [canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8]), canFrame(0x355, [50, 0, 100, 0])];

  it('a set handed over 10 ms after the last leaves each id 200 ms (+ the 5 ms margin) after its previous frame', async () => {
    vi.useFakeTimers();
    try {
      const { actor, heard, t0 } = await link(200);
      actor.send({ type: 'TRANSMIT', frames: set });
      await vi.advanceTimersByTimeAsync(10);
      actor.send({ type: 'TRANSMIT', frames: set });
      await vi.advanceTimersByTimeAsync(500);
      expect(heard.map((h) => [h.id, h.atMs - t0])).toEqual([
        [0x351, 0],
        [0x355, 0],
        [0x351, 205],
        [0x355, 205],
      ]);
      actor.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('without an inhibit time both sets go at once', async () => {
    vi.useFakeTimers();
    try {
      const { actor, heard, t0 } = await link(0);
      actor.send({ type: 'TRANSMIT', frames: set });
      await vi.advanceTimersByTimeAsync(10);
      actor.send({ type: 'TRANSMIT', frames: set });
      await vi.advanceTimersByTimeAsync(500);
      expect(heard.map((h) => h.atMs - t0)).toEqual([0, 0, 10, 10]);
      actor.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
