/**
 * Pylontech low-voltage CAN ("PYLON CANBUS Protocol" V1.2, inverter-can-protocols.md §3), and the
 * factory the Goodwe LV profile reuses (§4: same frame set, different name and module count).
 *
 * Frames and DLCs as a real Pylontech sends them (§1 DLC row), in growatt2solis' send order (§8):
 * 0x359 (7), 0x351 (8), 0x355 (4), 0x356 (6), 0x35C (2), 0x35E (8, "PYLON" + 3 spaces, §10.1).
 *
 * 0x359 alarm mapping - exactly the V1.2 table (§3.2; "Trust the doc", §3.5). BatteryState.alarms
 * fill the protection bytes 0/1, BatteryState.warnings the alarm bytes 2/3, with one exception
 * (communication, below):
 *
 *   kind                    from state.alarms     from state.warnings
 *   highVoltage             byte0 bit1            byte2 bit1
 *   lowVoltage              byte0 bit2            byte2 bit2
 *   highTemperature         byte0 bit3            byte2 bit3
 *   lowTemperature          byte0 bit4            byte2 bit4
 *   highDischargeCurrent    byte0 bit7            byte2 bit7
 *   highChargeCurrent       byte1 bit0            byte3 bit0
 *   systemError             byte1 bit3            -
 *   communication           byte3 bit3            byte3 bit3   ("internal communication fail")
 *   general, bmsInternal,   byte1 bit3            -            (raised as "system error")
 *   contactor, shortCircuit
 *
 * A kind whose only Pylon slot is at the other level goes there when that lowers the level
 * (an alarms.communication is still reported, at the alarm level) but never when it would raise
 * it: a warning never sets a protection bit, because any wrong protection bit makes a Solis show
 * "BMS error" (§10.9). Decoding gives each bit its own kind (byte1 bit3 → alarms.systemError,
 * byte3 bit3 → warnings.communication) and false for every mapped bit that is clear.
 *
 * Not mapped, on purpose:
 * - cellImbalance: byte1/3 bit4 is a clone extension (Li-Residential, Uksa007, §3.2), reserved
 *   ("-") in the Pylon table. An inverter written against genuine Pylontech may treat an unknown
 *   bit as a fault, and an imbalance alone must not stop it; the charge policy lowers CCL instead.
 * - highTemperatureCharge / lowTemperatureCharge: Pylon has no charge-only temperature bit, and
 *   the general over/under-temperature protection would stop discharge too (a false alarm in
 *   winter). The policy expresses them through CCL = 0 and 0x35C charge enable cleared.
 * - warnings.systemError and warnings of general/bmsInternal/contactor/shortCircuit: no alarm-level
 *   slot, and escalating them to protection is refused (above).
 *
 * 0x35C: bit7 charge enable, bit6 discharge enable, bit5 force charge I, bit4 force charge II,
 * bit3 full charge (§3.2). The decoder also reads the "new firmware" 0x35A/0x35F (§3.4) and the
 * SEPLOS extras 0x070/0x371 (§3.6, §4) that Pylon-compatible batteries put on the same bus.
 */
import type { AlarmKind, BatteryState } from './battery-state';
import { canFrame, type CanFrame } from './frame';
import {
  alarmPairsDecoder,
  encodeLimits,
  encodeMeasurements,
  encodeName,
  encodeSoc,
  infoDecoder,
  limitsDecoder,
  measurementsDecoder,
  nameDecoder,
  socDecoder,
} from './frames-35x';
import type { PylonFlagsMessage, PylonRequestsMessage } from './messages';
import { decodeFrame, decoder, type BatteryStatePatch, type FrameDecoder, type ProfileCodec, type ProfileName } from './profile';
import { readS16, readU16, toRaw } from './wire';

type Level = 'alarms' | 'warnings';

export interface PylonFlagBit {
  /** 0x359 byte 0-3 and bit 0-7. */
  byte: 0 | 1 | 2 | 3;
  bit: number;
  /** What a set bit decodes to. */
  level: Level;
  kind: AlarmKind;
  /** Further (level, kind) conditions that set this bit when encoding (see the module comment). */
  alsoFrom: readonly (readonly [Level, AlarmKind])[];
}

