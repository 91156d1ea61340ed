/**
 * Polls a JK BMS over a ByteLink: one read-all request at a time, a reply timeout, at least
 * `minGapMs` between packets (spec §2.10), a streaming framer that survives any chunking and junk,
 * and plausibility checks before a snapshot counts. A lost link is reopened with back-off, and so
 * is a link that goes quiet (`reopenAfterMissedPolls` polls in a row without a reply): a half-open
 * TCP session, a hung USB adapter or a BMS process restarted behind a live pty never report a
 * disconnect, but a fresh open reaches the device again (issue 10, bugs 3 and 6).
 * Bad input never throws: every discarded byte run and rejected frame is counted and logged.
 */
import type { Logger } from 'pino';
import { backoffDelayMs, type Clock } from '../clock';
import type { BridgeConfig, PackConfig } from '../config/schema';
import { buildReadAllRequest, decodeResponse, JkFramer, type JkErrorCode, type JkFramerOutput } from '../protocol/jk';
import type { BmsSnapshot, JkTemperatureCoding } from '../protocol/jk/snapshot';
import { TransportError, type ByteLink } from '../transport/types';
import { checkPlausibility, type PlausibilityLimits } from './plausibility';
import { afterGap, afterSnapshot, describeFastReason, fastPollSettings, initialPollSchedule, type FastPollReason, type FastPollSettings } from './poll-schedule';

export type PollerEvent =
  | { type: 'snapshot'; snapshot: BmsSnapshot; atMs: number }
  | { type: 'implausible'; problems: string[]; atMs: number }
  | { type: 'missed'; reason: string; atMs: number }
  | { type: 'link-up'; atMs: number }
  | { type: 'link-down'; error: TransportError; atMs: number };

export interface PollerOptions {
  /** The relaxed pace; fast polls need only minGapMs (poll-schedule.ts). */
  pollIntervalMs: number;
  fastPoll: FastPollSettings;
  replyTimeoutMs: number;
  minGapMs: number;
  request: { command: 0x06 | 0x03; source: 'pc' | 'gps' };
  temperatureCoding: JkTemperatureCoding;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Close and reopen the link after this many polls in a row without a reply. */
  reopenAfterMissedPolls: number;
  plausibility: PlausibilityLimits;
}

export interface PollerStats {
  polls: number;
  snapshots: number;
  timeouts: number;
  implausible: number;
  /** Discarded byte runs and rejected frames, by error code. */
  errors: Partial<Record<JkErrorCode, number>>;
  reconnects: number;
}

export type LogFn = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** One pack's poller options in a validated config (the fast-poll schedule watches the control stops). */
export function pollerOptionsFor(config: Pick<BridgeConfig, 'bms' | 'control' | 'battery'>, pack: PackConfig): PollerOptions {
  return { ...pack, fastPoll: fastPollSettings(config) };
}

export class BmsPoller {
  readonly stats: PollerStats = { polls: 0, snapshots: 0, timeouts: 0, implausible: 0, errors: {}, reconnects: 0 };
  private readonly framer = new JkFramer();
  private readonly request: Uint8Array;
  private timer: unknown = null;
  private awaitingReply = false;
  private lastPollStartMs = -Infinity;
  private lastPacketMs = -Infinity;
  private openAttempts = 0;
  /** Polls in a row that ended without a reply; the first of a run is a warning, the rest debug. */
  private missedInARow = 0;
  /** Reopens because the link went quiet since the last reply; the first is a warning, the rest debug. */
  private quietReopens = 0;
  private running = false;
  private unsubscribe: Array<() => void> = [];
  /** Learned from the first valid reply unless configured, then enforced (plausibility). */
  private expectedCells: number | undefined;
  private pace = initialPollSchedule();
  /** Why the next poll comes back to back; null = at the relaxed interval. */
  private fast: FastPollReason | null = null;

