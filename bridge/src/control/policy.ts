/**
 * The charge policy: one pure step from (state, BMS snapshot, time, settings) to what the inverter
 * is told. No timers and no I/O: the caller passes nowMs, so tests and scenarios run in virtual
 * time (field-survey.md §5 "Time control"). The state is plain data and may be persisted.
 */
import type { AlarmSet, BatteryRequests } from '../protocol/can/battery-state';
import { chargeMosfetOn, dischargeMosfetOn, type BmsSnapshot } from '../protocol/jk/snapshot';
import { mapJkAlarms } from './alarms';
import { dischargeVoltageMv, maxChargeVoltageV } from './battery-policy';
import { cvlTarget, nextPhase, type ChargePhase, type PhaseState } from './charge-voltage';
import { denyReason, isActive, noCommands, type Commands } from './commands';
import { chargeCurrentTarget, dischargeCurrentTarget, type CurrentTarget } from './current-limit';
import { formatA } from './format';
import { initialRiseLimiterState, limitRise, type RiseLimiterState, type RiseStatus } from './limiter';
import { readingsOf } from './readings';
import type { ControlSettings } from './settings';
import { forceChargeWanted, reportedSocPct } from './soc';

export interface ControlState {
  /** nowMs of the previous step; null before the first. */
  lastStepMs: number | null;
  charge: PhaseState;
  /** When float was last reached (the first step until then), for the periodic SoC reset. */
  lastFullMs: number | null;
  /** Applied CVL in pack mV, without the drop offset and the stop encoding. */
  cvl: RiseLimiterState;
  /** Applied limits in A, before the stop encoding. */
  ccl: RiseLimiterState;
  dcl: RiseLimiterState;
  forceCharge: boolean;
}

export interface ControlOutput {
  chargeVoltageV: number;
  chargeCurrentLimitA: number;
  dischargeCurrentLimitA: number;
  dischargeVoltageV: number;
  /** As reported to the inverter. */
  socPct: number;
  phase: ChargePhase;
  requests: BatteryRequests;
  /** The limiting reason of each value. */
  reasons: { chargeVoltage: string; chargeCurrent: string; dischargeCurrent: string };
  alarms: AlarmSet;
  warnings: AlarmSet;
}

/**
 * The state after a loss of trust (stale data, a fault): the currents count as applied at 0, so
 * they come back only through the restart threshold, the hold and the ramp (§2A recovery). The
 * charge phase, the applied CVL and the float bookkeeping carry on from `previous`: the pack did
 * not change while the cable was out, and restarting in bulk would raise a pack in float back
 * to the bulk voltage after every blip (issue 10, bug 2).
 */
export function recoveringControlState(previous: ControlState): ControlState {
  const zero: RiseLimiterState = { value: 0, raiseSinceMs: null };
  return { ...previous, ccl: zero, dcl: zero };
}

/** 'pack' stop encoding (§10.4): the present pack voltage, above DVL + margin, not above the top. */
function packStopVoltageMv(packMv: number, dvlMv: number, cellCount: number, topMv: number, s: ControlSettings): number {
  return Math.min(topMv, Math.max(packMv, dvlMv + s.stop.cvlAboveDvlCellMv * cellCount));
}

/**
 * The CVL to send while charging is stopped for a reason outside the policy (stale data, fault),
 * from the last output: the policy's own CVL in 'cvl' mode, the pack voltage in 'pack' mode, and
 * never below the last known pack voltage up to the CVL maximum, so no inverter discharges the
 * pack towards it (SMA §5.2, YamBMS #46 §10.6). Never 0 (Victron reads 0 as over-voltage, §10.4).
 */
export function stoppedChargeVoltageV(
  battery: { packMv: number; cellCount: number },
  settings: ControlSettings,
  output: ControlOutput,
): number {
  const { packMv, cellCount } = battery;
  const topMv = maxChargeVoltageV(settings, cellCount) * 1000 - settings.voltage.dropOffsetPackMv;
  const chosenV =
    settings.stop.chargeVoltage === 'pack'
      ? packStopVoltageMv(packMv, output.dischargeVoltageV * 1000, cellCount, topMv, settings) / 1000
      : output.chargeVoltageV;
  // Up to the CVL maximum: a pack above it (overcharged) may come down to it, and invariant 4 holds.
  return Math.min(maxChargeVoltageV(settings, cellCount), Math.max(chosenV, packMv / 1000));
}

export function createControlState(): ControlState {
  return {
    lastStepMs: null,
    charge: { phase: 'bulk' },
    lastFullMs: null,
    cvl: initialRiseLimiterState,
    ccl: initialRiseLimiterState,
    dcl: initialRiseLimiterState,
    forceCharge: false,
  };
}

function reasonOf(status: RiseStatus, target: string, targetValue: string): string {
  switch (status.kind) {
    case 'tracking':
      return target;
    case 'restartThreshold':
      return `below restart threshold (target ${targetValue}: ${target})`;
    case 'hold':
      return `recovery hold, ${Math.ceil(status.remainingMs / 1000)} s left (target ${targetValue}: ${target})`;
    case 'ramp':
      return `ramp (target ${targetValue}: ${target})`;
  }
}

function limitCurrent(
  state: RiseLimiterState,
  target: CurrentTarget,
  maxA: number,
  recovery: ControlSettings['current']['chargeRecovery'],
  nowMs: number,
  previousMs: number | null,
) {
  const limited = limitRise(state, target.limitA, nowMs, previousMs, {
    holdMs: recovery.holdS * 1000,
    ratePerS: recovery.rateAPerS,
    restartFrom0Below: recovery.restartFraction * maxA,
  });
  return { ...limited, reason: reasonOf(limited.status, target.reason, formatA(target.limitA)) };
}

