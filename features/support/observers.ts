/**
 * The observers' side of a scenario: a real MQTT broker (Debian's mosquitto) with a client that
 * records what the broker holds, and a real headless browser (Debian's chromium) on the bridge's
 * page. Kept beside the World, per scenario, and torn down after it.
 */
import { After } from '@cucumber/cucumber';
import mqtt, { type MqttClient } from 'mqtt';
import type { Page } from 'puppeteer-core';
import { launchChromium, type HeadlessBrowser } from '../../rig/src/browser';
import { Mosquitto } from '../../rig/src/mosquitto';
import type { RigWorld } from './world';

export interface MqttMessage {
  atMs: number;
  topic: string;
  payload: string;
  retain: boolean;
}

export class ObserverRig {
  broker?: Mosquitto;
  /** Watchers subscribed to '#'; the newest is the one steps read. */
  private readonly watchers: MqttClient[] = [];
  messages: MqttMessage[] = [];
  browser?: HeadlessBrowser;
  page?: Page;

  async startBroker(): Promise<Mosquitto> {
    this.broker = await Mosquitto.start();
    return this.broker;
  }

  /** A new client subscribed to everything: it receives what the broker retains, then what is published. */
  async watch(): Promise<MqttMessage[]> {
    if (!this.broker) throw new Error('no MQTT broker in this scenario');
    const client = mqtt.connect(this.broker.url, { reconnectPeriod: 100 });
    this.watchers.push(client);
    const messages: MqttMessage[] = [];
    this.messages = messages;
    client.on('message', (topic, payload, packet) => messages.push({ atMs: Date.now(), topic, payload: payload.toString(), retain: packet.retain }));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => client.subscribe('#', (err) => (err ? reject(err) : resolve())));
      client.once('error', reject);
    });
    return messages;
  }

  publish(topic: string, payload: string): Promise<void> {
    const client = this.watchers.at(-1);
    if (!client) throw new Error('no MQTT client');
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }

  /** The newest message on a topic. */
  latest(topic: string): MqttMessage | undefined {
    return this.messages.filter((m) => m.topic === topic).at(-1);
  }

  async openPage(url: string): Promise<Page> {
    this.browser = await launchChromium();
    this.page = await this.browser.browser.newPage();
    await this.page.goto(url, { waitUntil: 'load' });
    return this.page;
  }

  async close(): Promise<void> {
    await this.browser?.close();
    for (const client of this.watchers.splice(0)) client.end(true);
    await this.broker?.stop();
  }
}

const rigs = new WeakMap<RigWorld, ObserverRig>();

export function observers(world: RigWorld): ObserverRig {
  let rig = rigs.get(world);
  if (!rig) {
    rig = new ObserverRig();
    rigs.set(world, rig);
  }
  return rig;
}

After(async function (this: RigWorld) {
  await rigs.get(this)?.close();
});
