/**
 * Contradictions between configuration values: each key may be valid on its own (the schema
 * checks that) while together they describe a bridge that cannot work or cannot be safe, e.g. a
 * bulk voltage the charge current never reaches, or a current limit the bridge itself would
 * reject as implausible. A wrong config is refused with one line per contradiction, naming the
 * key to change and the key it contradicts (issue 10, bug 9).
 *
 * To add a check, add a function to CROSS_CHECKS: it gets the parsed config (every default
 * filled in) and returns the contradictions it finds, each with the key to report it under.
 * The timing of each BMS pack (reply timeout, stale timeout, back-off) and the bank's own rules
 * stay with the loader (load.ts), which knows which pack overrode which key in the file.
 */
import { CHEMISTRIES, CHEMISTRY_PRESETS, type Chemistry } from '../control/chemistry';
import { cellVoltageContradictions, type Contradiction } from '../control/settings-checks';
import { resolveControlSettings } from '../control/settings';
import type { BridgeConfig } from './schema';

export type { Contradiction } from '../control/settings-checks';

export type CrossCheck = (config: BridgeConfig) => Contradiction[];

/** 0x351 carries CCL and DCL as signed 16-bit 0.1 A (inverter-can-protocols.md §3.2). */
const MAX_ENCODABLE_CURRENT_A = 3276.7;

/**
 * The cell voltages of the charge policy, the points left out taken from the chemistry's preset.
 * With auto the chemistry is known at the first snapshot, where control/battery-policy.ts runs the
 * same check; now only what no chemistry could make right is refused, in LiFePO4's words.
 */
const cellVoltages: CrossCheck = ({ battery, control }) => {
  const under = (chemistry: Chemistry) => cellVoltageContradictions(resolveControlSettings(control, CHEMISTRY_PRESETS[chemistry]));
  if (battery.chemistry !== 'auto') return under(battery.chemistry);
  const each = CHEMISTRIES.map(under);
  return each.every((found) => found.length > 0) ? each[0] : [];
};

/** A current limit must be bounded, and below what the bridge itself accepts as a measurement. */
const currents: CrossCheck = ({ control, bms }) => {
  const found: Contradiction[] = [];
  for (const key of ['maxChargeA', 'maxDischargeA'] as const) {
    const amps = control.current[key];
    if (amps > MAX_ENCODABLE_CURRENT_A)
      found.push({ key: `control.current.${key}`, message: `${amps} A is more than any inverter protocol can carry (${MAX_ENCODABLE_CURRENT_A} A)` });
    else if (amps > bms.plausibility.maxCurrentA)
      found.push({
        key: `control.current.${key}`,
        message: `${amps} A is above bms.plausibility.maxCurrentA (${bms.plausibility.maxCurrentA} A), a current the bridge rejects as implausible when the BMS reports it`,
      });
  }
  return found;
};

const forceCharge: CrossCheck = ({ control: { forceCharge: f } }) => {
  const found: Contradiction[] = [];
  if (f.stopSocPct <= f.startSocPct)
    found.push({ key: 'control.forceCharge.stopSocPct', message: `${f.stopSocPct} must be above control.forceCharge.startSocPct (${f.startSocPct}) (hysteresis)` });
  if (f.startCellMv !== null && f.stopCellMv !== null && f.stopCellMv <= f.startCellMv)
    found.push({ key: 'control.forceCharge.stopCellMv', message: `${f.stopCellMv} must be above control.forceCharge.startCellMv (${f.startCellMv}) (hysteresis)` });
  return found;
};

export const CROSS_CHECKS: readonly CrossCheck[] = [cellVoltages, currents, forceCharge];

/** Every contradiction in a parsed config, in the order of CROSS_CHECKS. */
export function findContradictions(config: BridgeConfig, checks: readonly CrossCheck[] = CROSS_CHECKS): Contradiction[] {
  return checks.flatMap((check) => check(config));
}
