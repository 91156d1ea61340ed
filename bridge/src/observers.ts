/**
 * The observers of a running bridge: MQTT (with Home Assistant discovery) when mqtt.url is set,
 * and the web page with /metrics unless web.listen is off. They read the bridge's StatusHub and
 * send it commands through RunningBridge.command; the CAN side never waits on them.
 */
import type { Logger } from 'pino';
import type { RunnableConfig } from './config/schema';
import { startMqttPublisher, type MqttPublisher } from './mqtt/publisher';
import type { RunningBridge } from './runtime';
import { createMetrics } from './web/metrics';
import { startWebServer, type WebServer } from './web/server';

export interface Observers {
  readonly web: WebServer | null;
  readonly mqtt: MqttPublisher | null;
  stop(): Promise<void>;
}

export async function startObservers(config: RunnableConfig, bridge: RunningBridge, log: Logger, version: string): Promise<Observers> {
  const url = config.mqtt.url;
  const mqtt =
    url === undefined
      ? null
      : startMqttPublisher({
          config: { ...config, mqtt: { ...config.mqtt, url } },
          hub: bridge.hub,
          log,
          version,
          onCommand: (command, source) => bridge.command(command, source),
        });
  const web =
    config.web.listen === 'off'
      ? null
      : await startWebServer({
          config,
          hub: bridge.hub,
          log,
          metrics: createMetrics({ hub: bridge.hub, ...(mqtt === null ? {} : { mqttConnected: () => mqtt.connected }) }),
          onCommand: (command, source) => bridge.command(command, source),
        });
  return {
    web,
    mqtt,
    async stop() {
      await Promise.all([mqtt?.stop(), web?.close()]);
    },
  };
}
