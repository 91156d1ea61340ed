import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CanFrame } from '../protocol/can/frame';
import { assertSendableFrame } from './frame-check';
import { ListenerSet } from './listeners';
import { TransportError, type CanBus, type Unsubscribe } from './types';

/** A frame as the socketcan addon delivers it to 'onMessage' listeners. */
export interface SocketCanMessage {
  /** With `err`, the CAN_ERR_* class bits instead of an identifier. */
  id: number;
  ext?: boolean;
  rtr?: boolean;
  /** An error frame (the addon subscribes to all error classes). */
  err?: boolean;
  data: Buffer;
  /** With the channel's timestamps option: the kernel's receive time (SIOCGSTAMP, wall clock). */
  ts_sec?: number;
  ts_usec?: number;
}

/** The RawChannel methods of socketcan 4.0.x that this bus uses. */
export interface SocketCanChannel {
  /** Only 'onMessage' (one SocketCanMessage argument) and 'onStopped' (none) exist; there is no removeListener. */
  addListener(event: string, callback: CallableFunction): void;
  start(): void;
  /** Throws "Channel not started" unless started and not yet stopped; calls 'onStopped' listeners synchronously. */
  stop(): void;
  /** Returns the byte count of send(2), or -1 on failure (the errno is not exposed); typed void upstream. */
  send(message: { id: number; ext: boolean; rtr: boolean; data: Buffer }): unknown;
}

export interface SocketCanModule {
  /** Throws "Error while creating channel" for every socket/ioctl/bind failure, errno not exposed. */
  createRawChannelWithOptions(iface: string, options: { timestamps?: boolean; non_block_send?: boolean }): SocketCanChannel;
}

export type InterfaceState = 'up' | 'down' | 'missing' | 'not-can' | 'unknown';

/**
 * What the kernel says about CAN, read from /proc and /sys. The addon hides errno, so this is how
 * a failure is explained (no AF_CAN, no such interface, interface down).
 */
export interface SocketCanHost {
  /** false when the kernel has no CAN_RAW protocol registered; undefined when that cannot be read. */
  canRawAvailable(): boolean | undefined;
  interfaceState(iface: string): InterfaceState;
}

const ARPHRD_CAN = 280;
const IFF_UP = 0x1;
/** CAN_ERR_BUSOFF from linux/can/error.h: the error class bit carried in an error frame's id. */
const CAN_ERR_BUSOFF = 0x40;

/**
 * How long ago the kernel received a frame. Its stamp is wall-clock time (SIOCGSTAMP), so it can
 * only be compared with the wall clock; the difference is what a monotonic listener subtracts.
 * A wall-clock step between the two reads would make it negative or huge: then it is unknown.
 */
export function waitedSinceKernelMs(message: Pick<SocketCanMessage, 'ts_sec' | 'ts_usec'>, wallNowMs = Date.now()): number | undefined {
  if (message.ts_sec === undefined || message.ts_usec === undefined) return undefined;
  const waited = wallNowMs - (message.ts_sec * 1000 + message.ts_usec / 1000);
  return waited >= 0 && waited < 60_000 ? waited : undefined;
}

/** Reads /proc/net/protocols and /sys/class/net under `root` (tests point it at a fake tree). */
export function linuxSocketCanHost(root = '/'): SocketCanHost {
  return {
    canRawAvailable() {
      try {
        return /^CAN_RAW\b/m.test(readFileSync(join(root, 'proc/net/protocols'), 'utf8'));
      } catch {
        return undefined;
      }
    },
    interfaceState(iface) {
      const dir = join(root, 'sys/class/net', iface);
      let type: number;
      let flags: number;
      try {
        type = Number(readFileSync(join(dir, 'type'), 'utf8').trim());
        flags = Number(readFileSync(join(dir, 'flags'), 'utf8').trim());
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unknown';
      }
      if (type !== ARPHRD_CAN) return 'not-can';
      return flags & IFF_UP ? 'up' : 'down';
    },
  };
}

