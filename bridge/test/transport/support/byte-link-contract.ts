/**
 * The behaviour every ByteLink must show, written once and run against the memory twin, the
 * serial link over binding-mock and over a real pty, and the TCP link (python-can's back-to-back
 * idea): a twin that drifts from the real transports fails here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTransportError, type ByteLink, type TransportError } from '../../../src/transport/types';
import { concatBytes, eventually, pause } from './eventually';

export interface ByteLinkPeer {
  /** Sends bytes from the far end to the link under test. */
  write(bytes: Uint8Array): Promise<void>;
  /** Everything the far end has received from the link so far. */
  received(): Uint8Array;
}

export interface ByteLinkFixture {
  /** The link under test, not yet opened. */
  link: ByteLink;
  peer: ByteLinkPeer;
  /** The far end vanishes: adapter unplugged, socat killed, TCP connection dropped. */
  disappear(): Promise<void>;
  /** A link of the same kind whose open() must fail. */
  unreachable(): Promise<ByteLink>;
  dispose(): Promise<void>;
}

export interface ContractTiming {
  /** How long to wait for an expected event. */
  patienceMs?: number;
  /** How long to watch for an unexpected repeated event. */
  settleMs?: number;
}

export async function expectTransportError(promise: Promise<unknown>, code: TransportError['code']): Promise<TransportError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a TransportError ${code}, but the operation succeeded`);
    },
    (e: unknown) => e,
  );
  if (!isTransportError(error)) throw new Error(`expected a TransportError ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}

function bytesUpTo(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i % 256);
}

export function byteLinkContract(name: string, setup: () => Promise<ByteLinkFixture>, timing: ContractTiming = {}): void {
  const patienceMs = timing.patienceMs ?? 2000;
  const settleMs = timing.settleMs ?? 100;

  describe(`ByteLink contract: ${name}`, () => {
    let f: ByteLinkFixture;
    beforeEach(async () => {
      f = await setup();
    });
    afterEach(async () => {
      await f.dispose();
    });

    async function receivedFromLink(link: ByteLink, count: number): Promise<Uint8Array> {
      const chunks: Uint8Array[] = [];
      const off = link.onData((chunk) => chunks.push(Uint8Array.from(chunk)));
      await eventually(() => concatBytes(chunks).length >= count, `${count} bytes at the link`, patienceMs);
      off();
      return concatBytes(chunks);
    }

    it('is closed until opened and refuses writes with NOT_OPEN', async () => {
      expect(f.link.isOpen).toBe(false);
      await expectTransportError(f.link.write(Uint8Array.of(1)), 'NOT_OPEN');
      expect(f.link.description).not.toBe('');
    });

    it('opens, and a second open() keeps the same working link', async () => {
      await f.link.open();
      await f.link.open();
      expect(f.link.isOpen).toBe(true);
      await f.link.write(Uint8Array.of(0x4e, 0x57));
      await eventually(() => f.peer.received().length >= 2, 'the write at the peer', patienceMs);
      expect([...f.peer.received()]).toEqual([0x4e, 0x57]);
    });

    it('delivers every byte value written, unchanged and in order', async () => {
      await f.link.open();
      const all = bytesUpTo(256);
      await f.link.write(all.subarray(0, 100));
      await f.link.write(all.subarray(100));
      await eventually(() => f.peer.received().length >= 256, '256 bytes at the peer', patienceMs);
      expect([...f.peer.received()]).toEqual([...all]);
    });

    it('hands listeners plain Uint8Arrays, whose slice() is a copy', async () => {
      await f.link.open();
      const chunks: Uint8Array[] = [];
      f.link.onData((chunk) => chunks.push(chunk));
      await f.peer.write(Uint8Array.of(1, 2));
      await eventually(() => chunks.length > 0, 'data at the link', patienceMs);
      expect(Object.getPrototypeOf(chunks[0])).toBe(Uint8Array.prototype);
    });

    it('delivers the peer bytes in order however they are chunked', async () => {
      await f.link.open();
      const pending = receivedFromLink(f.link, 300);
      const all = bytesUpTo(300);
      for (const [from, to] of [[0, 1], [1, 3], [3, 4], [4, 300]]) await f.peer.write(all.slice(from, to));
      expect([...(await pending)]).toEqual([...all]);
    });

    it('stops calling a data listener after it unsubscribes', async () => {
      await f.link.open();
      const dropped: Uint8Array[] = [];
      const off = f.link.onData((chunk) => dropped.push(chunk));
      off();
      const pending = receivedFromLink(f.link, 3);
      await f.peer.write(Uint8Array.of(7, 8, 9));
      expect([...(await pending)]).toEqual([7, 8, 9]);
      expect(dropped).toEqual([]);
    });

    it('closes idempotently without reporting a disconnect, then refuses writes with NOT_OPEN', async () => {
      const lost: TransportError[] = [];
      f.link.onDisconnect((e) => lost.push(e));
      await f.link.open();
      await f.link.close();
      await f.link.close();
      expect(f.link.isOpen).toBe(false);
      await expectTransportError(f.link.write(Uint8Array.of(1)), 'NOT_OPEN');
      await pause(settleMs);
      expect(lost).toEqual([]);
    });

    it('reports exactly one DISCONNECTED when the far end disappears, then refuses writes', async () => {
      const lost: TransportError[] = [];
      f.link.onDisconnect((e) => lost.push(e));
      await f.link.open();
      await f.disappear();
      await eventually(() => lost.length > 0, 'a disconnect report', patienceMs);
      await pause(settleMs);
      expect(lost.map((e) => [isTransportError(e), e.code])).toEqual([[true, 'DISCONNECTED']]);
      expect(f.link.isOpen).toBe(false);
      await expectTransportError(f.link.write(Uint8Array.of(1)), 'NOT_OPEN');
      await f.link.close();
    });

    it('opens again after close and carries data both ways', async () => {
      await f.link.open();
      await f.link.close();
      await f.link.open();
      expect(f.link.isOpen).toBe(true);
      await f.link.write(Uint8Array.of(0xaa, 0x55));
      await eventually(() => f.peer.received().length >= 2, 'the write at the peer', patienceMs);
      expect([...f.peer.received().slice(-2)]).toEqual([0xaa, 0x55]);
      const pending = receivedFromLink(f.link, 2);
      await f.peer.write(Uint8Array.of(0x01, 0x02));
      expect([...(await pending)]).toEqual([0x01, 0x02]);
    });

    it('fails to open an unreachable endpoint with OPEN_FAILED and stays closed', async () => {
      const link = await f.unreachable();
      await expectTransportError(link.open(), 'OPEN_FAILED');
      expect(link.isOpen).toBe(false);
    });
  });
}
