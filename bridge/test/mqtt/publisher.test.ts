/**
 * The MQTT publisher against a real broker (Debian's mosquitto, started and killed here): retained
 * state and discovery, the period, commands on and off, a broker that dies and comes back empty.
 */
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bridgeConfigSchema, type BridgeConfigInput } from '../../src/config/schema';
import type { BridgeCommand } from '../../src/control/commands';
import { startMqttPublisher, type MqttPublisher } from '../../src/mqtt/publisher';
import { StatusHub } from '../../src/status/hub';
import type { BridgeStatus } from '../../src/status/model';
import { Mosquitto } from '../../../rig/src/mosquitto';
import { connectedStatus } from '../support/status-fixture';

let broker: Mosquitto;
let publisher: MqttPublisher | undefined;
const observers: MqttClient[] = [];

beforeEach(async () => {
  broker = await Mosquitto.start();
});
afterEach(async () => {
  await publisher?.stop();
  publisher = undefined;
  for (const o of observers.splice(0)) o.end(true);
  await broker.stop();
});

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A client that records every message on the topics it subscribes to (retained ones included). */
async function observe(topic = '#'): Promise<{ client: MqttClient; messages: Array<{ topic: string; payload: string; retain: boolean }> }> {
  const client = mqtt.connect(broker.url, { reconnectPeriod: 100 });
  observers.push(client);
  const messages: Array<{ topic: string; payload: string; retain: boolean }> = [];
  client.on('message', (t, payload, packet) => messages.push({ topic: t, payload: payload.toString(), retain: packet.retain }));
  await new Promise<void>((resolve) => client.once('connect', () => client.subscribe(topic, () => resolve())));
  return { client, messages };
}

function start(mqttConfig: BridgeConfigInput['mqtt'] = {}) {
  const config = bridgeConfigSchema.parse({
    name: 'garage',
    mqtt: { url: broker.url, periodMs: 200, reconnectInitialMs: 100, reconnectMaxMs: 400, ...mqttConfig },
  });
  const hub = new StatusHub(config.web);
  const commands: Array<{ command: BridgeCommand; source: string }> = [];
  publisher = startMqttPublisher({
    config: { ...config, mqtt: { ...config.mqtt, url: broker.url } },
    hub,
    log: pino({ level: 'silent' }),
    version: '0.1.0',
    onCommand: (command, source) => commands.push({ command, source }),
  });
  return { hub, commands };
}

const base = connectedStatus({ name: 'garage' });
const withSoc = (soc: number): BridgeStatus => ({ ...base, limits: { ...base.limits!, socPct: soc } });