export function stepControl(
  state: ControlState,
  snapshot: BmsSnapshot,
  nowMs: number,
  settings: ControlSettings,
  commands: Commands = noCommands,
): { state: ControlState; output: ControlOutput } {
  const s = settings;
  const r = readingsOf(snapshot);
  const previousMs = state.lastStepMs;
  const dtS = previousMs === null ? 0 : Math.max(0, nowMs - previousMs) / 1000;

  // Charge voltage (§2A): phase, controller target, then the CVL recovery hold and ramp.
  const lastFullMs = state.lastFullMs ?? nowMs;
  const { afterDays } = s.voltage.socReset;
  const socResetDue = afterDays !== null && nowMs - lastFullMs >= afterDays * 86_400_000;
  const allowCellMv = socResetDue ? s.voltage.socReset.cellMv : s.voltage.bulkCellMv;
  const charge = nextPhase(
    state.charge,
    r,
    snapshot.socPct,
    nowMs,
    s,
    allowCellMv,
    socResetDue,
    state.cvl.value ?? allowCellMv * r.cellCount,
  );
  const enteredFloat = charge.phase === 'float' && state.charge.phase !== 'float';
  const target = cvlTarget(charge, r, snapshot.cellsMv, s, allowCellMv, state.cvl.value, dtS, nowMs);
  const cvl = limitRise(state.cvl, target.mv, nowMs, previousMs, {
    holdMs: s.voltage.recovery.holdS * 1000,
    ratePerS: s.voltage.recovery.ratePackMvPerS,
    restartFrom0Below: 0,
  });

  // Currents (§2A): minimum over the limiters, then the recovery hold, ramp and restart threshold.
  // A person's deny command is one more limiter at 0 A (commands.ts): more conservative only.
  const chargeTarget = withDeny(chargeCurrentTarget(snapshot, r, s), 'charge', commands.denyCharge, nowMs);
  const dischargeTarget = withDeny(dischargeCurrentTarget(snapshot, r, s), 'discharge', commands.denyDischarge, nowMs);
  const ccl = limitCurrent(state.ccl, chargeTarget, s.current.maxChargeA, s.current.chargeRecovery, nowMs, previousMs);
  const dcl = limitCurrent(
    state.dcl,
    dischargeTarget,
    s.current.maxDischargeA,
    s.current.dischargeRecovery,
    nowMs,
    previousMs,
  );

  const dvlMv = dischargeVoltageMv(s, snapshot.settings.cellUvpMv, r.cellCount);

  // Stop encoding (inverter-can-protocols.md §10.4): CVL is never 0. In 'pack' mode a stopped
  // charge is said with the present pack voltage, kept above DVL and not above the CVL maximum.
  const chargeStopped = ccl.value === 0;
  let chargeVoltageMv = cvl.value + s.voltage.dropOffsetPackMv;
  let chargeVoltageReason = reasonOf(cvl.status, target.reason, `${(target.mv / 1000).toFixed(2)} V`);
  if (chargeStopped && s.stop.chargeVoltage === 'pack') {
    chargeVoltageMv = packStopVoltageMv(snapshot.packMv, dvlMv, r.cellCount, allowCellMv * r.cellCount, s);
    chargeVoltageReason = `charging stopped: present pack voltage (${(snapshot.packMv / 1000).toFixed(2)} V)`;
  }

  const chargeEnable = chargeMosfetOn(snapshot) && ccl.value > 0;
  const dischargeEnable = dischargeMosfetOn(snapshot) && dcl.value > 0;
  const forceCharge = forceChargeWanted(state.forceCharge, snapshot.socPct, r.minCellMv, s.forceCharge);
  const forceChargeRequested = forceCharge || isActive(commands.forceCharge, nowMs);

  const output: ControlOutput = {
    chargeVoltageV: chargeVoltageMv / 1000,
    // Sofar ignores 0 A and needs 0.1 A to stop (§10.5); the enable flag is cleared either way.
    chargeCurrentLimitA: chargeStopped ? s.stop.currentA : ccl.value,
    dischargeCurrentLimitA: dcl.value === 0 ? s.stop.currentA : dcl.value,
    dischargeVoltageV: dvlMv / 1000,
    socPct: reportedSocPct(
      snapshot.socPct,
      charge.phase,
      { chargeByCell: chargeTarget.stoppedByCell, dischargeByCell: dischargeTarget.stoppedByCell },
      s.soc,
    ),
    phase: charge.phase,
    requests: {
      chargeEnable,
      dischargeEnable,
      // Both bits: Pylon uses II then I as SoC falls and Sol-Ark/LuxPower swap their names (§3.2),
      // so every inverter that reads either sees the request. Never without charge being allowed.
      forceChargeI: forceChargeRequested && chargeEnable,
      forceChargeII: forceChargeRequested && chargeEnable,
      fullCharge: false,
    },
    reasons: { chargeVoltage: chargeVoltageReason, chargeCurrent: ccl.reason, dischargeCurrent: dcl.reason },
    ...mapJkAlarms(snapshot),
  };

  return {
    state: {
      lastStepMs: nowMs,
      charge,
      lastFullMs: enteredFloat ? nowMs : lastFullMs,
      cvl: cvl.state,
      ccl: ccl.state,
      dcl: dcl.state,
      forceCharge,
    },
    output,
  };
}

function withDeny(target: CurrentTarget, direction: 'charge' | 'discharge', command: Commands['denyCharge'], nowMs: number): CurrentTarget {
  return isActive(command, nowMs) && target.limitA > 0 ? { ...target, limitA: 0, reason: denyReason(direction, command) } : target;
}
