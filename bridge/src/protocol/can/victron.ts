/**
 * Victron GX "CAN-bus BMS LV (500 kbit/s)" (inverter-can-protocols.md §6), reconstructed from the
 * BYD LVS ↔ Venus OS capture (dfch) and the implementations listed there; no Victron document.
 *
 * Sends, every frame 8 bytes zero padded (§6.2): 0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, 0x360,
 * 0x372, 0x373, 0x374, 0x375, 0x376, 0x377, 0x379. Also decodes 0x35B, 0x378, 0x382 (BYD sends
 * them; events and energy counters have no BatteryState field, 0x382 is a product name).
 *
 * - 0x351 CVL is never 0 (GX reads it as over-voltage and discharges at full power, §6.2, §10.4);
 *   the substitution rule is in frames-35x.ts.
 * - 0x355 HiResSOC: state.socHiResPct, or 0 when null, as BYD sends (§6.2). A decoder therefore
 *   reads a null hi-res SOC back as 0.
 * - 0x35A: 1 = active, 2 = OK on all 16 pairs, reserved ones included, as BYD's AA×8 and dfch's
 *   all-alarms frame (§6.2, §6.3); same kind order and aliases (systemError → General,
 *   communication → BMS internal) as SMA, frames-35x.ts.
 * - 0x35E default "JK-BMS", NUL padded: a neutral name, because a GX treats "PYLON" as a
 *   Pylontech and fixes its charge voltage (§6.3, §10.14).
 * - 0x35F: "Li" product code and bytes 6-7 = 0 as BYD (byd-victron-35f); firmware major/minor binary.
 * - Requests: 0x360 byte 0 = 0xFF while forceChargeI or forceChargeII (both are "charge me"
 *   requests; the GX has one flag, §6.2); full charge cannot be expressed. Charge / discharge
 *   enable are expressed by CCL / DCL = 0 (frames-35x.ts) and by 0x372: a cleared flag reports every
 *   module as blocking that direction (0x372 bytes 2-5, §6.2).
 * - 0x372 modules online = identity.moduleCount (at least 1), offline 0.
 * - 0x373 mV, mV, K, K with K = °C + 273.15 rounded (§6.2; YamBMS), so the temperatures have
 *   1 K resolution.
 * - 0x374-0x377: decimal ASCII of the min-V cell, max-V cell, coldest and hottest sensor numbers
 *   (BYD "2","2","2","1"), NUL padded; empty when the number is not known.
 */
import type { BatteryState } from './battery-state';
import { canFrame, type CanFrame } from './frame';
import {
  alarmPairsDecoder,
  encodeAlarmPairs,
  encodeInfo,
  encodeLimits,
  encodeMeasurements,
  encodeName,
  encodeSoc,
  eventsDecoder,
  infoDecoder,
  limitsDecoder,
  measurementsDecoder,
  nameDecoder,
  socDecoder,
} from './frames-35x';
import type { CellIdMessage } from './messages';
import { decodeFrame, decoder, type BatteryStatePatch, type FrameDecoder, type ProfileCodec } from './profile';
import { U16_MAX, latin1, paddedAscii, readU16, readU32, stripPadding, toRaw, writeU16 } from './wire';

const KELVIN_OFFSET = 273.15;
/** "Li", little-endian (BYD byd-victron-35f). */
const PRODUCT_CODE_LI = 0x694c;
const VICTRON_DEFAULT_NAME = 'JK-BMS';

function u16Frame(id: number, values: readonly number[]): CanFrame {
  const data = new Uint8Array(8);
  values.forEach((v, i) => writeU16(data, 2 * i, v));
  return canFrame(id, data);
}

function encodeForceCharge(state: BatteryState): CanFrame {
  const request = state.requests.forceChargeI || state.requests.forceChargeII;
  return canFrame(0x360, [request ? 0xff : 0x00, 0, 0, 0, 0, 0, 0, 0]);
}

function encodeBank(state: BatteryState): CanFrame {
  const modules = toRaw(state.identity.moduleCount, 1, 1, U16_MAX);
  return u16Frame(0x372, [modules, state.requests.chargeEnable ? 0 : modules, state.requests.dischargeEnable ? 0 : modules, 0]);
}

function encodeCellExtremes(state: BatteryState): CanFrame {
  const c = state.cells;
  return u16Frame(0x373, [
    toRaw(c.minCellMv, 1, 0, U16_MAX),
    toRaw(c.maxCellMv, 1, 0, U16_MAX),
    toRaw(c.minTemperatureC + KELVIN_OFFSET, 1, 0, U16_MAX),
    toRaw(c.maxTemperatureC + KELVIN_OFFSET, 1, 0, U16_MAX),
  ]);
}

const CELL_ID_FRAMES: readonly (readonly [number, CellIdMessage['which'], (cells: BatteryState['cells']) => number | undefined])[] = [
  [0x374, 'minVoltage', (c) => c.minCellNumber],
  [0x375, 'maxVoltage', (c) => c.maxCellNumber],
  [0x376, 'minTemperature', (c) => c.minTemperatureSensorNumber],
  [0x377, 'maxTemperature', (c) => c.maxTemperatureSensorNumber],
];

const CELL_ID_FIELDS = {
  minVoltage: 'minCellNumber',
  maxVoltage: 'maxCellNumber',
  minTemperature: 'minTemperatureSensorNumber',
  maxTemperature: 'maxTemperatureSensorNumber',
} as const;