/** The bits both tables share (bytes 0/1 for protection, 2/3 for alarm, same bit numbers). */
const SHARED_BITS: readonly (readonly [0 | 1, number, AlarmKind])[] = [
  [0, 1, 'highVoltage'],
  [0, 2, 'lowVoltage'],
  [0, 3, 'highTemperature'],
  [0, 4, 'lowTemperature'],
  [0, 7, 'highDischargeCurrent'],
  [1, 0, 'highChargeCurrent'],
];

export const PYLON_FLAG_BITS: readonly PylonFlagBit[] = [
  ...SHARED_BITS.map(([byte, bit, kind]) => ({ byte, bit, level: 'alarms' as const, kind, alsoFrom: [] })),
  {
    byte: 1,
    bit: 3,
    level: 'alarms',
    kind: 'systemError',
    alsoFrom: [
      ['alarms', 'general'],
      ['alarms', 'bmsInternal'],
      ['alarms', 'contactor'],
      ['alarms', 'shortCircuit'],
    ],
  },
  ...SHARED_BITS.map(([byte, bit, kind]) => ({ byte: (byte + 2) as 2 | 3, bit, level: 'warnings' as const, kind, alsoFrom: [] })),
  { byte: 3, bit: 3, level: 'warnings', kind: 'communication', alsoFrom: [['alarms', 'communication']] },
];

/** Byte 4 never 0 (§10.2); u8. */
function moduleCountRaw(count: number): number {
  return toRaw(count, 1, 1, 0xff);
}

/** DLC 7 as real Pylontech (§3.2); bytes 5-6 'P','N'. */
function encodePylonFlags(state: BatteryState, moduleCount: number): CanFrame {
  const data = new Uint8Array(7);
  for (const b of PYLON_FLAG_BITS) {
    const raised = state[b.level][b.kind] === true || b.alsoFrom.some(([level, kind]) => state[level][kind] === true);
    if (raised) data[b.byte] |= 1 << b.bit;
  }
  data[4] = moduleCountRaw(moduleCount);
  data[5] = 0x50; // 'P'
  data[6] = 0x4e; // 'N'
  return canFrame(0x359, data);
}

/** DLC ≥ 5 (flags + module count); "PN" is optional on decode (§3.3: Deye works without it). */
const pylonFlagsDecoder: FrameDecoder = decoder(5, (data) => {
  const markerBytes = data.length >= 7 ? ([data[5], data[6]] as const) : null;
  const message: PylonFlagsMessage = {
    kind: 'pylon-flags',
    protectionByte0: data[0],
    protectionByte1: data[1],
    alarmByte2: data[2],
    alarmByte3: data[3],
    moduleCount: data[4],
    markerBytes,
    pnMarker: markerBytes !== null && markerBytes[0] === 0x50 && markerBytes[1] === 0x4e,
    byte7: data.length >= 8 ? data[7] : null,
  };
  const alarms: Partial<Record<AlarmKind, boolean>> = {};
  const warnings: Partial<Record<AlarmKind, boolean>> = {};
  for (const b of PYLON_FLAG_BITS) (b.level === 'alarms' ? alarms : warnings)[b.kind] = ((data[b.byte] >> b.bit) & 1) === 1;
  return { message, patch: { alarms, warnings, identity: { moduleCount: message.moduleCount } } };
});

/** DLC 2 as real Pylontech (`C0 00`, §3.2). */
function encodePylonRequests(state: BatteryState): CanFrame {
  const r = state.requests;
  const byte0 = (r.chargeEnable ? 0x80 : 0) | (r.dischargeEnable ? 0x40 : 0) | (r.forceChargeI ? 0x20 : 0) | (r.forceChargeII ? 0x10 : 0) | (r.fullCharge ? 0x08 : 0);
  return canFrame(0x35c, [byte0, 0]);
}

