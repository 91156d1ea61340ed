/**
 * The bridge on MQTT (`mqtt` package): retained state on change and at most once per
 * mqtt.periodMs, Home Assistant discovery, availability with a last will, and (opt-in) commands.
 *
 * Never a stall of the bridge: publishing runs on its own turn (StatusHub listeners), QoS 0
 * messages are never queued while the broker is gone (queueQoSZero: false), and at most one state
 * publication is in flight: while the socket has not taken the last one, newer states replace each
 * other and only the latest goes out. After a reconnect everything is republished (availability,
 * discovery, state), so a restarted broker without persistence ends up with the full picture.
 * Reconnects back off exponentially (mqtt.reconnectInitialMs .. reconnectMaxMs).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { backoffDelayMs, systemClock } from '../clock';
import type { BridgeConfig } from '../config/schema';
import { parseCommand, type BridgeCommand } from '../control/commands';
import type { StatusHub } from '../status/hub';
import type { BridgeStatus } from '../status/model';
import { discoveryLayout, discoveryMessages } from './discovery';
import { topicsFor } from './topics';

export interface MqttOptions {
  config: Pick<BridgeConfig, 'name' | 'mqtt' | 'commands'> & { mqtt: { url: string } };
  hub: StatusHub;
  log: Logger;
  /** Applies a validated command (the runtime logs it with its source). */
  onCommand(command: BridgeCommand, source: string): void;
  version: string;
}

export interface MqttPublisher {
  readonly connected: boolean;
  /** Publications since start (for /metrics and tests). */
  readonly published: number;
  /** Says offline (retained), then disconnects; bounded. */
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 1000;

export function startMqttPublisher(options: MqttOptions): MqttPublisher {
  const { config, hub, log } = options;
  const settings = config.mqtt;
  const topics = topicsFor(config);
  const client: MqttClient = mqtt.connect(settings.url, {
    clientId: settings.clientId ?? `jk-can-bridge-${config.name}`,
    username: settings.username,
    password: settings.password,
    // The loader checked that the file holds a certificate; mqtt.js hands `ca` to tls.connect.
    ...(settings.caFile === undefined ? {} : { ca: readFileSync(settings.caFile) }),
    // Reconnects are ours, with back-off (mqtt.js retries at a fixed period).
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 30,
    clean: true,
    queueQoSZero: false,
    will: { topic: topics.availability, payload: Buffer.from('offline'), retain: true, qos: 1 },
  });

  let stopped = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let wasConnected = false;
  let lastError = '';
  let published = 0;
  let inFlight = false;
  let dirty = false;
  let lastPublishMs = -Infinity;
  let periodTimer: NodeJS.Timeout | null = null;
  let layout = '';
  /** Pack states last published, by pack id (a pack topic is sent only when it changed). */
  const packJson = new Map<string, string>();

  const publish = (topic: string, payload: string, retain: boolean, done?: () => void): void => {
    published += 1;
    client.publish(topic, payload, { qos: 0, retain }, (err) => {
      if (err && !stopped) log.debug({ err: err.message, topic }, 'MQTT publish failed');
      done?.();
    });
  };

  const publishDiscovery = (status: BridgeStatus): void => {
    if (!settings.discovery.enabled) return;
    layout = discoveryLayout(status, settings.commands);
    for (const message of discoveryMessages(status, {
      name: config.name,
      prefix: settings.discovery.prefix,
      topics,
      commands: settings.commands,
      version: options.version,
    })) {
      publish(message.topic, message.payload === null ? '' : JSON.stringify(message.payload), true);
    }
  };

  /** Sends the latest status now: the packs that changed, discovery if the layout changed, the state. */
  const publishState = (): void => {
    const status = hub.status;
    if (status === null || !client.connected) return;
    dirty = false;
    inFlight = true;
    lastPublishMs = systemClock.now();
    if (discoveryLayout(status, settings.commands) !== layout) publishDiscovery(status);
    for (const pack of status.packs) {
      const json = JSON.stringify(pack);
      if (packJson.get(pack.id) === json) continue;
      packJson.set(pack.id, json);
      publish(topics.pack(pack.id), json, true);
    }
    const { packs: _packs, ...bridge } = status;
    publish(topics.state, JSON.stringify(bridge), true, () => {
      inFlight = false;
      if (dirty) schedule();
    });
  };

  /** On change: now if the period has passed and nothing is in flight, else once, later. */
  const schedule = (): void => {
    dirty = true;
    if (inFlight || periodTimer !== null || !client.connected) return;
    const wait = lastPublishMs + settings.periodMs - systemClock.now();
    if (wait <= 0) {
      publishState();
      return;
    }
    periodTimer = setTimeout(() => {
      periodTimer = null;
      if (dirty) publishState();
    }, wait);
  };

  const offStatus = hub.onStatus(() => schedule());

  client.on('connect', () => {
    failures = 0;
    wasConnected = true;
    lastError = '';
    log.info(`MQTT connected to ${redact(settings.url)}, publishing on ${topics.base}`);
    hub.event('info', `MQTT connected to ${redact(settings.url)}`);
    // A fresh session: everything again (the broker may have lost its retained messages).
    layout = '';
    packJson.clear();
    inFlight = false;
    publish(topics.availability, 'online', true);
    if (settings.commands) {
      client.subscribe(topics.command, { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message }, `MQTT: cannot subscribe to ${topics.command}`);
      });
    }
    lastPublishMs = -Infinity;
    schedule();
  });

  client.on('message', (topic, payload) => {
    if (topic !== topics.command) return;
    const parsed = parseCommand(payload.toString('utf8'), config.commands.maxExpiryS);
    if (!parsed.ok) {
      log.warn(`MQTT command refused: ${parsed.reason}`);
      hub.event('warn', `MQTT command refused: ${parsed.reason}`);
      publish(topics.commandResponse, JSON.stringify({ id: parsed.id, ok: false, reason: parsed.reason }), false);
      return;
    }
    options.onCommand(parsed.command, 'mqtt');
    publish(topics.commandResponse, JSON.stringify({ id: parsed.command.id, ok: true, command: parsed.command.command }), false);
  });

  client.on('error', (err) => {
    // One line per change of state: the same error on every retry is said once.
    if (err.message !== lastError) log.warn(`MQTT ${redact(settings.url)}: ${err.message}`);
    lastError = err.message;
  });

  client.on('close', () => {
    if (stopped) return;
    failures += 1;
    const delay = backoffDelayMs(failures, settings.reconnectInitialMs, settings.reconnectMaxMs);
    if (wasConnected) {
      wasConnected = false;
      log.warn(`MQTT connection to ${redact(settings.url)} lost; reconnecting with back-off`);
      hub.event('warn', 'MQTT connection lost');
    }
    if (periodTimer !== null) clearTimeout(periodTimer);
    periodTimer = null;
    if (reconnectTimer === null) {
      reconnectTimer = setTimeout(() => {
        reconnectTimer = null;
        if (!stopped) client.reconnect();
      }, delay);
    }
  });

  return {
    get connected() {
      return client.connected;
    },
    get published() {
      return published;
    },
    async stop() {
      stopped = true;
      offStatus();
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      if (periodTimer !== null) clearTimeout(periodTimer);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => client.end(true, {}, () => resolve()), STOP_WAIT_MS);
        if (!client.connected) {
          clearTimeout(timer);
          client.end(true, {}, () => resolve());
          return;
        }
        client.publish(topics.availability, 'offline', { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          client.end(false, {}, () => resolve());
        });
      });
    },
  };
}

/** mqtt://user:secret@host → mqtt://user:***@host (logs never carry a password). */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
