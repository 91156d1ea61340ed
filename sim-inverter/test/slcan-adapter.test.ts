/**
 * The device side of the SLCAN adapter, byte for byte, on an in-memory serial link: what a
 * CANable-style adapter answers to each command, and how frames cross in both directions.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { canFrame, type CanFrame } from '../../bridge/src/protocol/can';
import { createMemoryLinkPair, type MemoryPeer } from '../../bridge/src/transport/memory-link';
import { SlcanBus } from '../../bridge/src/transport/slcan-bus';
import { SlcanAdapter } from '../src/slcan-adapter';

const decoder = new TextDecoder('latin1');

interface Wire {
  adapter: SlcanAdapter;
  host: MemoryPeer;
  /** Everything the adapter wrote to the host since the last call. */
  answers(): Promise<string>;
  say(text: string): Promise<string>;
  heard: CanFrame[];
}

async function wire(): Promise<Wire> {
  const adapter = new SlcanAdapter(() => Date.now());
  // The adapter is the "link" side of the pair; the test plays the host on the peer side.
  const [link, host] = createMemoryLinkPair('adapter');
  await link.open();
  adapter.attach(link);
  await adapter.bus.open();
  const heard: CanFrame[] = [];
  adapter.bus.onFrame((frame) => heard.push(frame));
  const answers = async (): Promise<string> => {
    await vi.advanceTimersByTimeAsync(0);
    const text = decoder.decode(host.written());
    host.clearWrites();
    return text;
  };
  return { adapter, host, answers, heard, say: async (text) => (host.emitData(Buffer.from(text, 'latin1')), answers()) };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('commands', () => {
  test('the Linux/bridge start-up sequence C, S6, O is acknowledged with \\r each', async () => {
    const w = await wire();
    expect(await w.say('C\r')).toBe('\r');
    expect(await w.say('S6\r')).toBe('\r');
    expect(w.adapter.status.bitrate).toBe(500_000);
    expect(await w.say('O\r')).toBe('\r');
    expect(w.adapter.status.open).toBe(true);
  });

  test('queries: V, v, N and F (status flags)', async () => {
    const w = await wire();
    expect(await w.say('V\r')).toBe('V1013\r');
    expect(await w.say('v\r')).toBe('vsim-inverter\r');
    expect(await w.say('N\r')).toBe('NSIMI\r');
    expect(await w.say('F\r')).toBe('F00\r');
    w.adapter.setBusOff(true);
    expect(await w.say('F\r')).toBe('FA4\r');
  });

  test('BEL for what a real adapter refuses', async () => {
    const w = await wire();
    expect(await w.say('S9\r')).toBe('\x07');
    expect(await w.say('t3510\r')).toBe('\x07'); // not open yet
    expect(await w.say('O\r')).toBe('\r');
    expect(await w.say('O\r')).toBe('\x07'); // already open
    expect(await w.say('S4\r')).toBe('\x07'); // bit rate only while closed
    expect(await w.say('Q\r')).toBe('\x07'); // unknown command
    expect(await w.say('t35\r')).toBe('\x07'); // malformed frame
    expect(await w.say('r1230\r')).toBe('\x07'); // remote frames are not supported
    expect(await w.say('\r\r')).toBe(''); // slcand's flush: no answer
    expect(w.adapter.status.errors).toBe(7);
  });

  test('listen-only (L) refuses to transmit', async () => {
    const w = await wire();
    expect(await w.say('L\r')).toBe('\r');
    expect(await w.say('t3510\r')).toBe('\x07');
    expect(w.heard).toEqual([]);
  });
});

describe('frames', () => {
  test('host t/T lines reach the inverter and are acknowledged with z / Z', async () => {
    const w = await wire();
    await w.say('O\r');
    expect(await w.say('t35C2C000\r')).toBe('z\r');
    expect(await w.say('T000003052AABB\r')).toBe('Z\r');
    expect(w.heard).toEqual([canFrame(0x35c, [0xc0, 0x00]), canFrame(0x305, [0xaa, 0xbb], true)]);
    expect(w.adapter.status.framesFromHost).toBe(2);
  });

  test('inverter frames reach the host as t lines while open, with a timestamp after Z1', async () => {
    const w = await wire();
    await w.adapter.bus.send(canFrame(0x305, new Uint8Array(8)));
    expect(await w.answers()).toBe('');
    await w.say('O\r');
    await w.adapter.bus.send(canFrame(0x305, new Uint8Array(8)));
    expect(await w.answers()).toBe('t30580000000000000000\r');
    await w.say('C\r');
    expect(await w.say('Z1\r')).toBe('\r');
    await w.say('O\r');
    vi.setSystemTime(61_234);
    await w.adapter.bus.send(canFrame(0x307, [0x12]));
    expect(await w.answers()).toBe(`t307112${(1234).toString(16).toUpperCase().padStart(4, '0')}\r`);
  });

  test('bus-off: every transmit gets BEL and nothing reaches the host; clearing it restores both', async () => {
    const w = await wire();
    await w.say('O\r');
    w.adapter.setBusOff(true);
    expect(await w.say('t3510\r')).toBe('\x07');
    await w.adapter.bus.send(canFrame(0x305, new Uint8Array(8)));
    expect(await w.answers()).toBe('');
    w.adapter.setBusOff(false);
    expect(await w.say('t3510\r')).toBe('z\r');
    expect(w.heard).toEqual([canFrame(0x351, [])]);
  });

  test('junk bytes reach the host verbatim', async () => {
    const w = await wire();
    w.adapter.sendJunk(Uint8Array.from([0xff, 0x00, 0x41]));
    expect(await w.answers()).toBe('\xff\x00A');
  });

  test("the bridge's SlcanBus opens through it and exchanges frames both ways", async () => {
    const adapter = new SlcanAdapter(() => Date.now());
    const [adapterLink, hostPeer] = createMemoryLinkPair('adapter');
    const [hostLink, adapterPeer] = createMemoryLinkPair('host');
    // Cross-wire the two memory links into one serial cable.
    hostPeer.onWrite((chunk) => adapterPeer.emitData(chunk));
    adapterPeer.onWrite((chunk) => hostPeer.emitData(chunk));
    await adapterLink.open();
    adapter.attach(adapterLink);
    await adapter.bus.open();
    const heard: CanFrame[] = [];
    adapter.bus.onFrame((f) => heard.push(f));
    const bus = new SlcanBus({ link: hostLink, replyTimeoutMs: 100 });
    const opened = bus.open();
    await vi.advanceTimersByTimeAsync(0);
    await opened;
    const received: CanFrame[] = [];
    bus.onFrame((f) => received.push(f));
    const sent = bus.send(canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8]));
    await vi.advanceTimersByTimeAsync(0);
    await sent;
    await adapter.bus.send(canFrame(0x305, new Uint8Array(8)));
    await vi.advanceTimersByTimeAsync(0);
    expect(heard).toEqual([canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8])]);
    expect(received).toEqual([canFrame(0x305, new Uint8Array(8))]);
    adapter.setBusOff(true);
    const refused = bus.send(canFrame(0x351, [0]));
    const outcome = expect(refused).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    await vi.advanceTimersByTimeAsync(0);
    await outcome;
  });
});