  constructor(
    private readonly link: ByteLink,
    private readonly options: PollerOptions,
    private readonly emit: (event: PollerEvent) => void,
    private readonly clock: Clock,
    private readonly log: LogFn,
  ) {
    this.request = buildReadAllRequest({ command: options.request.command, source: options.request.source });
    this.expectedCells = options.plausibility.cellCount;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe.push(
      this.link.onData((chunk) => this.onBytes(chunk)),
      this.link.onDisconnect((error) => this.onLinkLost(error)),
    );
    void this.openLink();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer();
    for (const off of this.unsubscribe.splice(0)) off();
    await this.link.close();
  }

  private async openLink(): Promise<void> {
    if (!this.running) return;
    try {
      await this.link.open();
    } catch (err) {
      if (!this.running) return; // stopped while opening: no retry
      const error = err as TransportError;
      this.openAttempts += 1;
      const delay = backoffDelayMs(this.openAttempts, this.options.reconnectInitialMs, this.options.reconnectMaxMs);
      this.log.warn({ err: error.message, retryInMs: delay }, `BMS link ${this.link.description}: open failed, retrying`);
      this.schedule(() => void this.openLink(), delay);
      return;
    }
    if (!this.running) {
      await this.link.close();
      return;
    }
    if (this.openAttempts > 0 || this.stats.reconnects > 0) this.log.info(`BMS link ${this.link.description} open`);
    this.openAttempts = 0;
    this.framer.reset();
    this.pace = afterGap(this.pace);
    this.emit({ type: 'link-up', atMs: this.clock.now() });
    this.poll();
  }

  private onLinkLost(error: TransportError): void {
    if (!this.running) return;
    this.linkDown(error);
    this.log.warn({ err: error.message }, `BMS link ${this.link.description} lost; reopening`);
    this.schedule(() => void this.openLink(), this.options.reconnectInitialMs);
  }

  /** The link answers nothing although it reports no loss: close it and open it afresh. */
  private reopenQuietLink(): void {
    const message = `no reply to ${this.missedInARow} polls in a row`;
    this.linkDown(new TransportError('DISCONNECTED', `${this.link.description}: ${message}`));
    this.quietReopens += 1;
    const line = `BMS link ${this.link.description} quiet: ${message}; reopening it`;
    if (this.quietReopens === 1) this.log.warn(`${line} (repeats are logged at debug level)`);
    else this.log.debug(line);
    this.link.close().then(
      () => {
        if (this.running) this.schedule(() => void this.openLink(), this.options.reconnectInitialMs);
      },
      (err: Error) => {
        this.log.warn({ err: err.message }, `BMS link ${this.link.description}: close failed`);
        if (this.running) this.schedule(() => void this.openLink(), this.options.reconnectInitialMs);
      },
    );
  }

  private linkDown(error: TransportError): void {
    this.cancelTimer();
    this.awaitingReply = false;
    this.stats.reconnects += 1;
    this.openAttempts = 1;
    this.emit({ type: 'link-down', error, atMs: this.clock.now() });
  }

  private poll(): void {
    if (!this.running) return;
    const now = this.clock.now();
    // Bytes that came in after the next poll was scheduled (a late reply, line noise) move it back.
    const gapEndsMs = this.lastPacketMs + this.options.minGapMs;
    if (now < gapEndsMs) {
      this.schedule(() => this.poll(), gapEndsMs - now);
      return;
    }
    this.lastPollStartMs = now;
    this.lastPacketMs = now;
    this.awaitingReply = true;
    this.stats.polls += 1;
    this.link.write(this.request).catch((err: Error) => this.log.warn({ err: err.message }, 'BMS request write failed'));
    this.schedule(() => this.onReplyTimeout(), this.options.replyTimeoutMs);
  }

  private onReplyTimeout(): void {
    // End of the reply window: a cut-off frame is reported, a complete one hidden behind it still counts.
    this.handle(this.framer.flush());
    if (this.awaitingReply) this.missedReply();
  }

  private missedReply(): void {
    this.awaitingReply = false;
    this.stats.timeouts += 1;
    this.missedInARow += 1;
    const reason = `no reply within ${this.options.replyTimeoutMs} ms`;
    if (this.missedInARow === 1) this.log.warn(`BMS poll missed: ${reason} on ${this.link.description} (repeats are logged at debug level)`);
    else this.log.debug(`BMS poll missed: ${reason} (${this.missedInARow} in a row)`);
    this.emit({ type: 'missed', reason, atMs: this.clock.now() });
    this.pace = afterGap(this.pace);
    this.setPace(null, null);
    if (this.missedInARow % this.options.reopenAfterMissedPolls === 0) this.reopenQuietLink();
    else this.scheduleNextPoll();
  }

