/**
 * The virtual inverter's profiles: data only. Each names the bridge codec it reads the battery
 * with, the heartbeat the real brand sends, the rules its frames must obey and how the real
 * device reacts to the battery going quiet. Section numbers are those of
 * shared/spec/inverter-can-protocols.md.
 */
import { PYLON_HV_DEFAULT_VARIANT, PYLON_HV_PRESETS, type PROFILES, type PylonHvVariant } from '../../bridge/src/protocol/can';

export type CodecName = keyof typeof PROFILES;

export const INVERTER_PROFILE_NAMES = ['pylon-lv', 'deye', 'goodwe-lv', 'sofar', 'sma-si', 'victron', 'pylon-hv', 'sofar-hv', 'none'] as const;
export type InverterProfileName = (typeof INVERTER_PROFILE_NAMES)[number];

/**
 * What the inverter transmits:
 * - periodic-1s: 0x305 8×00 every second (Pylon V1.2 §3.1, Goodwe §8);
 * - reply-to-356: 0x305 8×00 only in answer to the battery's 0x356 (Deye, §8);
 * - sma-data: 0x305/0x306/0x307 with measured data every second (§5.4);
 * - victron-gx: 0x305, 0x306 8×00 and 0x307 "12 34 56 78 VIC 00" every second (§6.1);
 * - pylon-hv-poll: 0x4200 requests every poll period (§7, §8 "Pylon HV: only on request");
 * - none: never answers (§8 "some inverters never send 0x305", §10.11).
 */
export type HeartbeatKind = 'periodic-1s' | 'reply-to-356' | 'sma-data' | 'victron-gx' | 'pylon-hv-poll' | 'none';

/** How a Pylon HV inverter polls and what it accepts as an answer (§7). */
export interface PylonHvPolling {
  /** The inverter's own reading of the protocol (byte order, offsets, address). */
  variant: PylonHvVariant;
  /** 0x4200 ensemble request period (the heartbeat period). */
  pollPeriodMs: number;
  /** An equipment request (byte0 0x02) at start and then this often. */
  equipmentEveryMs: number;
  /** The complete answer must be in within this time. */
  replyTimeoutMs: number;
}

export interface InverterProfile {
  name: InverterProfileName;
  label: string;
  codec: CodecName;
  heartbeat: HeartbeatKind;
  heartbeatPeriodMs: number;
  /**
   * How often the inverter expects the battery's whole frame set (invariant 5 allows 1.5 ×).
   * Every profile here documents 1 s (§8 table: Pylon LV "all 6 frames every 1 s", SMA SI "every
   * second", Victron "~1 s", GoodWe "as Pylon").
   */
  framePeriodMs: number;
  /** reply-to-356 only: the usual answer latency. */
  replyDelayMs: number;
  /**
   * reply-to-356 only: "every 2 h Deye takes more than 3 s to respond" (§8, YamBMS). Every
   * `everyMs` one reply is held back by `delayMs`, and nothing else is answered meanwhile.
   */
  lateReplies: { everyMs: number; delayMs: number } | null;
  /** Ids the battery may send; anything else is a violation. null = any id is tolerated. */
  allowedIds: readonly number[] | null;
  /** Ids the battery must never send to this inverter. */
  forbiddenIds: readonly number[];
  /** Inhibit time per id (SMA §5.1: "not faster than every 200 msec"); null = none. */
  minIntervalMs: number | null;
  /** CVL values the inverter accepts (0.1 V resolution on the wire). */
  cvlWindowV: readonly [number, number];
  /** DVL values the inverter accepts; null = not checked. */
  dvlWindowV: readonly [number, number] | null;
  /**
   * What the inverter does with a CVL or DVL outside its window: 'used' anyway, or 'ignored' and
   * the last accepted value kept (SMA §5.1: "rejected without notice. The last sent acceptable
   * value is kept").
   */
  outOfWindow: 'used' | 'ignored';
  /**
   * A CCL/DCL at or below this stops that direction (0 for most). Sofar ignores 0 A and keeps its
   * last non-zero limit; 0.1 A is what stops it (diyBMS, §10.5). With zeroIgnored, a 0 A limit
   * is a violation and the power stage keeps the last non-zero one.
   */
  stopCurrentA: number;
  zeroIgnored: boolean;
  /**
   * The inverter stops using the battery when this id has not arrived for this long and resumes
   * when it does again.
   */
  batteryTimeout: { id: number; ms: number; code: string };
  /**
   * Above CVL the inverter discharges the pack down to CVL (§5.2 SMA "ignores DCL" then; §10.6
   * Deye discharged into the grid). 'within-dcl' keeps that discharge inside DCL and the
   * discharge-enable flag; 'ignore-dcl' is the Sunny Island.
   */
  aboveCvl: 'within-dcl' | 'ignore-dcl';
  /** Charging regulates this far below the requested CVL (§10.6: Deye ~0.1 V). */
  chargeBelowCvlV: number;
  /** The inverter uses 0x355 HiResSOC instead of SOC when present (§5.2 SMA). */
  usesHiResSoc: boolean;
  /** 0x35C / 0x360 / 0x372 / 0x4280 enable, forbidden and force-charge flags mean something to it (SMA has none, §5.2). */
  usesRequestFlags: boolean;
  /** Pylon HV polling; null for the broadcast 0x35x profiles. */
  pylonHv: PylonHvPolling | null;
  /** Pack voltages it believes; absent = PLAUSIBLE_PACK_VOLTAGE_V (a 48 V battery). */
  packVoltageWindowV?: readonly [number, number];
}

