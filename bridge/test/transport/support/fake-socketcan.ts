/**
 * A stand-in for the socketcan addon and the kernel behind it, modelled on socketcan 4.0.7's
 * native/can.cc: createRawChannelWithOptions throws one generic error for every failure; only
 * 'onMessage' and 'onStopped' exist; stop() throws unless started and calls 'onStopped'
 * listeners synchronously; send returns send(2)'s result (-1 on failure); frames from one socket
 * reach every other started socket on the interface (kernel loopback), never the sender, stamped
 * with the wall-clock time the kernel received them when the channel asked for timestamps, from
 * the second frame on (the first SIOCGSTAMP of a socket turns stamping on and fails with ENOENT,
 * so the addon leaves that frame unstamped).
 */
import type { InterfaceState, SocketCanChannel, SocketCanHost, SocketCanMessage, SocketCanModule } from '../../../src/transport/socketcan-bus';

type SentMessage = { id: number; ext: boolean; rtr: boolean; data: Buffer };

export class FakeSocketCanChannel implements SocketCanChannel {
  readonly sent: SentMessage[] = [];
  started = false;
  stopCalls = 0;
  private stamping = false;
  private readonly messageListeners: ((message: SocketCanMessage) => void)[] = [];
  private readonly stoppedListeners: (() => void)[] = [];

  constructor(
    private readonly kernel: FakeCanKernel,
    readonly iface: string,
    readonly options: { timestamps?: boolean; non_block_send?: boolean },
  ) {}

  addListener(event: string, callback: CallableFunction): void {
    if (event === 'onMessage') this.messageListeners.push(callback as (message: SocketCanMessage) => void);
    else if (event === 'onStopped') this.stoppedListeners.push(callback as () => void);
    else throw new Error('Event not supported');
  }

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.stopCalls++;
    if (!this.started) throw new Error('Channel not started');
    this.started = false;
    for (const listener of this.stoppedListeners) listener();
  }

  send(message: SentMessage): number {
    if (!Buffer.isBuffer(message.data)) throw new Error('Data field must be a Buffer');
    this.sent.push(message);
    return this.kernel.transmit(this, message);
  }

  /** The receive thread hands a frame to JavaScript (uv_async: in a later turn of the event loop). */
  deliver(received: SocketCanMessage): void {
    const nowMs = Date.now();
    const message = this.stamping ? { ...received, ts_sec: Math.floor(nowMs / 1000), ts_usec: (nowMs % 1000) * 1000 } : received;
    this.stamping = this.options.timestamps === true;
    setImmediate(() => {
      if (this.started) for (const listener of this.messageListeners) listener(message);
    });
  }

  /** The receive thread saw POLLERR (interface down or removed) and ended. */
  fail(): void {
    if (!this.started) return;
    queueMicrotask(() => {
      this.started = false;
      for (const listener of this.stoppedListeners) listener();
    });
  }
}

export class FakeCanKernel implements SocketCanHost {
  /** false models a kernel without CAN: every socket(AF_CAN) fails. */
  canRaw = true;
  readonly interfaces = new Map<string, 'up' | 'down'>([['vcan0', 'up']]);
  readonly channels: FakeSocketCanChannel[] = [];
  /** When set, send(2) returns this for every send (e.g. -1). */
  sendResult: number | undefined;

  readonly module: SocketCanModule = {
    createRawChannelWithOptions: (iface, options) => {
      if (!this.canRaw || !this.interfaces.has(iface)) throw new Error('Error while creating channel');
      const channel = new FakeSocketCanChannel(this, iface, options);
      this.channels.push(channel);
      return channel;
    },
  };

  canRawAvailable(): boolean {
    return this.canRaw;
  }

  interfaceState(iface: string): InterfaceState {
    return this.interfaces.get(iface) ?? 'missing';
  }

  transmit(sender: FakeSocketCanChannel, message: SentMessage): number {
    if (this.sendResult !== undefined) return this.sendResult;
    if (this.interfaces.get(sender.iface) !== 'up') return -1;
    for (const channel of this.channels) {
      if (channel !== sender && channel.iface === sender.iface) {
        channel.deliver({ id: message.id, ...(message.ext ? { ext: true } : {}), data: Buffer.from(message.data) });
      }
    }
    return 16; // sizeof(struct can_frame)
  }

  /** A frame or error frame arriving from the bus on every socket of `iface`. */
  receive(iface: string, message: SocketCanMessage): void {
    for (const channel of this.channels) if (channel.iface === iface) channel.deliver(message);
  }

  /** `ip link set <iface> down` (ENETDOWN) or `ip link delete <iface>` (ENODEV). */
  takeDown(iface: string, how: 'down' | 'delete'): void {
    if (how === 'delete') this.interfaces.delete(iface);
    else this.interfaces.set(iface, 'down');
    for (const channel of this.channels) if (channel.iface === iface) channel.fail();
  }
}