function cellIdText(n: number | undefined): string {
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 99_999_999 ? String(n) : '';
}

function encodeCellIds(state: BatteryState): CanFrame[] {
  return CELL_ID_FRAMES.map(([id, , pick]) => canFrame(id, paddedAscii(cellIdText(pick(state.cells)), 8, 0x00)));
}

function encodeInstalledCapacity(state: BatteryState): CanFrame {
  return u16Frame(0x379, [toRaw(state.identity.capacityAh, 1, 0, U16_MAX)]);
}

/** Only 0x00 and 0xFF are defined (§6.2); anything else is a sender fault, not a request. */
const forceChargeDecoder: FrameDecoder = {
  minDlc: 1,
  decode: (data) =>
    data[0] === 0x00 || data[0] === 0xff
      ? { ok: true, message: { kind: 'force-charge', request: data[0] === 0xff }, patch: { requests: { forceChargeI: data[0] === 0xff } } }
      : { ok: false, code: 'BAD_VALUE', detail: `0x360 byte 0 = 0x${data[0].toString(16).toUpperCase().padStart(2, '0')}, expected 0x00 or 0xFF` },
};

/** A module blocking a direction means the bank is not fully enabled for it. */
const bankDecoder: FrameDecoder = decoder(8, (data) => {
  const message = {
    kind: 'bank' as const,
    modulesOnline: readU16(data, 0),
    modulesBlockingCharge: readU16(data, 2),
    modulesBlockingDischarge: readU16(data, 4),
    modulesOffline: readU16(data, 6),
  };
  return {
    message,
    patch: {
      identity: { moduleCount: message.modulesOnline },
      requests: { chargeEnable: message.modulesBlockingCharge === 0, dischargeEnable: message.modulesBlockingDischarge === 0 },
    },
  };
});

function kelvinToC(k: number): number {
  return Math.round((k - KELVIN_OFFSET) * 100) / 100;
}

const cellExtremesDecoder: FrameDecoder = decoder(8, (data) => {
  const message = {
    kind: 'cell-extremes' as const,
    minCellMv: readU16(data, 0),
    maxCellMv: readU16(data, 2),
    minTemperatureK: readU16(data, 4),
    maxTemperatureK: readU16(data, 6),
  };
  const cells: BatteryStatePatch['cells'] = {
    minCellMv: message.minCellMv,
    maxCellMv: message.maxCellMv,
    minTemperatureC: kelvinToC(message.minTemperatureK),
    maxTemperatureC: kelvinToC(message.maxTemperatureK),
  };
  return { message, patch: { cells } };
});

/** Ids that are not a plain number (diyBMS sends "b0 m3", §6.2) stay in the message only. */
function cellIdDecoder(which: CellIdMessage['which']): FrameDecoder {
  return decoder(1, (data) => {
    const text = latin1(data);
    const id = stripPadding(text);
    const patch: BatteryStatePatch = /^\d{1,8}$/.test(id) ? { cells: { [CELL_ID_FIELDS[which]]: Number(id) } } : {};
    return { message: { kind: 'cell-id', which, text }, patch };
  });
}

const energyDecoder: FrameDecoder = decoder(8, (data) => ({
  message: { kind: 'energy', chargedRaw: readU32(data, 0), dischargedRaw: readU32(data, 4) },
  patch: {},
}));

const installedCapacityDecoder: FrameDecoder = decoder(2, (data) => {
  const capacityAh = readU16(data, 0);
  return { message: { kind: 'installed-capacity', capacityAh }, patch: { identity: { capacityAh } } };
});

const productDecoder: FrameDecoder = decoder(1, (data) => ({ message: { kind: 'product', text: latin1(data) }, patch: {} }));

const VICTRON_DECODERS = new Map<number, FrameDecoder>([
  [0x351, limitsDecoder],
  [0x355, socDecoder],
  [0x356, measurementsDecoder],
  [0x35a, alarmPairsDecoder],
  [0x35b, eventsDecoder],
  [0x35e, nameDecoder],
  [0x35f, infoDecoder(false)],
  [0x360, forceChargeDecoder],
  [0x372, bankDecoder],
  [0x373, cellExtremesDecoder],
  ...CELL_ID_FRAMES.map(([id, which]) => [id, cellIdDecoder(which)] as const),
  [0x378, energyDecoder],
  [0x379, installedCapacityDecoder],
  [0x382, productDecoder],
]);

export const victron: ProfileCodec = {
  name: 'victron',
  frameIds: [0x351, 0x355, 0x356, 0x35a, 0x35e, 0x35f, 0x360, 0x372, 0x373, 0x374, 0x375, 0x376, 0x377, 0x379],
  defaultManufacturer: VICTRON_DEFAULT_NAME,
  // A 0x35A alarm makes the GX stop the system; a one-direction trip is already a zero limit.
  bmsProtections: 'warning',
  encode: (state) => [
    encodeLimits(state),
    encodeSoc(state, { dlc: 8, hiResNullRaw: 0 }),
    encodeMeasurements(state, 8),
    encodeAlarmPairs(state, 2),
    encodeName(state, VICTRON_DEFAULT_NAME, 0x00),
    encodeInfo(state, { productCode: PRODUCT_CODE_LI, bytes6to7: 0 }),
    encodeForceCharge(state),
    encodeBank(state),
    encodeCellExtremes(state),
    ...encodeCellIds(state),
    encodeInstalledCapacity(state),
  ],
  decode: (frame) => decodeFrame(VICTRON_DECODERS, frame),
};