/** DLC ≥ 1: Sofar accepts the 1-byte form (brunopau-sofar-35c, §9). */
const pylonRequestsDecoder: FrameDecoder = decoder(1, (data) => {
  const b = data[0];
  const message: PylonRequestsMessage = {
    kind: 'pylon-requests',
    chargeEnable: (b & 0x80) !== 0,
    dischargeEnable: (b & 0x40) !== 0,
    forceChargeI: (b & 0x20) !== 0,
    forceChargeII: (b & 0x10) !== 0,
    fullCharge: (b & 0x08) !== 0,
    otherBits: b & 0x07,
  };
  const requests: BatteryStatePatch['requests'] = {
    chargeEnable: message.chargeEnable,
    dischargeEnable: message.dischargeEnable,
    forceChargeI: message.forceChargeI,
    forceChargeII: message.forceChargeII,
    fullCharge: message.fullCharge,
  };
  return { message, patch: { requests } };
});

/** SEPLOS 0x070: max/min cell temperature s16 0.1 °C, max/min cell voltage u16 0.01 V (§3.6). */
const seplosExtremesDecoder: FrameDecoder = decoder(8, (data) => {
  const message = {
    kind: 'seplos-extremes' as const,
    maxTemperatureC: readS16(data, 0) / 10,
    minTemperatureC: readS16(data, 2) / 10,
    maxCellMv: readU16(data, 4) * 10,
    minCellMv: readU16(data, 6) * 10,
  };
  const cells: BatteryStatePatch['cells'] = {
    maxTemperatureC: message.maxTemperatureC,
    minTemperatureC: message.minTemperatureC,
    maxCellMv: message.maxCellMv,
    minCellMv: message.minCellMv,
  };
  return { message, patch: { cells } };
});

/** SEPLOS 0x371: u16 ids of the max-temp sensor, min-temp sensor, max-V cell, min-V cell (§3.6). */
const seplosIdsDecoder: FrameDecoder = decoder(8, (data) => {
  const message = {
    kind: 'seplos-ids' as const,
    maxTemperatureSensor: readU16(data, 0),
    minTemperatureSensor: readU16(data, 2),
    maxCellNumber: readU16(data, 4),
    minCellNumber: readU16(data, 6),
  };
  const cells: BatteryStatePatch['cells'] = {
    maxTemperatureSensorNumber: message.maxTemperatureSensor,
    minTemperatureSensorNumber: message.minTemperatureSensor,
    maxCellNumber: message.maxCellNumber,
    minCellNumber: message.minCellNumber,
  };
  return { message, patch: { cells } };
});

const PYLON_FAMILY_DECODERS = new Map<number, FrameDecoder>([
  [0x070, seplosExtremesDecoder],
  [0x351, limitsDecoder],
  [0x355, socDecoder],
  [0x356, measurementsDecoder],
  [0x359, pylonFlagsDecoder],
  [0x35a, alarmPairsDecoder],
  [0x35c, pylonRequestsDecoder],
  [0x35e, nameDecoder],
  [0x35f, infoDecoder(true)],
  [0x371, seplosIdsDecoder],
]);

export interface PylonFamilyOptions {
  name: Extract<ProfileName, 'pylon-lv' | 'goodwe-lv'>;
  defaultManufacturer: string;
  /** 0x359 byte 4; the encoder clamps it to 1..255. */
  moduleCount(state: BatteryState): number;
}

/** The Pylon LV frame set with a profile's name and module-count rule. */
export function createPylonFamilyCodec(options: PylonFamilyOptions): ProfileCodec {
  return {
    name: options.name,
    frameIds: [0x359, 0x351, 0x355, 0x356, 0x35c, 0x35e],
    defaultManufacturer: options.defaultManufacturer,
    // The V1.2 document, Uksa007 and YamBMS put a tripped protection in bytes 0-1 (§3.2, §11).
    bmsProtections: 'alarm',
    encode: (state) => [
      encodePylonFlags(state, options.moduleCount(state)),
      encodeLimits(state),
      encodeSoc(state, { dlc: 4 }),
      encodeMeasurements(state, 6),
      encodePylonRequests(state),
      encodeName(state, options.defaultManufacturer, 0x20),
    ],
    decode: (frame) => decodeFrame(PYLON_FAMILY_DECODERS, frame),
  };
}

/** Module count = identity.moduleCount (Deye shows it, diyBMS derives it from capacity, §10.2). */
export const pylonLv: ProfileCodec = createPylonFamilyCodec({
  name: 'pylon-lv',
  defaultManufacturer: 'PYLON',
  moduleCount: (state) => state.identity.moduleCount,
});
