/**
 * Every profile over SLCAN on a real socat pty: the bridge side is the bridge's own SlcanBus
 * host transport over a SerialLink opened at the link path, exactly as `--can slcan:<link>`;
 * the inverter side is slcan-pty:<link>. Plus the transport faults only this path allows.
 * Real time (the kernel's pty cannot run on fake timers); periods are shortened to keep it quick.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { systemClock } from '../../bridge/src/clock';
import { decodeInverterFrame, type CanFrame } from '../../bridge/src/protocol/can';
import { SerialLink } from '../../bridge/src/transport/serial-link';
import { SlcanBus } from '../../bridge/src/transport/slcan-bus';
import { eventually, pause } from '../../bridge/test/transport/support/eventually';
import { INVERTER_PROFILES, type CodecName, type InverterProfileName } from '../src/profiles';
import { SlcanPtyEndpoint } from '../src/slcan-pty';
import { VirtualInverter } from '../src/virtual-inverter';
import { THRESHOLDS, baseState, frameSet } from './support';

const PERIOD_MS = 250;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface PtyRig {
  endpoint: SlcanPtyEndpoint;
  inverter: VirtualInverter;
  bridge: SlcanBus;
  heard: CanFrame[];
  /** The bridge sends the codec's frame set every PERIOD_MS until the test ends. */
  transmit(codec: CodecName): void;
  link: string;
}

async function ptyRig(profileName: InverterProfileName): Promise<PtyRig> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-inverter-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const link = join(dir, 'inverter');
  const endpoint = await SlcanPtyEndpoint.open({ link, clock: systemClock });
  cleanups.push(() => endpoint.close());
  const profile = { ...INVERTER_PROFILES[profileName], heartbeatPeriodMs: PERIOD_MS };
  // The checker keeps the default 1 s period: the toy bridge below sends every PERIOD_MS plus
  // whatever the machine's load adds, and these tests are about the transport, not timing.
  const inverter = new VirtualInverter({ profile, bus: endpoint.bus, transportFaults: endpoint, thresholds: THRESHOLDS });
  await inverter.start();
  cleanups.push(() => inverter.stop());
  const bridge = new SlcanBus({ link: new SerialLink({ path: link }), replyTimeoutMs: 500 });
  await bridge.open();
  cleanups.push(() => bridge.close());
  const heard: CanFrame[] = [];
  bridge.onFrame((frame) => heard.push(frame));
  const transmit = (codec: CodecName): void => {
    let stopped = false;
    const loop = async (): Promise<void> => {
      while (!stopped) {
        for (const frame of frameSet(codec, baseState())) await bridge.send(frame).catch(() => undefined);
        await pause(PERIOD_MS);
      }
    };
    const running = loop();
    cleanups.push(async () => {
      stopped = true;
      await running;
    });
  };
  return { endpoint, inverter, bridge, heard, transmit, link };
}

/** The broadcast profiles; Pylon HV (request/response) is tested in hv-inverter.test.ts. */
const CODEC: Record<Exclude<InverterProfileName, 'pylon-hv' | 'sofar-hv'>, CodecName> = {
  'pylon-lv': 'pylon-lv',
  deye: 'pylon-lv',
  'goodwe-lv': 'goodwe-lv',
  sofar: 'pylon-lv',
  'sma-si': 'sma-si',
  victron: 'victron',
  none: 'pylon-lv',
};

const HEARTBEAT_IDS: Record<Exclude<InverterProfileName, 'pylon-hv' | 'sofar-hv'>, number[]> = {
  'pylon-lv': [0x305],
  deye: [0x305],
  'goodwe-lv': [0x305],
  sofar: [0x305],
  'sma-si': [0x305, 0x306, 0x307],
  victron: [0x305, 0x306, 0x307],
  none: [],
};

describe('each profile over SLCAN on a pty', () => {
  test.each(Object.keys(CODEC) as (keyof typeof CODEC)[])('%s: heartbeat reaches the bridge, the battery reaches the inverter', async (profile) => {
    const r = await ptyRig(profile);
    r.transmit(CODEC[profile]);
    await eventually(() => r.inverter.decoded.voltageV !== undefined && r.inverter.decoded.socPct !== undefined && r.inverter.decoded.chargeVoltageV !== undefined, 'the inverter decoding 0x351, 0x355 and 0x356', 5000);
    expect(r.inverter.decoded).toMatchObject({ chargeVoltageV: 55.2, chargeCurrentLimitA: 100, dischargeCurrentLimitA: 150, socPct: 60, voltageV: 52.3 });
    if (profile === 'none') {
      await pause(3 * PERIOD_MS);
      expect(r.heard).toEqual([]);
    } else {
      await eventually(() => r.heard.length >= 3 * HEARTBEAT_IDS[profile].length, 'three heartbeats at the bridge', 5000);
      expect(new Set(r.heard.map((f) => f.id))).toEqual(new Set(HEARTBEAT_IDS[profile]));
      for (const frame of r.heard) expect(decodeInverterFrame(frame).ok).toBe(true);
    }
    expect(r.endpoint.adapterStatus).toMatchObject({ bitrate: 500_000, open: true, errors: 0 });
    expect(r.inverter.checker.violations).toEqual([]);
  });
});

describe('transport faults towards the bridge', () => {
  test('bus-off: the bridge’s sends are refused until it ends, and the inverter hears nothing meanwhile', async () => {
    const r = await ptyRig('pylon-lv');
    const frame = frameSet('pylon-lv', baseState())[1];
    await r.bridge.send(frame);
    expect((await r.inverter.commands.execute('bus-off 600ms')).output).toBe('bus-off for 600 ms');
    expect(r.inverter.faults.busOff).toBe(true);
    await expect(r.bridge.send(frame)).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    const heardBefore = r.heard.length;
    await pause(400);
    expect(r.heard.length).toBe(heardBefore);
    await eventually(() => !r.inverter.faults.busOff, 'the bus-off to end', 2000);
    await r.bridge.send(frame);
    await eventually(() => r.heard.length > heardBefore, 'heartbeats again', 2000);
  });

  test('junk on the line does not stop the bridge from hearing the heartbeat', async () => {
    const r = await ptyRig('pylon-lv');
    await r.inverter.commands.execute('junk 64');
    const before = r.heard.length;
    await eventually(() => r.heard.length >= before + 2, 'two heartbeats after the junk', 3000);
  });

  test('unplug: the bridge loses the adapter; after the replug it can open it again', async () => {
    const r = await ptyRig('pylon-lv');
    let lost = '';
    r.bridge.onDisconnect((error) => (lost = error.code));
    expect((await r.inverter.commands.execute('unplug 500ms')).ok).toBe(true);
    await eventually(() => lost !== '', 'the bridge noticing the unplug', 3000);
    expect(lost).toBe('DISCONNECTED');
    expect(r.inverter.faults.unplugged).toBe(true);
    await eventually(() => !r.inverter.faults.unplugged, 'the replug', 3000);
    const again = new SlcanBus({ link: new SerialLink({ path: r.link }), replyTimeoutMs: 500 });
    await again.open();
    cleanups.push(() => again.close());
    const heard: CanFrame[] = [];
    again.onFrame((f) => heard.push(f));
    await again.send(frameSet('pylon-lv', baseState())[1]);
    await eventually(() => heard.length >= 1 && r.inverter.decoded.chargeVoltageV === 55.2, 'frames both ways after the replug', 3000);
  });
});
