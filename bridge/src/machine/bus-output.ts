/**
 * What goes on the bus in each bms state (design/ARCHITECTURE.md, "What goes on the bus"):
 *   normal (connected)  the control policy's limits, flags and the BMS alarms;
 *   stale               last known measurements, CCL = DCL = 0, flags cleared, communication alarm;
 *   fault               CCL = DCL = 0, flags cleared, BMS alarms + system error;
 *   none                nothing (idle before the first valid snapshot, or fault gone silent).
 * The age of the data is checked when the set is built, not only by the chart's stale timer: a
 * process stopped for 10 s (SIGSTOP, a swapping Pi, a long GC) runs its expired timers in any
 * order on waking, and the periodic send must not go out with limits from before the stall
 * (issue 10, bug 5). Data older than `staleAfterMs` makes a normal set a stale one.
 * The measurements are the bank's (bank/bank.ts): one pack's own, or several packs' together.
 * A Pylon HV inverter that asked the battery to sleep (0x8200) gets the stopped set too, with
 * basic status "sleep": a sleep request only ever makes the bridge more conservative (issue 13).
 * Pure: the chart calls it from its transmit actions.
 */
import type { RunnableConfig } from '../config/schema';
import { CHEMISTRY_PRESETS, placeProtections, resolveControlSettings, stoppedChargeVoltageV, type BatteryPolicy, type ControlOutput } from '../control';
import { PROFILES, createPylonHvCodec, pylonHvVariant, type ProfileCodec } from '../protocol/can';
import type { BatteryState } from '../protocol/can/battery-state';
import type { CanFrame } from '../protocol/can/frame';
import type { BankMeasurements } from '../bank/bank';

export type BusMode = 'none' | 'normal' | 'stale' | 'fault';

/** The part of a sent frame set that decides whether a new one is a decrease. */
export interface TransmittedLimits {
  chargeVoltageV: number;
  chargeCurrentLimitA: number;
  dischargeCurrentLimitA: number;
  chargeEnable: boolean;
  dischargeEnable: boolean;
}

export interface BusInputs {
  busMode: BusMode;
  measurements: BankMeasurements | null;
  /** When the (oldest) data behind the output arrived, and now, on the same (monotonic) clock. */
  snapshotAtMs: number | null;
  nowMs: number;
  output: ControlOutput | null;
  config: RunnableConfig;
  /** Pylon HV: the inverter asked the battery to sleep. */
  sleeping?: boolean;
  /** The chemistry and settings the output came from (the first pack's, control/battery-policy.ts). */
  policy?: BatteryPolicy | null;
}

/** The codec of the configured profile, with its Pylon HV variant. */
export function profileCodec(config: RunnableConfig): ProfileCodec {
  return config.can.profile === 'pylon-hv' ? createPylonHvCodec(pylonHvVariant(config.can.pylonHv)) : PROFILES[config.can.profile];
}

/** Whether the profile transmits on its own (the 0x35x family) or only answers requests (Pylon HV, spec §7). */
export function broadcasts(config: RunnableConfig): boolean {
  return profileCodec(config).requestResponse !== true;
}

export function busFrames(inputs: BusInputs): { frames: CanFrame[]; limits: TransmittedLimits; state: BatteryState } | null {
  const { busMode, measurements, snapshotAtMs, nowMs, output, config } = inputs;
  if (busMode === 'none' || measurements === null || output === null) return null;
  const tooOld = snapshotAtMs === null || nowMs - snapshotAtMs >= config.state.staleAfterMs;
  const mode = busMode === 'normal' && tooOld ? 'stale' : busMode;
  const state = batteryStateFor(mode, measurements, output, config, inputs.sleeping === true, inputs.policy ?? null);
  return {
    frames: profileCodec(config).encode(state),
    state,
    limits: {
      chargeVoltageV: state.chargeVoltageV,
      chargeCurrentLimitA: state.chargeCurrentLimitA,
      dischargeCurrentLimitA: state.dischargeCurrentLimitA,
      chargeEnable: state.requests.chargeEnable,
      dischargeEnable: state.requests.dischargeEnable,
    },
  };
}

/**
 * Whether `next` tells the inverter less than `last` did: a lower CCL, DCL or CVL (issue 10, bug 9:
 * the CVL too, as a falling cell-overvoltage penalty must reach the inverter now), or an enable
 * flag cleared. The CVL is compared at the 0.1 V every profile encodes it with (spec §8), so a
 * change no frame can show sends nothing.
 */
