/**
 * The judge's thresholds, from what a scenario declares and from the protocol documents only:
 * the battery (cell count and the owner's cell limits, a battery profile), the inverter profile
 * (its frame period), the poll interval, reply timeout and stale timeout the scenario gives the
 * bridge, and the JK's reply time (jk-serial-protocol.md §2.10). Nothing here reads the bridge's
 * config loader or policy: a bridge whose defaults drifted is judged by the declaration, not by
 * itself. Pure.
 */
import type { CheckerThresholds } from './checker';
import type { InverterProfile } from './profiles';

/** The battery as a scenario declares it (structurally sim-bms's BatteryProfile; no import). */
export interface DeclaredBattery {
  cells: number;
  limits: { chargeStopCellMv: number; dischargeStopCellMv: number; maxChargeCellMv: number };
}

/** The BMS timing a scenario gives the bridge (already stretched by the time scale). */
export interface DeclaredTiming {
  pollIntervalMs: number;
  replyTimeoutMs: number;
  staleAfterMs: number;
}

/**
 * From a snapshot that shows a cell past a stop voltage to the decrease on the bus: decode, one
 * chart step, encode, the CAN write and the inverter's read. The bench measures the whole path
 * (poll wait included) at p99 496 ms with a 500 ms poll (bench/README.md), so the work itself
 * takes well under this.
 */
export const PROCESSING_MARGIN_MS = 100;

/** The JK's own baud rate (§2.10): 10 bits a byte on the wire. */
const JK_BYTES_PER_MS = 115_200 / 10 / 1000;
/** §2.11 point 1: a JK starts its reply within 0.2-5 ms of the request's last byte. */
const JK_REPLY_LATENCY_MS = 5;

/**
 * How long a JK takes to answer a read-all: its latency plus the wire time of the whole frame
 * (§2.11 point 3: LENGTH = 241 + 3N, the frame is LENGTH + 2 bytes; §2.10: a 273-byte reply is
 * complete 26 ms after the request).
 */
export function jkReplyTimeMs(cells: number): number {
  return JK_REPLY_LATENCY_MS + Math.ceil((243 + 3 * cells) / JK_BYTES_PER_MS);
}

/**
 * The thresholds of invariants 1-5 for this battery, inverter and timing. timeScale stretches
 * what the protocol documents fix (frame period, reply time, processing margin) on machines that
 * run JavaScript slower (the vcan VM, README "Tests"); the declared timing is already scaled.
 */
export function judgeThresholds(battery: DeclaredBattery, inverter: InverterProfile, timing: DeclaredTiming, timeScale = 1): CheckerThresholds {
  return {
    framePeriodMs: inverter.framePeriodMs * timeScale,
    maxChargeVoltageV: (battery.cells * battery.limits.maxChargeCellMv) / 1000,
    chargeStopCellMv: battery.limits.chargeStopCellMv,
    dischargeStopCellMv: battery.limits.dischargeStopCellMv,
    pollIntervalMs: timing.pollIntervalMs,
    replyTimeMs: jkReplyTimeMs(battery.cells) * timeScale,
    processingMarginMs: PROCESSING_MARGIN_MS * timeScale,
    staleAfterMs: timing.staleAfterMs,
  };
}

/**
 * A standalone virtual inverter (npm run sim-inverter) has no battery truth, so invariants 1-3
 * are not judged and only the frame rules use these: the profile's period (or --period-ms) and
 * a CVL maximum (--max-cvl; default 16 × 3.65 V, the LiFePO4 cell maximum on the common 48 V pack).
 */
export function standaloneThresholds(inverter: InverterProfile, options: { periodMs?: number; maxChargeVoltageV?: number }): CheckerThresholds {
  const framePeriodMs = options.periodMs ?? inverter.framePeriodMs;
  return {
    framePeriodMs,
    maxChargeVoltageV: options.maxChargeVoltageV ?? 58.4,
    chargeStopCellMv: 3650,
    dischargeStopCellMv: 2500,
    pollIntervalMs: 0,
    replyTimeMs: 0,
    processingMarginMs: 0,
    staleAfterMs: 5 * framePeriodMs,
  };
}
