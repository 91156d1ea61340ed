/**
 * The CAN link actor's queue under a request storm (issue 13): a keyed command still waiting is
 * replaced by the newer one, so a bus slower than the requests never builds a backlog, and what
 * goes out is the newest answer. And a profile's inhibit time kept on the wire (issue 11: SMA,
 * 200 ms between frames of one id, inverter-can-protocols.md §5.1), from each frame's
 * acknowledgement, on fake timers.
 */
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { systemClock } from '../../src/clock';
import { canLinkActor, type CanLinkCommand } from '../../src/machine/actors';
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
    const actor = createActor(canLinkActor, { input: { bus, log: pino({ level: 'silent' }), isInverterFrame: () => false, clock: systemClock, minFrameIntervalMs: 0 } });
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
    const actor = createActor(canLinkActor, { input: { bus, log: pino({ level: 'silent' }), isInverterFrame: () => false, clock: systemClock, minFrameIntervalMs: 0 } });
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

describe('canLink inhibit time', () => {
  async function link(minFrameIntervalMs: number) {
    const network = new MemoryCanNetwork();
    const inverter = network.attach('inverter');
    await inverter.open();
    const heard: { atMs: number; id: number }[] = [];
    inverter.onFrame((frame) => heard.push({ atMs: Date.now(), id: frame.id }));
    const actor = createActor(canLinkActor, {
      input: { bus: network.attach('bridge'), log: pino({ level: 'silent' }), isInverterFrame: () => false, clock: systemClock, minFrameIntervalMs },
    });
    actor.start();
    await vi.advanceTimersByTimeAsync(1);
    return { actor, heard, t0: Date.now() };
  }

  const set = [canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8]), canFrame(0x355, [50, 0, 100, 0])];

  it('a set handed over 10 ms after the last leaves each id 200 ms after its previous frame', async () => {
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
        [0x351, 200],
        [0x355, 200],
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
