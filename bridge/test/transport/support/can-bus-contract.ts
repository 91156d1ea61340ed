/**
 * The behaviour every CanBus must show, written once and run against the memory network, the
 * SLCAN bus over a real pty with a fake adapter, the socketcan bus over a fake addon, and (in the
 * vcan VM) the socketcan bus on a real vcan0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canFrame, type CanFrame } from '../../../src/protocol/can/frame';
import { isTransportError, type CanBus, type TransportError } from '../../../src/transport/types';
import { expectTransportError, type ContractTiming } from './byte-link-contract';
import { eventually, pause } from './eventually';

export interface CanBusPeer {
  /** A frame from another node on the bus to the bus under test. */
  send(frame: CanFrame): Promise<void>;
  /** Frames the other node has seen from the bus under test, in order. */
  readonly received: readonly CanFrame[];
}

export interface CanBusFixture {
  /** The bus under test, not yet opened. */
  bus: CanBus;
  /** Another node on the same bus, already listening. */
  peer: CanBusPeer;
  /** The bus goes away: interface down or removed, adapter unplugged. */
  disappear(): Promise<void>;
  /** A bus of the same kind whose open() must fail. */
  unreachable(): Promise<CanBus>;
  /** The transport knows when a frame reached the host (SocketCAN's kernel stamp). */
  stampsReceiveTime: boolean;
  dispose(): Promise<void>;
}

/** A CanBus used as the peer: it records what it receives. */
export function listeningPeer(bus: CanBus): CanBusPeer {
  const received: CanFrame[] = [];
  bus.onFrame((frame) => received.push(frame));
  return { send: (frame) => bus.send(frame), received };
}

/** Comparable form: ext false and absent mean the same, and data as a plain array. */
function plain(frame: CanFrame): { id: number; ext: boolean; data: number[] } {
  return { id: frame.id, ext: frame.ext === true, data: [...frame.data] };
}

const SAMPLES: CanFrame[] = [
  canFrame(0x351, [0x10, 0x02, 0xc0, 0x12, 0xc0, 0x12, 0xc2, 0x01]),
  canFrame(0x1806e5f4, [0x01, 0x02, 0x03], true),
  canFrame(0x7ff, []),
  canFrame(0x000, [0xff]),
  canFrame(0x1fffffff, [0, 0, 0, 0, 0, 0, 0, 0], true),
];

