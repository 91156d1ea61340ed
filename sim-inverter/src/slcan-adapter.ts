/**
 * The device side of a USB SLCAN adapter (CANable-style Lawicel firmware) with the virtual
 * inverter on the CAN bus behind it. The bridge talks to it exactly as to a real adapter over a
 * serial port (here a socat pty), so its slcan transport is exercised for real:
 *
 *   host → adapter   S0..S8 / O / L / C / V / v / N / F / Zn commands, t/T lines to transmit
 *   adapter → host   \r = OK, BEL = error, z\r / Z\r = transmitted, t/T lines = received frames
 *
 * The inverter sees `bus` (a CanBus): what it sends arrives at the host as received-frame lines
 * while the channel is open; what the host transmits arrives at the inverter.
 *
 * Transport faults towards the bridge: bus-off (every transmit answered with BEL, nothing
 * received, F reports the bus error; what a real adapter does when its controller is bus-off,
 * and what the host sees when the bus has no one to ACK) and junk (bytes that are not SLCAN).
 */
import { encodeSlcanFrame, parseSlcanBitrateCommand, SlcanLineSplitter, type CanFrame, type SlcanMessage } from '../../bridge/src/protocol/can';
import { ListenerSet } from '../../bridge/src/transport/listeners';
import { TransportError, type ByteLink, type CanBus, type Unsubscribe } from '../../bridge/src/transport/types';

const OK = '\r';
const BEL = '\x07';
/** Lawicel "V" answer: hardware 1.0, software 1.3 (the version string a CANable reports). */
const VERSION = 'V1013';
const SERIAL = 'NSIMI';
/** Lawicel F status bits: 0x80 bus error, 0x20 error passive, 0x04 error warning. */
const STATUS_BUS_OFF = 0x80 | 0x20 | 0x04;

export interface SlcanAdapterStatus {
  /** Selected with S0..S8; null until the host chose one. */
  bitrate: number | null;
  open: boolean;
  listenOnly: boolean;
  timestamps: boolean;
  busOff: boolean;
  /** Host transmits delivered to the inverter. */
  framesFromHost: number;
  /** Inverter frames delivered to the host. */
  framesToHost: number;
  /** Lines answered with BEL. */
  errors: number;
}

export class SlcanAdapter {
  /** The CAN side: the virtual inverter's bus. */
  readonly bus: CanBus;
  private link: ByteLink | undefined;
  private unsubscribe: Unsubscribe[] = [];
  private splitter = new SlcanLineSplitter();
  private readonly canListeners = new ListenerSet<[CanFrame]>();
  private readonly state: SlcanAdapterStatus = {
    bitrate: null,
    open: false,
    listenOnly: false,
    timestamps: false,
    busOff: false,
    framesFromHost: 0,
    framesToHost: 0,
    errors: 0,
  };

  constructor(private readonly now: () => number) {
    this.bus = new AdapterCanSide(this);
  }

  get status(): Readonly<SlcanAdapterStatus> {
    return this.state;
  }

  /** Connects the serial side (the pty end the adapter "is"). A new link starts like a power-up. */
  attach(link: ByteLink): void {
    this.detach();
    this.link = link;
    this.splitter = new SlcanLineSplitter();
    Object.assign(this.state, { bitrate: null, open: false, listenOnly: false, timestamps: false });
    this.unsubscribe = [
      link.onData((chunk) => {
        for (const message of this.splitter.push(chunk)) this.handle(message);
      }),
      link.onDisconnect(() => this.detach()),
    ];
  }

  /** The serial side is gone (unplugged); the CAN side stays. */
  detach(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.link = undefined;
    this.state.open = false;
  }

  setBusOff(on: boolean): void {
    this.state.busOff = on;
  }

  /** Writes bytes that are not SLCAN towards the host (the garbage a flaky USB link produces). */
  sendJunk(bytes: Uint8Array): void {
    this.write(bytes);
  }

  /** Called by the CAN side: a frame the inverter put on the bus. */
  deliverToHost(frame: CanFrame): void {
    if (!this.state.open || this.state.busOff) return;
    let line = encodeSlcanFrame(frame);
    // Zn: a 4-hex-digit millisecond timestamp (0..59999) before the \r, as Lawicel adapters do.
    if (this.state.timestamps) line = `${line.slice(0, -1)}${(this.now() % 60_000).toString(16).toUpperCase().padStart(4, '0')}\r`;
    this.state.framesToHost += 1;
    this.write(line);
  }

  onCanFrame(listener: (frame: CanFrame) => void): Unsubscribe {
    return this.canListeners.add(listener);
  }

  private handle(message: SlcanMessage): void {
    switch (message.kind) {
      case 'frame':
        if (!this.state.open || this.state.listenOnly || this.state.busOff) return this.error();
        this.state.framesFromHost += 1;
        this.canListeners.emit(message.frame);
        return this.write(message.frame.ext === true ? 'Z\r' : 'z\r');
      case 'command':
        return this.command(message.text);
      case 'invalid':
        return this.error();
      // An empty line (slcand flushes with "\r\r\r") and stray replies need no answer.
      case 'ok':
      case 'error':
      case 'tx-ack':
        return;
    }
  }

  private command(text: string): void {
    const bitrate = parseSlcanBitrateCommand(text);
    if (bitrate !== undefined) {
      if (this.state.open) return this.error();
      this.state.bitrate = bitrate;
      return this.write(OK);
    }
    switch (text) {
      case 'O':
      case 'L':
        if (this.state.open) return this.error();
        this.state.open = true;
        this.state.listenOnly = text === 'L';
        return this.write(OK);
      case 'C':
        this.state.open = false;
        return this.write(OK);
      case 'V':
        return this.write(`${VERSION}\r`);
      case 'v':
        return this.write('vsim-inverter\r');
      case 'N':
        return this.write(`${SERIAL}\r`);
      case 'F':
        return this.write(`F${(this.state.busOff ? STATUS_BUS_OFF : 0).toString(16).toUpperCase().padStart(2, '0')}\r`);
      case 'Z0':
      case 'Z1':
        this.state.timestamps = text === 'Z1';
        return this.write(OK);
      default:
        return this.error();
    }
  }

  private error(): void {
    this.state.errors += 1;
    this.write(BEL);
  }

  private write(data: string | Uint8Array): void {
    const link = this.link;
    if (!link?.isOpen) return;
    // A failed write means the pty went away; the disconnect listener detaches us.
    link.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data).catch(() => undefined);
  }
}

/** The inverter's CAN controller on the adapter's bus. */
class AdapterCanSide implements CanBus {
  readonly description = 'slcan adapter (device side)';
  private opened = false;

  constructor(private readonly adapter: SlcanAdapter) {}

  get isOpen(): boolean {
    return this.opened;
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async send(frame: CanFrame): Promise<void> {
    if (!this.opened) throw new TransportError('NOT_OPEN', `${this.description} is not open`);
    this.adapter.deliverToHost(frame);
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  onFrame(listener: (frame: CanFrame) => void): Unsubscribe {
    return this.adapter.onCanFrame((frame) => {
      if (this.opened) listener(frame);
    });
  }

  /** The inverter's own controller never loses the bus; the serial side does (see unplug). */
  onDisconnect(_listener: (error: TransportError) => void): Unsubscribe {
    return () => undefined;
  }
}
