import { systemClock } from '../clock';
import type { CanFrame } from '../protocol/can/frame';
import {
  encodeSlcanFrame,
  SLCAN_CLOSE_COMMAND,
  SLCAN_OPEN_COMMAND,
  slcanBitrateCommand,
  SlcanLineSplitter,
  type SlcanMessage,
} from '../protocol/can/slcan';
import { assertSendableFrame } from './frame-check';
import { ListenerSet } from './listeners';
import { TransportError, type ByteLink, type CanBus, type Unsubscribe } from './types';

/** Where transports report things worth a look that are not failures; a pino Logger fits. */
export interface TransportLog {
  warn(details: object, message: string): void;
}

export interface SlcanBusOptions {
  /** The adapter's serial port. The bus opens and closes it. */
  link: ByteLink;
  /** CAN bit rate; must be one SLCAN has an S code for. */
  bitrate?: number;
  /** How long the adapter may take to answer a command or a frame. */
  replyTimeoutMs?: number;
  log?: TransportLog;
}

/** How a command ended: the adapter's answer, or silence. */
type Answer = 'ok' | 'error' | 'timeout';

/** Unreadable lines from the adapter are logged at most once per this interval, with their count. */
const JUNK_LOG_INTERVAL_MS = 60_000;

/** One open..close of the adapter. Everything about it dies with it, so nothing leaks into the next. */
interface Session {
  readonly splitter: SlcanLineSplitter;
  /** Settles the command in flight with an answer, or fails it. */
  waiter: ((outcome: Answer | TransportError) => void) | undefined;
  /** Why the session ended; commands still queued fail with it. */
  ended: TransportError | undefined;
  unsubscribe: Unsubscribe[];
}

const encoder = new TextEncoder();

/**
 * A CanBus through an SLCAN (Lawicel) serial adapter such as a CANable or USBtin. The adapter
 * answers every command and every frame (\r or z\r for yes, BEL for no), so commands go out one
 * at a time and each answer belongs to the one command in flight; an answer that comes after its
 * timeout finds nobody waiting and is dropped.
 *
 * Junk on the line (a flaky USB link) is counted and logged, never a reason to give up the bus
 * (issue 10, bug 7): an unreadable line ends with the adapter's \r, so while a command waits it
 * is taken as the adapter's yes with garbage before it (a no is BEL, which the splitter always
 * reports on its own); a frame refused with BEL is sent once more, as a BEL inside junk is
 * indistinguishable from a real refusal and a refusal for a full transmit buffer passes.
 */
export class SlcanBus implements CanBus {
  readonly description: string;
  private readonly link: ByteLink;
  private readonly bitrateCommand: string;
  private readonly replyTimeoutMs: number;
  private readonly log: TransportLog | undefined;
  private state: 'closed' | 'opening' | 'open' = 'closed';
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private session: Session | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly frameListeners = new ListenerSet<[CanFrame]>();
  private readonly disconnectListeners = new ListenerSet<[TransportError]>();
  /** Unreadable lines since open, and when the last one was logged (monotonic ms). */
  private junkLines = 0;
  private junkLoggedAtMs = -Infinity;