const loadSocketCan = (): SocketCanModule => {
  // Required here, not imported: socketcan is an optional dependency compiled at install time
  // (no compiler on the machine, or npm not allowed to run its build: no addon), and only
  // socketcan: links need it. For the same reason the build does not read its type declarations;
  // `npm run typecheck` checks them against SocketCanModule (test/transport/support/socketcan-api.ts).
  return require('socketcan') as SocketCanModule;
};

/** One line that says the addon is missing, why, and how to get it (or how to do without). */
export function socketCanAddonMissing(error: unknown): string {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return (
    `the socketcan addon is not available (${reason}); it is an optional dependency compiled at install time: ` +
    'sudo apt-get install -y build-essential python3, then reinstall with its build allowed ' +
    '(sudo npm install -g --allow-scripts=socketcan ./jk-can-bridge-<version>.tgz; in a clone: npm rebuild socketcan), ' +
    'or use an SLCAN adapter (--can slcan:/dev/ttyACM0)'
  );
}

/** undefined when the addon loads; otherwise the line of socketCanAddonMissing. */
export function socketCanAddonProblem(load: () => SocketCanModule = loadSocketCan): string | undefined {
  try {
    load();
    return undefined;
  } catch (error) {
    return socketCanAddonMissing(error);
  }
}

export interface SocketCanBusOptions {
  /** Network interface, e.g. can0 or vcan0. */
  iface: string;
  /** Loads the addon; tests inject a fake. Loaded at open() so other transports work where it is not built. */
  loadSocketCan?: () => SocketCanModule;
  host?: SocketCanHost;
}

/** A CanBus on a Linux SocketCAN interface through the `socketcan` addon. */
export class SocketCanBus implements CanBus {
  readonly description: string;
  private readonly iface: string;
  private readonly load: () => SocketCanModule;
  private readonly host: SocketCanHost;
  private channel: SocketCanChannel | undefined;
  private readonly frameListeners = new ListenerSet<[CanFrame, number | undefined]>();
  private readonly disconnectListeners = new ListenerSet<[TransportError]>();

  constructor(options: SocketCanBusOptions) {
    this.iface = options.iface;
    this.load = options.loadSocketCan ?? loadSocketCan;
    this.host = options.host ?? linuxSocketCanHost();
    this.description = `socketcan ${this.iface}`;
  }

  get isOpen(): boolean {
    return this.channel !== undefined;
  }

  async open(): Promise<void> {
    if (this.channel) return;
    let socketcan: SocketCanModule;
    try {
      socketcan = this.load();
    } catch (error) {
      throw new TransportError('OPEN_FAILED', `${this.description}: ${socketCanAddonMissing(error)}`, error);
    }
    let channel: SocketCanChannel;
    try {
      // non_block_send: a blocking send(2) with nobody acknowledging on the bus would stall the
      // whole event loop once the socket buffer fills; non-blocking turns that into ENOBUFS.
      // timestamps: each frame carries the kernel's receive time, so a listener can tell the time a
      // frame reached the interface from the time the event loop got round to it.
      channel = socketcan.createRawChannelWithOptions(this.iface, { non_block_send: true, timestamps: true });
    } catch (error) {
      throw new TransportError('OPEN_FAILED', this.explainOpenFailure(error), error);
    }
    // Binding to an interface that is down succeeds, but nothing can be sent; report it now so
    // reconnect keeps trying until someone brings the interface up.
    if (this.host.interfaceState(this.iface) === 'down') {
      throw new TransportError(
        'OPEN_FAILED',
        `${this.description}: interface is down (ip link set ${this.iface} up; a real adapter first needs its bit rate: ip link set ${this.iface} type can bitrate 500000)`,
      );
    }
    channel.addListener('onMessage', (message: SocketCanMessage) => this.receive(channel, message));
    channel.addListener('onStopped', () => this.stopped(channel));
    channel.start();
    this.channel = channel;
  }