describe('MQTT publisher on mosquitto', () => {
  it('publishes availability, state, every pack and the discovery configs, all retained', async () => {
    const { hub } = start();
    hub.update(base);
    await until('connected', () => publisher!.connected);
    const { messages } = await observe();
    const byTopic = await until('retained state', () => {
      const map = new Map(messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
      return map.has('jk-can-bridge/garage/state') && map.has('homeassistant/sensor/jkcb_garage/pack1_cell_16/config') ? map : undefined;
    });
    expect(byTopic.get('jk-can-bridge/garage/availability')).toBe('online');
    const state = JSON.parse(byTopic.get('jk-can-bridge/garage/state')!);
    expect(state).toMatchObject({ name: 'garage', states: { bms: 'connected', can: 'up' }, limits: { chargeCurrentA: 50, chargeAllowed: true } });
    expect(state.packs).toBeUndefined();
    const pack = JSON.parse(byTopic.get('jk-can-bridge/garage/pack1/state')!);
    expect(pack.cellsMv).toEqual(Array(16).fill(3300));
    expect(pack.temperaturesC).toEqual(base.packs[0].temperaturesC);
    expect(JSON.parse(byTopic.get('homeassistant/sensor/jkcb_garage/pack1_voltage/config')!)).toMatchObject({ device_class: 'voltage', unit_of_measurement: 'V' });
    // Commands are off: the buttons' configs were cleared (an empty retained payload removes them).
    expect([...byTopic.keys()].filter((t) => t.startsWith('homeassistant/button/'))).toEqual([]);
  });

  it('publishes on change, at most once per period, and always the latest', async () => {
    const { hub } = start({ periodMs: 500 });
    hub.update(withSoc(1));
    await until('connected', () => publisher!.connected);
    const { messages } = await observe('jk-can-bridge/garage/state');
    await until('first state', () => messages.length >= 1);
    const startedAt = Date.now();
    for (let soc = 2; soc <= 40; soc++) {
      hub.update(withSoc(soc));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const elapsed = Date.now() - startedAt;
    await until('the latest state', () => messages.some((m) => JSON.parse(m.payload).limits.socPct === 40), 2000);
    const live = messages.filter((m) => !m.retain);
    // 39 changes over `elapsed` ms: at most one per 500 ms period, plus the one that was due at once.
    expect(live.length).toBeLessThanOrEqual(Math.ceil(elapsed / 500) + 2);
    expect(live.length).toBeGreaterThanOrEqual(2);
  });

  it('does not publish an unchanged status again', async () => {
    const { hub } = start();
    hub.update(base);
    await until('connected', () => publisher!.connected);
    const { messages } = await observe('jk-can-bridge/garage/state');
    await until('retained state', () => messages.length === 1);
    for (let i = 0; i < 5; i++) hub.update(connectedStatus({ name: 'garage' }));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(messages).toHaveLength(1);
  });

  it('commands off: a command is not even heard', async () => {
    const { hub, commands } = start();
    hub.update(base);
    await until('connected', () => publisher!.connected);
    const { client, messages } = await observe('jk-can-bridge/garage/command/response');
    client.publish('jk-can-bridge/garage/command', JSON.stringify({ command: 'deny-charge', expiresInS: 60 }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(commands).toEqual([]);
    expect(messages).toEqual([]);
  });

  it('commands on: a valid one is applied with source mqtt and answered; a malformed one answered with the reason, nothing applied', async () => {
    const { hub, commands } = start({ commands: true });
    hub.update(base);
    await until('connected', () => publisher!.connected);
    const { client, messages } = await observe('jk-can-bridge/garage/command/response');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the publisher's own subscription
    client.publish('jk-can-bridge/garage/command', '{"command":"deny-charge","expiresInS":120,"id":"a"}');
    client.publish('jk-can-bridge/garage/command', '{"command":"overcharge","id":"b"}');
    client.publish('jk-can-bridge/garage/command', 'ON');
    await until('three answers', () => messages.length === 3);
    expect(commands).toEqual([{ command: { command: 'deny-charge', expiresInS: 120, id: 'a' }, source: 'mqtt' }]);
    const answers = messages.map((m) => JSON.parse(m.payload));
    expect(answers[0]).toEqual({ id: 'a', ok: true, command: 'deny-charge' });
    expect(answers[1]).toMatchObject({ id: 'b', ok: false });
    expect(answers[1].reason).toContain('unknown command');
    expect(answers[2]).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
  });

  it('a broker that dies and comes back empty gets everything again; meanwhile updates cost nothing', async () => {
    const { hub } = start();
    hub.update(withSoc(10));
    await until('connected', () => publisher!.connected);
    await broker.kill();
    await until('disconnected', () => !publisher!.connected);
    const publishedBefore = publisher!.published;
    for (let soc = 11; soc <= 30; soc++) hub.update(withSoc(soc));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Nothing queued while the broker is gone.
    expect(publisher!.published).toBe(publishedBefore);
    await broker.restart();
    await until('reconnected', () => publisher!.connected, 5000);
    const { messages } = await observe();
    const byTopic = await until('everything retained again', () => {
      const map = new Map(messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
      return map.has('jk-can-bridge/garage/state') && map.has('jk-can-bridge/garage/pack1/state') && map.has('homeassistant/binary_sensor/jkcb_garage/bms_link/config')
        ? map
        : undefined;
    });
    expect(byTopic.get('jk-can-bridge/garage/availability')).toBe('online');
    expect(JSON.parse(byTopic.get('jk-can-bridge/garage/state')!).limits.socPct).toBe(30);
  });

  it('says offline when it stops', async () => {
    const { hub } = start();
    hub.update(base);
    await until('connected', () => publisher!.connected);
    const { messages } = await observe('jk-can-bridge/garage/availability');
    await until('online', () => messages.at(-1)?.payload === 'online');
    await publisher!.stop();
    publisher = undefined;
    await until('offline', () => messages.at(-1)?.payload === 'offline');
  });
});
