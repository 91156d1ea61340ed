/**
 * Pylontech high-voltage CAN (inverter-can-protocols.md §7): 29-bit ids, 500 kbit/s, request and
 * response. The battery never transmits on its own; it answers the inverter's 0x4200.
 *
 * Sources (§0, §7): Battery-Emulator PYLON-BATTERY (decoder "based on CAN-Bus-Protocol-Pylon-high-
 * voltage-V1.26"), Battery-Emulator PYLON-CAN (emulator, initial frame constants), diyBMS
 * pylonforce (Sermatec HV V1.18 / Deye HV V1.17 field names and the 0x8200/0x8210/0x8240 notes).
 *
 * Inverter → battery (decodePylonHvRequest / encodePylonHvRequest):
 *   0x4200        byte0 0x00 ensemble information → 0x4210..0x4290 (+address)
 *                 byte0 0x02 system equipment information → 0x7310..0x7340 (+address)
 *                 byte0 0x01 cell information (Battery-Emulator's battery side); no public source
 *                 gives the reply layout, so it is recognised and not answered
 *   0x8200+addr   byte0 0x55 sleep, 0xAA quit sleep, others "Null"
 *   0x8210+addr   byte0 0xAA charge command, byte1 0xAA discharge command ("close the relay when in
 *                 under-/over-voltage protection")
 *   0x8240+addr   mask "external communication fail" for 5 min; the battery answers 0x8250+addr,
 *                 byte0 0xAA "will act" or 0x00 "won't act"
 *   0x3010        heartbeat (`01 00 …` in Battery-Emulator's battery side)
 *
 * Battery → inverter, little-endian with offsets by default (§7 "Trust LE + offsets"; the golden
 * vectors pylonhv-be-* only decode that way): current = raw − 30000 (0.1 A), temperatures = raw −
 * 1000 (0.1 °C), max charge current = 30000 + I, max discharge current = 30000 − I (V1.26; GCE
 * sends 30000 + I, Battery-Emulator PR #2622). The variant (byte order, offsets, discharge sign,
 * address) is a setting: Battery-Emulator's inverter side defaults to big-endian without offsets and
 * its wiki needs "both toggles" for Deye and send group 1 for Sofar (§7).
 */
import type { AlarmKind, BatteryState } from './battery-state';
import { canFrame, formatCanId, type CanFrame } from './frame';
import type { PylonHvMessage } from './messages';
import type { BatteryStatePatch, CanDecodeResult, ProfileCodec } from './profile';
import { U16_MAX, latin1, paddedAscii, printableAscii, stripPadding, toRaw } from './wire';

export interface PylonHvVariant {
  byteOrder: 'le' | 'be';
  /** Currents as raw − 30000 (0.1 A); off = signed 16-bit 0.1 A. */
  currentOffset: boolean;
  /** Temperatures as raw − 1000 (0.1 °C); off = signed 16-bit 0.1 °C. */
  temperatureOffset: boolean;
  /** Max discharge current with the offset: 30000 − I (V1.26) or 30000 + I (GCE). */
  dischargeLimitSign: 'minus' | 'plus';
  /** "Send group": reply ids are base + address; also the 0x8200/0x8210/0x8240 ids it listens to. */
  address: number;
}

/** V1.26 as decoded by Battery-Emulator's battery side; what Deye HV needs (§7, BE wiki). */
export const PYLON_HV_DEFAULT_VARIANT: PylonHvVariant = {
  byteOrder: 'le',
  currentOffset: true,
  temperatureOffset: true,
  dischargeLimitSign: 'minus',
  address: 0,
};

/**
 * Inverters of the spec's table that need a variant (§7, §9 last row, Battery-Emulator wiki):
 * deye = V1.26 as above, also for Solis S6-EH3P, GoodWe ET/EH, Sungrow SH-RT and Ingeteam;
 * sofar = the same with send group 1.
 */
export const PYLON_HV_PRESETS = {
  deye: PYLON_HV_DEFAULT_VARIANT,
  sofar: { ...PYLON_HV_DEFAULT_VARIANT, address: 1 },
} as const satisfies Record<string, PylonHvVariant>;
export type PylonHvPreset = keyof typeof PYLON_HV_PRESETS;