  private explainOpenFailure(error: unknown): string {
    if (this.host.canRawAvailable() === false) {
      return `${this.description}: this kernel has no SocketCAN (AF_CAN) support — load it (modprobe can_raw) or use an SLCAN adapter (slcan:/dev/ttyACM0)`;
    }
    switch (this.host.interfaceState(this.iface)) {
      case 'missing':
        return `${this.description}: no such network interface (ip link show; a test bus: ip link add dev ${this.iface} type vcan && ip link set ${this.iface} up)`;
      case 'not-can':
        return `${this.description}: ${this.iface} is not a CAN interface`;
      default:
        return `${this.description}: cannot open: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private receive(channel: SocketCanChannel, message: SocketCanMessage): void {
    if (channel !== this.channel) return;
    if (message.err) {
      // Other error classes (missing ACK, arbitration lost, warning levels) are transient; the
      // controller keeps going and sends report trouble as ENOBUFS. Bus-off stops it.
      if (message.id & CAN_ERR_BUSOFF) {
        this.lose('BUS_OFF', 'controller went bus-off (too many transmit errors: wiring, termination or bitrate?)');
      }
      return;
    }
    // A remote request carries no data and CanFrame cannot express it; no inverter profile uses it.
    if (message.rtr) return;
    const data = Uint8Array.from(message.data);
    this.frameListeners.emit(message.ext ? { id: message.id, data, ext: true } : { id: message.id, data }, waitedSinceKernelMs(message));
  }

  /** 'onStopped' also fires from our own stop(), by which time this.channel is already cleared. */
  private stopped(channel: SocketCanChannel): void {
    if (channel !== this.channel) return;
    // The addon's receive thread saw POLLERR: the kernel reports ENETDOWN or ENODEV this way.
    // The thread has ended and stop() would now throw, so the channel is only forgotten.
    this.channel = undefined;
    this.disconnectListeners.emit(new TransportError('DISCONNECTED', this.explainLoss()));
  }

  private explainLoss(): string {
    switch (this.host.interfaceState(this.iface)) {
      case 'missing':
        return `${this.description}: interface was removed (USB CAN adapter unplugged?)`;
      case 'down':
        return `${this.description}: interface went down`;
      default:
        return `${this.description}: the socket reported an error`;
    }
  }

  private lose(code: 'BUS_OFF' | 'DISCONNECTED', message: string): void {
    const channel = this.channel;
    if (!channel) return;
    this.channel = undefined;
    channel.stop();
    this.disconnectListeners.emit(new TransportError(code, `${this.description}: ${message}`));
  }

  async send(frame: CanFrame): Promise<void> {
    const channel = this.channel;
    if (!channel) throw new TransportError('NOT_OPEN', `${this.description} is not open`);
    assertSendableFrame(frame, this.description);
    let result: unknown;
    try {
      result = channel.send({ id: frame.id, ext: frame.ext === true, rtr: false, data: Buffer.from(frame.data) });
    } catch (error) {
      throw new TransportError('WRITE_FAILED', `${this.description}: ${String(error)}`, error);
    }
    if (typeof result === 'number' && result < 0) {
      // send(2) failed and the addon dropped errno; the interface state tells ENETDOWN/ENODEV
      // (the link is gone) from a full queue (ENOBUFS, or EAGAIN on the non-blocking socket).
      const state = this.host.interfaceState(this.iface);
      if (state === 'missing' || state === 'down') {
        const message = state === 'missing' ? 'interface was removed' : 'interface went down';
        this.lose('DISCONNECTED', message);
        throw new TransportError('DISCONNECTED', `${this.description}: ${message}`);
      }
      throw new TransportError(
        'ENOBUFS',
        `${this.description}: transmit queue full — nobody acknowledges on the bus (inverter off, wiring, termination or bitrate?)`,
      );
    }
  }

  async close(): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    this.channel = undefined;
    // stop() joins the addon's receive thread (up to its 100 ms poll). socketcan 4.0.x has no
    // way to close the socket itself: the descriptor is released when the channel is collected.
    channel.stop();
  }

  onFrame(listener: (frame: CanFrame, waitedMs?: number) => void): Unsubscribe {
    return this.frameListeners.add(listener);
  }

  onDisconnect(listener: (error: TransportError) => void): Unsubscribe {
    return this.disconnectListeners.add(listener);
  }
}