/** §3.3: "e.g. Solis 40.0-60.0 V" [UNVERIFIED]; no Pylon-family document states a window. */
const LV_CVL_WINDOW_V = [40, 60] as const;

/**
 * The Pylon family documents no inverter-side timeout (§13 question 3); 10 s matches the
 * bridge's own link-down threshold (§8) and makes a silent bridge visible in scenarios.
 */
const PYLON_FAMILY_TIMEOUT = { id: 0x351, ms: 10_000, code: 'battery-comm-lost' } as const;

const pylonFamily = {
  heartbeatPeriodMs: 1000,
  framePeriodMs: 1000,
  replyDelayMs: 0,
  lateReplies: null,
  allowedIds: null,
  // 0x305-0x307 belong to the inverter (§3.7: PYLON_EMU sending 0x305 from the battery is wrong).
  forbiddenIds: [0x305, 0x306, 0x307],
  minIntervalMs: null,
  cvlWindowV: LV_CVL_WINDOW_V,
  dvlWindowV: null,
  outOfWindow: 'used',
  stopCurrentA: 0,
  zeroIgnored: false,
  batteryTimeout: PYLON_FAMILY_TIMEOUT,
  aboveCvl: 'within-dcl',
  chargeBelowCvlV: 0,
  usesHiResSoc: false,
  usesRequestFlags: true,
  pylonHv: null,
} as const;

/** A Deye-style HV inverter: polls 0x4200 every second and reads V1.26 (little-endian with offsets, group 0). */
const pylonHvInverter = {
  ...pylonFamily,
  name: 'pylon-hv',
  label: 'Pylon HV inverter as a Deye HV (0x4200 every 1 s, answers within 800 ms, send group 0)',
  codec: 'pylon-hv',
  heartbeat: 'pylon-hv-poll',
  pylonHv: {
    variant: PYLON_HV_DEFAULT_VARIANT,
    // Battery-Emulator's battery side (acting as the inverter) sends its requests every 1 s (§7).
    pollPeriodMs: 1000,
    equipmentEveryMs: 30_000,
    // Not documented (§13). diyBMS spaces its 11 replies 60 ms apart (~660 ms) and works with
    // Deye and Sofar HV, so a real inverter waits at least that long; 800 ms is still below the poll period.
    replyTimeoutMs: 800,
  },
  heartbeatPeriodMs: 1000,
  // The inverter's "BMS communication fault" (Deye F58, §8) when 0x4210 stops coming; the delay is
  // not documented, so the Pylon family's 10 s.
  batteryTimeout: { id: 0x4210, ms: 10_000, code: 'F58 BMS_COMMUNICATION_FAULT' },
  // 0x4220 charge/discharge cut-off voltages of HV batteries: no window is documented; anything
  // from a 16 S LV pack to an 800 V string is plausible [UNVERIFIED].
  cvlWindowV: [40, 1000],
  packVoltageWindowV: [40, 1000],
  forbiddenIds: [],
} satisfies InverterProfile;

