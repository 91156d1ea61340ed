import { formatCandumpLine } from '../protocol/can/candump';
import type { CanFrame } from '../protocol/can/frame';
import { assertSendableFrame } from './frame-check';
import { TransportError, type CanBus, type Unsubscribe } from './types';

/** Where the dry run writes; process.stdout fits. */
export interface TextSink {
  write(text: string, callback: (error?: Error | null) => void): unknown;
}

export interface StdoutBusOptions {
  out?: TextSink;
  /** Interface name printed in each line, so the output replays with canplayer onto that interface. */
  iface?: string;
  /** Milliseconds since the epoch for each line's timestamp. */
  now?: () => number;
}

/**
 * Dry run: every frame sent is printed as a `candump -L` line, e.g. `(1700000000.123456) can0
 * 351#...`, and nothing is ever received. Lets a user see what the bridge would send without an
 * inverter, and feed it to canplayer later.
 */
export class StdoutBus implements CanBus {
  readonly description: string;
  private readonly out: TextSink;
  private readonly iface: string;
  private readonly now: () => number;
  private open_ = false;

  constructor(options: StdoutBusOptions = {}) {
    this.out = options.out ?? process.stdout;
    this.iface = options.iface ?? 'can0';
    this.now = options.now ?? Date.now;
    this.description = `stdout (candump -L as ${this.iface})`;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    this.open_ = true;
  }

  async send(frame: CanFrame): Promise<void> {
    if (!this.open_) throw new TransportError('NOT_OPEN', `${this.description} is not open`);
    assertSendableFrame(frame, this.description);
    const line = `${formatCandumpLine(frame, this.iface, this.now() / 1000)}\n`;
    await new Promise<void>((resolve, reject) => {
      this.out.write(line, (error) => {
        if (error) reject(new TransportError('WRITE_FAILED', `${this.description}: ${error.message}`, error));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.open_ = false;
  }

  /** A dry run has no bus to listen to: the listener is never called. */
  onFrame(_listener: (frame: CanFrame) => void): Unsubscribe {
    return () => undefined;
  }

  /** There is no link to lose: the listener is never called. */
  onDisconnect(_listener: (error: TransportError) => void): Unsubscribe {
    return () => undefined;
  }
}
