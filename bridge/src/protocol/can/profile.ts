/**
 * The contract every inverter profile codec fulfils, and the decode plumbing they share.
 * Pure: no I/O, no clocks.
 */
import type { BatteryState } from './battery-state';
import type { CanFrame } from './frame';
import type { CanMessage } from './messages';

export type ProfileName = 'pylon-lv' | 'goodwe-lv' | 'sma-si' | 'victron' | 'pylon-hv';

export interface ProfileCodec {
  name: ProfileName;
  /** ids this profile transmits, in send order; the checker uses it to flag foreign ids */
  frameIds: readonly number[];
  /**
   * Pylon HV (§7): frames go out only as replies to the inverter's requests, with 29-bit ids; the
   * checker then judges each reply against its request instead of a period. Absent = periodic 0x35x set.
   */
  requestResponse?: true;
  /** default 0x35E name etc. */
  defaultManufacturer: string;
  /**
   * Where a one-direction BMS protection trip goes by default (config can.bmsProtections):
   * 'alarm' = the protection level (Pylon 0x359 bytes 0-1, §3.2), 'warning' = the warning level.
   */
  bmsProtections: 'alarm' | 'warning';
  /** The CVL and DVL the inverter accepts, in V; values outside are dropped by it (SMA §5.1). */
  limitWindows?: { chargeVoltageV: readonly [number, number]; dischargeVoltageV: readonly [number, number] };
  /** Shortest time between two frames of one id the inverter accepts (SMA inhibit time, §5.1). */
  minFrameIntervalMs?: number;
  /** One full frame set, in send order. Never throws; see each module for how bad values are clamped. */
  encode(state: BatteryState): CanFrame[];
  /** One frame → a patch of BatteryState. */
  decode(frame: CanFrame): CanDecodeResult;
}

export type BatteryStatePatch = {
  [K in keyof BatteryState]?: NonNullable<BatteryState[K]> extends object ? Partial<NonNullable<BatteryState[K]>> : BatteryState[K];
};

export type CanDecodeErrorCode = 'UNKNOWN_ID' | 'BAD_DLC' | 'BAD_VALUE';

/**
 * `message` is an extension of the brief's result type: the raw typed frame content, so the
 * virtual inverter can flag what a patch cannot show (missing "PN", NUL padding, reserved bits).
 */
export type CanDecodeResult =
  | { ok: true; id: number; patch: BatteryStatePatch; message: CanMessage }
  | { ok: false; id: number; code: CanDecodeErrorCode; detail: string };

/** What one id's decoder yields; decodeFrame adds the id and the DLC / id checks. */
export type MessageDecodeResult =
  | { ok: true; message: CanMessage; patch: BatteryStatePatch }
  | { ok: false; code: 'BAD_VALUE'; detail: string };

export interface FrameDecoder {
  /** Fewest data bytes that hold every field this decoder reads ("any DLC ≥ the last used byte", §1 DLC row). */
  minDlc: number;
  decode(data: Uint8Array): MessageDecodeResult;
}

export type DecoderTable = ReadonlyMap<number, FrameDecoder>;

/**
 * Looks the id up in a profile's table. The whole 0x35x family is 11-bit (§1, §6.1: GX ignores
 * 29-bit), so an extended frame is never one of ours even when its number matches.
 */
export function decodeFrame(table: DecoderTable, frame: CanFrame): CanDecodeResult {
  const id = frame.id;
  const decoder = frame.ext ? undefined : table.get(id);
  if (!decoder) {
    return { ok: false, id, code: 'UNKNOWN_ID', detail: `${frame.ext ? '29-bit ' : ''}id 0x${id.toString(16).toUpperCase()} is not decoded by this profile` };
  }
  const dlc = frame.data.length;
  if (dlc < decoder.minDlc || dlc > 8) {
    return { ok: false, id, code: 'BAD_DLC', detail: `DLC ${dlc}, expected ${decoder.minDlc}..8` };
  }
  const result = decoder.decode(frame.data);
  return result.ok
    ? { ok: true, id, patch: result.patch, message: result.message }
    : { ok: false, id, code: result.code, detail: result.detail };
}

/** Decoder that cannot fail beyond the DLC check. */
export function decoder(minDlc: number, decode: (data: Uint8Array) => { message: CanMessage; patch: BatteryStatePatch }): FrameDecoder {
  return { minDlc, decode: (data) => ({ ok: true, ...decode(data) }) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Combines two patches: later scalars win; nested groups (alarms, warnings, requests, identity,
 * cells) merge member by member, so 0x359 and 0x35C each fill their part. Returns a new object;
 * neither argument is mutated (the virtual inverter keeps older snapshots for its timing checks).
 */
export function mergeBatteryState(into: BatteryStatePatch, patch: BatteryStatePatch): BatteryStatePatch {
  const out: Record<string, unknown> = { ...into };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] = isPlainObject(value) && isPlainObject(prev) ? { ...prev, ...value } : isPlainObject(value) ? { ...value } : value;
  }
  return out as BatteryStatePatch;
}
