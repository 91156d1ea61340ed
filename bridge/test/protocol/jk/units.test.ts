import { describe, expect, it } from 'vitest';
import {
  decodeCurrent,
  decodeTemperature,
  encodeCurrent,
  encodeTemperature,
} from '../../../src/protocol/jk/units';

describe('0x80-0x82 temperatures (§2.6)', () => {
  it.each([
    [0, 0, 0],
    [25, 25, 25],
    [99, 99, 99],
    [100, 100, -1], // the disputed value: doc says +100 °C, dbus-serialbattery#339 field data says -1 °C
    [101, -1, -2],
    [140, -40, -41],
  ])('raw %i → %i °C (doc), %i °C (esphome)', (raw, doc, esphome) => {
    expect(decodeTemperature(raw, 'doc')).toBe(doc);
    expect(decodeTemperature(raw, 'esphome')).toBe(esphome);
  });

  it('encode inverts decode for every u16 raw value under both codings', () => {
    for (const coding of ['doc', 'esphome'] as const) {
      for (let raw = 0; raw <= 0xffff; raw++) {
        const celsius = decodeTemperature(raw, coding);
        if (encodeTemperature(celsius, coding) !== raw) throw new Error(`${coding} raw ${raw} → ${celsius} °C`);
      }
    }
  });

  it('rounds to whole degrees', () => {
    expect(encodeTemperature(24.6, 'doc')).toBe(25);
    expect(encodeTemperature(-0.4, 'doc')).toBe(0);
    expect(encodeTemperature(-1.4, 'esphome')).toBe(100);
  });
});

describe('0x84 current (§2.7)', () => {
  it.each([
    ['vendor: discharge 20 A', 0x07d0, 1, -20_000],
    ['vendor: charge 20 A', 0x87d0, 1, 20_000],
    ['capture: +2.08 A', 0x80d0, 1, 2_080],
    ['capture: -0.69 A', 0x0045, 1, -690],
    ['capture: 0 A ("-0")', 0x0000, 1, 0],
    ['"+0"', 0x8000, 1, 0],
    ['vendor: offset, raw 11000 = -10 A', 11_000, null, -10_000],
    ['vendor: offset, raw 9500 = +5 A', 9_500, null, 5_000],
    ['vendor example: raw 10000 = 0 A', 10_000, null, 0],
    ['0xC0 = 0 uses the offset too', 10_000, 0, 0],
  ] as const)('%s', (_name, raw, version, currentMa) => {
    expect(Object.is(decodeCurrent(raw, version), currentMa)).toBe(true);
  });

  it('encode inverts decode for every raw value (0x8000 "+0" comes back as 0x0000)', () => {
    for (const version of [1, null]) {
      for (let raw = 0; raw <= 0xffff; raw++) {
        const expected = version === 1 && raw === 0x8000 ? 0 : raw;
        const back = encodeCurrent(decodeCurrent(raw, version), version);
        if (back !== expected) throw new Error(`version ${version}: raw ${raw} came back as ${back}`);
      }
    }
  });

  it('rejects currents beyond ±327.67 A (sign-magnitude) and beyond +100 A / -555.35 A (offset)', () => {
    expect(encodeCurrent(327_670, 1)).toBe(0xffff);
    expect(() => encodeCurrent(327_680, 1)).toThrow(RangeError);
    expect(() => encodeCurrent(-327_680, 1)).toThrow(RangeError);
    expect(encodeCurrent(100_000, null)).toBe(0);
    expect(() => encodeCurrent(100_010, null)).toThrow(RangeError);
    expect(() => encodeCurrent(-555_360, null)).toThrow(RangeError);
    expect(() => encodeCurrent(Number.NaN, 1)).toThrow(RangeError);
  });
});
