/**
 * Shared material for the sim-inverter tests: thresholds, a controllable battery truth and
 * helpers that build the bridge's frames with the bridge's own encoders.
 */
import { PROFILES, canFrame, type BatteryState, type CanFrame } from '../../bridge/src/protocol/can';
import type { BatteryTruth, CheckerThresholds, MeasuredTruth, ServedTruth } from '../src/checker';
import type { CodecName } from '../src/profiles';

export { baseState } from '../../bridge/test/protocol/can/helpers';

/** Reaction bound 500 + 30 + 100 = 630 ms. */
export const THRESHOLDS: CheckerThresholds = {
  framePeriodMs: 1000,
  maxChargeVoltageV: 58.4,
  chargeStopCellMv: 3500,
  dischargeStopCellMv: 2800,
  pollIntervalMs: 500,
  replyTimeMs: 30,
  processingMarginMs: 100,
  staleAfterMs: 5000,
};

type Cells = { maxCellMv?: number; minCellMv?: number; packMv?: number };

/**
 * A BMS whose last acceptable answer and present measurement the test sets by hand; serve()
 * sets both (the BMS measured what it answered), measure() only the measurement.
 */
export class FakeTruth implements BatteryTruth {
  served: ServedTruth | null = null;
  now: MeasuredTruth | null = null;

  serve(atMs: number, cells: Cells = {}): void {
    this.measure(cells);
    this.served = { atMs, ...this.now! };
  }

  measure(cells: Cells = {}): void {
    this.now = { maxCellMv: cells.maxCellMv ?? 3300, minCellMv: cells.minCellMv ?? 3280, packMv: cells.packMv ?? 52_800 };
  }

  lastAccepted(): ServedTruth | null {
    return this.served;
  }

  measured(): MeasuredTruth | null {
    return this.now;
  }
}

/** The full frame set the bridge sends for this state with this codec. */
export function frameSet(codec: CodecName, state: BatteryState): CanFrame[] {
  return PROFILES[codec].encode(state);
}

/** One frame of the set, by id. */
export function frameOfSet(codec: CodecName, state: BatteryState, id: number): CanFrame {
  const frame = frameSet(codec, state).find((f) => f.id === id);
  if (!frame) throw new Error(`${codec} sends no 0x${id.toString(16)}`);
  return frame;
}

/** 0x351 with raw little-endian fields, for values the encoder refuses to produce. */
export function limitsFrame(cvlV: number, cclA: number, dclA: number, dvlV: number): CanFrame {
  const data = new Uint8Array(8);
  const view = new DataView(data.buffer);
  view.setUint16(0, Math.round(cvlV * 10), true);
  view.setInt16(2, Math.round(cclA * 10), true);
  view.setInt16(4, Math.round(dclA * 10), true);
  view.setUint16(6, Math.round(dvlV * 10), true);
  return canFrame(0x351, data);
}
