/**
 * Field codecs shared by every profile of the "0x35x" family (inverter-can-protocols.md §1-§6):
 * 0x351, 0x355, 0x356, 0x35A, 0x35B, 0x35E, 0x35F. One function per frame, parameterised by what
 * differs between profiles (DLC, padding, invalid markers); the profile modules only pick the
 * parameters. Little-endian throughout (§1).
 */
import { ALARM_KINDS, type AlarmKind, type AlarmSet, type BatteryState } from './battery-state';
import { canFrame, type CanFrame } from './frame';
import type { AlarmPairValue, AlarmPairsMessage } from './messages';
import { decoder, type BatteryStatePatch, type FrameDecoder } from './profile';
import { S16_MAX, S16_MIN, U16_MAX, latin1, paddedAscii, printableAscii, readS16, readU16, stripPadding, toRaw, writeU16 } from './wire';

// ---------------------------------------------------------------------------------------------
// 0x351 limits: CVL u16 0.1 V, CCL s16 0.1 A, DCL s16 0.1 A, DVL u16 0.1 V (§3.2, §5.2, §6.2)

/**
 * CVL used when state.chargeVoltageV is not a positive number. The bridge guarantees CVL > 0, so
 * this is a caller bug; the encoder must neither throw on the hot path nor send CVL 0, which a
 * Victron GX reads as over-voltage and answers with a full-power discharge (§10.4, diyBMS #175).
 * It substitutes the present pack voltage (diyBMS's Deye fix, §10.4: CVL = battery voltage stops
 * charging without making the inverter discharge, §10.6), or, with no voltage either, 48.0 V, the
 * "before any BMS data" CVL growatt2solis runs on a Solis (vector g2s-351-no-data-safe-default).
 * A substituted CVL always goes out with CCL = 0: nothing may charge toward an invented target.
 */
export const FALLBACK_CHARGE_VOLTAGE_V = 48.0;

function chargeVoltageRaw(state: BatteryState): { raw: number; substituted: boolean } {
  const given = toRaw(state.chargeVoltageV, 10, 0, U16_MAX);
  if (given > 0) return { raw: given, substituted: false };
  const present = toRaw(state.voltageV, 10, 0, U16_MAX);
  return { raw: present > 0 ? present : FALLBACK_CHARGE_VOLTAGE_V * 10, substituted: true };
}

/**
 * The largest "stop" a limit may carry while its enable flag is clear: Sofar ignores 0 A and is
 * stopped with 0.1 A (diyBMS, §10.5), so the bridge's control.stop.currentA must reach the wire.
 */
export const STOP_CURRENT_MAX_A = 0.1;

/**
 * Always 8 bytes (Pylontech sends DLC 8 with DVL, §3.2; SMA and Victron use all four fields).
 * CCL and DCL are magnitudes clamped to 0..3276.7 A: a negative limit is never sent (§1, §10.8;
 * Solis reads them unsigned). A cleared enable flag zeroes any limit above STOP_CURRENT_MAX_A, so
 * no profile's frame set says "charge disabled" and "charge at 50 A" at once
 * (g2s-351-charge-disabled; SMA has no other way to express the flags, §5.6), while the configured
 * 0.1 A stop encoding still goes out. DVL is clamped to 0..6553.5 V (0 is accepted by Solis, g2s-351).
 */
export function encodeLimits(state: BatteryState): CanFrame {
  const cvl = chargeVoltageRaw(state);
  const chargeAllowed = state.requests.chargeEnable && !cvl.substituted;
  const limitRaw = (amps: number, allowed: boolean) => toRaw(allowed || amps <= STOP_CURRENT_MAX_A ? amps : 0, 10, 0, S16_MAX);
  const data = new Uint8Array(8);
  writeU16(data, 0, cvl.raw);
  writeU16(data, 2, cvl.substituted ? 0 : limitRaw(state.chargeCurrentLimitA, chargeAllowed));
  writeU16(data, 4, limitRaw(state.dischargeCurrentLimitA, state.requests.dischargeEnable));
  writeU16(data, 6, toRaw(state.dischargeVoltageV, 10, 0, U16_MAX));
  return canFrame(0x351, data);
}

/** DLC 6 holds CVL/CCL/DCL (the V1.2 doc leaves bytes 6-7 blank, §3.2); DVL only with DLC 8. */
export const limitsDecoder: FrameDecoder = decoder(6, (data) => {
  const dischargeVoltageV = data.length >= 8 ? readU16(data, 6) / 10 : null;
  const message = {
    kind: 'limits' as const,
    chargeVoltageV: readU16(data, 0) / 10,
    chargeCurrentLimitA: readS16(data, 2) / 10,
    dischargeCurrentLimitA: readS16(data, 4) / 10,
    dischargeVoltageV,
  };
  const patch: BatteryStatePatch = {
    chargeVoltageV: message.chargeVoltageV,
    chargeCurrentLimitA: message.chargeCurrentLimitA,
    dischargeCurrentLimitA: message.dischargeCurrentLimitA,
  };
  if (dischargeVoltageV !== null) patch.dischargeVoltageV = dischargeVoltageV;
  return { message, patch };
});

