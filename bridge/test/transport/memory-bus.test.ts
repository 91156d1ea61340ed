import { describe, expect, it } from 'vitest';
import { canFrame, type CanFrame } from '../../src/protocol/can/frame';
import { MemoryCanNetwork } from '../../src/transport/memory-bus';
import type { TransportError } from '../../src/transport/types';
import { expectTransportError } from './support/byte-link-contract';
import { canBusContract, listeningPeer } from './support/can-bus-contract';

canBusContract('memory network', async () => {
  const network = new MemoryCanNetwork();
  const bus = network.attach('bridge');
  const other = network.attach('inverter');
  await other.open();
  return {
    bus,
    peer: listeningPeer(other),
    disappear: async () => network.disconnect(bus),
    stampsReceiveTime: false,
    unreachable: async () => {
      const absent = network.attach('absent');
      network.failNextOpen(absent);
      return absent;
    },
    dispose: async () => {
      await bus.close();
      await other.close();
    },
  };
});

/** Lets queued microtask deliveries run. */
const delivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('memory network specifics', () => {
  it('delivers to every other open endpoint, not to the sender or closed endpoints', async () => {
    const network = new MemoryCanNetwork();
    const [a, b, c, closed] = ['a', 'b', 'c', 'closed'].map((name) => network.attach(name));
    const seen: Record<string, number[]> = { a: [], b: [], c: [], closed: [] };
    for (const [name, bus] of Object.entries({ a, b, c, closed })) bus.onFrame((f) => seen[name].push(f.id));
    await Promise.all([a.open(), b.open(), c.open()]);
    await a.send(canFrame(0x351, [1]));
    await delivered();
    expect(seen).toEqual({ a: [], b: [0x351], c: [0x351], closed: [] });
  });

  it('gives each receiver its own copy of the data', async () => {
    const network = new MemoryCanNetwork();
    const [tx, rx1, rx2] = ['tx', 'rx1', 'rx2'].map((name) => network.attach(name));
    const got: CanFrame[] = [];
    rx1.onFrame((f) => got.push(f));
    rx2.onFrame((f) => got.push(f));
    await Promise.all([tx.open(), rx1.open(), rx2.open()]);
    const frame = canFrame(0x355, [50, 0]);
    await tx.send(frame);
    frame.data[0] = 99;
    await delivered();
    got[0].data[1] = 77;
    expect(got.map((f) => [...f.data])).toEqual([
      [50, 77],
      [50, 0],
    ]);
  });

  it('fails the next send with the injected code without delivering it, then works again', async () => {
    const network = new MemoryCanNetwork();
    const [tx, rx] = ['tx', 'rx'].map((name) => network.attach(name));
    const peer = listeningPeer(rx);
    await Promise.all([tx.open(), rx.open()]);
    network.failNextSend('ENOBUFS');
    await expectTransportError(tx.send(canFrame(0x351, [1])), 'ENOBUFS');
    await tx.send(canFrame(0x356, [2]));
    await delivered();
    expect(peer.received.map((f) => f.id)).toEqual([0x356]);
    expect(tx.isOpen).toBe(true);
  });

  it('aims an injected send failure at one endpoint when asked', async () => {
    const network = new MemoryCanNetwork();
    const [bridge, inverter] = ['bridge', 'inverter'].map((name) => network.attach(name));
    await Promise.all([bridge.open(), inverter.open()]);
    network.failNextSend('BUS_OFF', bridge);
    await inverter.send(canFrame(0x305, []));
    await expectTransportError(bridge.send(canFrame(0x351, [1])), 'BUS_OFF');
  });

  it('reports bus-off through onDisconnect with the given code', async () => {
    const network = new MemoryCanNetwork();
    const bus = network.attach('bridge');
    const lost: TransportError[] = [];
    bus.onDisconnect((e) => lost.push(e));
    await bus.open();
    network.disconnect(bus, 'BUS_OFF', 'too many errors');
    network.disconnect(bus);
    expect(lost.map((e) => e.message)).toEqual(['BUS_OFF: memory can bridge: too many errors']);
    expect(bus.isOpen).toBe(false);
  });

  it('does not deliver frames queued before a close to the next session', async () => {
    const network = new MemoryCanNetwork();
    const [tx, rx] = ['tx', 'rx'].map((name) => network.attach(name));
    const peer = listeningPeer(rx);
    await Promise.all([tx.open(), rx.open()]);
    // Close and reopen before the queued delivery runs (both act synchronously up to their end).
    const sending = tx.send(canFrame(0x351, [1]));
    const closing = rx.close();
    await Promise.all([sending, closing, rx.open()]);
    await delivered();
    expect(peer.received).toEqual([]);
  });

  it('refuses fault hooks on an endpoint of another network', () => {
    const stranger = new MemoryCanNetwork().attach('stranger');
    expect(() => new MemoryCanNetwork().disconnect(stranger)).toThrow('memory can stranger is not attached to this MemoryCanNetwork');
  });
});
