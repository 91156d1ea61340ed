/**
 * Lawicel / SLCAN ASCII protocol (CANUSB, CANable slcan firmware, Linux slcan driver), used both by
 * the bridge (host side, talking to a USB adapter) and by the virtual adapter (device side).
 *
 *   t<iii><L><dd…>[tttt]\r        11-bit data frame, L = 0..8, optional 4-hex-digit timestamp
 *   T<iiiiiiii><L><dd…>[tttt]\r   29-bit data frame
 *   S0..S8\r  bit rate, O\r open, C\r close, V\r / N\r / F\r queries (any other "command")
 *   \r        OK reply;  BEL (0x07) error reply, not followed by \r;  z\r / Z\r transmit ack
 *
 * Hex is written uppercase (as the Linux slcan driver) and read in any case.
 */
import { canFrameError, type CanFrame } from './frame';
import { fromHex, toHex } from './wire';

export const SLCAN_BITRATES = {
  S0: 10_000,
  S1: 20_000,
  S2: 50_000,
  S3: 100_000,
  S4: 125_000,
  S5: 250_000,
  S6: 500_000,
  S7: 800_000,
  S8: 1_000_000,
} as const;
export type SlcanBitrateCode = keyof typeof SLCAN_BITRATES;

export const SLCAN_OPEN_COMMAND = 'O\r';
export const SLCAN_CLOSE_COMMAND = 'C\r';

/** "S6\r" for 500000 (every profile here runs at 500 kbit/s, §1). Throws RangeError for a rate SLCAN has no code for. */
export function slcanBitrateCommand(bitrate: number): string {
  const entry = Object.entries(SLCAN_BITRATES).find(([, rate]) => rate === bitrate);
  if (!entry) throw new RangeError(`SLCAN has no bit-rate code for ${bitrate} bit/s (supported: ${Object.values(SLCAN_BITRATES).join(', ')})`);
  return `${entry[0]}\r`;
}

/** Device side: "S6" (with or without \r) → 500000; undefined when it is not a bit-rate command. */
export function parseSlcanBitrateCommand(text: string): number | undefined {
  const code = text.replace(/\r$/, '');
  return Object.prototype.hasOwnProperty.call(SLCAN_BITRATES, code) ? SLCAN_BITRATES[code as SlcanBitrateCode] : undefined;
}

/** Throws RangeError for a frame no bus could carry (encoders upstream never produce one). */
export function encodeSlcanFrame(frame: CanFrame): string {
  const problem = canFrameError(frame);
  if (problem) throw new RangeError(`slcan: ${problem}`);
  const id = frame.id.toString(16).toUpperCase().padStart(frame.ext ? 8 : 3, '0');
  return `${frame.ext ? 'T' : 't'}${id}${frame.data.length}${toHex(frame.data)}\r`;
}

export type SlcanFrameParseResult = { ok: true; frame: CanFrame; timestampMs?: number } | { ok: false; detail: string };

/** One t/T line, with or without its \r. */
export function parseSlcanFrame(text: string): SlcanFrameParseResult {
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  const type = line.charAt(0);
  if (type === 'r' || type === 'R') return { ok: false, detail: 'remote frames are not supported' };
  if (type !== 't' && type !== 'T') return { ok: false, detail: `not a frame line (starts with ${JSON.stringify(type)})` };
  const ext = type === 'T';
  const idLength = ext ? 8 : 3;
  const idText = line.slice(1, 1 + idLength);
  const dlcText = line.charAt(1 + idLength);
  if (!/^[0-9A-Fa-f]+$/.test(idText) || idText.length !== idLength) return { ok: false, detail: `id must be ${idLength} hex digits` };
  if (!/^[0-8]$/.test(dlcText)) return { ok: false, detail: `DLC ${JSON.stringify(dlcText)} must be 0..8` };
  const dlc = Number(dlcText);
  const rest = line.slice(2 + idLength);
  const data = fromHex(rest.slice(0, 2 * dlc));
  if (!data || data.length !== dlc) return { ok: false, detail: `expected ${dlc} data bytes as hex` };
  const tail = rest.slice(2 * dlc);
  if (tail !== '' && !/^[0-9A-Fa-f]{4}$/.test(tail)) return { ok: false, detail: `unexpected ${JSON.stringify(tail)} after the data` };
  const frame: CanFrame = ext ? { id: parseInt(idText, 16), data, ext } : { id: parseInt(idText, 16), data };
  const problem = canFrameError(frame);
  if (problem) return { ok: false, detail: problem };
  return tail === '' ? { ok: true, frame } : { ok: true, frame, timestampMs: parseInt(tail, 16) };
}

export type SlcanMessage =
  | { kind: 'frame'; frame: CanFrame; timestampMs?: number }
  | { kind: 'ok' }
  | { kind: 'error' }
  | { kind: 'tx-ack' /* 'z' or 'Z' */ }
  | { kind: 'command'; text: string }
  | { kind: 'invalid'; text: string; detail: string };

/** Longest line SLCAN defines for classical CAN: "T" + 8 id + 1 DLC + 16 data + 4 timestamp. */
export const SLCAN_MAX_LINE_LENGTH = 30;

const CR = 0x0d;
const LF = 0x0a;
const BEL = 0x07;

function classifyLine(line: string): SlcanMessage {
  if (line === '') return { kind: 'ok' };
  if (line === 'z' || line === 'Z') return { kind: 'tx-ack' };
  const first = line.charAt(0);
  if ('tTrR'.includes(first)) {
    const parsed = parseSlcanFrame(line);
    if (!parsed.ok) return { kind: 'invalid', text: line, detail: parsed.detail };
    return parsed.timestampMs === undefined ? { kind: 'frame', frame: parsed.frame } : { kind: 'frame', frame: parsed.frame, timestampMs: parsed.timestampMs };
  }
  if (/^[A-Za-z][\x20-\x7e]*$/.test(line)) return { kind: 'command', text: line };
  return { kind: 'invalid', text: line, detail: 'not an SLCAN line' };
}

/**
 * Splits a byte stream into SLCAN messages across any chunking. \n is dropped (terminals send
 * \r\n; a lone \n must not read as an OK). A line that outgrows SLCAN_MAX_LINE_LENGTH keeps only
 * its first characters (garbage never grows memory) and is reported once as invalid when it
 * ends: its terminator may be the adapter's answer behind the garbage, which the host must see.
 * BEL ends whatever was pending (reported as invalid) and is an error reply of its own.
 */
export class SlcanLineSplitter {
  private line = '';
  private discarding = false;

  push(chunk: Uint8Array | string): SlcanMessage[] {
    const out: SlcanMessage[] = [];
    // Byte by byte: a huge garbage chunk must not be spread into one call or copied into a string.
    for (let i = 0; i < chunk.length; i++) {
      this.feed(typeof chunk === 'string' ? chunk.charCodeAt(i) : chunk[i], out);
    }
    return out;
  }

  private feed(code: number, out: SlcanMessage[]): void {
    if (code === LF) return;
    if (code === CR || code === BEL) {
      if (this.discarding) out.push({ kind: 'invalid', text: this.line, detail: `line longer than ${SLCAN_MAX_LINE_LENGTH} characters` });
      else if (code === CR) out.push(classifyLine(this.line));
      else if (this.line !== '') out.push({ kind: 'invalid', text: this.line, detail: 'unterminated line before BEL' });
      if (code === BEL) out.push({ kind: 'error' });
      this.line = '';
      this.discarding = false;
    } else if (this.line.length < SLCAN_MAX_LINE_LENGTH) {
      this.line += String.fromCharCode(code);
    } else {
      this.discarding = true;
    }
  }
}
