/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * one retained config message per entity on
 *   <prefix>/<component>/<node_id>/<object_id>/config
 * Entities read the retained JSON state topics with value templates, and all share the bridge's
 * availability topic, so a dead bridge (last will) shows every entity as unavailable.
 *
 * Devices: one per bridge; with several packs, one more per pack (via_device the bridge). With a
 * single pack its values sit on the bridge device. Pure: the client publishes what this returns.
 */
import type { BridgeCommand } from '../control/commands';
import { BMS_STATES, CAN_STATES, INVERTER_STATES, type BridgeStatus } from '../status/model';
import type { Topics } from './topics';

export type Component = 'sensor' | 'binary_sensor' | 'button';

export interface DiscoveryMessage {
  topic: string;
  /** null removes the entity (an empty retained payload). */
  payload: Record<string, unknown> | null;
}

export interface DiscoveryOptions {
  name: string;
  prefix: string;
  topics: Topics;
  commands: boolean;
  version: string;
}

interface Device {
  identifiers: string[];
  name: string;
  manufacturer: string;
  model: string;
  sw_version: string;
  via_device?: string;
}


/** Commands the buttons send; the expiry of a timed command from a button is one hour. */
export const BUTTONS: Array<{ key: string; label: string; command: BridgeCommand }> = [
  { key: 'deny_charge', label: 'Deny charge for 1 h', command: { command: 'deny-charge', expiresInS: 3600 } },
  { key: 'allow_charge', label: 'Allow charge', command: { command: 'allow-charge' } },
  { key: 'deny_discharge', label: 'Deny discharge for 1 h', command: { command: 'deny-discharge', expiresInS: 3600 } },
  { key: 'allow_discharge', label: 'Allow discharge', command: { command: 'allow-discharge' } },
  { key: 'force_charge', label: 'Request force charge for 1 h', command: { command: 'force-charge', expiresInS: 3600 } },
  { key: 'cancel_force_charge', label: 'Cancel force charge', command: { command: 'cancel-force-charge' } },
];

/** Where a number may be absent (no limits while nothing is sent), the template says None: HA shows "unknown". */
const limit = (field: string) => `{{ value_json.limits.${field} if value_json.limits else None }}`;

