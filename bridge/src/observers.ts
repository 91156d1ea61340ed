/**
 * The observers of a running bridge: MQTT (with Home Assistant discovery) when mqtt.url is set,
 * and the web page with /metrics unless web.listen is off. They read the bridge's StatusHub and
 * send it commands through RunningBridge.command; the CAN side never waits on them.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RunnableConfig } from './config/schema';
import type { MqttPublisher } from './mqtt/publisher';
import type { RunningBridge } from './runtime';
import type { WebServer } from './web/server';

export interface Observers {
  readonly web: WebServer | null;
  readonly mqtt: MqttPublisher | null;
  stop(): Promise<void>;
}

/**
 * The /metrics registry, built at the first scrape: prom-client (some 80 modules with its
 * OpenTelemetry dependency) and its event-loop delay monitor, which wakes the process every 10 ms,
 * cost a bridge that nobody scrapes nothing.
 */
function metricsOnFirstScrape(create: () => Registry): Pick<Registry, 'metrics' | 'contentType'> {
  let registry: Registry | undefined;
  const get = (): Registry => (registry ??= create());
  return {
    metrics: () => get().metrics(),
    get contentType() {
      return get().contentType;
    },
  };
}

// The observers' modules are loaded only when configured (mqtt.url, web.listen), so a bridge
// without them starts without their dependencies (the MQTT client alone is some 100 modules).
export async function startObservers(config: RunnableConfig, bridge: RunningBridge, log: Logger, version: string): Promise<Observers> {
  const url = config.mqtt.url;
  const mqtt =
    url === undefined
      ? null
      : (require('./mqtt/publisher') as typeof import('./mqtt/publisher')).startMqttPublisher({
          config: { ...config, mqtt: { ...config.mqtt, url } },
          hub: bridge.hub,
          log,
          version,
          onCommand: (command, source) => bridge.command(command, source),
        });
  const web =
    config.web.listen === 'off'
      ? null
      : await (require('./web/server') as typeof import('./web/server')).startWebServer({
          config,
          hub: bridge.hub,
          log,
          metrics: metricsOnFirstScrape(() =>
            (require('./web/metrics') as typeof import('./web/metrics')).createMetrics({
              hub: bridge.hub,
              ...(mqtt === null ? {} : { mqttConnected: () => mqtt.connected }),
            }),
          ),
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
