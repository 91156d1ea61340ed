/** What SoC the inverter is told, and when to request a force charge. */
import type { ChargePhase } from './charge-voltage';
import type { ControlSettings } from './settings';

/**
 * Pass-through by default, bounded to 0..100 (ARCHITECTURE invariant 4). Options, both off:
 * - clamp until float (YamBMS 98 %, BE Sofar 99 %; field-survey.md §2B, inverter-can-protocols.md
 *   §10.7) so the inverter does not treat the pack as full before absorption is done;
 * - for inverters that stop only on SoC 0/100 % (Deye, §10.7): 100 while the cell voltage has
 *   stopped charging, 0 while it has stopped discharging. If both at once (a badly unbalanced
 *   pack) neither is pushed: each would unblock the direction the other must stop.
 */
export function reportedSocPct(
  socPct: number,
  phase: ChargePhase,
  stop: { chargeByCell: boolean; dischargeByCell: boolean },
  s: ControlSettings['soc'],
): number {
  if (s.pushAtCellStop && stop.chargeByCell !== stop.dischargeByCell) return stop.chargeByCell ? 100 : 0;
  const bounded = Math.min(100, Math.max(0, socPct));
  return s.clampUntilFloatPct !== null && phase !== 'float' ? Math.min(bounded, s.clampUntilFloatPct) : bounded;
}

/**
 * Force-charge request with hysteresis (YamBMS, §2B): on at or below the start SoC, or the
 * optional lowest-cell trigger; off once the SoC reaches the stop SoC and, with a cell trigger
 * configured, the lowest cell is back at its stop voltage.
 */
export function forceChargeWanted(
  wasActive: boolean,
  socPct: number,
  minCellMv: number,
  s: ControlSettings['forceCharge'],
): boolean {
  if (!s.enabled) return false;
  if (socPct <= s.startSocPct || (s.startCellMv !== null && minCellMv <= s.startCellMv)) return true;
  if (!wasActive) return false;
  const cellRecovered = s.stopCellMv === null || minCellMv >= s.stopCellMv;
  return !(socPct >= s.stopSocPct && cellRecovered);
}
