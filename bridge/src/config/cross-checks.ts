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
import { lookup } from '../control/table';
import type { BridgeConfig } from './schema';

export interface Contradiction {
  /** The key the line is reported under (its file or flag is named by the loader). */
  key: string;
  message: string;
}

export type CrossCheck = (config: BridgeConfig) => Contradiction[];

/** 0x351 carries CCL and DCL as signed 16-bit 0.1 A (inverter-can-protocols.md §3.2). */
const MAX_ENCODABLE_CURRENT_A = 3276.7;

/** The cell voltages of the charge policy, in the order a charge passes them. */
const cellVoltages: CrossCheck = ({ control: c }) => {
  const found: Contradiction[] = [];
  const v = c.voltage;
  if (c.dischargeStopCellMv >= c.chargeStopCellMv)
    found.push({ key: 'control.dischargeStopCellMv', message: `${c.dischargeStopCellMv} must be below control.chargeStopCellMv (${c.chargeStopCellMv})` });
  if (v.bulkCellMv >= c.chargeStopCellMv)
    found.push({
      key: 'control.voltage.bulkCellMv',
      message: `${v.bulkCellMv} must be below control.chargeStopCellMv (${c.chargeStopCellMv}): charging stops before the pack reaches bulk, so it never gets to absorption and float`,
    });
  else if (lookup(c.tables.chargeVsMaxCellMv, v.bulkCellMv - 1, 'rising') === 0)
    found.push({
      key: 'control.tables.chargeVsMaxCellMv',
      message: `allows no charge current below control.voltage.bulkCellMv (${v.bulkCellMv}), so the pack never reaches bulk`,
    });
  if (v.floatCellMv > v.bulkCellMv)
    found.push({ key: 'control.voltage.floatCellMv', message: `${v.floatCellMv} must not exceed control.voltage.bulkCellMv (${v.bulkCellMv})` });
  if (v.cvlFloorCellMv >= v.floatCellMv)
    found.push({ key: 'control.voltage.cvlFloorCellMv', message: `${v.cvlFloorCellMv} must be below control.voltage.floatCellMv (${v.floatCellMv})` });
  const reset = v.socReset;
  if (reset.cellMv <= v.bulkCellMv)
    found.push({ key: 'control.voltage.socReset.cellMv', message: `${reset.cellMv} must be above control.voltage.bulkCellMv (${v.bulkCellMv}) (§2A)` });
  // §2A config check: a reset voltage the charge current never reaches keeps the pack out of
  // float for good. Only when the reset is switched on; the defaults leave it off.
  if (reset.afterDays !== null && reset.cellMv >= c.chargeStopCellMv)
    found.push({
      key: 'control.voltage.socReset.cellMv',
      message: `${reset.cellMv} must be below control.chargeStopCellMv (${c.chargeStopCellMv}) when the SoC reset is on`,
    });
  else if (reset.afterDays !== null && lookup(c.tables.chargeVsMaxCellMv, reset.cellMv - 1, 'rising') === 0)
    found.push({ key: 'control.tables.chargeVsMaxCellMv', message: `must allow charge current below control.voltage.socReset.cellMv (${reset.cellMv})` });
  return found;
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
