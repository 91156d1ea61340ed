/**
 * The two 4E 57 quantities whose wire coding is not a plain integer: the 0x80-0x82 temperatures
 * (§2.6) and the 0x84 current (§2.7). Each decode/encode pair is a bijection on its domain, so a
 * decoded snapshot always re-encodes to the same raw value (except 0x8000, see decodeCurrent).
 */
import type { JkTemperatureCoding } from './snapshot';

/** Largest raw value that still means a non-negative temperature under each coding (§2.6). */
const LAST_NON_NEGATIVE: Readonly<Record<JkTemperatureCoding, number>> = { doc: 100, esphome: 99 };

/** §2.6: 'doc' → raw > 100 means 100 - raw (101 = −1 °C); 'esphome' → raw > 99 means 99 - raw. */
export function decodeTemperature(raw: number, coding: JkTemperatureCoding): number {
  const zero = LAST_NON_NEGATIVE[coding];
  return raw <= zero ? raw : zero - raw;
}

/** Inverse of decodeTemperature; RangeError above the coding's limit (100 °C is not 'esphome'-codable). */
export function encodeTemperature(celsius: number, coding: JkTemperatureCoding): number {
  const zero = LAST_NON_NEGATIVE[coding];
  const whole = Math.round(celsius);
  if (whole > zero) {
    throw new RangeError(`temperature ${celsius} °C is above ${zero} °C, the '${coding}' coding limit`);
  }
  return whole >= 0 ? Math.abs(whole) : zero - whole; // abs: -0.4 °C rounds to -0, send 0
}

/** 0xC0 value that selects the sign-magnitude current coding (§2.7). */
const SIGN_MAGNITUDE_VERSION = 1;
/** §2.7: old firmware sends 10000 - I/10mA, so 10000 means 0 A. */
const CURRENT_OFFSET = 10_000;

/**
 * §2.7, 0x84 in mA (+ = charging). 0xC0 = 1: bit 15 set = charging, bits 0-14 = 10 mA steps.
 * Otherwise (0xC0 = 0 or absent): offset coding. Raw 0x8000 ("+0") decodes to 0 and re-encodes
 * as 0x0000, which is what every capture at rest shows.
 */
export function decodeCurrent(raw: number, protocolVersion: number | null): number {
  if (protocolVersion !== SIGN_MAGNITUDE_VERSION) return (CURRENT_OFFSET - raw) * 10;
  const magnitudeMa = (raw & 0x7fff) * 10;
  if (raw & 0x8000) return magnitudeMa;
  return magnitudeMa === 0 ? 0 : -magnitudeMa; // no -0: snapshots must compare equal
}

/** Inverse of decodeCurrent, rounding to 10 mA; RangeError beyond the coding's range. */
export function encodeCurrent(currentMa: number, protocolVersion: number | null): number {
  const steps = Math.round(currentMa / 10);
  if (protocolVersion === SIGN_MAGNITUDE_VERSION) {
    if (Math.abs(steps) <= 0x7fff) return steps > 0 ? 0x8000 | steps : Math.abs(steps);
  } else {
    const raw = CURRENT_OFFSET - steps;
    if (raw >= 0 && raw <= 0xffff) return raw;
  }
  throw new RangeError(`current ${currentMa} mA does not fit 0x84 under protocol version ${protocolVersion}`);
}
