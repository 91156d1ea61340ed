/**
 * The policy's settings for the battery actually connected: the chemistry (configured, or read
 * from the JK's own OVP/UVP), its preset for every point the config leaves open, the loader's
 * cell-voltage checks on the result (settings-checks.ts), and the check that every point sits
 * inside the BMS's own protection window (issue 11):
 *
 *   UVP < discharge stop < float <= bulk < charge stop < OVP   (per cell; × cells against the pack limits)
 *
 * A contradiction is never clamped: it becomes a problem line naming the keys and the values, and
 * the bridge stays at zero limits until the config or the BMS settings change (bridge-machine.ts).
 * Pure; resolved again whenever the BMS settings that matter here change (batteryPolicyKey).
 */
import type { JkSettings } from '../protocol/jk/snapshot';
import { CHEMISTRY_PRESETS, chemistryMismatch, fittedPreset, inferChemistry, type Chemistry } from './chemistry';
import { cellVoltageContradictions } from './settings-checks';
import { presetKeysUsed, resolveControlSettings, type ControlConfig, type ControlSettings, type PresetKey } from './settings';

export type ChemistrySetting = 'auto' | Chemistry;

/** What the inverter can be told (protocol/can ProfileCodec.limitWindows), in V. */
export interface InverterWindows {
  profile: string;
  chargeVoltageV?: readonly [number, number];
  dischargeVoltageV?: readonly [number, number];
}

export interface BatteryPolicyInput {
  chemistry: ChemistrySetting;
  control: ControlConfig;
  inverter?: InverterWindows;
}

export interface BatteryPolicy {
  /** The BMS settings it was resolved for (batteryPolicyKey). */
  key: string;
  /** null when auto could not tell. */
  chemistry: Chemistry | null;
  /** One line for the log: the chemistry and why. */
  description: string;
  /** Always complete, so zero-limit frames can still be built while problems stand. */
  settings: ControlSettings;
  /** One line per contradiction; non-empty = fault, zero limits. */
  problems: string[];
  /** Values adapted to the inverter, one line each, for the log. */
  notes: string[];
}

type WindowSettings = Pick<JkSettings, 'cellOvpMv' | 'cellUvpMv' | 'packOvpMv' | 'packUvpMv' | 'batteryType'>;

/** The BMS values the policy depends on; a new key means resolve (and check) again. */
export function batteryPolicyKey(bms: WindowSettings, cellCount: number): string {
  return `${cellCount}/${bms.cellOvpMv}/${bms.cellUvpMv}/${bms.packOvpMv}/${bms.packUvpMv}/${bms.batteryType}`;
}

const mv = (x: number) => `${x} mV`;
const volts = (packMv: number) => `${(packMv / 1000).toFixed(2)} V`;

export function resolveBatteryPolicy(input: BatteryPolicyInput, bms: WindowSettings, cellCount: number): BatteryPolicy {
  const key = batteryPolicyKey(bms, cellCount);
  const problems: string[] = [];
  let chemistry: Chemistry | null;
  let description: string;
  if (input.chemistry === 'auto') {
    const inferred = inferChemistry(bms);
    chemistry = inferred.ok ? inferred.chemistry : null;
    description = inferred.ok ? `battery chemistry ${inferred.chemistry} (auto: ${inferred.reason})` : 'battery chemistry unknown';
    if (!inferred.ok) problems.push(inferred.problem);
  } else {
    chemistry = input.chemistry;
    description = `battery chemistry ${chemistry} (configured)`;
    const mismatch = chemistryMismatch(chemistry, bms);
    if (mismatch !== null) problems.push(mismatch);
  }
  // Without a chemistry the LiFePO4 points stand in, only to build the zero-limit frames.
  const settings = resolveControlSettings(input.control, fittedPreset(CHEMISTRY_PRESETS[chemistry ?? 'lifepo4'], bms));
  const fromPreset = new Set<PresetKey>(presetKeysUsed(input.control));
  const named = (k: PresetKey, value: number) =>
    `control.${k} ${mv(value)}${fromPreset.has(k) && chemistry !== null ? ` (${chemistry} preset)` : ''}`;

  if (chemistry !== null) {
    // A value the config left to the chemistry is named as the preset's, so a pack the BMS
    // settings put in another chemistry shows where its numbers came from.
    const preset = (key: string) => ((fromPreset as Set<string>).has(key.replace(/^control\./, '')) ? ` (${chemistry} preset)` : '');
    problems.push(...cellVoltageContradictions(settings).map((c) => `${c.key}${preset(c.key)}: ${c.message}`));
    problems.push(...windowProblems(settings, bms, cellCount, named));
  }
  const notes: string[] = [];
  if (input.inverter !== undefined) problems.push(...inverterProblems(settings, bms, cellCount, input.inverter, notes));
  return { key, chemistry, description, settings, problems, notes };
}