/** A preset with single settings overriding it (configuration `can.pylonHv`). */
export function pylonHvVariant(settings: { preset: PylonHvPreset } & Partial<PylonHvVariant>): PylonHvVariant {
  const { preset, ...overrides } = settings;
  const chosen: Partial<PylonHvVariant> = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...PYLON_HV_PRESETS[preset], ...chosen };
}

/** Highest send group: reply ids stay inside their 0x10 block (0x4210..0x421F). */
export const PYLON_HV_MAX_ADDRESS = 15;

export const PYLON_HV_REQUEST_ID = 0x4200;
export const PYLON_HV_HEARTBEAT_ID = 0x3010;
export const PYLON_HV_SLEEP_ID = 0x8200;
export const PYLON_HV_COMMAND_ID = 0x8210;
export const PYLON_HV_MASK_ID = 0x8240;
export const PYLON_HV_MASK_REPLY_ID = 0x8250;

/** Ensemble reply bases, in diyBMS's send order (0x42E0/0x42F0 names are Deye V1.17 only; left out). */
export const PYLON_HV_ENSEMBLE_IDS = [0x4210, 0x4220, 0x4230, 0x4240, 0x4250, 0x4260, 0x4270, 0x4280, 0x4290] as const;
export const PYLON_HV_EQUIPMENT_IDS = [0x7310, 0x7320, 0x7330, 0x7340] as const;

const CURRENT_OFFSET = 30000;
const TEMPERATURE_OFFSET = 1000;
/** 0x4280 byte 0 / byte 1: "forbidden" mark. */
const FORBIDDEN = 0xaa;
const SLEEP = 0x55;
const WAKE = 0xaa;
const COMMAND = 0xaa;

// ---------------------------------------------------------------------------------------------
// Requests (inverter → battery)

export type PylonHvRequestKind = 'ensemble' | 'cells' | 'equipment';

export type PylonHvRequest =
  | { kind: 'info'; info: PylonHvRequestKind }
  | { kind: 'sleep'; sleep: boolean }
  | { kind: 'command'; charge: boolean; discharge: boolean }
  | { kind: 'mask-comm-failure' }
  | { kind: 'heartbeat' };

const INFO_BYTE: Record<PylonHvRequestKind, number> = { ensemble: 0x00, cells: 0x01, equipment: 0x02 };

export type PylonHvRequestResult =
  | { ok: true; request: PylonHvRequest }
  /** UNKNOWN_ID: not an HV request at all; MALFORMED: an HV id with content no document defines. */
  | { ok: false; code: 'UNKNOWN_ID' | 'MALFORMED'; detail: string };

export function encodePylonHvRequest(request: PylonHvRequest, address = 0): CanFrame {
  const data = new Uint8Array(8);
  switch (request.kind) {
    case 'info':
      data[0] = INFO_BYTE[request.info];
      return canFrame(PYLON_HV_REQUEST_ID, data, true);
    case 'sleep':
      data[0] = request.sleep ? SLEEP : WAKE;
      return canFrame(PYLON_HV_SLEEP_ID + address, data, true);
    case 'command':
      data[0] = request.charge ? COMMAND : 0;
      data[1] = request.discharge ? COMMAND : 0;
      return canFrame(PYLON_HV_COMMAND_ID + address, data, true);
    case 'mask-comm-failure':
      return canFrame(PYLON_HV_MASK_ID + address, data, true);
    case 'heartbeat':
      data[0] = 0x01;
      return canFrame(PYLON_HV_HEARTBEAT_ID, data, true);
  }
}

/**
 * One inverter frame → a request. 11-bit frames are never HV requests (§7: 29-bit ids). The
 * address-bearing commands are only ours at our address (diyBMS compares id == 0x8200 + addr).
 */
