/**
 * The CAN link actor's queue under a request storm (issue 13): a keyed command still waiting is
 * replaced by the newer one, so a bus slower than the requests never builds a backlog, and what
 * goes out is the newest answer.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { canLinkActor, type CanLinkCommand } from '../../src/machine/actors';
import { canFrame, type CanFrame } from '../../src/protocol/can';
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
    const actor = createActor(canLinkActor, { input: { bus, log: pino({ level: 'silent' }), isInverterFrame: () => false } });
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
    const actor = createActor(canLinkActor, { input: { bus, log: pino({ level: 'silent' }), isInverterFrame: () => false } });
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
