/** Big-endian integer and hex helpers shared by the JK codec (§2: all integers are BE). */

/** Unsigned big-endian integer of `width` (1..4) bytes; arithmetic, so no int32 sign surprises. */
export function readUintBE(bytes: Uint8Array, offset: number, width: number): number {
  let value = 0;
  for (let i = 0; i < width; i++) value = value * 256 + bytes[offset + i];
  return value;
}

/** Writes an unsigned integer that the caller has range-checked for `width` bytes. */
export function writeUintBE(target: Uint8Array, offset: number, width: number, value: number): void {
  let rest = value;
  for (let i = width - 1; i >= 0; i--) {
    target[offset + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

/** `0x` + upper-case hex, zero-padded to `digits`: the form used in the spec and in error details. */
export function hex(value: number, digits = 2): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, '0')}`;
}

/**
 * A plain Uint8Array copy of bytes[start, end). Unlike .slice() it never aliases the input, even
 * when the caller passed a Node Buffer (whose .slice() is a view).
 */
export function copyBytes(bytes: Uint8Array, start: number, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

/** a followed by b; returns one of them unchanged when the other is empty (callers must not mutate it). */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
