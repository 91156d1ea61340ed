import { describe, expect, it } from 'vitest';
import {
  decodeResponse,
  encodeResponse,
  readRecords,
  type BmsSnapshot,
  type JkTemperatureCoding,
} from '../../../src/protocol/jk';
import { bytesOf, MODERN_RESPONSE_VECTORS, syntheticSnapshot, toHex, vector, withFixedChecksum } from './helpers';

function decoded(frame: Uint8Array, temperatureCoding?: JkTemperatureCoding): BmsSnapshot {
  const result = decodeResponse(frame, { temperatureCoding });
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.detail}`);
  return result.snapshot;
}

function rawRecord(frame: Uint8Array, id: number): number[] | undefined {
  const walked = readRecords(frame);
  const record = walked.ok ? walked.records.find((r) => r.id === id) : undefined;
  return record && Array.from(record.value);
}

const lengthField = (frame: Uint8Array) => (frame[2] << 8) | frame[3];

/** A snapshot as old firmware (NW_1_0_0_200428) would report it: no 0xB8-0xC0. */
function oldFirmware(snapshot: BmsSnapshot): BmsSnapshot {
  const { startCurrentCalibration: _b8, actualCapacityAh: _b9, manufacturerId: _ba, ...settings } = snapshot.settings;
  return { ...snapshot, settings, protocolVersion: null };
}

describe('encodeResponse is the exact inverse of decodeResponse (§2.11 point 5)', () => {
  it.each(MODERN_RESPONSE_VECTORS.map((v) => [v.id, v] as const))('%s re-encodes byte for byte', (_id, v) => {
    const frame = bytesOf(v);
    expect(toHex(encodeResponse(decoded(frame)))).toBe(v.hex);
  });

  it('re-encodes the old-firmware layout (checksum fixed) byte for byte: LENGTH 207 + 3N', () => {
    const fixed = withFixedChecksum(bytesOf(vector('4e57-resp-20s-vendor-example-old-fw')));
    const encoded = encodeResponse(decoded(fixed));
    expect(toHex(encoded)).toBe(toHex(fixed));
    expect(lengthField(encoded)).toBe(207 + 3 * 20);
  });

  it.each([1, 7, 16, 24, 32])('decode(encode(s)) deep-equals a synthetic %iS snapshot', (cells) => {
    const snapshot = syntheticSnapshot(cells);
    expect(decoded(encodeResponse(snapshot))).toEqual(snapshot);
  });
});

describe('frame layout', () => {
  it('sends a reply from the BMS: source 0, type 1, command echoed, terminal and record number 0', () => {
    const frame = encodeResponse({ ...syntheticSnapshot(16), command: 0x03 });
    expect(Array.from(frame.subarray(4, 11))).toEqual([0, 0, 0, 0, 0x03, 0x00, 0x01]);
    expect(Array.from(frame.subarray(-9, -4))).toEqual([0, 0, 0, 0, 0x68]);
  });

  it('orders the ids as §2.4 and ends with 0xC0 = 1 for a modern snapshot', () => {
    const walked = readRecords(encodeResponse(syntheticSnapshot(16)));
    const ids = walked.ok ? walked.records.map((r) => r.id.toString(16).toUpperCase()).join(' ') : '';
    expect(ids).toBe(vector('4e57-resp-16s-opendtu-0').expected.data_ids_in_order);
  });

  it('sweeps 1..32 cells: LENGTH = 241 + 3N and the snapshot survives the round trip', () => {
    for (let cells = 1; cells <= 32; cells++) {
      const snapshot = syntheticSnapshot(cells);
      const frame = encodeResponse(snapshot);
      expect(lengthField(frame), `${cells}S`).toBe(241 + 3 * cells);
      expect(frame.length, `${cells}S`).toBe(243 + 3 * cells);
      expect(decoded(frame), `${cells}S`).toEqual(snapshot);
    }
    expect(lengthField(encodeResponse(syntheticSnapshot(24)))).toBe(0x0139);
  });

  it('leaves 0xB8-0xC0 out for old firmware and codes the current with the 10000 offset (§2.7)', () => {
    const snapshot = oldFirmware(syntheticSnapshot(20)); // -12.34 A
    const frame = encodeResponse(snapshot);
    expect(lengthField(frame)).toBe(207 + 3 * 20);
    expect(rawRecord(frame, 0xc0)).toBeUndefined();
    expect(rawRecord(frame, 0x84)).toEqual([(11234 >> 8) & 0xff, 11234 & 0xff]);
    expect(decoded(frame)).toEqual(snapshot);
  });

  it('sends 0xC0 = 0 with the offset coding when protocolVersion is 0 (§5 question 4)', () => {
    const snapshot = { ...syntheticSnapshot(8), protocolVersion: 0, currentMa: 5000 };
    const frame = encodeResponse(snapshot);
    expect(rawRecord(frame, 0xc0)).toEqual([0]);
    expect(rawRecord(frame, 0x84)).toEqual([(9500 >> 8) & 0xff, 9500 & 0xff]); // doc: 9500 = +5 A
    expect(decoded(frame)).toEqual(snapshot);
  });

  it.each([
    [2080, [0x80, 0xd0]],
    [10_120, [0x83, 0xf4]],
    [-8800, [0x03, 0x70]],
    [-690, [0x00, 0x45]],
    [0, [0x00, 0x00]],
  ])('codes %i mA as the captures do (sign bit = charging, §2.7)', (currentMa, raw) => {
    expect(rawRecord(encodeResponse({ ...syntheticSnapshot(4), currentMa }), 0x84)).toEqual(raw);
  });

  it('rounds scaled quantities to the wire resolution (10 mV, 10 mA)', () => {
    const snapshot = { ...syntheticSnapshot(4), packMv: 13_304, currentMa: 1_236 };
    const back = decoded(encodeResponse(snapshot));
    expect([back.packMv, back.currentMa]).toEqual([13_300, 1_240]);
  });
});

describe('sub-zero temperatures (§2.6)', () => {
  const cold = { mosfetTempC: -1, t1TempC: -20, t2TempC: -40 };
  const cases: [JkTemperatureCoding, number[]][] = [
    ['doc', [101, 120, 140]],
    ['esphome', [100, 119, 139]],
  ];
  it.each(cases)('%s coding: raw %j, and the snapshot round-trips', (coding, raws) => {
    const snapshot = { ...syntheticSnapshot(16), ...cold };
    const frame = encodeResponse(snapshot, { temperatureCoding: coding });
    expect([0x80, 0x81, 0x82].map((id) => rawRecord(frame, id)?.[1])).toEqual(raws);
    expect(decoded(frame, coding)).toEqual(snapshot);
  });

  it('defaults to the doc coding on both sides, and the codings differ by 1 °C below zero', () => {
    const frame = encodeResponse({ ...syntheticSnapshot(16), ...cold });
    expect(decoded(frame)).toMatchObject(cold);
    expect(decoded(frame, 'esphome')).toMatchObject({ mosfetTempC: -2, t1TempC: -21, t2TempC: -41 });
  });

  it('keeps the signed i16 thresholds 0xA5-0xA8 out of the offset coding', () => {
    const frame = encodeResponse(syntheticSnapshot(16));
    expect(rawRecord(frame, 0xa7)).toEqual([0xff, 0xec]); // -20 °C, like the captures
  });
});

describe('values the wire cannot carry throw RangeError', () => {
  const base = syntheticSnapshot(16);
  const cases: [string, BmsSnapshot, string][] = [
    ['86 cells', { ...base, cellsMv: new Array<number>(86).fill(3300) }, '86 cells do not fit record 0x79'],
    ['a cell above 65535 mV', { ...base, cellsMv: [70_000] }, 'cell 1 voltage 70000 mV does not fit u16'],
    ['+400 A', { ...base, currentMa: 400_000 }, 'current 400000 mA does not fit 0x84 under protocol version 1'],
    ['-600 A with the offset coding', { ...base, protocolVersion: null, currentMa: -600_000 }, 'current -600000 mA'],
    ['101 °C under doc', { ...base, mosfetTempC: 101 }, "temperature 101 °C is above 100 °C, the 'doc' coding limit"],
    ['a 16-char version', { ...base, settings: { ...base.settings, softwareVersion: '11.XW_S11.262H__' } }, 'longer than 15 bytes'],
    ['a non-latin1 char', { ...base, settings: { ...base.settings, password: '12€' } }, 'has character U+20ac'],
    ['a u8 out of range', { ...base, socPct: 256 }, 'record 0x85 (socPct) value 256 does not fit 1 byte(s)'],
    ['an i16 out of range', { ...base, settings: { ...base.settings, chargeUtpC: -40_000 } }, 'record 0xA5 (chargeUtpC)'],
    ['NaN', { ...base, cycles: Number.NaN }, 'record 0x87 (cycles) value NaN'],
    [
      'a mandatory setting missing (untyped caller)',
      { ...base, settings: { ...base.settings, cellOvpMv: undefined as unknown as number } },
      'record 0x90 (cellOvpMv) must be a number, got undefined',
    ],
    ['protocolVersion 256', { ...base, protocolVersion: 256 }, 'protocolVersion 256 is not a byte'],
    ['command 0x106', { ...base, command: 0x106 }, 'command 262 is not a byte'],
  ];
  it.each(cases)('%s', (_name, snapshot, message) => {
    expect(() => encodeResponse(snapshot)).toThrow(RangeError);
    expect(() => encodeResponse(snapshot)).toThrow(message);
  });

  it('100 °C fits the doc coding but not the esphome one', () => {
    const hot = { ...base, mosfetTempC: 100 };
    expect(decoded(encodeResponse(hot)).mosfetTempC).toBe(100);
    expect(() => encodeResponse(hot, { temperatureCoding: 'esphome' })).toThrow("the 'esphome' coding limit");
  });
});
