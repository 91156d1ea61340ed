/**
 * candump log format (`candump -L`, also what canplayer reads):
 *   (1700000000.123456) can0 351#1002C012C012C201
 * Seconds are printed zero-padded to 10 digits and microseconds to 6 (can-utils candump.c
 * "(%010lu.%06lu) %*s %s"); 11-bit ids as 3 hex digits, 29-bit ids as 8; data as uppercase hex
 * without separators; DLC 0 is "00F#". The bridge's dry-run transport writes these lines and
 * tests replay them.
 */
import { canFrameError, type CanFrame } from './frame';
import { fromHex, toHex } from './wire';

/** Throws RangeError for a frame no bus could carry, a bad timestamp, or an interface name with spaces. */
export function formatCandumpLine(frame: CanFrame, iface: string, timestampSec: number): string {
  const problem = canFrameError(frame);
  if (problem) throw new RangeError(`candump: ${problem}`);
  if (!Number.isFinite(timestampSec) || timestampSec < 0) throw new RangeError(`candump: timestamp ${timestampSec} must be a finite number >= 0`);
  if (!/^\S+$/.test(iface)) throw new RangeError(`candump: interface name ${JSON.stringify(iface)} must be non-empty without whitespace`);
  // Integer microseconds first: toFixed(6) on the float can round the last digit differently.
  const micros = Math.round(timestampSec * 1e6);
  const sec = Math.floor(micros / 1e6);
  const usec = micros - sec * 1e6;
  const id = frame.id.toString(16).toUpperCase().padStart(frame.ext ? 8 : 3, '0');
  return `(${String(sec).padStart(10, '0')}.${String(usec).padStart(6, '0')}) ${iface} ${id}#${toHex(frame.data)}`;
}

export type CandumpParseResult =
  | { ok: true; frame: CanFrame; iface: string; timestampSec: number }
  | { ok: false; detail: string };

/**
 * Optional trailing " R" / " T" is candump -x's receive/transmit marker. Remote frames ("#R"),
 * CAN FD ("##"), error frames (the 0x20000000 flag in an 8-digit id) and DLC > 8 are refused:
 * CanFrame is a classical data frame.
 */
const LINE = /^\s*\((\d+)\.(\d{1,9})\)\s+(\S+)\s+([0-9A-Fa-f]+)#(\S*?)(?:\s+[RT])?\s*$/;

export function parseCandumpLine(line: string): CandumpParseResult {
  const m = LINE.exec(line);
  if (!m) return { ok: false, detail: `not a candump -L line: ${JSON.stringify(line.slice(0, 80))}` };
  const [, sec, frac, iface, idText, payload] = m;
  if (idText.length !== 3 && idText.length !== 8) return { ok: false, detail: `id "${idText}" must have 3 (11-bit) or 8 (29-bit) hex digits` };
  if (payload.startsWith('#')) return { ok: false, detail: 'CAN FD frames are not supported' };
  if (/^R/i.test(payload)) return { ok: false, detail: 'remote frames are not supported' };
  const data = fromHex(payload);
  if (!data) return { ok: false, detail: `data "${payload}" is not an even number of hex digits` };
  const ext = idText.length === 8;
  const frame: CanFrame = ext ? { id: parseInt(idText, 16), data, ext } : { id: parseInt(idText, 16), data };
  const problem = canFrameError(frame);
  if (problem) return { ok: false, detail: problem };
  return { ok: true, frame, iface, timestampSec: Number(sec) + Number(frac) / 10 ** frac.length };
}
