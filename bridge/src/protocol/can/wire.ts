/**
 * Byte-level helpers for the 0x35x family: every multi-byte field is little-endian
 * (inverter-can-protocols.md §1 "Byte order"). Pure, no I/O.
 */

export const U16_MAX = 0xffff;
export const S16_MIN = -0x8000;
export const S16_MAX = 0x7fff;

export function readU16(data: Uint8Array, offset: number): number {
  return data[offset] | (data[offset + 1] << 8);
}

export function readS16(data: Uint8Array, offset: number): number {
  const u = readU16(data, offset);
  return u >= 0x8000 ? u - 0x10000 : u;
}

export function readU32(data: Uint8Array, offset: number): number {
  return (readU16(data, offset) + readU16(data, offset + 2) * 0x10000) >>> 0;
}

/** Writes the low 16 bits of raw (two's complement for negatives), low byte first. */
export function writeU16(buf: Uint8Array, offset: number, raw: number): void {
  buf[offset] = raw & 0xff;
  buf[offset + 1] = (raw >> 8) & 0xff;
}

/**
 * Engineering value → wire integer: round(value × factor), clamped to [min, max].
 * Not finite → min (the lower bound of the field). Encoders never throw on the hot path, so a
 * caller bug (NaN) lands on the most conservative representable value instead of an exception.
 * The factor is 1/resolution (10 for 0.1 units) so that 56.8 × 10 is exact where 56.8 / 0.1 is not.
 */
export function toRaw(value: number, factor: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  const raw = Math.round(value * factor);
  return raw < min ? min : raw > max ? max : raw;
}

/** Bytes as a Latin-1 string, one character per byte (NULs kept, so padding stays visible). */
export function latin1(data: Uint8Array): string {
  return String.fromCharCode(...data);
}

/** Printable ASCII only (0x20-0x7E): anything else could be misread by an inverter display. */
export function printableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '');
}

/** Text → exactly `length` bytes, truncated, padded with `pad` (0x20 space or 0x00 NUL). */
export function paddedAscii(text: string, length: number, pad: 0x20 | 0x00): Uint8Array {
  const out = new Uint8Array(length).fill(pad);
  const clean = printableAscii(text);
  for (let i = 0; i < Math.min(length, clean.length); i++) out[i] = clean.charCodeAt(i);
  return out;
}

/** "PYLON   " / "BYD\0\0\0\0\0" → "PYLON" / "BYD": trailing padding of either kind removed. */
export function stripPadding(text: string): string {
  return text.replace(/[\0 ]+$/, '');
}

/** Uppercase hex without separators ("1002C0"), as candump and SLCAN write data. */
export function toHex(data: Uint8Array): string {
  let out = '';
  for (const b of data) out += b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** Even-length hex (any case) → bytes; undefined when it is not hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
