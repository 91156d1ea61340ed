/**
 * Contradictions among the policy's cell voltages (issue 10, bug 9), on resolved settings: the
 * loader runs them on a configured chemistry's points (config/cross-checks.ts), the battery policy
 * on the points it resolved for the connected BMS (battery-policy.ts), one rule set for both.
 */
import type { ControlSettings } from './settings';
import { lookup } from './table';

export interface Contradiction {
  /** The key the line is reported under (its file or flag is named by the loader). */
  key: string;
  message: string;
}

/** The cell voltages of the charge policy, in the order a charge passes them. */
export function cellVoltageContradictions(c: ControlSettings): Contradiction[] {
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
}
