/**
 * The bridge's status as people see it (MQTT, Home Assistant, the web page, /metrics): one plain,
 * JSON-ready object computed from the statechart's snapshot. Pure: the runtime builds it when the
 * chart changes and hands it to the observers, which never touch the chart themselves.
 *
 * Packs are a list so a bridge with several packs reports each (id pack1, pack2, ...); the limits
 * are the bank's, as the inverter is told them.
 */
import { isActive, type Commands } from '../control/commands';
import { NO_VALID_DATA, type BridgeContext } from '../machine/bridge-machine';
import { batteryStateFor } from '../machine/bus-output';
import { ALARM_KINDS } from '../protocol/can/battery-state';
import { chargeMosfetOn, dischargeMosfetOn, hasAlarm, JkAlarmBit, JkStatusBit, type BmsSnapshot, type JkAlarmName } from '../protocol/jk/snapshot';

export interface PackStatus {
  /** pack1, pack2, ...: safe in MQTT topics and Home Assistant object ids. */
  id: string;
  /** As configured (bms.packs[].name), for people. */
  name: string;
  voltageV: number;
  currentA: number;
  powerW: number;
  socPct: number;
  cycles: number;
  capacityAh: number;
  /** Every cell, cell 1 first. */
  cellsMv: number[];
  cellMinMv: number;
  cellMaxMv: number;
  /** 1-based. */
  cellMinNumber: number;
  cellMaxNumber: number;
  cellDeltaMv: number;
  temperaturesC: { mosfet: number; battery1: number; battery2: number };
  chargeMosfet: boolean;
  dischargeMosfet: boolean;
  balancing: boolean;
  /** Active JK 0x8B alarm names. */
  alarms: JkAlarmName[];
}

export interface LimitsStatus {
  chargeVoltageV: number;
  chargeCurrentA: number;
  dischargeCurrentA: number;
  dischargeVoltageV: number;
  /** The SoC the inverter is told. */
  socPct: number;
  reasons: { chargeVoltage: string; chargeCurrent: string; dischargeCurrent: string };
  chargeAllowed: boolean;
  dischargeAllowed: boolean;
  forceCharge: boolean;
}

export interface CommandStatus {
  /** Wall-clock milliseconds when it lapses. */
  untilMs: number;
  source: string;
}

export interface BridgeStatus {
  name: string;
  profile: string;
  states: { bms: string; inverter: string; can: string };
  /** What the frames carry: normal (policy), stale or fault (zero limits), none (nothing sent). */
  busMode: BridgeContext['busMode'];
  packs: PackStatus[];
  /** As on the bus; null while nothing is sent (before the first data, or a fault gone silent). */
  limits: LimitsStatus | null;
  /** Alarm and warning kinds set in the frames (protocol-neutral names). */
  alarms: string[];
  warnings: string[];
  /** Why the bridge is in fault, and the configured fault alarms now active. */
  faults: string[];
  commands: { denyCharge: CommandStatus | null; denyDischarge: CommandStatus | null; forceCharge: CommandStatus | null };
  /** pylon-hv only: what the inverter asked for (a sleep is honoured; charge/discharge commands are only shown). */
  pylonHv?: { asleep: boolean; lastCommand: { charge: boolean; discharge: boolean } | null; ignoredFrames: number };
}

/** Every state each region can show (Home Assistant enum sensors and /metrics list them). */
export const BMS_STATES = ['idle', 'connected', 'stale', 'fault', 'fault (silent)'];
export const INVERTER_STATES = ['unknown', 'alive', 'silent'];
export const CAN_STATES = ['opening', 'up', 'down'];

/** The three region states in words: bms idle|connected|stale|fault|fault (silent), inverter unknown|alive|silent, can opening|up|down. */
export function regionStates(value: unknown): BridgeStatus['states'] {
  const regions = value as Record<string, string | Record<string, string>>;
  const bms = regions.bms;
  const can = regions.can;
  return {
    bms: typeof bms === 'string' ? bms : 'fault' in bms ? (bms.fault === 'silent' ? 'fault (silent)' : 'fault') : Object.keys(bms)[0],
    inverter: String(regions.inverter),
    can: typeof can === 'string' ? can : can.link,
  };
}

