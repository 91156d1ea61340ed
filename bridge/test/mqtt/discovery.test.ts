/**
 * Home Assistant discovery payloads checked against HA's documented MQTT discovery schema. The
 * rules below are written from the documentation, not from the code under test:
 *  - https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery: topic
 *    <discovery_prefix>/<component>/[<node_id>/]<object_id>/config; node_id and object_id from
 *    [a-zA-Z0-9_-]; unique_id required for device registry entries; device needs identifiers or
 *    connections; an empty retained payload removes the entity;
 *  - https://www.home-assistant.io/integrations/sensor.mqtt/, binary_sensor.mqtt/, button.mqtt/:
 *    the configuration variables of each platform (unknown keys are refused by HA's schema);
 *  - https://www.home-assistant.io/integrations/sensor/#device-class and the units HA accepts per
 *    device class (HA logs "not a valid unit for the device class ('voltage') ...; expected one of
 *    ['mV', 'V']" otherwise); enum sensors take options and neither a unit nor a state class;
 *  - https://www.home-assistant.io/integrations/binary_sensor/#device-class.
 */
import { describe, expect, it } from 'vitest';
import { discoveryLayout, discoveryMessages, type DiscoveryMessage } from '../../src/mqtt/discovery';
import { topicsFor } from '../../src/mqtt/topics';
import type { BridgeStatus } from '../../src/status/model';
import { connectedStatus } from '../support/status-fixture';

const COMMON = [
  'availability', 'availability_mode', 'availability_template', 'availability_topic', 'device', 'enabled_by_default', 'encoding',
  'entity_category', 'entity_picture', 'icon', 'json_attributes_template', 'json_attributes_topic', 'name', 'object_id',
  'default_entity_id', 'payload_available', 'payload_not_available', 'qos', 'unique_id', 'platform', 'origin',
];
const ALLOWED: Record<string, string[]> = {
  sensor: [...COMMON, 'device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'state_class', 'state_topic',
    'suggested_display_precision', 'unit_of_measurement', 'value_template'],
  binary_sensor: [...COMMON, 'device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on', 'state_topic', 'value_template'],
  button: [...COMMON, 'command_template', 'command_topic', 'device_class', 'payload_press', 'retain'],
};
const REQUIRED: Record<string, string[]> = { sensor: ['state_topic'], binary_sensor: ['state_topic'], button: ['command_topic'] };
/** Units HA accepts for the sensor device classes used here (homeassistant/components/sensor/const.py DEVICE_CLASS_UNITS). */
const SENSOR_UNITS: Record<string, string[]> = {
  voltage: ['V', 'mV', 'µV', 'kV', 'MV'],
  current: ['A', 'mA'],
  power: ['W', 'kW', 'MW', 'GW', 'TW', 'mW', 'BTU/h'],
  battery: ['%'],
  temperature: ['°C', '°F', 'K'],
};
const STATE_CLASSES = ['measurement', 'measurement_angle', 'total', 'total_increasing'];
const BINARY_CLASSES = ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light',
  'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound',
  'tamper', 'update', 'vibration', 'window'];
const DEVICE_KEYS = ['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name',
  'serial_number', 'suggested_area', 'sw_version', 'via_device'];

