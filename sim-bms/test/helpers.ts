/**
 * Test helpers: a virtual BMS on an in-memory link, driven on vi fake timers, plus golden
 * request frames copied from vectors/jk-frames.json (ids in the names).
 */
import { vi } from 'vitest';
import { decodeResponse, JkFramer, type BmsSnapshot } from '../../bridge/src/protocol/jk';
import { createMemoryLinkPair, type MemoryPeer } from '../../bridge/src/transport/memory-link';
import { makeProfile, type ProfileInput } from '../src/profile';
import { VirtualBms, type VirtualBmsOptions } from '../src/virtual-bms';

export const hexBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

/** vectors/jk-frames.json, the 4E57 requests (§2.3, §2.8). */
export const VECTORS = {
  readAllPc: hexBytes('4E5700130000000006030000000000006800000129'), // 4e57-req-read-all-pc (vendor capture)
  readAllGps: hexBytes('4E5700130000000006020000000000006800000128'), // 4e57-req-read-all-gps
  readCmd03: hexBytes('4E5700130000000003030000000000006800000126'), // 4e57-req-read-cmd03
  readAll20Byte: hexBytes('4E57001200000000060300000000006800000128'), // 4e57-req-read-all-20byte (OpenDTU)
  activate: hexBytes('4E5700130000000001030000000000006800000124'), // 4e57-req-activate
  pair: hexBytes('4E570014000000000502000000000000006800000128'), // 4e57-req-pair-esphome
  chargeMosOff: hexBytes('4E57001400000000020200AB000000000068000001D0'), // 4e57-req-write-charge-mos-off
  chargeMosOn: hexBytes('4E57001400000000020200AB010000000068000001D1'), // 4e57-req-write-charge-mos-on
  badChecksumPr343: hexBytes('4E57001400000000020200AB00000000006800000168'), // 4e57-req-write-bad-checksum-pr343
};

export function testProfile(overrides: Partial<ProfileInput> = {}) {
  return makeProfile({ name: 'test', cells: 16, capacityAh: 100, seed: 3, ...overrides });
}

export interface MemoryRig {
  bms: VirtualBms;
  peer: MemoryPeer;
  /** Sends bytes, runs the fake clock past the reply latency, returns what the BMS wrote. */
  ask(bytes: Uint8Array, waitMs?: number): Promise<Uint8Array>;
}

/** Call with fake timers installed. */
export async function memoryRig(opts: Partial<VirtualBmsOptions> & { profileInput?: Partial<ProfileInput> } = {}): Promise<MemoryRig> {
  const bms = new VirtualBms({ profile: testProfile(opts.profileInput), ...opts });
  const [link, peer] = createMemoryLinkPair('bms');
  await bms.serve(link);
  return {
    bms,
    peer,
    ask: async (bytes, waitMs = 10) => {
      peer.clearWrites();
      peer.emitData(bytes);
      await vi.advanceTimersByTimeAsync(waitMs);
      return peer.written();
    },
  };
}

/** Frames in `bytes` by the bridge's own framer. */
export function framesIn(bytes: Uint8Array) {
  const framer = new JkFramer();
  return [...framer.push(bytes), ...framer.flush()];
}

/** Decodes exactly one reply frame with the bridge's codec, or throws with the reason. */
export function decodeOnly(bytes: Uint8Array): BmsSnapshot {
  const items = framesIn(bytes);
  if (items.length !== 1 || items[0].kind !== 'frame') throw new Error(`expected one frame, got ${JSON.stringify(items.map((i) => i.kind))}`);
  const decoded = decodeResponse(items[0].bytes);
  if (!decoded.ok) throw new Error(`${decoded.error.code}: ${decoded.error.detail}`);
  return decoded.snapshot;
}
