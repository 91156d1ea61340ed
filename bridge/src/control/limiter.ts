/**
 * Rate limiting of CVL, CCL and DCL (field-survey.md §2A "CCL/DCL update policy", "CVL recovery";
 * §4a.7): a decrease applies in the same step, an increase waits until the target has stayed above
 * the applied value for the hold time and then rises at a fixed rate. Pure: time is an input.
 */

export interface RiseLimiterState {
  /** The value last applied; null before the first step. */
  value: number | null;
  /** Since when the target has been above the applied value; null while it is not. */
  raiseSinceMs: number | null;
}

export interface RiseLimiterSettings {
  holdMs: number;
  ratePerS: number;
  /** From 0, stay at 0 while the target is below this (§2A restart threshold, 1.5 % of max). */
  restartFrom0Below: number;
}

export type RiseStatus =
  | { kind: 'tracking' }
  | { kind: 'restartThreshold' }
  | { kind: 'hold'; remainingMs: number }
  | { kind: 'ramp' };

export const initialRiseLimiterState: RiseLimiterState = { value: null, raiseSinceMs: null };

/**
 * @param previousMs time of the previous step (null on the first), to integrate the ramp.
 * The result never exceeds the target, so a limit computed as a minimum stays a minimum.
 */
export function limitRise(
  state: RiseLimiterState,
  target: number,
  nowMs: number,
  previousMs: number | null,
  settings: RiseLimiterSettings,
): { state: RiseLimiterState; value: number; status: RiseStatus } {
  // No history (bridge start): the target applies at once; holding from 0 would cut an off-grid
  // load for the hold time on every restart, and the BMS data is fresh by construction.
  if (state.value === null || target <= state.value) {
    return { state: { value: target, raiseSinceMs: null }, value: target, status: { kind: 'tracking' } };
  }
  const applied = state.value;
  if (applied === 0 && target < settings.restartFrom0Below) {
    return { state: { value: 0, raiseSinceMs: null }, value: 0, status: { kind: 'restartThreshold' } };
  }
  const raiseSinceMs = state.raiseSinceMs ?? nowMs;
  const holdEndMs = raiseSinceMs + settings.holdMs;
  if (nowMs < holdEndMs) {
    return {
      state: { value: applied, raiseSinceMs },
      value: applied,
      status: { kind: 'hold', remainingMs: holdEndMs - nowMs },
    };
  }
  // The ramp starts when the hold ends, not at the previous step, so the step period does not
  // change the slope.
  const rampFromMs = Math.max(previousMs ?? nowMs, holdEndMs);
  const rise = (settings.ratePerS * Math.max(0, nowMs - rampFromMs)) / 1000;
  const value = Math.min(target, applied + rise);
  const status: RiseStatus = value < target ? { kind: 'ramp' } : { kind: 'tracking' };
  return { state: { value, raiseSinceMs: value < target ? raiseSinceMs : null }, value, status };
}