  private onBytes(chunk: Uint8Array): void {
    this.lastPacketMs = this.clock.now();
    this.handle(this.framer.push(chunk));
  }

  private handle(outputs: JkFramerOutput[]): void {
    for (const out of outputs) {
      if (out.kind === 'discarded') {
        this.countError(out.code, out.detail);
        continue;
      }
      // A half-duplex RS485 adapter echoes our own request (type 0); only replies count (§2.10).
      if (out.transmissionType !== 1) continue;
      if (!this.awaitingReply) {
        this.log.debug('BMS reply arrived after its timeout; ignored');
        continue;
      }
      // The data's age is checked, not only the order of events: after a stall (SIGSTOP, a
      // swapping Pi) the bytes that came long ago are read before the reply timer fires, and they
      // are as old as the stall (issue 10, bug 5). Such a reply is late, never data.
      if (this.clock.now() - this.lastPollStartMs > this.options.replyTimeoutMs) {
        this.log.debug('BMS reply read after its timeout (the process was stalled); ignored');
        this.missedReply();
        continue;
      }
      this.onReply(out.bytes);
    }
  }

  private onReply(frame: Uint8Array): void {
    const atMs = this.clock.now();
    const decoded = decodeResponse(frame, { temperatureCoding: this.options.temperatureCoding });
    if (!decoded.ok) {
      // A framed but undecodable reply: count it and wait for the timeout-driven next poll,
      // so a stream of bad frames looks to the chart like silence, never like data.
      this.countError(decoded.error.code, decoded.error.detail);
      return;
    }
    this.cancelTimer();
    this.awaitingReply = false;
    if (this.missedInARow > 0) this.log.info(`BMS answering again after ${this.missedInARow} missed poll(s)`);
    this.missedInARow = 0;
    this.quietReopens = 0;
    const problems = checkPlausibility(decoded.snapshot, { ...this.options.plausibility, cellCount: this.expectedCells });
    if (problems.length > 0) {
      this.stats.implausible += 1;
      this.log.warn({ problems }, `BMS reply implausible: ${problems[0]}`);
      this.pace = afterGap(this.pace);
      this.setPace(null, null);
      this.emit({ type: 'implausible', problems, atMs });
    } else {
      this.expectedCells ??= decoded.snapshot.cellsMv.length;
      this.stats.snapshots += 1;
      const next = afterSnapshot(this.pace, decoded.snapshot, this.options.fastPoll);
      this.pace = next.state;
      this.setPace(next.fast, decoded.snapshot);
      this.emit({ type: 'snapshot', snapshot: decoded.snapshot, atMs });
    }
    this.scheduleNextPoll();
  }

  /** One debug line when the pace changes, none per poll. */
  private setPace(fast: FastPollReason | null, snapshot: BmsSnapshot | null): void {
    if ((fast === null) === (this.fast === null)) {
      this.fast = fast;
      return;
    }
    this.fast = fast;
    if (fast !== null && snapshot !== null) this.log.debug(`BMS polling back to back: ${describeFastReason(fast, snapshot, this.options.fastPoll)}`);
    else this.log.debug(`BMS polling every ${this.options.pollIntervalMs} ms again`);
  }

  private scheduleNextPoll(): void {
    const now = this.clock.now();
    // Fast: as soon as the JK allows (minGapMs after the last byte, §2.10); never sooner.
    const intervalMs = this.fast === null ? this.options.pollIntervalMs : 0;
    const due = Math.max(this.lastPollStartMs + intervalMs, this.lastPacketMs + this.options.minGapMs);
    this.schedule(() => this.poll(), Math.max(0, due - now));
  }

  private countError(code: JkErrorCode, detail: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
    this.log.warn({ code, count: this.stats.errors[code] }, `BMS bytes discarded: ${detail}`);
  }

  private schedule(callback: () => void, ms: number): void {
    this.cancelTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      callback();
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