  constructor(options: SlcanBusOptions) {
    const bitrate = options.bitrate ?? 500_000;
    this.link = options.link;
    this.bitrateCommand = slcanBitrateCommand(bitrate);
    this.replyTimeoutMs = options.replyTimeoutMs ?? 1000;
    this.log = options.log;
    this.description = `slcan ${bitrate} bit/s on ${this.link.description}`;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  open(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    this.opening ??= (async () => {
      // A close still waiting for the adapter's answer must finish before a new session starts.
      await this.closing;
      await this.start();
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async start(): Promise<void> {
    await this.link.open();
    const session: Session = { splitter: new SlcanLineSplitter(), waiter: undefined, ended: undefined, unsubscribe: [] };
    session.unsubscribe = [this.link.onData((chunk) => this.receive(session, chunk)), this.link.onDisconnect((error) => this.linkLost(session, error))];
    this.session = session;
    this.state = 'opening';
    this.junkLines = 0;
    this.junkLoggedAtMs = -Infinity;
    try {
      // Close first: an adapter left open by an earlier run refuses S. Its answer is not
      // checked (Lawicel answers BEL when already closed), only that there is one, and the \r
      // also flushes any half line the adapter still holds.
      if ((await this.request(session, SLCAN_CLOSE_COMMAND)) === 'timeout') {
        throw new TransportError('OPEN_FAILED', `no SLCAN adapter answered on ${this.link.description} (no reply to C within ${this.replyTimeoutMs} ms)`);
      }
      await this.expectOk(session, this.bitrateCommand, 'rejected the bit rate command');
      await this.expectOk(session, SLCAN_OPEN_COMMAND, 'refused to open the CAN channel');
    } catch (error) {
      const failure =
        error instanceof TransportError && error.code === 'OPEN_FAILED'
          ? error
          : new TransportError('OPEN_FAILED', `${this.description}: ${error instanceof Error ? error.message : String(error)}`, error);
      this.end(session, failure);
      this.detach(session);
      await this.link.close();
      throw failure;
    }
    this.state = 'open';
  }

  private async expectOk(session: Session, command: string, refusal: string): Promise<void> {
    const answer = await this.request(session, command);
    const name = command.trim();
    if (answer === 'error') throw new TransportError('OPEN_FAILED', `SLCAN adapter on ${this.link.description} ${refusal} (${name})`);
    if (answer === 'timeout') throw new TransportError('OPEN_FAILED', `SLCAN adapter on ${this.link.description} did not answer ${name} within ${this.replyTimeoutMs} ms`);
  }

  /** Queues one command line behind the others; fails without sending once the session ended. */
  private request(session: Session, line: string): Promise<Answer> {
    const run = (): Promise<Answer> => {
      if (session.ended) return Promise.reject(session.ended);
      return this.exchange(session, line);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Writes one line and waits for the adapter's answer to it. */
  private async exchange(session: Session, line: string): Promise<Answer> {
    // Armed before writing: over a fast link the answer can arrive before write() resolves.
    const answered = new Promise<Answer | TransportError>((resolve) => {
      const settle = (outcome: Answer | TransportError): void => {
        clearTimeout(timer);
        if (session.waiter === settle) session.waiter = undefined;
        resolve(outcome);
      };
      const timer = setTimeout(() => settle('timeout'), this.replyTimeoutMs);
      session.waiter = settle;
    });
    try {
      await this.link.write(encoder.encode(line));
    } catch (error) {
      session.waiter?.(error as TransportError);
    }
    const outcome = await answered;
    if (outcome instanceof TransportError) throw outcome;
    return outcome;
  }

  private receive(session: Session, chunk: Uint8Array): void {
    const messages = session.splitter.push(chunk);
    // A line ended by BEL comes out right before that BEL's error, in the same push.
    messages.forEach((message, i) => this.handle(session, message, messages[i + 1]?.kind === 'error'));
  }

  private handle(session: Session, message: SlcanMessage, endedByBel: boolean): void {
    switch (message.kind) {
      case 'frame':
        // Frames an adapter left open by an earlier run sends before our O are not ours to report.
        if (this.session === session && this.state === 'open') this.frameListeners.emit(message.frame);
        return;
      case 'ok':
      case 'tx-ack':
        session.waiter?.('ok');
        return;
      case 'error':
        session.waiter?.('error');
        return;
      case 'command':
        this.junk(session, message.text, 'not an answer, a frame or anything else a host receives', endedByBel);
        return;
      case 'invalid':
        this.junk(session, message.text, message.detail, endedByBel);
        return;
    }
  }

  private junk(session: Session, line: string, detail: string, endedByBel: boolean): void {
    this.junkLines += 1;
    // Its \r is the adapter's yes behind the garbage, or garbage itself; a no is the BEL that
    // ends a line instead, and answers on its own.
    if (!endedByBel) session.waiter?.('ok');
    const now = systemClock.now();
    if (now - this.junkLoggedAtMs < JUNK_LOG_INTERVAL_MS) return;
    this.junkLoggedAtMs = now;
    this.log?.warn(
      { bus: this.description, line, detail, count: this.junkLines },
      `SLCAN adapter sent an unreadable line (${this.junkLines} since open; more within a minute are only counted)`,
    );
  }

  private linkLost(session: Session, error: TransportError): void {
    const wasOpen = this.session === session && this.state === 'open';
    const lost = new TransportError('DISCONNECTED', `${this.description}: adapter lost: ${error.message}`, error);
    this.end(session, lost);
    this.detach(session);
    // While opening, the failed command makes open() reject instead; while closing, nobody cares.
    if (wasOpen) this.disconnectListeners.emit(lost);
  }

  /** Fails the command in flight and every queued one with `reason`. */
  private end(session: Session, reason: TransportError): void {
    session.ended ??= reason;
    session.waiter?.(reason);
  }

  /** Stops listening to the adapter for this session. */
  private detach(session: Session): void {
    for (const off of session.unsubscribe) off();
    session.unsubscribe = [];
    if (this.session === session) {
      this.session = undefined;
      this.state = 'closed';
    }
  }

  async send(frame: CanFrame): Promise<void> {
    const session = this.session;
    if (this.state !== 'open' || !session) throw new TransportError('NOT_OPEN', `${this.description} is not open`);
    assertSendableFrame(frame, this.description);
    const line = encodeSlcanFrame(frame);
    let answer = await this.request(session, line);
    if (answer === 'error') answer = await this.request(session, line);
    if (answer === 'error') {
      throw new TransportError('WRITE_FAILED', `${this.description}: the adapter refused the frame (BEL): transmit buffer full or channel not open`);
    }
    if (answer === 'timeout') {
      throw new TransportError('WRITE_FAILED', `${this.description}: the adapter did not acknowledge the frame within ${this.replyTimeoutMs} ms`);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.stop().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async stop(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const session = this.session;
    if (this.state !== 'open' || !session) return;
    this.state = 'closed';
    this.end(session, new TransportError('NOT_OPEN', `${this.description} is not open`));
    await this.queue;
    // Leave the adapter's channel closed, so it stops acknowledging frames for a host that is
    // gone, and wait for its answer so that it cannot arrive after a quick reopen and be taken
    // for the answer to the next command. What it answers does not matter.
    await this.exchange(session, SLCAN_CLOSE_COMMAND).catch(() => undefined);
    this.detach(session);
    await this.link.close();
  }

  onFrame(listener: (frame: CanFrame) => void): Unsubscribe {
    return this.frameListeners.add(listener);
  }

  onDisconnect(listener: (error: TransportError) => void): Unsubscribe {
    return this.disconnectListeners.add(listener);
  }
}