export function isDecrease(next: TransmittedLimits, last: TransmittedLimits): boolean {
  return (
    next.chargeCurrentLimitA < last.chargeCurrentLimitA ||
    next.dischargeCurrentLimitA < last.dischargeCurrentLimitA ||
    Math.round(next.chargeVoltageV * 10) < Math.round(last.chargeVoltageV * 10) ||
    (last.chargeEnable && !next.chargeEnable) ||
    (last.dischargeEnable && !next.dischargeEnable)
  );
}

export function batteryStateFor(
  mode: Exclude<BusMode, 'none'>,
  m: BankMeasurements,
  output: ControlOutput,
  config: RunnableConfig,
  sleeping = false,
  policy: BatteryPolicy | null = null,
): BatteryState {
  const identity = config.can.identity;
  const codec = profileCodec(config);
  const dvlWindow = codec.limitWindows?.dischargeVoltageV;
  // The settings the output came from (the chemistry's preset where the config leaves points open).
  const settings = policy?.settings ?? resolveControlSettings(config.control, CHEMISTRY_PRESETS.lifepo4);
  const measured: BatteryState = {
    chargeVoltageV: output.chargeVoltageV,
    chargeCurrentLimitA: output.chargeCurrentLimitA,
    dischargeCurrentLimitA: output.dischargeCurrentLimitA,
    // At the nearest edge of what the inverter accepts: outside it, SMA keeps its older (default
    // 41 V) value (§5.1); the policy's DCL still stops discharge (battery-policy.ts logs the note).
    dischargeVoltageV: dvlWindow === undefined ? output.dischargeVoltageV : Math.min(dvlWindow[1], Math.max(dvlWindow[0], output.dischargeVoltageV)),
    socPct: output.socPct,
    // JK reports no SoH; estimate it from cycles as Uksa007 does (field-survey.md §2C:
    // 100 · (1 − cycles / 6000)), never below 0.
    sohPct: Math.max(0, Math.round(100 * (1 - m.cycles / 6000))),
    socHiResPct: output.socPct,
    voltageV: m.voltageMv / 1000,
    currentA: m.currentMa / 1000,
    // 0x356 temperature = the warmer battery sensor (spec §11); the MOSFET sensor is not a cell.
    temperatureC: m.maxTemperatureC.value,
    // Where a one-direction protection trip goes is the inverter's choice (control/alarms.ts).
    ...placeProtections({ alarms: output.alarms, warnings: output.warnings }, config.can.bmsProtections ?? codec.bmsProtections),
    requests: output.requests,
    identity: {
      manufacturer: identity.manufacturer ?? PROFILES[config.can.profile].defaultManufacturer,
      moduleCount: identity.moduleCount,
      capacityAh: identity.capacityAh ?? m.capacityAh,
      firmwareMajor: identity.firmwareMajor,
      firmwareMinor: identity.firmwareMinor,
    },
    // Cells numbered through the bank, pack by pack (one pack: its own numbers).
    cells: {
      minCellMv: m.minCellMv.value,
      maxCellMv: m.maxCellMv.value,
      minCellNumber: m.minCellMv.number,
      maxCellNumber: m.maxCellMv.number,
      minTemperatureC: m.minTemperatureC.value,
      maxTemperatureC: m.maxTemperatureC.value,
    },
    // The chemistry's nominal cell voltage × cells (Pylon HV 0x7320, Goodwe module count) and
    // 0x4250 cycles (a bank's are capacity-weighted, so rounded).
    pack: {
      cellCount: m.cellCount,
      cycles: Math.round(m.cycles),
      nominalVoltageV: (m.cellCount * CHEMISTRY_PRESETS[policy?.chemistry ?? 'lifepo4'].nominalCellMv) / 1000,
    },
  };
  if (mode === 'normal' && !sleeping) return measured;

  const stopped = {
    ...measured,
    chargeVoltageV: stoppedChargeVoltageV({ packMv: m.voltageMv, cellCount: m.cellCount }, settings, output),
    chargeCurrentLimitA: config.control.stop.currentA,
    dischargeCurrentLimitA: config.control.stop.currentA,
    requests: { chargeEnable: false, dischargeEnable: false, forceChargeI: false, forceChargeII: false, fullCharge: false },
  };
  if (mode === 'normal') return { ...stopped, sleeping: true };
  if (mode === 'stale') {
    // Pylon puts "internal communication fail" in the alarm table (byte 3 bit 3), i.e. a warning.
    return { ...stopped, warnings: { ...measured.warnings, communication: true } };
  }
  return { ...stopped, alarms: { ...measured.alarms, systemError: true } };
}