/** UVP < discharge stop < float <= bulk < charge stop < OVP, per cell and against the pack limits. */
function windowProblems(
  s: ControlSettings,
  bms: WindowSettings,
  cells: number,
  named: (k: PresetKey, value: number) => string,
): string[] {
  const out: string[] = [];
  const v = s.voltage;
  if (bms.cellUvpMv >= s.dischargeStopCellMv) out.push(`bms.cellUvp ${mv(bms.cellUvpMv)} >= ${named('dischargeStopCellMv', s.dischargeStopCellMv)}`);
  if (s.dischargeStopCellMv >= v.floatCellMv)
    out.push(`${named('dischargeStopCellMv', s.dischargeStopCellMv)} >= ${named('voltage.floatCellMv', v.floatCellMv)}`);
  if (bms.cellOvpMv <= s.chargeStopCellMv) out.push(`bms.cellOvp ${mv(bms.cellOvpMv)} <= ${named('chargeStopCellMv', s.chargeStopCellMv)}`);
  if (bms.packOvpMv <= s.chargeStopCellMv * cells) {
    out.push(`bms.packOvp ${volts(bms.packOvpMv)} <= ${cells} × ${named('chargeStopCellMv', s.chargeStopCellMv)} = ${volts(s.chargeStopCellMv * cells)}`);
  }
  if (bms.packUvpMv >= s.dischargeStopCellMv * cells) {
    out.push(`bms.packUvp ${volts(bms.packUvpMv)} >= ${cells} × ${named('dischargeStopCellMv', s.dischargeStopCellMv)} = ${volts(s.dischargeStopCellMv * cells)}`);
  }
  return out;
}

/** The highest CVL the settings allow for a pack of cellCount cells, drop offset included. */
export function maxChargeVoltageV(settings: ControlSettings, cellCount: number): number {
  const v = settings.voltage;
  const topCellMv = v.socReset.afterDays === null ? v.bulkCellMv : v.socReset.cellMv;
  return (topCellMv * cellCount + v.dropOffsetPackMv) / 1000;
}

/** The DVL the policy sends: (UVP + margin) per cell, never below the discharge stop (§2B). */
export function dischargeVoltageMv(settings: ControlSettings, cellUvpMv: number, cellCount: number): number {
  return Math.max(cellUvpMv + settings.dvlAboveUvpCellMv, settings.dischargeStopCellMv) * cellCount;
}

/**
 * What the inverter accepts. A CVL range the inverter would drop (SMA: "rejected without notice,
 * the last acceptable value is kept", inverter-can-protocols.md §5.1) cannot carry the policy, so
 * it is a problem. A DVL above the inverter's maximum is sent at that maximum (noted): the
 * inverter's own fallback would be its lower default (SMA 41 V), and the bridge's DCL still
 * stops discharge at the discharge-stop voltage.
 */
function inverterProblems(s: ControlSettings, bms: WindowSettings, cells: number, w: InverterWindows, notes: string[]): string[] {
  const out: string[] = [];
  if (w.chargeVoltageV !== undefined) {
    const [lo, hi] = w.chargeVoltageV;
    const topV = maxChargeVoltageV(s, cells);
    const floorV = (s.voltage.cvlFloorCellMv * cells) / 1000;
    if (topV > hi) out.push(`can.profile ${w.profile} accepts CVL ${lo}-${hi} V, but ${cells} cells at the top CVL give ${topV.toFixed(2)} V`);
    if (floorV < lo) {
      out.push(`can.profile ${w.profile} accepts CVL ${lo}-${hi} V, but ${cells} × control.voltage.cvlFloorCellMv ${mv(s.voltage.cvlFloorCellMv)} = ${floorV.toFixed(2)} V`);
    }
  }
  if (w.dischargeVoltageV !== undefined) {
    const [lo, hi] = w.dischargeVoltageV;
    const dvlV = dischargeVoltageMv(s, bms.cellUvpMv, cells) / 1000;
    if (dvlV > hi) notes.push(`DVL ${dvlV.toFixed(1)} V is above ${w.profile}'s ${lo}-${hi} V: sending ${hi.toFixed(1)} V`);
    if (dvlV < lo) notes.push(`DVL ${dvlV.toFixed(1)} V is below ${w.profile}'s ${lo}-${hi} V: sending ${lo.toFixed(1)} V`);
  }
  return out;
}