/** Every problem HA's documented schema would find in one message. */
function schemaProblems(message: DiscoveryMessage): string[] {
  const problems: string[] = [];
  const m = /^homeassistant\/(sensor|binary_sensor|button)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/.exec(message.topic);
  if (!m) return [`topic ${message.topic}`];
  const component = m[1];
  const p = message.payload;
  if (p === null) return problems;
  for (const key of Object.keys(p)) if (!ALLOWED[component].includes(key)) problems.push(`${component}: unknown key ${key}`);
  for (const key of REQUIRED[component]) if (typeof p[key] !== 'string') problems.push(`${component}: ${key} required`);
  if (typeof p.unique_id !== 'string' || p.unique_id === '') problems.push('unique_id required');
  for (const key of ['state_topic', 'availability_topic', 'command_topic']) {
    if (key in p && (typeof p[key] !== 'string' || /[#+]/.test(p[key] as string))) problems.push(`${key}: not a publish topic`);
  }
  const device = p.device as Record<string, unknown> | undefined;
  if (device === undefined) problems.push('device missing');
  else {
    for (const key of Object.keys(device)) if (!DEVICE_KEYS.includes(key)) problems.push(`device: unknown key ${key}`);
    if (!Array.isArray(device.identifiers) || device.identifiers.some((i) => typeof i !== 'string')) problems.push('device.identifiers');
  }
  if (component === 'sensor') {
    const dc = p.device_class as string | undefined;
    if (dc === 'enum') {
      if (!Array.isArray(p.options) || p.options.length === 0) problems.push('enum needs options');
      if ('unit_of_measurement' in p || 'state_class' in p) problems.push('enum takes no unit or state_class');
    } else {
      if ('options' in p) problems.push('options only with device_class enum');
      if (dc !== undefined) {
        if (!(dc in SENSOR_UNITS)) problems.push(`sensor device_class ${dc}`);
        else if (!SENSOR_UNITS[dc].includes(p.unit_of_measurement as string)) problems.push(`unit ${String(p.unit_of_measurement)} not valid for ${dc}`);
      }
    }
    if ('state_class' in p && !STATE_CLASSES.includes(p.state_class as string)) problems.push(`state_class ${String(p.state_class)}`);
    if ('entity_category' in p && p.entity_category !== 'diagnostic') problems.push('sensor entity_category must be diagnostic');
  }
  if (component === 'binary_sensor' && 'device_class' in p && !BINARY_CLASSES.includes(p.device_class as string)) {
    problems.push(`binary_sensor device_class ${String(p.device_class)}`);
  }
  if (component === 'button' && typeof p.payload_press !== 'string') problems.push('payload_press must be a string');
  return problems;
}

/** The value_json paths a template reads, resolved against the JSON its state topic carries. */
function templatePaths(template: string): string[] {
  return [...template.matchAll(/value_json((?:\.[A-Za-z0-9_]+|\[\d+\])+)/g)].map((m) => m[1]);
}
function resolve(json: unknown, path: string): unknown {
  let node: unknown = json;
  for (const part of path.match(/[A-Za-z0-9_]+/g) ?? []) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

const topics = topicsFor({ name: 'garage', mqtt: { periodMs: 5000, discovery: { enabled: true, prefix: 'homeassistant' }, commands: false, reconnectInitialMs: 1000, reconnectMaxMs: 60000 } });
const options = (commands: boolean) => ({ name: 'garage', prefix: 'homeassistant', topics, commands, version: '0.1.0' });

/** What the publisher puts on each state topic for this status. */
function publishedJson(status: BridgeStatus): Map<string, unknown> {
  const { packs, ...bridge } = status;
  return new Map<string, unknown>([[topics.state, bridge], ...packs.map((p) => [topics.pack(p.id), p] as [string, unknown])]);
}

describe('Home Assistant discovery', () => {
  const status = connectedStatus({ name: 'garage' });

  it('every message satisfies the documented schema, with unique ids', () => {
    const messages = discoveryMessages(status, options(true));
    expect(messages.flatMap((m) => schemaProblems(m).map((p) => `${m.topic}: ${p}`))).toEqual([]);
    const ids = messages.map((m) => m.payload?.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every template reads a field its state topic carries', () => {
    const json = publishedJson(status);
    const missing: string[] = [];
    for (const { topic, payload } of discoveryMessages(status, options(false))) {
      if (payload === null || typeof payload.value_template !== 'string') continue;
      const carried = json.get(payload.state_topic as string);
      expect(carried, `${topic} reads ${String(payload.state_topic)}`).toBeDefined();
      for (const path of templatePaths(payload.value_template)) {
        // `limits.x if value_json.limits else None`: the guard is a path too
        if (resolve(carried, path) === undefined) missing.push(`${topic}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('one device for a single-pack bridge: sensors with classes and units, every cell, the four binary sensors, the text sensors', () => {
    const messages = discoveryMessages(status, options(false));
    const byKey = new Map(messages.map((m) => [m.topic.split('/')[3], m.payload]));
    expect(new Set(messages.filter((m) => m.payload).map((m) => JSON.stringify((m.payload!.device as { identifiers: string[] }).identifiers)))).toEqual(
      new Set(['["jkcb_garage"]']),
    );
    expect(byKey.get('pack1_voltage')).toMatchObject({ device_class: 'voltage', unit_of_measurement: 'V', state_topic: 'jk-can-bridge/garage/pack1/state' });
    expect(byKey.get('pack1_current')).toMatchObject({ device_class: 'current', unit_of_measurement: 'A' });
    expect(byKey.get('pack1_power')).toMatchObject({ device_class: 'power', unit_of_measurement: 'W' });
    expect(byKey.get('pack1_soc')).toMatchObject({ device_class: 'battery', unit_of_measurement: '%' });
    expect(byKey.get('pack1_temperature_1')).toMatchObject({ device_class: 'temperature', unit_of_measurement: '°C' });
    for (let cell = 1; cell <= 16; cell++) expect(byKey.get(`pack1_cell_${cell}`)).toMatchObject({ value_template: `{{ value_json.cellsMv[${cell - 1}] }}` });
    expect(byKey.has('pack1_cell_17')).toBe(false);
    for (const key of ['charging_allowed', 'discharging_allowed', 'bms_link', 'inverter_link']) {
      expect(messages.find((m) => m.topic === `homeassistant/binary_sensor/jkcb_garage/${key}/config`)?.payload).toBeTruthy();
    }
    expect(byKey.get('charge_current_reason')).toMatchObject({ state_topic: 'jk-can-bridge/garage/state' });
    expect(byKey.get('bms_state')).toMatchObject({ device_class: 'enum', options: ['idle', 'connected', 'stale', 'fault', 'fault (silent)'] });
    for (const m of messages) if (m.payload) expect(m.payload.availability_topic).toBe('jk-can-bridge/garage/availability');
  });

  it('a device per pack when there are several, each via the bridge device', () => {
    const two: BridgeStatus = { ...status, packs: [status.packs[0], { ...status.packs[0], id: 'pack2', name: 'B' }] };
    const messages = discoveryMessages(two, options(false));
    expect(messages.flatMap((m) => schemaProblems(m))).toEqual([]);
    const devices = new Map(messages.filter((m) => m.payload).map((m) => [JSON.stringify(m.payload!.device), m.payload!.device as Record<string, unknown>]));
    expect([...devices.values()].map((d) => d.identifiers)).toEqual([['jkcb_garage'], ['jkcb_garage_pack1'], ['jkcb_garage_pack2']]);
    expect([...devices.values()].slice(1).every((d) => d.via_device === 'jkcb_garage')).toBe(true);
    expect(discoveryLayout(two, false)).not.toBe(discoveryLayout(status, false));
  });

  it('buttons only with commands on; with commands off their configs are removed', () => {
    const on = discoveryMessages(status, options(true)).filter((m) => m.topic.startsWith('homeassistant/button/'));
    expect(on.map((m) => JSON.parse(m.payload!.payload_press as string).command).sort()).toEqual(
      ['allow-charge', 'allow-discharge', 'cancel-force-charge', 'deny-charge', 'deny-discharge', 'force-charge'],
    );
    expect(on.every((m) => m.payload!.command_topic === 'jk-can-bridge/garage/command')).toBe(true);
    const off = discoveryMessages(status, options(false)).filter((m) => m.topic.startsWith('homeassistant/button/'));
    expect(off).toHaveLength(6);
    expect(off.every((m) => m.payload === null)).toBe(true);
  });

  it('the schema check itself refuses what HA refuses', () => {
    const bad: DiscoveryMessage = {
      topic: 'homeassistant/sensor/jkcb_garage/x/config',
      payload: { unique_id: 'x', state_topic: 's', device: { identifiers: ['d'] }, device_class: 'voltage', unit_of_measurement: 'VDC', colour: 'red' },
    };
    expect(schemaProblems(bad)).toEqual(['sensor: unknown key colour', 'unit VDC not valid for voltage']);
    expect(schemaProblems({ topic: 'homeassistant/sensor/jkcb garage/x/config', payload: null })).toHaveLength(1);
  });
});
