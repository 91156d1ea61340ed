/**
 * When to poll the BMS next: back to back (only the JK's minimum gap between packets, spec §2.10)
 * while the data is near a limit or has just changed state, at the relaxed `bms.pollIntervalMs`
 * otherwise. Pure: the poller feeds it every valid snapshot and every gap in the data, and asks
 * it for the pace; the clock stays in the poller.
 *
 * Why: a cell creeping up to the charge stop reaches it between two polls; the bridge sees it one
 * poll later. A 16S reply takes ~26 ms at 115200 baud and the JK wants 100 ms between packets, so
 * back-to-back polls see a change within ~130 ms where a 500 ms interval needs up to 530 ms
 * (issue 15). Polling that fast all the time costs CPU on a small computer for nothing while the
 * pack sits mid-range, hence the two paces.
 */
import type { BridgeConfig } from '../config/schema';
import { batteryPolicyKey, resolveBatteryPolicy } from '../control/battery-policy';
import { chargeMosfetOn, dischargeMosfetOn, type BmsSnapshot } from '../protocol/jk/snapshot';

/** What makes the pace fast, from the configuration. */
export interface FastPollSettings {
  /** false: always the relaxed interval. */
  enabled: boolean;
  /** Fast while any cell is within this of a stop voltage. */
  cellMarginMv: number;
  /**
   * The charge and discharge stops the policy uses for this snapshot's BMS: the chemistry's
   * preset unless configured (control/battery-policy.ts), so they are known only with data.
   */
  stops(snapshot: BmsSnapshot): { chargeStopCellMv: number; dischargeStopCellMv: number };
  /** Fast while the current in either direction is above this fraction of its configured maximum. */
  currentFraction: number;
  maxChargeA: number;
  maxDischargeA: number;
  /** Fast polls after the data changed state (alarms, MOSFETs, the first reply after a gap). */
  afterChangePolls: number;
}

export type FastPollReason = 'charge-stop' | 'discharge-stop' | 'charge-current' | 'discharge-current' | 'changed';

export interface PollScheduleState {
  /** The alarm word and MOSFET states of the last valid snapshot; null before one, or after a gap. */
  marks: { alarms: number; chargeOn: boolean; dischargeOn: boolean } | null;
  /** Fast polls still owed to a change of state. */
  fastPollsLeft: number;
}

export interface PollPace {
  state: PollScheduleState;
  /** null = relaxed; otherwise the first condition that holds, in the order of FastPollReason. */
  fast: FastPollReason | null;
}

/** The schedule's settings for a validated config: `bms.fastPoll` plus the stops and maxima it watches. */
export function fastPollSettings(config: Pick<BridgeConfig, 'bms' | 'control' | 'battery'>): FastPollSettings {
  const { control } = config;
  // Resolved again only when the BMS settings change (one entry: one BMS per poller).
  let cached: { key: string; stops: ReturnType<FastPollSettings['stops']> } | null = null;
  const stops = (snapshot: BmsSnapshot) => {
    const key = batteryPolicyKey(snapshot.settings, snapshot.cellsMv.length);
    if (cached?.key !== key) {
      const s = resolveBatteryPolicy({ chemistry: config.battery.chemistry, control }, snapshot.settings, snapshot.cellsMv.length).settings;
      cached = { key, stops: { chargeStopCellMv: s.chargeStopCellMv, dischargeStopCellMv: s.dischargeStopCellMv } };
    }
    return cached.stops;
  };
  return {
    ...config.bms.fastPoll,
    stops,
    maxChargeA: control.current.maxChargeA,
    maxDischargeA: control.current.maxDischargeA,
  };
}

export function initialPollSchedule(): PollScheduleState {
  return { marks: null, fastPollsLeft: 0 };
}

/**
 * A gap in the data (a missed or implausible reply, a reopened link): the next valid snapshot
 * counts as a change of state. The gap itself does not speed polling up, so a silent BMS is not
 * hammered with requests.
 */
export function afterGap(state: PollScheduleState): PollScheduleState {
  return state.marks === null ? state : { ...state, marks: null };
}

/** The pace after a valid snapshot. */
export function afterSnapshot(state: PollScheduleState, snapshot: BmsSnapshot, s: FastPollSettings): PollPace {
  const marks = { alarms: snapshot.alarms, chargeOn: chargeMosfetOn(snapshot), dischargeOn: dischargeMosfetOn(snapshot) };
  const previous = state.marks;
  const changed =
    previous === null || previous.alarms !== marks.alarms || previous.chargeOn !== marks.chargeOn || previous.dischargeOn !== marks.dischargeOn;
  // afterChangePolls fast polls follow the snapshot that changed; each later snapshot uses one up.
  const fastPollsLeft = changed ? s.afterChangePolls : Math.max(0, state.fastPollsLeft - 1);
  const next: PollScheduleState =
    !changed && fastPollsLeft === state.fastPollsLeft ? state : { marks: changed ? marks : previous, fastPollsLeft };
  if (!s.enabled) return { state: next, fast: null };

  let highMv = -Infinity;
  let lowMv = Infinity;
  for (const mv of snapshot.cellsMv) {
    if (mv > highMv) highMv = mv;
    if (mv < lowMv) lowMv = mv;
  }
  const amps = snapshot.currentMa / 1000;
  const { chargeStopCellMv, dischargeStopCellMv } = s.stops(snapshot);
  let fast: FastPollReason | null = null;
  if (highMv >= chargeStopCellMv - s.cellMarginMv) fast = 'charge-stop';
  else if (lowMv <= dischargeStopCellMv + s.cellMarginMv) fast = 'discharge-stop';
  else if (amps > s.currentFraction * s.maxChargeA) fast = 'charge-current';
  else if (-amps > s.currentFraction * s.maxDischargeA) fast = 'discharge-current';
  else if (fastPollsLeft > 0) fast = 'changed';
  return { state: next, fast };
}

/** The reason in words, for the one log line written when the pace changes. */
export function describeFastReason(reason: FastPollReason, snapshot: BmsSnapshot, s: FastPollSettings): string {
  const amps = (snapshot.currentMa / 1000).toFixed(1);
  switch (reason) {
    case 'charge-stop':
      return `a cell at ${Math.max(...snapshot.cellsMv)} mV is within ${s.cellMarginMv} mV of the charge stop (${s.stops(snapshot).chargeStopCellMv} mV)`;
    case 'discharge-stop':
      return `a cell at ${Math.min(...snapshot.cellsMv)} mV is within ${s.cellMarginMv} mV of the discharge stop (${s.stops(snapshot).dischargeStopCellMv} mV)`;
    case 'charge-current':
      return `charging at ${amps} A, above ${s.currentFraction} × ${s.maxChargeA} A`;
    case 'discharge-current':
      return `discharging at ${amps} A, above ${s.currentFraction} × ${s.maxDischargeA} A`;
    case 'changed':
      return `the BMS state changed (alarms, MOSFETs, or data after a gap)`;
  }
}
