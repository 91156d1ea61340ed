/**
 * Frames an inverter sends to the battery (inverter-can-protocols.md §3.1, §5.4, §6.1, §8): the
 * virtual inverter encodes them, the bridge decodes them to know the inverter is alive.
 *
 * - Pylon LV / Goodwe LV: 0x305 8×00 every 1 s (§3.1; Deye only in reply to 0x356, §8).
 * - SMA SI: 0x305 battery V / I / T / SOC, 0x306 SOH / state / error / CVL set-point, 0x307
 *   relay state, every 1 s with real data (§5.4).
 * - Victron GX: 0x305 8×00, 0x306 8×00, 0x307 `12 34 56 78 56 49 43 00` ("VIC", §6.1).
 *
 * Liveness must not depend on the payload (§5.4 last sentence: an SI's 0x305 is not 8×00; ArminJo
 * and PYLON_EMU put other bytes there, §3.7; Schneider XW Pro sends a 29-bit 0x305, §8, §10.11).
 * Hence isInverterHeartbeat looks at the id only, and the decoder has an "other" case for any
 * payload it cannot place.
 *
 * One ambiguity is inherent: an SMA frame whose fields are all zero is 8×00 and decodes as a
 * keep-alive. A real SI never sends that for 0x305/0x306 (SOH, temperature and voltage are not 0);
 * a 0x307 with every relay open does, and is then reported as a keep-alive on 0x307.
 */
import { canFrame, type CanFrame } from './frame';
import type { ProfileName } from './profile';
import { S16_MAX, S16_MIN, U16_MAX, readS16, readU16, toRaw, writeU16 } from './wire';

const VICTRON_307_DATA: readonly number[] = [0x12, 0x34, 0x56, 0x78, 0x56, 0x49, 0x43, 0x00];

export type InverterHeartbeatId = 0x305 | 0x306 | 0x307;

export type InverterMessage =
  /** 8×00 on 0x305 (Pylon, Goodwe, Victron) or 0x306 (Victron). */
  | { kind: 'keepalive'; id: InverterHeartbeatId }
  /** Victron GX constant 0x307. */
  | { kind: 'victron-307' }
  /** SMA 0x305 (§5.4). */
  | {
      kind: 'sma-battery';
      voltageV: number;
      /** + = charging, the bridge's convention; on the wire the SI sends the opposite sign (§1, §5.4). */
      currentA: number;
      temperatureC: number;
      socPct: number;
    }
  /** SMA 0x306 (§5.4). */
  | {
      kind: 'sma-status';
      sohPct: number;
      /** 10 when an external BMS is in charge. */
      chargingProcedure: number;
      /** 0 ---, 1 Operating, 3 Warning, 4 Failure. */
      operatingState: number;
      activeErrorNumber: number;
      chargeVoltageSetpointV: number;
    }
  /** SMA 0x307 (§5.4): relay bits (bytes 0-1); byte 2 bit 7 / bit 6 as seen on a real SI. */
  | { kind: 'sma-relays'; relayBits: number; ac2RelayClosed: boolean; ac2VoltageValid: boolean }
  /** Any other payload on 0x305-0x307, including 29-bit ids: still a sign of life. */
  | { kind: 'other'; id: InverterHeartbeatId; ext: boolean; data: Uint8Array };

export type InverterDecodeResult =
  | { ok: true; message: InverterMessage }
  | { ok: false; id: number; code: 'UNKNOWN_ID'; detail: string };

function isHeartbeatId(id: number): id is InverterHeartbeatId {
  return id === 0x305 || id === 0x306 || id === 0x307;
}

/** Any frame on 0x305-0x307, 11- or 29-bit, any DLC and payload. */
export function isInverterHeartbeat(frame: CanFrame): boolean {
  return isHeartbeatId(frame.id);
}

function dataFrame(id: number, fill: (data: Uint8Array) => void): CanFrame {
  const data = new Uint8Array(8);
  fill(data);
  return canFrame(id, data);
}

