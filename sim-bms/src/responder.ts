/**
 * The wire side of the virtual JK BMS on one ByteLink: the bridge's JkFramer finds request
 * frames in the incoming bytes, the owner decides what to answer, and the responder writes the
 * answer after a delay, optionally in several chunks (spec §2.10: the reply starts 0.18-0.45 ms
 * after the request and reaches the host in up to 6 OS chunks; §2.11 point 1).
 */
import { JkFramer, type JkFramerOutput } from '../../bridge/src/protocol/jk';
import type { ByteLink, Unsubscribe } from '../../bridge/src/transport/types';
import type { Clock } from '../../bridge/src/clock';

/**
 * A gap this long ends what was received (§2.10: intra-frame gaps are < 50 ms; esphome's UART
 * rx_timeout is 50 ms). Junk and half frames are then reported at once instead of waiting for
 * the next 4E 57, and a request torn by a long pause is dropped, as a BMS receiver would.
 */
export const RX_IDLE_FLUSH_MS = 50;

export interface ReplyPlan {
  bytes: Uint8Array;
  delayMs: number;
  /** Runs once the last byte was handed to the link. */
  onWritten?: () => void;
}

export interface ResponderOptions {
  clock: Clock;
  /** Split each reply into 2-6 writes. */
  chunked: boolean;
  random: () => number;
}

export class Responder {
  private readonly framer = new JkFramer();
  private readonly timers = new Set<unknown>();
  private unsubscribe: Unsubscribe | null = null;
  private idleTimer: unknown = null;
  /** Replies go out one after the other, never interleaved. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly link: ByteLink,
    private readonly decide: (item: JkFramerOutput) => ReplyPlan | null,
    private readonly opts: ResponderOptions,
  ) {}

  start(): void {
    this.unsubscribe ??= this.link.onData((chunk) => {
      this.handle(this.framer.push(chunk));
      const { clock } = this.opts;
      if (this.idleTimer !== null) clock.clearTimeout(this.idleTimer);
      this.idleTimer = this.framer.bufferedBytes === 0 ? null : clock.setTimeout(() => {
        this.idleTimer = null;
        this.handle(this.framer.flush());
      }, RX_IDLE_FLUSH_MS);
    });
  }

  private handle(items: JkFramerOutput[]): void {
    for (const item of items) {
      const plan = this.decide(item);
      if (plan) this.schedule(plan);
    }
  }

  /** Stops reading and drops replies not yet written. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const timer of this.timers) this.opts.clock.clearTimeout(timer);
    this.timers.clear();
    if (this.idleTimer !== null) this.opts.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.framer.reset();
  }

  private schedule(plan: ReplyPlan): void {
    const timer = this.opts.clock.setTimeout(() => {
      this.timers.delete(timer);
      this.writing = this.writing.then(() => this.write(plan));
    }, plan.delayMs);
    this.timers.add(timer);
  }

  private async write(plan: ReplyPlan): Promise<void> {
    try {
      for (const chunk of this.opts.chunked ? split(plan.bytes, this.opts.random) : [plan.bytes]) {
        if (!this.unsubscribe) return; // stopped (link dropped) mid-reply: the rest is lost, as on a wire
        await this.link.write(chunk);
      }
      plan.onWritten?.();
    } catch {
      // The link went away while writing; its onDisconnect tells the owner.
    }
  }
}

/** Up to 2..6 pieces at random cut points (a repeated cut point just gives one piece fewer). */
function split(bytes: Uint8Array, random: () => number): Uint8Array[] {
  if (bytes.length < 2) return [bytes];
  const pieces = 2 + Math.floor(random() * 5);
  const cuts = new Set(Array.from({ length: pieces - 1 }, () => 1 + Math.floor(random() * (bytes.length - 1))));
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  return bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
}