export function canBusContract(name: string, setup: () => Promise<CanBusFixture>, timing: ContractTiming = {}): void {
  const patienceMs = timing.patienceMs ?? 2000;
  const settleMs = timing.settleMs ?? 100;

  describe(`CanBus contract: ${name}`, () => {
    let f: CanBusFixture;
    beforeEach(async () => {
      f = await setup();
    });
    afterEach(async () => {
      await f.dispose();
    });

    async function framesAtBus(count: number, action: () => Promise<void>): Promise<CanFrame[]> {
      const frames: CanFrame[] = [];
      const off = f.bus.onFrame((frame) => frames.push(frame));
      await action();
      await eventually(() => frames.length >= count, `${count} frames at the bus`, patienceMs);
      off();
      return frames;
    }

    it('is closed until opened and refuses sends with NOT_OPEN', async () => {
      expect(f.bus.isOpen).toBe(false);
      await expectTransportError(f.bus.send(SAMPLES[0]), 'NOT_OPEN');
      expect(f.bus.description).not.toBe('');
    });

    it('opens, and a second open() keeps the same working bus', async () => {
      await f.bus.open();
      await f.bus.open();
      expect(f.bus.isOpen).toBe(true);
      await f.bus.send(SAMPLES[0]);
      await eventually(() => f.peer.received.length >= 1, 'the frame at the peer', patienceMs);
      expect(f.peer.received.map(plain)).toEqual([plain(SAMPLES[0])]);
    });

    it('puts standard, extended, empty and full frames on the bus intact and in order', async () => {
      await f.bus.open();
      for (const frame of SAMPLES) await f.bus.send(frame);
      await eventually(() => f.peer.received.length >= SAMPLES.length, 'all frames at the peer', patienceMs);
      expect(f.peer.received.map(plain)).toEqual(SAMPLES.map(plain));
    });

    it('delivers frames from the bus intact and in order', async () => {
      await f.bus.open();
      const sequence = Array.from({ length: 20 }, (_, i) => canFrame(0x300 + i, [i, 0xa5]));
      const frames = await framesAtBus(SAMPLES.length + sequence.length, async () => {
        for (const frame of [...SAMPLES, ...sequence]) await f.peer.send(frame);
      });
      expect(frames.map(plain)).toEqual([...SAMPLES, ...sequence].map(plain));
    });

    it('refuses frames classical CAN cannot carry with WRITE_FAILED, sending nothing', async () => {
      await f.bus.open();
      await expectTransportError(f.bus.send(canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8, 9])), 'WRITE_FAILED');
      await expectTransportError(f.bus.send(canFrame(0x800, [1])), 'WRITE_FAILED');
      await expectTransportError(f.bus.send(canFrame(0x20000000, [1], true)), 'WRITE_FAILED');
      expect(f.bus.isOpen).toBe(true);
      await f.bus.send(SAMPLES[0]);
      await eventually(() => f.peer.received.length >= 1, 'the valid frame at the peer', patienceMs);
      expect(f.peer.received.map(plain)).toEqual([plain(SAMPLES[0])]);
    });

    it('stops calling a frame listener after it unsubscribes', async () => {
      await f.bus.open();
      const dropped: CanFrame[] = [];
      f.bus.onFrame((frame) => dropped.push(frame))();
      const frames = await framesAtBus(1, () => f.peer.send(SAMPLES[1]));
      expect(frames.map(plain)).toEqual([plain(SAMPLES[1])]);
      expect(dropped).toEqual([]);
    });

    it('closes idempotently without reporting a disconnect, then refuses sends with NOT_OPEN', async () => {
      const lost: TransportError[] = [];
      f.bus.onDisconnect((e) => lost.push(e));
      await f.bus.open();
      await f.bus.close();
      await f.bus.close();
      expect(f.bus.isOpen).toBe(false);
      await expectTransportError(f.bus.send(SAMPLES[0]), 'NOT_OPEN');
      await pause(settleMs);
      expect(lost).toEqual([]);
    });

    it('reports exactly one DISCONNECTED when the bus goes away, then refuses sends', async () => {
      const lost: TransportError[] = [];
      f.bus.onDisconnect((e) => lost.push(e));
      await f.bus.open();
      await f.disappear();
      await eventually(() => lost.length > 0, 'a disconnect report', patienceMs);
      await pause(settleMs);
      expect(lost.map((e) => [isTransportError(e), e.code])).toEqual([[true, 'DISCONNECTED']]);
      expect(f.bus.isOpen).toBe(false);
      await expectTransportError(f.bus.send(SAMPLES[0]), 'NOT_OPEN');
      await f.bus.close();
    });

    it('opens again after close and carries frames both ways', async () => {
      await f.bus.open();
      await f.bus.close();
      await f.bus.open();
      await f.bus.send(SAMPLES[2]);
      await eventually(() => f.peer.received.length >= 1, 'the frame at the peer', patienceMs);
      expect(f.peer.received.map(plain)).toEqual([plain(SAMPLES[2])]);
      const frames = await framesAtBus(1, () => f.peer.send(SAMPLES[3]));
      expect(frames.map(plain)).toEqual([plain(SAMPLES[3])]);
    });

    it('tells a listener how long a frame waited for it where the transport knows, and only there', async () => {
      await f.bus.open();
      const waited: (number | undefined)[] = [];
      const off = f.bus.onFrame((_, waitedMs) => waited.push(waitedMs));
      // SocketCAN stamps a socket's frames from its first SIOCGSTAMP on: the first frame has none.
      await f.peer.send(SAMPLES[1]);
      await eventually(() => waited.length >= 1, 'the first frame at the bus', patienceMs);
      await f.peer.send(SAMPLES[0]);
      // Keep the event loop busy for 60 ms after the frame reached the bus (wall clock, as the
      // kernel stamps it): a listener hears it at least that late.
      const busyUntil = Date.now() + 60;
      while (Date.now() < busyUntil);
      await eventually(() => waited.length >= 2, 'the frame at the bus', patienceMs);
      off();
      if (f.stampsReceiveTime) {
        expect(waited[1]).toBeGreaterThanOrEqual(59);
        expect(waited[1]).toBeLessThan(patienceMs);
      } else {
        expect(waited).toEqual([undefined, undefined]);
      }
    });

    it('fails to open an unreachable bus with OPEN_FAILED and stays closed', async () => {
      const bus = await f.unreachable();
      await expectTransportError(bus.open(), 'OPEN_FAILED');
      expect(bus.isOpen).toBe(false);
    });
  });
}
