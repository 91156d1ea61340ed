/**
 * Test support for the JK codec: the captured vectors of vectors/jk-frames.json (read in
 * place, never copied) and small byte helpers. Only tests import node:* here; src stays pure.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildFrame, jkChecksum, readRecords, type BmsSnapshot } from '../../../src/protocol/jk';

export interface JkVector {
  id: string;
  protocol: string;
  direction: 'request' | 'response';
  hex: string;
  expected: Record<string, unknown>;
  notes: string;
}

const VECTORS_PATH = path.resolve(__dirname, '../../../../vectors/jk-frames.json');

/** The "4E 57" entries only; the "jk02" ones belong to the other protocol (spec §3). */
export const JK4E57_VECTORS: readonly JkVector[] = (
  JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as JkVector[]
).filter((entry) => entry.protocol === 'jk4e57');

/** Complete read-all replies (excludes the 50-byte fragment). */
export const RESPONSE_VECTORS = JK4E57_VECTORS.filter(
  (v) => v.direction === 'response' && v.expected.frame_total_bytes !== undefined,
);
/** Replies whose checksum verifies: every one except the vendor's old-firmware example. */
export const MODERN_RESPONSE_VECTORS = RESPONSE_VECTORS.filter((v) => v.expected.checksum_valid === true);
export const REQUEST_VECTORS = JK4E57_VECTORS.filter((v) => v.direction === 'request');

export function vector(id: string): JkVector {
  const found = JK4E57_VECTORS.find((v) => v.id === id);
  if (!found) throw new Error(`vector ${id} not in ${VECTORS_PATH}`);
  return found;
}

export function bytesOf(v: JkVector | string): Uint8Array {
  return fromHex((typeof v === 'string' ? vector(v) : v).hex);
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Splits bytes at the given cut points (taken modulo length + 1, duplicates ignored). */
export function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return [...points, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : points[i - 1], end));
}

export type Mutation =
  | { op: 'flip'; at: number; value: number }
  | { op: 'delete'; at: number; count: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'truncate'; at: number };

/** Applies mutations in order; positions are taken modulo the current length (+1 where it can append). */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.op === 'flip' && out.length > 0) out[m.at % out.length] = m.value;
    if (m.op === 'delete') out.splice(at, m.count);
    if (m.op === 'insert') out.splice(at, 0, ...m.bytes);
    if (m.op === 'truncate') out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

/** A copy with the sum16 rewritten (§2.1), e.g. to read the vendor example's TLV layout. */
export function withFixedChecksum(frame: Uint8Array): Uint8Array {
  const copy = frame.slice();
  const length = frame.length - 2;
  const sum = jkChecksum(copy, length - 3);
  copy[length] = sum >> 8;
  copy[length + 1] = sum & 0xff;
  return copy;
}

/** Rebuilds a frame (new LENGTH and checksum) after editing its information field. */
export function reframe(frame: Uint8Array, edit: (info: number[]) => number[] | void): Uint8Array {
  const info = Array.from(frame.subarray(11, frame.length - 9));
  const edited = edit(info) ?? info;
  return buildFrame({ command: frame[8], source: frame[9], transmissionType: frame[10] }, Uint8Array.from(edited));
}

/** Frame offset of record `id`'s id byte (located by the TLV walk under test, which the vector
 * tests check against the captures). */
export function recordOffset(frame: Uint8Array, id: number): number {
  const walked = readRecords(frame);
  const found = walked.ok ? walked.records.find((r) => r.id === id) : undefined;
  if (!found) throw new Error(`record ${id.toString(16)} not found`);
  return found.offset;
}

/**
 * SYNTHETIC modern snapshot (not a capture): 11.x firmware, protocol version 1, settings like the
 * OpenDTU 16S frames. Cell voltages vary so index/order mistakes show.
 */
export function syntheticSnapshot(cellCount: number): BmsSnapshot {
  const cellsMv = Array.from({ length: cellCount }, (_, i) => 3300 + ((i * 7) % 40));
  return {
    command: 0x06,
    cellsMv,
    mosfetTempC: 31,
    t1TempC: 24,
    t2TempC: 23,
    packMv: Math.round(cellsMv.reduce((a, b) => a + b, 0) / 10) * 10,
    currentMa: -12_340,
    socPct: 77,
    tempSensorCount: 2,
    cycles: 42,
    cycleCapacityAh: 9_876,
    cellCount,
    alarms: 0x0000,
    status: 0x0003,
    settings: {
      packOvpMv: 3650 * cellCount,
      packUvpMv: 2800 * cellCount,
      cellOvpMv: 3650,
      cellOvpRecoveryMv: 3400,
      cellOvpDelayS: 5,
      cellUvpMv: 2800,
      cellUvpRecoveryMv: 3000,
      cellUvpDelayS: 5,
      cellDiffProtectionMv: 300,
      dischargeOcpA: 100,
      dischargeOcpDelayS: 300,
      chargeOcpA: 50,
      chargeOcpDelayS: 30,
      balanceStartMv: 3350,
      balanceTriggerMv: 10,
      balancerEnabled: true,
      mosfetOtpC: 100,
      mosfetOtpRecoveryC: 80,
      boxOtpC: 70,
      boxOtpRecoveryC: 60,
      tempDiffProtectionC: 20,
      chargeOtpC: 55,
      dischargeOtpC: 65,
      chargeUtpC: 0,
      chargeUtpRecoveryC: 3,
      dischargeUtpC: -20,
      dischargeUtpRecoveryC: -10,
      cellCountSetting: cellCount,
      capacityAh: 280,
      chargeMosfetSwitch: true,
      dischargeMosfetSwitch: true,
      currentCalibrationMa: 1000,
      boardAddress: 1,
      batteryType: 0,
      sleepWaitS: 10,
      lowCapacityAlarmPct: 20,
      password: '123456',
      dedicatedCharger: false,
      deviceId: 'Input Us',
      manufactureDate: '2409',
      runtimeMinutes: 123_456,
      softwareVersion: '11.XW_S11.262H_',
      startCurrentCalibration: false,
      actualCapacityAh: 280,
      manufacturerId: 'Input UserdaJK_B2A20S20P',
    },
    protocolVersion: 1,
  };
}