// ---------------------------------------------------------------------------------------------
// 0x355 SOC u16 1 %, SOH u16 1 %, [HiResSOC u16 0.01 %] (§3.2, §5.2, §6.2)

/**
 * Pylon: DLC 4, no hi-res field (§1 DLC row). SMA: DLC 6, hi-res 0xFFFF when not provided (§5.2).
 * Victron: DLC 8, hi-res 0 when not provided, as the BYD capture sends (byd-victron-355, §6.2).
 */
export type SocLayout = { dlc: 4 } | { dlc: 6 | 8; hiResNullRaw: number };

export function encodeSoc(state: BatteryState, layout: SocLayout): CanFrame {
  const data = new Uint8Array(layout.dlc);
  writeU16(data, 0, toRaw(state.socPct, 1, 0, 100));
  writeU16(data, 2, toRaw(state.sohPct, 1, 0, 100));
  if (layout.dlc !== 4) {
    const hiRes = state.socHiResPct;
    writeU16(data, 4, hiRes === null || !Number.isFinite(hiRes) ? layout.hiResNullRaw : toRaw(hiRes, 100, 0, 10000));
  }
  return canFrame(0x355, data);
}

export const socDecoder: FrameDecoder = decoder(4, (data) => {
  const hiResRaw = data.length >= 6 ? readU16(data, 4) : undefined;
  const socHiResPct = hiResRaw === undefined ? undefined : hiResRaw === U16_MAX ? null : hiResRaw / 100;
  const message = {
    kind: 'soc' as const,
    socPct: readU16(data, 0),
    sohPct: readU16(data, 2),
    socHiResPct,
    bytes6to7: data.length >= 8 ? readU16(data, 6) : null,
  };
  const patch: BatteryStatePatch = { socPct: message.socPct, sohPct: message.sohPct };
  if (socHiResPct !== undefined) patch.socHiResPct = socHiResPct;
  return { message, patch };
});

// ---------------------------------------------------------------------------------------------
// 0x356 voltage s16 0.01 V (§3.2 "Trust 0.01 V", §10.3), current s16 0.1 A + = charge, temp s16 0.1 °C

/** Pylon and SMA: DLC 6; Victron: DLC 8 zero padded (byd-victron-356). */
export function encodeMeasurements(state: BatteryState, dlc: 6 | 8): CanFrame {
  const data = new Uint8Array(dlc);
  writeU16(data, 0, toRaw(state.voltageV, 100, 0, S16_MAX));
  writeU16(data, 2, toRaw(state.currentA, 10, S16_MIN, S16_MAX));
  writeU16(data, 4, toRaw(state.temperatureC, 10, S16_MIN, S16_MAX));
  return canFrame(0x356, data);
}

export const measurementsDecoder: FrameDecoder = decoder(6, (data) => {
  const message = {
    kind: 'measurements' as const,
    voltageV: readS16(data, 0) / 100,
    currentA: readS16(data, 2) / 10,
    temperatureC: readS16(data, 4) / 10,
    bytes6to7: data.length >= 8 ? readU16(data, 6) : null,
  };
  return { message, patch: { voltageV: message.voltageV, currentA: message.currentA, temperatureC: message.temperatureC } };
});

// ---------------------------------------------------------------------------------------------
// 0x35A alarm / warning pairs (§5.3 table, same order on Victron §6.2)

/** Pair n (1-based) → kind; pairs 14-16 are reserved / "not for BMS" (§5.3). */
export const ALARM_PAIR_KINDS: readonly (AlarmKind | null)[] = [
  'general',
  'highVoltage',
  'lowVoltage',
  'highTemperature',
  'lowTemperature',
  'highTemperatureCharge',
  'lowTemperatureCharge',
  'highDischargeCurrent', // "Battery high current" = discharge; pair 9 is the charge one
  'highChargeCurrent',
  'contactor',
  'shortCircuit',
  'bmsInternal',
  'cellImbalance',
  null,
  null,
  null,
];

/**
 * Kinds with no pair of their own ride on the nearest one (encode only; decoding yields the
 * pair's own kind): the Pylon "system error" is the SMA/Victron General alarm, and a lost BMS link
 * ("internal communication fail", §3.2 table 4) is a BMS-internal fault from the inverter's view.
 */
export const ALARM_PAIR_ALIASES: Readonly<Partial<Record<AlarmKind, AlarmKind>>> = {
  systemError: 'general',
  communication: 'bmsInternal',
};

function pairRaised(set: AlarmSet, pairKind: AlarmKind): boolean {
  return ALARM_KINDS.some((k) => set[k] === true && (k === pairKind || ALARM_PAIR_ALIASES[k] === pairKind));
}

function encodePairs(set: AlarmSet, reservedPairValue: 0 | 2): AlarmPairValue[] {
  return ALARM_PAIR_KINDS.map((kind) => (kind === null ? reservedPairValue : pairRaised(set, kind) ? 1 : 2));
}