export function bridgeStatus(value: unknown, context: BridgeContext, nowMs: number): BridgeStatus {
  const { config, measurements, output, busMode } = context;
  // Topic and object ids by position (names may hold any character), the configured name shown.
  const packs = context.packs.flatMap((p, i) => (p.snapshot === null ? [] : [packStatus(`pack${i + 1}`, p.name, p.snapshot)]));
  let limits: LimitsStatus | null = null;
  let alarms: string[] = [];
  let warnings: string[] = [];
  if (busMode !== 'none' && measurements !== null && output !== null) {
    const state = batteryStateFor(busMode, measurements, output, config, context.hv.sleeping, context.policy);
    const stopped = busMode === 'stale' ? 'BMS data stale' : busMode === 'fault' ? `fault: ${context.faultReason ?? 'unknown'}` : 'asleep at the inverter\'s request';
    limits = {
      chargeVoltageV: round(state.chargeVoltageV, 3),
      chargeCurrentA: round(state.chargeCurrentLimitA, 2),
      dischargeCurrentA: round(state.dischargeCurrentLimitA, 2),
      dischargeVoltageV: round(state.dischargeVoltageV, 3),
      socPct: state.socPct,
      reasons:
        busMode === 'normal' && !context.hv.sleeping
          ? output.reasons
          : { chargeVoltage: output.reasons.chargeVoltage, chargeCurrent: stopped, dischargeCurrent: stopped },
      chargeAllowed: state.requests.chargeEnable,
      dischargeAllowed: state.requests.dischargeEnable,
      forceCharge: state.requests.forceChargeI || state.requests.forceChargeII,
    };
    alarms = ALARM_KINDS.filter((kind) => state.alarms[kind] === true);
    warnings = ALARM_KINDS.filter((kind) => state.warnings[kind] === true);
  }
  const faults: string[] = [];
  if (context.faultReason === NO_VALID_DATA && context.snapshotAtMs !== null)
    faults.push(`${NO_VALID_DATA} for ${Math.round((nowMs - context.snapshotAtMs) / 1000)} s`);
  else if (context.faultReason !== null) faults.push(context.faultReason);
  for (const { snapshot } of context.packs) {
    if (snapshot === null) continue;
    for (const name of config.bms.faultOnAlarms) if (hasAlarm(snapshot, name) && !context.faultReason?.includes(name)) faults.push(`BMS protection: ${name}`);
  }
  return {
    name: config.name,
    profile: config.can.profile,
    states: regionStates(value),
    busMode,
    packs,
    limits,
    alarms,
    warnings,
    faults,
    commands: commandStatus(context.commands, nowMs),
    ...(config.can.profile === 'pylon-hv' ? { pylonHv: { asleep: context.hv.sleeping, lastCommand: context.hv.lastCommand, ignoredFrames: context.hv.ignored } } : {}),
  };
}

function commandStatus(commands: Commands, nowMs: number): BridgeStatus['commands'] {
  const one = (c: Commands['denyCharge']): CommandStatus | null => (isActive(c, nowMs) ? { untilMs: c.untilMs, source: c.source } : null);
  return { denyCharge: one(commands.denyCharge), denyDischarge: one(commands.denyDischarge), forceCharge: one(commands.forceCharge) };
}

export function packStatus(id: string, name: string, snapshot: BmsSnapshot): PackStatus {
  const cells = snapshot.cellsMv;
  let min = 0;
  let max = 0;
  cells.forEach((mv, i) => {
    if (mv < cells[min]) min = i;
    if (mv > cells[max]) max = i;
  });
  const voltageV = snapshot.packMv / 1000;
  const currentA = snapshot.currentMa / 1000;
  return {
    id,
    name,
    voltageV,
    currentA,
    powerW: round(voltageV * currentA, 1),
    socPct: snapshot.socPct,
    cycles: snapshot.cycles,
    capacityAh: snapshot.settings.capacityAh,
    cellsMv: [...cells],
    cellMinMv: cells[min] ?? 0,
    cellMaxMv: cells[max] ?? 0,
    cellMinNumber: min + 1,
    cellMaxNumber: max + 1,
    cellDeltaMv: (cells[max] ?? 0) - (cells[min] ?? 0),
    temperaturesC: { mosfet: snapshot.mosfetTempC, battery1: snapshot.t1TempC, battery2: snapshot.t2TempC },
    chargeMosfet: chargeMosfetOn(snapshot),
    dischargeMosfet: dischargeMosfetOn(snapshot),
    balancing: (snapshot.status & (1 << JkStatusBit.balancing)) !== 0,
    alarms: (Object.keys(JkAlarmBit) as JkAlarmName[]).filter((name) => hasAlarm(snapshot, name)),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
