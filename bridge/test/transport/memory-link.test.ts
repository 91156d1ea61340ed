import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair } from '../../src/transport/memory-link';
import { byteLinkContract, expectTransportError } from './support/byte-link-contract';

byteLinkContract('memory twin', async () => {
  const [link, peer] = createMemoryLinkPair('bms');
  return {
    link,
    peer: { write: async (bytes) => peer.emitData(bytes), received: () => peer.written() },
    disappear: async () => peer.disconnect(),
    unreachable: async () => {
      const [absent, absentPeer] = createMemoryLinkPair('absent');
      absentPeer.failNextOpen();
      return absent;
    },
    dispose: () => link.close(),
  };
});

describe('memory twin specifics', () => {
  it('records each write as a separate copy and tells onWrite listeners', async () => {
    const [link, peer] = createMemoryLinkPair();
    const seen: number[][] = [];
    peer.onWrite((chunk) => seen.push([...chunk]));
    await link.open();
    const buffer = Uint8Array.of(1, 2);
    await link.write(buffer);
    buffer[0] = 99; // the caller reusing its buffer must not change what the peer recorded
    await link.write(Uint8Array.of(3));
    expect(peer.writes.map((w) => [...w])).toEqual([[1, 2], [3]]);
    expect(seen).toEqual([[1, 2], [3]]);
    expect([...peer.written()]).toEqual([1, 2, 3]);
    peer.clearWrites();
    expect(peer.writes).toEqual([]);
  });

  it('delivers asynchronously, and loses bytes emitted while the link is closed', async () => {
    const [link, peer] = createMemoryLinkPair();
    const got: number[] = [];
    link.onData((chunk) => got.push(...chunk));
    peer.emitData([1]);
    await link.open();
    expect(peer.linkIsOpen).toBe(true);
    peer.emitData([2]);
    expect(got).toEqual([]);
    await Promise.resolve();
    expect(got).toEqual([2]);
  });

  it('does not deliver bytes queued before a close to the next session', async () => {
    const [link, peer] = createMemoryLinkPair();
    const got: number[] = [];
    link.onData((chunk) => got.push(...chunk));
    await link.open();
    // Close and reopen before the queued delivery runs (both act synchronously up to their end).
    peer.emitData([1]);
    const closing = link.close();
    await Promise.all([closing, link.open()]);
    await Promise.resolve();
    expect(got).toEqual([]);
  });

  it('fails only the next open after failNextOpen, with the given reason', async () => {
    const [link, peer] = createMemoryLinkPair('bms');
    peer.failNextOpen('adapter unplugged');
    const error = await expectTransportError(link.open(), 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: memory bms: adapter unplugged');
    await link.open();
    expect(link.isOpen).toBe(true);
  });

  it('ignores disconnect() while the link is closed', async () => {
    const [link, peer] = createMemoryLinkPair();
    let lost = 0;
    link.onDisconnect(() => lost++);
    peer.disconnect();
    await link.open();
    peer.disconnect('gone');
    peer.disconnect('gone again');
    expect(lost).toBe(1);
  });
});
