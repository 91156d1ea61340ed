/**
 * The bridge's MQTT topics, under a base topic (default jk-can-bridge/<name>):
 *   <base>/availability       online | offline (retained; offline is the last will)
 *   <base>/state              the bridge status as JSON (retained): states, limits, alarms, faults, commands
 *   <base>/<pack>/state       one pack as JSON (retained): every cell, temperatures, SoC, ...
 *   <base>/command            commands in (only with mqtt.commands: true)
 *   <base>/command/response   the answer to each command (not retained)
 */
import type { BridgeConfig } from '../config/schema';

export interface Topics {
  base: string;
  availability: string;
  state: string;
  command: string;
  commandResponse: string;
  pack(id: string): string;
}

export function topicsFor(config: Pick<BridgeConfig, 'name' | 'mqtt'>): Topics {
  const base = config.mqtt.baseTopic ?? `jk-can-bridge/${config.name}`;
  return {
    base,
    availability: `${base}/availability`,
    state: `${base}/state`,
    command: `${base}/command`,
    commandResponse: `${base}/command/response`,
    pack: (id) => `${base}/${id}/state`,
  };
}
