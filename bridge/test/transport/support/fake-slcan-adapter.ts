/**
 * A small SLCAN adapter for tests, built on the project's SLCAN codec: it answers commands the way
 * a Lawicel-style adapter does, records the frames the host transmits, and sends frames to the
 * host as t/T lines. It sits at the far end of a pty or of a memory link.
 */
import type { CanFrame } from '../../../src/protocol/can/frame';
import { encodeSlcanFrame, parseSlcanBitrateCommand, SlcanLineSplitter, type SlcanMessage } from '../../../src/protocol/can/slcan';
import type { Unsubscribe } from '../../../src/transport/types';

/** The adapter's side of the serial line. A SerialLink fits as is. */
export interface AdapterWire {
  write(bytes: Uint8Array): unknown;
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe;
}

export interface FakeSlcanAdapterOptions {
  /** How transmitted frames are acknowledged: CANable answers \r, Lawicel/USBtin z\r (Z\r for T). */
  frameAck?: 'cr' | 'z';
  /** Commands (without \r) answered with BEL, e.g. 'S6' or 'O'. */
  refuse?: readonly string[];
  /** Answer nothing at all, like a port with no adapter behind it. */
  silent?: boolean;
}

const BEL = '\x07';
const encoder = new TextEncoder();

export class FakeSlcanAdapter {
  /** Every command line from the host, without \r, in order. */
  readonly commands: string[] = [];
  readonly framesFromHost: CanFrame[] = [];
  channelOpen = false;
  bitrate: number | undefined;
  private readonly splitter = new SlcanLineSplitter();

  constructor(
    private readonly wire: AdapterWire,
    private readonly options: FakeSlcanAdapterOptions = {},
  ) {
    wire.onData((chunk) => {
      for (const message of this.splitter.push(chunk)) this.handle(message);
    });
  }

  /** A frame from the bus to the host; adapters forward frames only while the channel is open. */
  async sendToHost(frame: CanFrame): Promise<void> {
    if (!this.channelOpen) throw new Error('fake SLCAN adapter: channel is closed, a real adapter would not forward frames');
    await this.wire.write(encoder.encode(encodeSlcanFrame(frame)));
  }

  /** Raw bytes to the host, for replies and junk a test scripts by hand. */
  async sendRaw(text: string): Promise<void> {
    await this.wire.write(encoder.encode(text));
  }

  private reply(text: string): void {
    if (!this.options.silent) void this.wire.write(encoder.encode(text));
  }

  private handle(message: SlcanMessage): void {
    switch (message.kind) {
      case 'frame':
        this.commands.push(encodeSlcanFrame(message.frame).trim());
        if (!this.channelOpen) return this.reply(BEL);
        this.framesFromHost.push(message.frame);
        return this.reply(this.options.frameAck === 'z' ? (message.frame.ext ? 'Z\r' : 'z\r') : '\r');
      case 'command':
        this.commands.push(message.text);
        return this.reply(this.command(message.text) ? '\r' : BEL);
      default:
        return this.reply(BEL);
    }
  }

  /** Applies a command as a Lawicel adapter does; false means it answers BEL. */
  private command(text: string): boolean {
    if (this.options.refuse?.includes(text)) return false;
    const bitrate = parseSlcanBitrateCommand(text);
    if (bitrate !== undefined) {
      if (this.channelOpen) return false; // bit rate can only change while closed
      this.bitrate = bitrate;
      return true;
    }
    if (text === 'O') {
      if (this.channelOpen || this.bitrate === undefined) return false;
      this.channelOpen = true;
      return true;
    }
    if (text === 'C') {
      if (!this.channelOpen) return false; // Lawicel answers BEL to C on a closed channel
      this.channelOpen = false;
      return true;
    }
    return false;
  }
}
