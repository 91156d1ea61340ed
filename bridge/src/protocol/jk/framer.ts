/**
 * Byte stream → JK "4E 57" frames (§2.1, §2.10), in the style of zwave-js' SerialAPIParser
 * (shared/design/MODELS.md §1.2, §7 lesson 3): it only finds frame boundaries and checks the
 * checksum; it knows nothing about records.
 *
 *   push(chunk) ──► buffer: [ discard run ][ candidate frame ] ──► 'frame' | 'discarded'
 *   flush()     ──► the same scan with end of stream: an unfinished candidate becomes TRUNCATED
 *
 * Every input byte ends up in exactly one output item (or in the buffer), so nothing is dropped
 * silently. Decisions depend only on the byte stream, never on how it was chunked: a junk run
 * ends at the next 4E 57 (or at maxFrameBytes), a candidate is judged once LENGTH+2 bytes are in.
 * After a bad candidate the scan resumes one byte after its STX, because a real frame can hide
 * inside a corrupted one; the bytes skipped that way are reported under the bad frame's code.
 * Frames of every transmission type are emitted: the bridge skips its echoed requests (type 0),
 * the virtual BMS wants them.
 */
import { concatBytes, copyBytes } from './bytes';
import { jkError, type JkError, type JkErrorCode } from './errors';
import { inspectFrame, JK_DEFAULT_MAX_FRAME_BYTES, JK_MIN_LENGTH, JK_STX0, JK_STX1, JkOffset } from './frame';

export type JkFramerOutput =
  | { kind: 'frame'; bytes: Uint8Array; command: number; source: number; transmissionType: number }
  | { kind: 'discarded'; code: JkErrorCode; bytes: Uint8Array; detail: string };

export interface JkFramerOptions {
  /** Largest accepted frame (LENGTH + 2), default 600; also the longest discard run kept. */
  maxFrameBytes?: number;
}

export class JkFramer {
  private readonly maxFrameBytes: number;
  /** Unconsumed bytes: a discard run (runLength bytes), then an unjudged candidate or lone 0x4E. */
  private buffer: Uint8Array = new Uint8Array(0);
  private runLength = 0;
  /** Why the current run is discarded; null = plain junk. */
  private runReason: JkError | null = null;

  constructor(opts: JkFramerOptions = {}) {
    const max = opts.maxFrameBytes ?? JK_DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < JK_MIN_LENGTH + 2) {
      throw new RangeError(`maxFrameBytes ${max} is below the smallest frame (${JK_MIN_LENGTH + 2} bytes)`);
    }
    this.maxFrameBytes = max;
  }

  /** Bytes held back waiting for more input; never more than maxFrameBytes between calls. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): JkFramerOutput[] {
    return this.scan(chunk, false);
  }

  /**
   * Ends the stream (the caller's reply timeout): the pending partial frame is reported as
   * TRUNCATED and dropped, the pending junk run is reported, and a frame hidden inside the partial
   * one (a cut-off reply followed by a complete one) is still emitted.
   */
  flush(): JkFramerOutput[] {
    const out = this.scan(new Uint8Array(0), true);
    this.reset();
    return out;
  }

  /** Forgets buffered bytes without reporting them (e.g. after the link was reopened). */
  reset(): void {
    this.buffer = new Uint8Array(0);
    this.runLength = 0;
    this.runReason = null;
  }

  private scan(chunk: Uint8Array, atEnd: boolean): JkFramerOutput[] {
    const data = concatBytes(this.buffer, chunk);
    const out: JkFramerOutput[] = [];
    let start = 0; // first byte not yet emitted; data[start, i) is the current discard run
    let i = this.runLength;
    const endRun = (at: number) => {
      if (at > start) out.push(this.discarded(copyBytes(data, start, at)));
      start = at;
      this.runReason = null;
    };

    while (i < data.length) {
      const lastByte = i + 1 === data.length;
      if (data[i] === JK_STX0 && (lastByte || data[i + 1] === JK_STX1)) {
        if (lastByte && !atEnd) break; // a possible STX: wait for its second byte
        endRun(i);
        const verdict = inspectFrame(data.subarray(i), this.maxFrameBytes);
        if (verdict.kind === 'complete') {
          out.push(frameOutput(copyBytes(data, i, i + verdict.totalBytes)));
          i += verdict.totalBytes;
          start = i;
          continue;
        }
        if (verdict.kind === 'incomplete' && !atEnd) break;
        // A bad (or, at the end, unfinished) candidate opens a discard run; rescan after its STX.
        this.runReason = verdict.kind === 'invalid' ? verdict.error : truncated(data.length - i, verdict.totalBytes);
        i += 1;
        continue;
      }
      i += 1; // not a frame start: the byte joins the discard run
      if (i - start >= this.maxFrameBytes) endRun(i);
    }
    if (atEnd) endRun(data.length);

    this.buffer = copyBytes(data, start);
    this.runLength = i - start;
    return out;
  }

  private discarded(bytes: Uint8Array): JkFramerOutput {
    const reason = this.runReason ?? jkError('JUNK', `${bytes.length} bytes outside any 4E 57 frame`);
    return { kind: 'discarded', code: reason.code, bytes, detail: reason.detail };
  }
}

function truncated(received: number, totalBytes: number | null): JkError {
  const detail =
    totalBytes === null
      ? `stream ended inside a frame header (${received} of 4 bytes)`
      : `stream ended after ${received} of ${totalBytes} bytes`;
  return jkError('TRUNCATED', detail);
}

function frameOutput(bytes: Uint8Array): JkFramerOutput {
  return {
    kind: 'frame',
    bytes,
    command: bytes[JkOffset.command],
    source: bytes[JkOffset.source],
    transmissionType: bytes[JkOffset.transmissionType],
  };
}
