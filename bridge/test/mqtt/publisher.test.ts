/**
 * The MQTT publisher against a real broker (Debian's mosquitto, started and killed here): retained
 * state and discovery, the period, commands on and off, a broker that dies and comes back empty.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bridgeConfigSchema, type BridgeConfigInput } from '../../src/config/schema';
import type { BridgeCommand } from '../../src/control/commands';
import { startMqttPublisher, type MqttPublisher } from '../../src/mqtt/publisher';
import { StatusHub } from '../../src/status/hub';
import type { BridgeStatus } from '../../src/status/model';
import { readFileSync } from 'node:fs';
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
async function observe(
  topic = '#',
  target = broker,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; messages: Array<{ topic: string; payload: string; retain: boolean }> }> {
  const client = mqtt.connect(target.url, { reconnectPeriod: 100, ...options });
  observers.push(client);
  const messages: Array<{ topic: string; payload: string; retain: boolean }> = [];
  client.on('message', (t, payload, packet) => messages.push({ topic: t, payload: payload.toString(), retain: packet.retain }));
  await new Promise<void>((resolve) => client.once('connect', () => client.subscribe(topic, () => resolve())));
  return { client, messages };
}

/** A publisher to `target`; `logged` collects its log lines. */
function start(mqttConfig: BridgeConfigInput['mqtt'] = {}, target = broker) {
  const config = bridgeConfigSchema.parse({
    name: 'garage',
    mqtt: { url: target.url, periodMs: 200, reconnectInitialMs: 100, reconnectMaxMs: 400, ...mqttConfig },
  });
  const hub = new StatusHub(config.web);
  const commands: Array<{ command: BridgeCommand; source: string }> = [];
  const logged: string[] = [];
  publisher = startMqttPublisher({
    config: { ...config, mqtt: { ...config.mqtt, url: target.url } },
    hub,
    log: pino({ level: 'info' }, { write: (line: string) => logged.push((JSON.parse(line) as { msg: string }).msg) }),
    version: '0.1.0',
    onCommand: (command, source) => commands.push({ command, source }),
  });
  return { hub, commands, logged };
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

describe('MQTT publisher on a secured broker', () => {
  let secured: Mosquitto | undefined;
  afterEach(async () => {
    await publisher?.stop();
    publisher = undefined;
    await secured?.stop();
    secured = undefined;
  });

  /** Waits for the retained state on `target`, seen by a client with `options`. */
  async function retainedState(target: Mosquitto, options: IClientOptions) {
    const { messages } = await observe('jk-can-bridge/garage/state', target, options);
    return until('the retained state', () => messages.find((m) => m.retain));
  }

  it('logs in with its user name and password; a wrong password is one warning line, retried without a word more', async () => {
    secured = await Mosquitto.start({ users: { bridge: 'right-secret', viewer: 'viewer-secret' } });
    const wrong = start({ username: 'bridge', password: 'wrong-secret' }, secured);
    wrong.hub.update(base);
    // Several retries at 100-400 ms: the refusal is said once.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(publisher!.connected).toBe(false);
    expect(wrong.logged.filter((l) => /Not authorized/i.test(l))).toEqual([`MQTT ${secured.url}: Connection refused: Not authorized`]);
    expect(wrong.logged.join('\n')).not.toContain('wrong-secret');
    await publisher!.stop();

    const right = start({ username: 'bridge', password: 'right-secret' }, secured);
    right.hub.update(base);
    await until('connected', () => publisher!.connected);
    const state = await retainedState(secured, { username: 'viewer', password: 'viewer-secret' });
    expect(JSON.parse(state.payload)).toMatchObject({ name: 'garage', limits: { chargeCurrentA: 50 } });
  });

  it('mqtts://: trusts the broker whose CA is mqtt.caFile, and refuses one it cannot verify, in one line', async () => {
    secured = await Mosquitto.start({ tls: true });
    const unverified = start({}, secured);
    unverified.hub.update(base);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(publisher!.connected).toBe(false);
    const tlsLines = unverified.logged.filter((l) => l.startsWith(`MQTT ${secured!.url}:`));
    expect(tlsLines).toHaveLength(1);
    expect(tlsLines[0]).toMatch(/certificate/);
    await publisher!.stop();

    const trusted = start({ caFile: secured.caFile }, secured);
    trusted.hub.update(base);
    await until('connected over TLS', () => publisher!.connected);
    expect(trusted.logged).toContain(`MQTT connected to ${secured.url}, publishing on jk-can-bridge/garage`);
    const state = await retainedState(secured, { ca: readFileSync(secured.caFile) });
    expect(JSON.parse(state.payload)).toMatchObject({ name: 'garage' });
  });
});