/** Values outside a field's range are clamped (the virtual inverter must not throw mid-scenario). */
export function encodeInverterMessage(message: InverterMessage): CanFrame {
  switch (message.kind) {
    case 'keepalive':
      return canFrame(message.id, new Uint8Array(8));
    case 'victron-307':
      return canFrame(0x307, VICTRON_307_DATA);
    case 'sma-battery':
      return dataFrame(0x305, (d) => {
        writeU16(d, 0, toRaw(message.voltageV, 10, 0, U16_MAX));
        writeU16(d, 2, toRaw(-message.currentA, 10, S16_MIN, S16_MAX));
        writeU16(d, 4, toRaw(message.temperatureC, 10, S16_MIN, S16_MAX));
        writeU16(d, 6, toRaw(message.socPct, 10, 0, 1000));
      });
    case 'sma-status':
      return dataFrame(0x306, (d) => {
        writeU16(d, 0, toRaw(message.sohPct, 1, 0, 100));
        d[2] = toRaw(message.chargingProcedure, 1, 0, 0xff);
        d[3] = toRaw(message.operatingState, 1, 0, 0xff);
        writeU16(d, 4, toRaw(message.activeErrorNumber, 1, 0, U16_MAX));
        writeU16(d, 6, toRaw(message.chargeVoltageSetpointV, 10, 0, U16_MAX));
      });
    case 'sma-relays':
      return dataFrame(0x307, (d) => {
        writeU16(d, 0, toRaw(message.relayBits, 1, 0, U16_MAX));
        d[2] = (message.ac2RelayClosed ? 0x80 : 0) | (message.ac2VoltageValid ? 0x40 : 0);
      });
    case 'other':
      return canFrame(message.id, message.data, message.ext);
  }
}

function isVictron307(data: Uint8Array): boolean {
  return data.length === VICTRON_307_DATA.length && VICTRON_307_DATA.every((b, i) => data[i] === b);
}

export function decodeInverterFrame(frame: CanFrame): InverterDecodeResult {
  const { id, data } = frame;
  if (!isHeartbeatId(id)) {
    return { ok: false, id, code: 'UNKNOWN_ID', detail: `id 0x${id.toString(16).toUpperCase()} is not an inverter frame (0x305-0x307)` };
  }
  const ext = frame.ext === true;
  const other: InverterMessage = { kind: 'other', id, ext, data: data.slice() };
  if (ext || data.length !== 8) return { ok: true, message: other };
  if (data.every((b) => b === 0)) return { ok: true, message: { kind: 'keepalive', id } };
  if (id === 0x307 && isVictron307(data)) return { ok: true, message: { kind: 'victron-307' } };
  switch (id) {
    case 0x305:
      return {
        ok: true,
        message: {
          kind: 'sma-battery',
          voltageV: readU16(data, 0) / 10,
          // Negated for the bridge's + = charging; `|| 0` keeps a wire 0 from becoming -0.
          currentA: -readS16(data, 2) / 10 || 0,
          temperatureC: readS16(data, 4) / 10,
          socPct: readS16(data, 6) / 10,
        },
      };
    case 0x306:
      return {
        ok: true,
        message: {
          kind: 'sma-status',
          sohPct: readU16(data, 0),
          chargingProcedure: data[2],
          operatingState: data[3],
          activeErrorNumber: readU16(data, 4),
          chargeVoltageSetpointV: readU16(data, 6) / 10,
        },
      };
    case 0x307:
      return {
        ok: true,
        message: { kind: 'sma-relays', relayBits: readU16(data, 0), ac2RelayClosed: (data[2] & 0x80) !== 0, ac2VoltageValid: (data[2] & 0x40) !== 0 },
      };
  }
}

/**
 * The data-free heartbeat a brand's inverter sends, in order (§3.1, §6.1). SMA has none: its
 * 0x305-0x307 carry measurements, built with encodeInverterMessage.
 */
export function inverterHeartbeatFrames(profile: Exclude<ProfileName, 'sma-si' | 'pylon-hv'>): CanFrame[] {
  const messages: InverterMessage[] =
    profile === 'victron' ? [{ kind: 'keepalive', id: 0x305 }, { kind: 'keepalive', id: 0x306 }, { kind: 'victron-307' }] : [{ kind: 'keepalive', id: 0x305 }];
  return messages.map(encodeInverterMessage);
}
