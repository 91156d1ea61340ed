/**
 * The virtual BMS over real OS transports: a socat pty pair (opened by the bridge's SerialLink,
 * as the bridge does) and a TCP listener (opened by the bridge's TcpLink). Real time, kept short.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildReadAllRequest, decodeResponse, JkFramer, type BmsSnapshot } from '../../bridge/src/protocol/jk';
import { SerialLink } from '../../bridge/src/transport/serial-link';
import { TcpLink } from '../../bridge/src/transport/tcp-link';
import type { ByteLink, TransportError } from '../../bridge/src/transport/types';
import { PtyLinkSource, TcpLinkSource } from '../src/links';
import { VirtualBms } from '../src/virtual-bms';
import { testProfile, VECTORS } from './helpers';

/** Sends one request and collects frames until one decodes or `ms` pass. */
function request(link: ByteLink, bytes: Uint8Array, ms = 1000): Promise<{ snapshot: BmsSnapshot | null; chunks: number }> {
  return new Promise((resolve, reject) => {
    const framer = new JkFramer();
    let chunks = 0;
    const done = (snapshot: BmsSnapshot | null): void => {
      clearTimeout(timer);
      off();
      resolve({ snapshot, chunks });
    };
    const timer = setTimeout(() => done(null), ms);
    const off = link.onData((chunk) => {
      chunks += 1;
      for (const item of framer.push(chunk)) {
        if (item.kind !== 'frame') return reject(new Error(`discarded ${item.code}: ${item.detail}`));
        const decoded = decodeResponse(item.bytes);
        if (!decoded.ok) return reject(new Error(`${decoded.error.code}: ${decoded.error.detail}`));
        done(decoded.snapshot);
      }
    });
    link.write(bytes).catch(reject);
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ptyRig(cells = 16) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-bms-pty-'));
  const linkPath = path.join(dir, 'bms');
  const bms = new VirtualBms({ profile: testProfile({ cells }) });
  await bms.serve(new PtyLinkSource(linkPath));
  const bridge = new SerialLink({ path: linkPath });
  await bridge.open();
  cleanups.push(async () => {
    await bridge.close();
    await bms.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { bms, bridge, linkPath };
}

describe('over a real socat pty', () => {
  it('answers every request variant with a valid frame, and ignores the bad-checksum write', async () => {
    const { bms, bridge } = await ptyRig(24);
    const variants: [string, Uint8Array, number][] = [
      ['0x06 PC 21 bytes', VECTORS.readAllPc, 0x06],
      ['0x06 GPS 21 bytes', VECTORS.readAllGps, 0x06],
      ['0x03 PC 21 bytes', VECTORS.readCmd03, 0x03],
      ['0x06 PC 20 bytes', VECTORS.readAll20Byte, 0x06],
      ['0x03 GPS 20 bytes', buildReadAllRequest({ command: 0x03, source: 'gps', withDataId: false }), 0x03],
    ];
    for (const [name, bytes, command] of variants) {
      const { snapshot } = await request(bridge, bytes);
      expect(snapshot, name).not.toBeNull();
      expect(snapshot!.command, name).toBe(command);
      expect(snapshot!.cellsMv, name).toHaveLength(24);
      expect(snapshot, name).toEqual(bms.lastServed!.snapshot);
    }
    expect((await request(bridge, VECTORS.badChecksumPr343, 300)).snapshot).toBeNull();
    expect(bms.requests.at(-1)).toMatchObject({ outcome: 'ignored', request: null, detail: expect.stringMatching(/^BAD_CHECKSUM/) });
  });

  it('drop-link makes the pty vanish (the bridge sees a disconnect) and brings it back at the same path', async () => {
    const { bms, bridge, linkPath } = await ptyRig();
    const lost = new Promise<TransportError>((resolve) => bridge.onDisconnect(resolve));
    expect((await bms.commands.execute('drop-link 300ms')).ok).toBe(true);
    await expect(lost).resolves.toMatchObject({ code: 'DISCONNECTED' });
    expect(fs.existsSync(linkPath)).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(fs.existsSync(linkPath)).toBe(true);
    await bridge.open();
    expect((await request(bridge, VECTORS.readAllPc)).snapshot?.cellCount).toBe(16);
  });
});

/** The pid of the socat this test started for `linkPath` (unique temp path), from /proc. */
function socatFor(linkPath: string): number | null {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('socat') && cmdline.includes(`link=${linkPath}`)) return Number(pid);
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}

describe('pty recovery', () => {
  it('if socat dies unasked, a new pair appears at the same path', async () => {
    const { bms, bridge, linkPath } = await ptyRig();
    const pid = socatFor(linkPath);
    expect(pid).not.toBeNull();
    const lost = new Promise<TransportError>((resolve) => bridge.onDisconnect(resolve));
    process.kill(pid!, 'SIGKILL');
    await lost;
    await vi.waitFor(() => expect(socatFor(linkPath)).not.toBeNull(), { timeout: 3000, interval: 50 });
    await vi.waitFor(() => expect(fs.existsSync(linkPath)).toBe(true), { timeout: 3000, interval: 50 });
    await bridge.open();
    expect((await request(bridge, VECTORS.readAllPc)).snapshot?.cellCount).toBe(16);
    expect(bms.linkDescription).toBe(`pty ${linkPath}`);
  });
});

describe('over TCP (an RS485-to-Ethernet converter)', () => {
  it('serves one client at a time and the next one after it leaves', async () => {
    const source = new TcpLinkSource('127.0.0.1', 0);
    const bms = new VirtualBms({ profile: testProfile({ cells: 8 }) });
    await bms.serve(source);
    const first = new TcpLink({ host: '127.0.0.1', port: source.port });
    const second = new TcpLink({ host: '127.0.0.1', port: source.port });
    cleanups.push(async () => {
      await first.close();
      await second.close();
      await bms.stop();
    });
    await first.open();
    expect((await request(first, VECTORS.readAllGps)).snapshot?.cellsMv).toHaveLength(8);

    // A second client is refused while the first is connected.
    const refused = new Promise<TransportError>((resolve) => second.onDisconnect(resolve));
    await second.open();
    await expect(refused).resolves.toMatchObject({ code: 'DISCONNECTED' });

    await first.close();
    await new Promise((r) => setTimeout(r, 50));
    await second.open();
    expect((await request(second, VECTORS.readAllPc)).snapshot?.cellsMv).toHaveLength(8);
  });
});
