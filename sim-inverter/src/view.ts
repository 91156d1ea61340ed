/**
 * The live view: the battery as the inverter sees it (limits, SOC, flags, alarms, frame ages),
 * what the power stage does, active faults and the newest violations. Plain lines, so the same
 * text serves the in-place TTY view, the once-a-second status line and the "status" command.
 */
import { formatCanId, type AlarmSet } from '../../bridge/src/protocol/can';
import type { Violation } from './checker';
import type { Demand } from './inverter-model';
import type { VirtualInverter } from './virtual-inverter';

function num(value: number | null | undefined, digits: number, unit: string): string {
  return value === undefined || value === null ? '-' : `${value.toFixed(digits)} ${unit}`;
}

function signed(value: number, digits: number, unit: string): string {
  return `${value > 0 ? '+' : ''}${value.toFixed(digits)} ${unit}`;
}

function flag(value: boolean | undefined): string {
  return value === undefined ? '?' : value ? 'yes' : 'no';
}

function raised(set: AlarmSet | undefined): string {
  const kinds = Object.entries(set ?? {})
    .filter(([, on]) => on === true)
    .map(([kind]) => kind);
  return kinds.length === 0 ? 'none' : kinds.join(', ');
}

export function formatDemand(demand: Demand): string {
  return demand.unit === 'W' ? signed(demand.watts, 0, 'W') : signed(demand.amps, 1, 'A');
}

export function formatViolation(v: Violation, originMs: number): string {
  const id = v.id === undefined ? '' : ` 0x${formatCanId({ id: v.id })}`;
  return `+${((v.atMs - originMs) / 1000).toFixed(3)}s ${v.rule}${id}: ${v.detail}`;
}

/** Every line of the view; originMs is the time shown as +0 s (the start of the run). */
export function renderView(inverter: VirtualInverter, originMs: number): string[] {
  const now = inverter.now;
  const d = inverter.decoded;
  const r = d.requests;
  const faults = inverter.faults;
  const ages = [...inverter.lastReceived.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, at]) => `${formatCanId({ id })} ${((now - at) / 1000).toFixed(1)}s`);
  const violations = inverter.checker.violations;
  const offBus = faults.offBusUntilMs === null ? 'no' : Number.isFinite(faults.offBusUntilMs) ? `${((faults.offBusUntilMs - now) / 1000).toFixed(1)} s left` : 'yes';
  const tx = inverter.sendStats;
  const lines = [
    `sim-inverter ${inverter.profile.name} (${inverter.profile.label}) | ${inverter.describeLink()} | +${((now - originMs) / 1000).toFixed(0)} s`,
    `limits    CVL ${num(d.chargeVoltageV, 1, 'V')}  CCL ${num(d.chargeCurrentLimitA, 1, 'A')}  DCL ${num(d.dischargeCurrentLimitA, 1, 'A')}  DVL ${num(d.dischargeVoltageV, 1, 'V')}`,
    `flags     charge ${flag(r?.chargeEnable)}  discharge ${flag(r?.dischargeEnable)}  force I ${flag(r?.forceChargeI)}  force II ${flag(r?.forceChargeII)}  full ${flag(r?.fullCharge)}`,
    `battery   SOC ${num(d.socPct, 0, '%')} (hi-res ${num(d.socHiResPct, 2, '%')})  SOH ${num(d.sohPct, 0, '%')}  ${num(d.voltageV, 2, 'V')}  ${d.currentA === undefined ? '-' : signed(d.currentA, 1, 'A')}  ${num(d.temperatureC, 1, '°C')}  "${d.identity?.manufacturer ?? ''}"`,
    `alarms    ${raised(d.alarms)}   warnings ${raised(d.warnings)}`,
    `ages      ${ages.length === 0 ? 'nothing received' : ages.join('  ')}`,
    `inverter  demand ${formatDemand(inverter.model.demand)} → ${signed(inverter.model.currentA, 1, 'A')} (${inverter.model.reason})  heartbeat ${faults.heartbeat ? 'on' : 'OFF'} (${inverter.heartbeat.sent} sent)  tx ${tx.sent} ok, ${tx.failed} failed${tx.lastError === null ? '' : ` (${tx.lastError})`}`,
    `faults    late ${faults.lateMs === 0 ? 'off' : `${faults.lateMs} ms`}  off-bus ${offBus}  bus-off ${faults.busOff ? 'YES' : 'no'}  unplugged ${faults.unplugged ? 'YES' : 'no'}${inverter.busError === null ? '' : `  BUS LOST: ${inverter.busError}`}`,
    `violations ${violations.length}`,
  ];
  for (const v of violations.slice(-3)) lines.push(`  ${formatViolation(v, originMs)}`);
  return lines;
}

/** One line per second when stdout is not a terminal (logs, CI). */
export function renderStatusLine(inverter: VirtualInverter, originMs: number): string {
  const d = inverter.decoded;
  return (
    `+${((inverter.now - originMs) / 1000).toFixed(0)}s ${inverter.link} | CVL ${num(d.chargeVoltageV, 1, 'V')} CCL ${num(d.chargeCurrentLimitA, 1, 'A')} ` +
    `DCL ${num(d.dischargeCurrentLimitA, 1, 'A')} | SOC ${num(d.socPct, 0, '%')} ${num(d.voltageV, 2, 'V')} | ` +
    `demand ${formatDemand(inverter.model.demand)} → ${signed(inverter.model.currentA, 1, 'A')} (${inverter.model.reason}) | ` +
    `heartbeats ${inverter.heartbeat.sent} | violations ${inverter.checker.violations.length}`
  );
}