/**
 * 8 bytes, alarms in 0-3, warnings in 4-7. Every pair with a kind is 1 (raised) or 2 (cleared/OK):
 * SMA needs the "cleared" transition to see a message leave (§5.7), Victron reads 0 as "not
 * supported" and 2 as OK (§6.3). Reserved pairs 14-16: SMA 0 (not for BMS use, §5.3); Victron 2,
 * as BYD sends AA×8 and dfch's all-alarms frame has them (§6.2, dfch-test-35a-all-alarms).
 */
export function encodeAlarmPairs(state: BatteryState, reservedPairValue: 0 | 2): CanFrame {
  const data = new Uint8Array(8);
  const blocks = [encodePairs(state.alarms, reservedPairValue), encodePairs(state.warnings, reservedPairValue)];
  blocks.forEach((pairs, block) => pairs.forEach((value, i) => (data[block * 4 + (i >> 2)] |= value << ((i & 3) * 2))));
  return canFrame(0x35a, data);
}

function decodePairs(data: Uint8Array, firstByte: number): AlarmPairValue[] {
  return ALARM_PAIR_KINDS.map((_, i) => ((data[firstByte + (i >> 2)] >> ((i & 3) * 2)) & 3) as AlarmPairValue);
}

/** 1 → raised, 2 → cleared; 0 and 3 mean "ignored" (§5.3) and leave the kind unknown. */
function pairsToSet(pairs: readonly AlarmPairValue[]): AlarmSet {
  const set: AlarmSet = {};
  pairs.forEach((value, i) => {
    const kind = ALARM_PAIR_KINDS[i];
    if (kind !== null && (value === 1 || value === 2)) set[kind] = value === 1;
  });
  return set;
}

export const alarmPairsDecoder: FrameDecoder = decoder(8, (data) => {
  const message: AlarmPairsMessage = { kind: 'alarm-pairs', alarms: decodePairs(data, 0), warnings: decodePairs(data, 4) };
  return { message, patch: { alarms: pairsToSet(message.alarms), warnings: pairsToSet(message.warnings) } };
});

// ---------------------------------------------------------------------------------------------
// 0x35B events (§5.2: content not specified by SMA; BYD always 00×8). Decoded raw, never sent.

export const eventsDecoder: FrameDecoder = decoder(0, (data) => ({ message: { kind: 'events', bytes: data.slice() }, patch: {} }));

// ---------------------------------------------------------------------------------------------
// 0x35E manufacturer ASCII (§3.2, §10.1, §6.3)

/**
 * 8 bytes: Pylon/Goodwe/SMA pad with spaces ("PYLON" + 3 spaces, §10.1; never NUL as PYLON_EMU
 * does), Victron with NULs (byd-victron-35e). Only printable ASCII is kept and the text is cut to
 * 8 characters; an empty result falls back to the profile's default name.
 */
export function encodeName(state: BatteryState, defaultName: string, pad: 0x20 | 0x00): CanFrame {
  const given = printableAscii(state.identity.manufacturer).slice(0, 8);
  return canFrame(0x35e, paddedAscii(stripPadding(given) === '' ? defaultName : given, 8, pad));
}

/** Any DLC ≥ 1: Pytes sends 5 bytes, SEPLOS 6 ("Energy", uksa-readme-35e). */
export const nameDecoder: FrameDecoder = decoder(1, (data) => {
  const text = latin1(data);
  return { message: { kind: 'name', text }, patch: { identity: { manufacturer: stripPadding(text) } } };
});

// ---------------------------------------------------------------------------------------------
// 0x35F type, firmware version (major, minor binary, §6.2), capacity Ah, bytes 6-7

export interface InfoLayout {
  /** Bytes 0-1, little-endian. */
  productCode: number;
  /** Bytes 6-7. */
  bytes6to7: number;
}

export function encodeInfo(state: BatteryState, layout: InfoLayout): CanFrame {
  const data = new Uint8Array(8);
  writeU16(data, 0, layout.productCode);
  data[2] = toRaw(state.identity.firmwareMajor, 1, 0, 0xff);
  data[3] = toRaw(state.identity.firmwareMinor, 1, 0, 0xff);
  writeU16(data, 4, toRaw(state.identity.capacityAh, 1, 0, U16_MAX));
  writeU16(data, 6, layout.bytes6to7);
  return canFrame(0x35f, data);
}

/**
 * capacityIsInstalled: whether bytes 4-5 fill identity.capacityAh. False for Victron, where BYD
 * puts the *available* Ah here (105 of 156) and 0x379 carries the installed capacity (§6.2).
 */
export function infoDecoder(capacityIsInstalled: boolean): FrameDecoder {
  return decoder(6, (data) => {
    const message = {
      kind: 'info' as const,
      productCode: readU16(data, 0),
      firmwareMajor: data[2],
      firmwareMinor: data[3],
      capacityAh: readU16(data, 4),
      bytes6to7: data.length >= 8 ? readU16(data, 6) : null,
    };
    const identity: BatteryStatePatch['identity'] = { firmwareMajor: message.firmwareMajor, firmwareMinor: message.firmwareMinor };
    if (capacityIsInstalled) identity.capacityAh = message.capacityAh;
    return { message, patch: { identity } };
  });
}
