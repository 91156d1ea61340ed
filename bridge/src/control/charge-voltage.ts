/**
 * Charge phase (bulk → absorption → float and back) and the charge voltage limit target
 * (field-survey.md §2A "CVL state machine", "CVL while in bulk/absorption", "Float transition").
 * Voltages are pack millivolts unless the name says Cell.
 */
import { formatCellV } from './format';
import type { Readings } from './readings';
import type { ControlSettings } from './settings';

export type ChargePhase = 'bulk' | 'absorption' | 'float';

export type PhaseState =
  | { phase: 'bulk' }
  /** The absorption timer runs from sinceMs (restarted while the cells drift apart). */
  | { phase: 'absorption'; sinceMs: number }
  /** startCvlMv: the CVL applied on entry, from which the float transition ramps down. */
  | { phase: 'float'; sinceMs: number; startCvlMv: number };

export interface CvlTarget {
  mv: number;
  reason: string;
}

/**
 * @param allowCellMv bulk voltage per cell, or the SoC-reset voltage while a reset is due.
 * @param cvlMv the CVL applied before this step, recorded on entering float.
 */
export function nextPhase(
  prev: PhaseState,
  r: Readings,
  socPct: number,
  nowMs: number,
  s: ControlSettings,
  allowCellMv: number,
  socResetDue: boolean,
  cvlMv: number,
): PhaseState {
  const p = s.phase;
  if (prev.phase === 'float') {
    const rebulk = socPct < p.rebulkBelowSocPct || r.cellDiffMv >= p.rebulkCellDiffMv || socResetDue;
    if (!rebulk) return prev;
  }
  const bulkPackMv = allowCellMv * r.cellCount;
  if (prev.phase !== 'absorption') {
    const reached = r.sumCellMv >= bulkPackMv && r.cellDiffMv <= p.balancedCellDiffMv;
    return reached ? { phase: 'absorption', sinceMs: nowMs } : { phase: 'bulk' };
  }
  // §2A: the started timer is dropped below bulk - 0.5 V (measurement tolerance) ...
  if (r.sumCellMv < bulkPackMv - p.absorptionCancelPackMv) return { phase: 'bulk' };
  // ... restarted while the cells are not balanced ...
  if (r.cellDiffMv > p.balancedCellDiffMv + p.balancedDeviationMv) return { phase: 'absorption', sinceMs: nowMs };
  // ... and float follows once it has run its time.
  if (nowMs - prev.sinceMs >= p.absorptionS * 1000) return { phase: 'float', sinceMs: nowMs, startCvlMv: cvlMv };
  return prev;
}

/**
 * The cell-overvoltage controller runs in every phase, float included: with a runner cell the
 * float voltage alone does not protect it, and min() can only make the CVL safer.
 *
 * @param previousCvlMv the applied CVL of the previous step: the I-controller integrates from the
 *   applied value, so the rise limiter cannot wind it up.
 */
export function cvlTarget(
  phase: PhaseState,
  r: Readings,
  cellsMv: readonly number[],
  s: ControlSettings,
  allowCellMv: number,
  previousCvlMv: number | null,
  dtS: number,
  nowMs: number,
): CvlTarget {
  const v = s.voltage;
  const maxMv = allowCellMv * r.cellCount;
  const floorMv = v.cvlFloorCellMv * r.cellCount;
  const clamp = (mv: number) => Math.min(maxMv, Math.max(floorMv, mv));
  const target =
    allowCellMv === v.bulkCellMv
      ? `${phase.phase} (${formatCellV(allowCellMv)}/cell)`
      : `SoC reset (${formatCellV(allowCellMv)}/cell)`;
  const maxCell = `max cell ${formatCellV(r.maxCellMv)}`;

  let controlled: CvlTarget;
  if (v.controller.mode === 'penalty') {
    // §2A mode 1: lower the CVL by the summed overshoot of every cell above the allowed voltage.
    const overshootMv = cellsMv.reduce((sum, mv) => sum + Math.max(0, mv - allowCellMv), 0);
    controlled =
      overshootMv > 0
        ? { mv: clamp(r.sumCellMv - overshootMv), reason: `cell over-voltage penalty (${maxCell})` }
        : { mv: maxMv, reason: target };
  } else {
    // §2A mode 2: regulate the highest cell to allowed + 10 mV; the gain is per second, so the
    // step is scaled by the elapsed time rather than assuming a 1 s poll.
    const errorMv = r.maxCellMv - (allowCellMv + v.controller.integralTargetAboveMv);
    const mv = clamp((previousCvlMv ?? maxMv) - errorMv * v.controller.integralGainPerS * dtS);
    controlled = mv < maxMv ? { mv, reason: `I-controller (${maxCell})` } : { mv: maxMv, reason: target };
  }
  if (phase.phase !== 'float') return controlled;

  // §2A float transition: ramp down from the entry CVL so the inverter sees no voltage step
  // (current spikes, Louisvdw #659; Deye feeding into the grid, inverter-can-protocols.md §10.6).
  const floatMv = v.floatCellMv * r.cellCount;
  const elapsedS = (nowMs - phase.sinceMs) / 1000;
  const rampedMv = clamp(Math.max(floatMv, phase.startCvlMv - v.floatTransitionPackMvPerS * elapsedS));
  const float: CvlTarget = {
    mv: rampedMv,
    reason: rampedMv > floatMv ? 'float transition' : `float (${formatCellV(v.floatCellMv)}/cell)`,
  };
  return float.mv <= controlled.mv ? float : controlled;
}
