/**
 * The CAN link actor keeps a profile's inhibit time on the wire (SMA: 200 ms between frames of one
 * id, inverter-can-protocols.md §5.1), measured from each frame's acknowledgement, on fake timers.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { systemClock } from '../../src/clock';
import { canLinkActor } from '../../src/machine/actors';
import { canFrame } from '../../src/protocol/can';
import { MemoryCanNetwork } from '../../src/transport/memory-bus';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

async function link(minFrameIntervalMs: number) {
  const network = new MemoryCanNetwork();
  const inverter = network.attach('inverter');
  await inverter.open();
  const heard: { atMs: number; id: number }[] = [];
  inverter.onFrame((frame) => heard.push({ atMs: Date.now(), id: frame.id }));
  const actor = createActor(canLinkActor, {
    input: { bus: network.attach('bridge'), log: pino({ level: 'silent' }), clock: systemClock, minFrameIntervalMs },
  });
  actor.start();
  await vi.advanceTimersByTimeAsync(1);
  return { actor, heard, t0: Date.now() };
}

const set = [canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8]), canFrame(0x355, [50, 0, 100, 0])];

describe('canLinkActor inhibit time', () => {
  it('a set handed over 10 ms after the last leaves each id 200 ms after its previous frame', async () => {
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
  });

  it('without an inhibit time both sets go at once', async () => {
    const { actor, heard, t0 } = await link(0);
    actor.send({ type: 'TRANSMIT', frames: set });
    await vi.advanceTimersByTimeAsync(10);
    actor.send({ type: 'TRANSMIT', frames: set });
    await vi.advanceTimersByTimeAsync(500);
    expect(heard.map((h) => h.atMs - t0)).toEqual([0, 0, 10, 10]);
    actor.stop();
  });
});