export function decodePylonHvRequest(frame: CanFrame, address = 0): PylonHvRequestResult {
  const { id, data } = frame;
  const name = `0x${formatCanId(frame)}`;
  if (frame.ext !== true) return { ok: false, code: 'UNKNOWN_ID', detail: `11-bit ${name} is not a Pylon HV request` };
  const malformed = (detail: string): PylonHvRequestResult => ({ ok: false, code: 'MALFORMED', detail: `${name}: ${detail}` });
  switch (id) {
    case PYLON_HV_REQUEST_ID: {
      if (data.length < 1) return malformed('DLC 0, the request type is byte 0');
      const info = (Object.keys(INFO_BYTE) as PylonHvRequestKind[]).find((k) => INFO_BYTE[k] === data[0]);
      return info === undefined ? malformed(`request type 0x${hex2(data[0])} is not 0x00/0x01/0x02`) : { ok: true, request: { kind: 'info', info } };
    }
    case PYLON_HV_SLEEP_ID + address:
      if (data.length < 1) return malformed('DLC 0');
      if (data[0] === SLEEP) return { ok: true, request: { kind: 'sleep', sleep: true } };
      if (data[0] === WAKE) return { ok: true, request: { kind: 'sleep', sleep: false } };
      return malformed(`byte 0 0x${hex2(data[0])} is neither 0x55 (sleep) nor 0xAA (quit sleep)`);
    case PYLON_HV_COMMAND_ID + address: {
      if (data.length < 2) return malformed(`DLC ${data.length}, the commands are bytes 0 and 1`);
      const charge = data[0] === COMMAND;
      const discharge = data[1] === COMMAND;
      return charge || discharge ? { ok: true, request: { kind: 'command', charge, discharge } } : malformed('neither byte 0 nor byte 1 is 0xAA');
    }
    case PYLON_HV_MASK_ID + address:
      return { ok: true, request: { kind: 'mask-comm-failure' } };
    case PYLON_HV_HEARTBEAT_ID:
      return { ok: true, request: { kind: 'heartbeat' } };
    default:
      return { ok: false, code: 'UNKNOWN_ID', detail: `${name} is not a Pylon HV request at address ${address}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Field coding per variant

class Fields {
  constructor(readonly variant: PylonHvVariant) {}

  write(data: Uint8Array, offset: number, raw: number): void {
    const lo = raw & 0xff;
    const hi = (raw >> 8) & 0xff;
    data[offset] = this.variant.byteOrder === 'le' ? lo : hi;
    data[offset + 1] = this.variant.byteOrder === 'le' ? hi : lo;
  }

  read(data: Uint8Array, offset: number): number {
    return this.variant.byteOrder === 'le' ? data[offset] | (data[offset + 1] << 8) : (data[offset] << 8) | data[offset + 1];
  }

  private signed(raw: number): number {
    return raw >= 0x8000 ? raw - 0x10000 : raw;
  }

  /** Signed 0.1-unit value with an offset, or as two's complement without. */
  private rawOffset(value: number, offset: number, useOffset: boolean): number {
    return useOffset ? toRaw(value, 10, -offset, U16_MAX - offset) + offset : toRaw(value, 10, -0x8000, 0x7fff) & 0xffff;
  }

  current(value: number): number {
    return this.rawOffset(value, CURRENT_OFFSET, this.variant.currentOffset);
  }

  readCurrent(data: Uint8Array, offset: number): number {
    const raw = this.read(data, offset);
    return (this.variant.currentOffset ? raw - CURRENT_OFFSET : this.signed(raw)) / 10;
  }

  temperature(value: number): number {
    return this.rawOffset(value, TEMPERATURE_OFFSET, this.variant.temperatureOffset);
  }

  readTemperature(data: Uint8Array, offset: number): number {
    const raw = this.read(data, offset);
    return (this.variant.temperatureOffset ? raw - TEMPERATURE_OFFSET : this.signed(raw)) / 10;
  }

  /** Max charge (+) / discharge limit magnitudes, ≥ 0, as the variant writes them. */
  chargeLimit(amps: number): number {
    const magnitude = toRaw(amps, 10, 0, this.variant.currentOffset ? U16_MAX - CURRENT_OFFSET : 0x7fff);
    return this.variant.currentOffset ? CURRENT_OFFSET + magnitude : magnitude;
  }

  dischargeLimit(amps: number): number {
    if (!this.variant.currentOffset) return toRaw(amps, 10, 0, 0x7fff);
    if (this.variant.dischargeLimitSign === 'plus') return CURRENT_OFFSET + toRaw(amps, 10, 0, U16_MAX - CURRENT_OFFSET);
    return CURRENT_OFFSET - toRaw(amps, 10, 0, CURRENT_OFFSET);
  }

  readChargeLimit(data: Uint8Array, offset: number): number {
    const raw = this.read(data, offset);
    return (this.variant.currentOffset ? raw - CURRENT_OFFSET : this.signed(raw)) / 10;
  }

  /** As a magnitude: a limit that decodes negative is the sender's fault, kept visible (< 0). */
  readDischargeLimit(data: Uint8Array, offset: number): number {
    const raw = this.read(data, offset);
    if (!this.variant.currentOffset) return this.signed(raw) / 10;
    return (this.variant.dischargeLimitSign === 'plus' ? raw - CURRENT_OFFSET : CURRENT_OFFSET - raw) / 10;
  }
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

function u16(value: number, factor = 1): number {
  return toRaw(value, factor, 0, U16_MAX);
}

// ---------------------------------------------------------------------------------------------
// 0x4250 status (diyBMS pylonforce data4250, from the Sermatec/Deye HV documents)

/** Byte 0 bits 0-2. */
export const PYLON_HV_BASIC_STATUS = ['sleep', 'charge', 'discharge', 'idle'] as const;
export type PylonHvBasicStatus = (typeof PYLON_HV_BASIC_STATUS)[number];

/**
 * Alarm (bytes 4-5) and protection (bytes 6-7) bits, the same in both words: 0 cell low V,
 * 1 cell high V, 2 system low V, 3 system high V, 4 charge low T, 5 charge high T, 6 discharge
 * low T, 7 discharge high T, 8 charge over-current, 9 discharge over-current, 10 module low V,
 * 11 module high V. BatteryState.alarms fill the protection word, warnings the alarm word.
 * A kind without a bit of its own is not mapped (as in pylon-lv.ts: no escalation).
 */
export const PYLON_HV_ALARM_BITS: readonly (readonly [AlarmKind, readonly number[]])[] = [
  ['lowVoltage', [0]],
  ['highVoltage', [1]],
  ['lowTemperature', [4, 6]],
  ['highTemperature', [5, 7]],
  ['lowTemperatureCharge', [4]],
  ['highTemperatureCharge', [5]],
  ['highChargeCurrent', [8]],
  ['highDischargeCurrent', [9]],
];

/**
 * Byte 3 error bits: 0 voltage sensor, 1 temperature sensor, 2 internal communication, 3 input
 * over-voltage, 4 input reversal, 5 relay, 6 battery damage, 7 other. The bridge reports a lost
 * BMS link as "internal communication" and its system errors as "other".
 */
const ERROR_INTERNAL_COMM = 1 << 2;
const ERROR_OTHER = 1 << 7;
const OTHER_ERROR_KINDS: readonly AlarmKind[] = ['systemError', 'general', 'bmsInternal', 'contactor', 'shortCircuit'];

function alarmWord(set: BatteryState['alarms']): number {
  let word = 0;
  for (const [kind, bits] of PYLON_HV_ALARM_BITS) if (set[kind] === true) for (const bit of bits) word |= 1 << bit;
  return word;
}

function alarmsOfWord(word: number): Partial<Record<AlarmKind, boolean>> {
  const out: Partial<Record<AlarmKind, boolean>> = {};
  for (const [kind, bits] of PYLON_HV_ALARM_BITS) out[kind] = bits.every((bit) => ((word >> bit) & 1) === 1);
  return out;
}

function basicStatus(state: BatteryState): PylonHvBasicStatus {
  if (state.sleeping === true) return 'sleep';
  if (state.currentA > 0) return 'charge';
  if (state.currentA < 0) return 'discharge';
  return 'idle';
}

// ---------------------------------------------------------------------------------------------
// Encoders

/**
 * Modules in series for 0x7320 / 0x4260 (identity.moduleCount, ≥ 1). 0x4260 carries a module
 * voltage in mV in 16 bits, so a pack above 65.5 V needs moduleCount ≥ 2 to report it unclamped
 * (README: can.identity.moduleCount for pylon-hv). Not derived here: the golden 0x7320
 * (pylonhv-be-7320) reports modules of 30 cells, so the field's real limits are not known.
 */
function modules(state: BatteryState): number {
  return toRaw(state.identity.moduleCount, 1, 1, 0xff);
}

/**
 * Every reply frame is DLC 8 (all sources). Enable flags: a cleared flag zeroes its limit and sets
 * the 0x4280 forbidden mark, so the set never says "forbidden" and "limit > 0" at once (as the
 * 0x35x encoders do, frames-35x.ts encodeLimits).
 */
export function encodePylonHvEnsemble(state: BatteryState, variant: PylonHvVariant = PYLON_HV_DEFAULT_VARIANT): CanFrame[] {
  const f = new Fields(variant);
  const frame = (base: number, fill: (d: Uint8Array) => void): CanFrame => {
    const d = new Uint8Array(8);
    fill(d);
    return canFrame(base + variant.address, d, true);
  };
  const chargeAllowed = state.requests.chargeEnable;
  const dischargeAllowed = state.requests.dischargeEnable;
  const c = state.cells;
  const n = modules(state);
  const moduleMv = (state.voltageV * 1000) / n;
  return [
    frame(0x4210, (d) => {
      f.write(d, 0, u16(state.voltageV, 10));
      f.write(d, 2, f.current(state.currentA));
      f.write(d, 4, f.temperature(state.temperatureC));
      d[6] = toRaw(state.socPct, 1, 0, 100);
      d[7] = toRaw(state.sohPct, 1, 0, 100);
    }),
    frame(0x4220, (d) => {
      f.write(d, 0, u16(state.chargeVoltageV, 10));
      f.write(d, 2, u16(state.dischargeVoltageV, 10));
      f.write(d, 4, f.chargeLimit(chargeAllowed ? state.chargeCurrentLimitA : 0));
      f.write(d, 6, f.dischargeLimit(dischargeAllowed ? state.dischargeCurrentLimitA : 0));
    }),
    frame(0x4230, (d) => {
      f.write(d, 0, u16(c.maxCellMv));
      f.write(d, 2, u16(c.minCellMv));
      f.write(d, 4, u16(c.maxCellNumber));
      f.write(d, 6, u16(c.minCellNumber));
    }),
    frame(0x4240, (d) => {
      f.write(d, 0, f.temperature(c.maxTemperatureC));
      f.write(d, 2, f.temperature(c.minTemperatureC));
      f.write(d, 4, u16(c.maxTemperatureSensorNumber ?? 1));
      f.write(d, 6, u16(c.minTemperatureSensorNumber ?? 1));
    }),
    frame(0x4250, (d) => {
      const r = state.requests;
      d[0] = PYLON_HV_BASIC_STATUS.indexOf(basicStatus(state)) | (r.forceChargeI || r.forceChargeII ? 0x08 : 0) | (r.fullCharge ? 0x10 : 0);
      f.write(d, 1, u16(state.pack?.cycles ?? 0));
      const other = OTHER_ERROR_KINDS.some((k) => state.alarms[k] === true);
      const comm = state.alarms.communication === true || state.warnings.communication === true;
      d[3] = (comm ? ERROR_INTERNAL_COMM : 0) | (other ? ERROR_OTHER : 0);
      f.write(d, 4, alarmWord(state.warnings));
      f.write(d, 6, alarmWord(state.alarms));
    }),
    // One JK pack = identity.moduleCount equal modules: max = min = pack / N, numbers 1 and N.
    frame(0x4260, (d) => {
      f.write(d, 0, u16(moduleMv));
      f.write(d, 2, u16(moduleMv));
      f.write(d, 4, 1);
      f.write(d, 6, n);
    }),
    frame(0x4270, (d) => {
      f.write(d, 0, f.temperature(c.maxTemperatureC));
      f.write(d, 2, f.temperature(c.minTemperatureC));
      f.write(d, 4, 1);
      f.write(d, 6, n);
    }),
    frame(0x4280, (d) => {
      d[0] = chargeAllowed ? 0 : FORBIDDEN;
      d[1] = dischargeAllowed ? 0 : FORBIDDEN;
    }),
    // Fault extension bits (diyBMS "guessed"): none.
    frame(0x4290, () => undefined),
  ];
}

export function encodePylonHvEquipment(state: BatteryState, variant: PylonHvVariant = PYLON_HV_DEFAULT_VARIANT): CanFrame[] {
  const f = new Fields(variant);
  const id = (base: number): number => base + variant.address;
  const n = modules(state);
  const cells = toRaw(state.pack?.cellCount ?? 0, 1, 0, U16_MAX);
  const versions = new Uint8Array(8);
  // Hardware version 1, hardware 1.0, software = the configured firmware version (diyBMS layout).
  versions[0] = 1;
  versions[2] = 1;
  versions[4] = toRaw(state.identity.firmwareMajor, 1, 0, 0xff);
  versions[5] = toRaw(state.identity.firmwareMinor, 1, 0, 0xff);
  const quantities = new Uint8Array(8);
  f.write(quantities, 0, cells);
  quantities[2] = n;
  quantities[3] = toRaw(cells / n, 1, 0, 0xff);
  f.write(quantities, 4, u16(state.pack?.nominalVoltageV ?? 0));
  f.write(quantities, 6, u16(state.identity.capacityAh));
  // 16 bytes of name, NUL padded (diyBMS strncpy).
  const name = paddedAscii(state.identity.manufacturer, 16, 0x00);
  return [canFrame(id(0x7310), versions, true), canFrame(id(0x7320), quantities, true), canFrame(id(0x7330), name.slice(0, 8), true), canFrame(id(0x7340), name.slice(8), true)];
}

/** 0x8250: byte0 0x00 "won't act" (the bridge never masks a communication failure, diyBMS does the same). */
export function encodePylonHvMaskReply(variant: PylonHvVariant = PYLON_HV_DEFAULT_VARIANT): CanFrame {
  return canFrame(PYLON_HV_MASK_REPLY_ID + variant.address, new Uint8Array(8), true);
}

// ---------------------------------------------------------------------------------------------
// Decoder (what the virtual inverter reads)

function decodeReply(frame: CanFrame, variant: PylonHvVariant): CanDecodeResult {
  const { id, data } = frame;
  const name = `0x${formatCanId(frame)}`;
  if (frame.ext !== true) return { ok: false, id, code: 'UNKNOWN_ID', detail: `11-bit ${name}: Pylon HV uses 29-bit ids (spec §7)` };
  const base = id - variant.address;
  const known = (PYLON_HV_ENSEMBLE_IDS as readonly number[]).includes(base) || (PYLON_HV_EQUIPMENT_IDS as readonly number[]).includes(base) || base === PYLON_HV_MASK_REPLY_ID;
  if (!known) return { ok: false, id, code: 'UNKNOWN_ID', detail: `${name} is not a Pylon HV reply at address ${variant.address}` };
  if (data.length !== 8) return { ok: false, id, code: 'BAD_DLC', detail: `DLC ${data.length}, expected 8` };
  const f = new Fields(variant);
  const ok = (message: PylonHvMessage, patch: BatteryStatePatch): CanDecodeResult => ({ ok: true, id, message, patch });
  switch (base) {
    case 0x4210: {
      const m = { kind: 'hv-measurements' as const, voltageV: f.read(data, 0) / 10, currentA: f.readCurrent(data, 2), temperatureC: f.readTemperature(data, 4), socPct: data[6], sohPct: data[7] };
      return ok(m, { voltageV: m.voltageV, currentA: m.currentA, temperatureC: m.temperatureC, socPct: m.socPct, sohPct: m.sohPct });
    }
    case 0x4220: {
      const m = {
        kind: 'hv-limits' as const,
        chargeVoltageV: f.read(data, 0) / 10,
        dischargeVoltageV: f.read(data, 2) / 10,
        chargeCurrentLimitA: f.readChargeLimit(data, 4),
        dischargeCurrentLimitA: f.readDischargeLimit(data, 6),
      };
      const { kind: _kind, ...patch } = m;
      return ok(m, patch);
    }
    case 0x4230: {
      const m = { kind: 'hv-cells' as const, maxCellMv: f.read(data, 0), minCellMv: f.read(data, 2), maxCellNumber: f.read(data, 4), minCellNumber: f.read(data, 6) };
      const { kind: _kind, ...cells } = m;
      return ok(m, { cells });
    }
    case 0x4240: {
      const m = {
        kind: 'hv-cell-temperatures' as const,
        maxTemperatureC: f.readTemperature(data, 0),
        minTemperatureC: f.readTemperature(data, 2),
        maxTemperatureSensorNumber: f.read(data, 4),
        minTemperatureSensorNumber: f.read(data, 6),
      };
      const { kind: _kind, ...cells } = m;
      return ok(m, { cells });
    }
    case 0x4250: {
      const statusBits = data[0] & 0x07;
      const m = {
        kind: 'hv-status' as const,
        basicStatus: PYLON_HV_BASIC_STATUS[statusBits] ?? null,
        forceCharge: (data[0] & 0x08) !== 0,
        balanceCharge: (data[0] & 0x10) !== 0,
        cycles: f.read(data, 1),
        errorByte: data[3],
        alarmWord: f.read(data, 4),
        protectionWord: f.read(data, 6),
      };
      const alarms = { ...alarmsOfWord(m.protectionWord), systemError: (m.errorByte & ERROR_OTHER) !== 0 };
      const warnings = { ...alarmsOfWord(m.alarmWord), communication: (m.errorByte & ERROR_INTERNAL_COMM) !== 0 };
      return ok(m, { alarms, warnings, sleeping: m.basicStatus === 'sleep', pack: { cycles: m.cycles } });
    }
    case 0x4260:
    case 0x4270: {
      const temperature = base === 0x4270;
      const value = (o: number): number => (temperature ? f.readTemperature(data, o) : f.read(data, o));
      const m = { kind: 'hv-modules' as const, quantity: temperature ? ('temperature' as const) : ('voltage' as const), max: value(0), min: value(2), maxNumber: f.read(data, 4), minNumber: f.read(data, 6) };
      return ok(m, {});
    }
    case 0x4280: {
      const m = { kind: 'hv-forbidden' as const, chargeForbidden: data[0] === FORBIDDEN, dischargeForbidden: data[1] === FORBIDDEN, byte0: data[0], byte1: data[1] };
      return ok(m, { requests: { chargeEnable: !m.chargeForbidden, dischargeEnable: !m.dischargeForbidden } });
    }
    case 0x4290:
      return ok({ kind: 'hv-fault-extension', byte0: data[0] }, {});
    case 0x7310:
      return ok({ kind: 'hv-versions', hardware: data[0], hardwareMajor: data[2], hardwareMinor: data[3], softwareMajor: data[4], softwareMinor: data[5] }, { identity: { firmwareMajor: data[4], firmwareMinor: data[5] } });
    case 0x7320: {
      const m = { kind: 'hv-quantities' as const, cellCount: f.read(data, 0), modulesInSeries: data[2], cellsPerModule: data[3], voltageLevelV: f.read(data, 4), capacityAh: f.read(data, 6) };
      return ok(m, { identity: { moduleCount: m.modulesInSeries, capacityAh: m.capacityAh }, pack: { cellCount: m.cellCount, nominalVoltageV: m.voltageLevelV } });
    }
    case 0x7330:
    case 0x7340: {
      const m = { kind: 'hv-name' as const, part: base === 0x7330 ? (1 as const) : (2 as const), text: latin1(data) };
      return ok(m, {});
    }
    default:
      return ok({ kind: 'hv-mask-reply', willAct: data[0] === 0xaa }, {});
  }
}

/** The 16-byte name of 0x7330 + 0x7340, padding removed (checker, live view). */
export function pylonHvName(part1: string, part2: string): string {
  return printableAscii(stripPadding(part1 + part2));
}

export function createPylonHvCodec(variant: PylonHvVariant = PYLON_HV_DEFAULT_VARIANT): ProfileCodec & { variant: PylonHvVariant } {
  return {
    name: 'pylon-hv',
    variant,
    frameIds: PYLON_HV_ENSEMBLE_IDS.map((base) => base + variant.address),
    requestResponse: true,
    defaultManufacturer: 'PYLON',
    // Issue 13's placement: one-direction trips at the alarm (warning) level of 0x4250.
    bmsProtections: 'warning',
    encode: (state) => encodePylonHvEnsemble(state, variant),
    decode: (frame) => decodeReply(frame, variant),
  };
}

export const pylonHv = createPylonHvCodec();