export const INVERTER_PROFILES: Record<InverterProfileName, InverterProfile> = {
  'pylon-lv': { ...pylonFamily, name: 'pylon-lv', label: 'Pylontech LV inverter (0x305 every 1 s)', codec: 'pylon-lv', heartbeat: 'periodic-1s' },
  deye: {
    ...pylonFamily,
    name: 'deye',
    label: 'Deye (0x305 only as a reply to 0x356, late every 2 h)',
    codec: 'pylon-lv',
    heartbeat: 'reply-to-356',
    // Not measured anywhere; a CAN reply from an inverter's MCU takes a few milliseconds.
    replyDelayMs: 5,
    lateReplies: { everyMs: 2 * 3_600_000, delayMs: 3_500 },
    chargeBelowCvlV: 0.1,
  },
  'goodwe-lv': { ...pylonFamily, name: 'goodwe-lv', label: 'GoodWe LV (Pylon frame set, 0x305 reply)', codec: 'goodwe-lv', heartbeat: 'periodic-1s' },
  sofar: {
    ...pylonFamily,
    name: 'sofar',
    label: 'Sofar (Pylon LV; ignores 0 A, stops at 0.1 A)',
    codec: 'pylon-lv',
    heartbeat: 'periodic-1s',
    // "If we pass ZERO's to SOFAR inverter it appears to ignore them so send 0.1V and 0.1Amps
    // instead to indicate stop" (diyBMS pylon_canbus.cpp, §10.5): it goes by the limits, so the
    // enable flags alone do not stop it either.
    usesRequestFlags: false,
    stopCurrentA: 0.1,
    zeroIgnored: true,
  },
  'sma-si': {
    name: 'sma-si',
    label: 'SMA Sunny Island (0x305/0x306/0x307 data every 1 s)',
    codec: 'sma-si',
    heartbeat: 'sma-data',
    heartbeatPeriodMs: 1000,
    framePeriodMs: 1000,
    replyDelayMs: 0,
    lateReplies: null,
    // §5.1: "No further CAN-IDs are allowed to be used than defined in this document".
    allowedIds: [0x00f, 0x351, 0x355, 0x356, 0x35a, 0x35b, 0x35e, 0x35f],
    // §5.6: 0x35C starts/stops an SI on some firmware; 0x359 is not in the TI.
    forbiddenIds: [0x359, 0x35c],
    minIntervalMs: 200,
    cvlWindowV: [41, 63],
    dvlWindowV: [41, 48],
    outOfWindow: 'ignored',
    stopCurrentA: 0,
    zeroIgnored: false,
    // §5.5: no 0x355 for 60 s → standby with F952 ExtBMSTimeout.
    batteryTimeout: { id: 0x355, ms: 60_000, code: 'F952 ExtBMSTimeout' },
    aboveCvl: 'ignore-dcl',
    chargeBelowCvlV: 0,
    usesHiResSoc: true,
    usesRequestFlags: false,
    pylonHv: null,
  },
  'pylon-hv': pylonHvInverter,
  // Sofar HV reads the same protocol at send group 1 (§7, Battery-Emulator wiki).
  'sofar-hv': {
    ...pylonHvInverter,
    name: 'sofar-hv',
    label: 'Sofar HV inverter (Pylon HV at send group 1: replies 0x4211..., commands 0x8201...)',
    pylonHv: { ...pylonHvInverter.pylonHv, variant: PYLON_HV_PRESETS.sofar },
    batteryTimeout: { id: 0x4211, ms: 10_000, code: 'battery communication fault' },
  },
  victron: {
    ...pylonFamily,
    name: 'victron',
    label: 'Victron GX (0x305-0x307 every 1 s)',
    codec: 'victron',
    heartbeat: 'victron-gx',
    // §6.1: "351 message must be sent at least every 3 seconds - or Victron will stop".
    batteryTimeout: { id: 0x351, ms: 3_000, code: 'bms-disconnected' },
  },
  none: { ...pylonFamily, name: 'none', label: 'silent inverter (never answers; reads Pylon LV)', codec: 'pylon-lv', heartbeat: 'none' },
};

export function isInverterProfileName(name: string): name is InverterProfileName {
  return (INVERTER_PROFILE_NAMES as readonly string[]).includes(name);
}

/**
 * 0x356 pack voltage a 48 V-class inverter can believe (§3.3 "voltage plausible"): wide enough
 * for 15 S and 16 S LiFePO4 from empty to full, narrow enough to catch 0.00 V placeholders and a
 * 0.1 V-unit encoder (§10.3, 52.0 V read as 5.2 V).
 */
export const PLAUSIBLE_PACK_VOLTAGE_V = [30, 65] as const;

/** Same limits as the bridge's own BMS plausibility defaults (config bms.plausibility). */
export const PLAUSIBLE_TEMPERATURE_C = [-40, 100] as const;