export function discoveryMessages(status: BridgeStatus, o: DiscoveryOptions): DiscoveryMessage[] {
  const node = `jkcb_${o.name}`;
  const bridgeDevice: Device = {
    identifiers: [node],
    name: `JK CAN bridge ${o.name}`,
    manufacturer: 'jk-can-bridge',
    model: `JK BMS → CAN (${status.profile})`,
    sw_version: o.version,
  };
  const messages: DiscoveryMessage[] = [];
  const entity = (component: Component, key: string, device: Device, fields: Record<string, unknown>) => {
    messages.push({
      topic: `${o.prefix}/${component}/${node}/${key}/config`,
      payload: {
        unique_id: `${node}_${key}`,
        // Entity names are shown after the device name (HA entity naming).
        availability_topic: o.topics.availability,
        payload_available: 'online',
        payload_not_available: 'offline',
        device,
        ...fields,
      },
    });
  };
  const state = o.topics.state;
  const sensor = (key: string, name: string, fields: Record<string, unknown>) =>
    entity('sensor', key, bridgeDevice, { name, state_topic: state, ...fields });

  sensor('charge_voltage_limit', 'Charge voltage limit', {
    device_class: 'voltage', unit_of_measurement: 'V', state_class: 'measurement', value_template: limit('chargeVoltageV'),
  });
  sensor('charge_current_limit', 'Charge current limit', {
    device_class: 'current', unit_of_measurement: 'A', state_class: 'measurement', value_template: limit('chargeCurrentA'),
  });
  sensor('discharge_current_limit', 'Discharge current limit', {
    device_class: 'current', unit_of_measurement: 'A', state_class: 'measurement', value_template: limit('dischargeCurrentA'),
  });
  sensor('reported_soc', 'SoC sent to the inverter', {
    device_class: 'battery', unit_of_measurement: '%', state_class: 'measurement', value_template: limit('socPct'),
  });
  const reason = (field: string) => `{{ value_json.limits.reasons.${field} | truncate(255) if value_json.limits else 'nothing sent' }}`;
  sensor('charge_voltage_reason', 'Charge voltage limited by', { value_template: reason('chargeVoltage'), icon: 'mdi:information-outline' });
  sensor('charge_current_reason', 'Charge current limited by', { value_template: reason('chargeCurrent'), icon: 'mdi:information-outline' });
  sensor('discharge_current_reason', 'Discharge current limited by', { value_template: reason('dischargeCurrent'), icon: 'mdi:information-outline' });
  sensor('bms_state', 'BMS state', { device_class: 'enum', options: BMS_STATES, value_template: '{{ value_json.states.bms }}' });
  sensor('inverter_state', 'Inverter state', { device_class: 'enum', options: INVERTER_STATES, value_template: '{{ value_json.states.inverter }}' });
  sensor('can_state', 'CAN state', { device_class: 'enum', options: CAN_STATES, value_template: '{{ value_json.states.can }}' });
  const list = (field: string) => `{{ (value_json.${field} | join(', ') or 'none') | truncate(255) }}`;
  sensor('alarms', 'Alarms', { value_template: list('alarms'), icon: 'mdi:alert' });
  sensor('faults', 'Active faults', { value_template: list('faults'), icon: 'mdi:alert-octagon' });

  const binary = (key: string, name: string, deviceClass: string | null, template: string) =>
    entity('binary_sensor', key, bridgeDevice, {
      name,
      state_topic: state,
      ...(deviceClass === null ? {} : { device_class: deviceClass }),
      payload_on: 'ON',
      payload_off: 'OFF',
      value_template: template,
    });
  binary('charging_allowed', 'Charging allowed', 'battery_charging', "{{ 'ON' if value_json.limits and value_json.limits.chargeAllowed else 'OFF' }}");
  binary('discharging_allowed', 'Discharging allowed', null, "{{ 'ON' if value_json.limits and value_json.limits.dischargeAllowed else 'OFF' }}");
  binary('bms_link', 'BMS link', 'connectivity', "{{ 'ON' if value_json.states.bms == 'connected' else 'OFF' }}");
  binary('inverter_link', 'Inverter link', 'connectivity', "{{ 'ON' if value_json.states.inverter == 'alive' else 'OFF' }}");
  binary('can_link', 'CAN link', 'connectivity', "{{ 'ON' if value_json.states.can == 'up' else 'OFF' }}");

  const several = status.packs.length > 1;
  for (const pack of status.packs) {
    const device: Device = several
      ? { ...bridgeDevice, identifiers: [`${node}_${pack.id}`], name: `JK CAN bridge ${o.name} pack ${pack.name}`, via_device: node }
      : bridgeDevice;
    const prefix = several ? `Pack ${pack.name} ` : '';
    const packSensor = (key: string, name: string, fields: Record<string, unknown>) =>
      entity('sensor', `${pack.id}_${key}`, device, { name: `${prefix}${name}`, state_topic: o.topics.pack(pack.id), ...fields });
    const measurement = (deviceClass: string, unit: string, field: string, precision?: number) => ({
      device_class: deviceClass,
      unit_of_measurement: unit,
      state_class: 'measurement',
      value_template: `{{ value_json.${field} }}`,
      ...(precision === undefined ? {} : { suggested_display_precision: precision }),
    });
    packSensor('voltage', 'Voltage', measurement('voltage', 'V', 'voltageV', 2));
    packSensor('current', 'Current', measurement('current', 'A', 'currentA', 1));
    packSensor('power', 'Power', measurement('power', 'W', 'powerW', 0));
    packSensor('soc', 'State of charge', measurement('battery', '%', 'socPct'));
    packSensor('cell_min', 'Lowest cell', measurement('voltage', 'mV', 'cellMinMv'));
    packSensor('cell_max', 'Highest cell', measurement('voltage', 'mV', 'cellMaxMv'));
    packSensor('cell_delta', 'Cell difference', measurement('voltage', 'mV', 'cellDeltaMv'));
    packSensor('temperature_mosfet', 'MOSFET temperature', measurement('temperature', '°C', 'temperaturesC.mosfet'));
    packSensor('temperature_1', 'Temperature 1', measurement('temperature', '°C', 'temperaturesC.battery1'));
    packSensor('temperature_2', 'Temperature 2', measurement('temperature', '°C', 'temperaturesC.battery2'));
    packSensor('cycles', 'Cycles', { state_class: 'total_increasing', value_template: '{{ value_json.cycles }}', icon: 'mdi:counter' });
    pack.cellsMv.forEach((_, i) => {
      packSensor(`cell_${i + 1}`, `Cell ${i + 1}`, measurement('voltage', 'mV', `cellsMv[${i}]`));
    });
  }

  for (const button of BUTTONS) {
    if (!o.commands) {
      messages.push({ topic: `${o.prefix}/button/${node}/${button.key}/config`, payload: null });
      continue;
    }
    entity('button', button.key, bridgeDevice, {
      name: button.label,
      command_topic: o.topics.command,
      payload_press: JSON.stringify(button.command),
    });
  }
  return messages;
}

/** Discovery is republished when this changes: the packs, their cell counts, the profile and the buttons. */
export function discoveryLayout(status: BridgeStatus, commands: boolean): string {
  return JSON.stringify([status.profile, commands, status.packs.map((p) => [p.id, p.cellsMv.length])]);
}
