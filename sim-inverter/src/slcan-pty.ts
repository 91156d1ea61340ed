/**
 * `--can slcan-pty:<link>`: a socat pty pair whose first end is linked at <link> for the bridge
 * (`--can slcan:<link>`), with the virtual SLCAN adapter playing the device on the other end.
 * Also the transport-level faults only this path allows: bus-off towards the bridge, junk on
 * the serial line, and unplugging the adapter (the pty disappears, then comes back).
 */
import type { Clock } from '../../bridge/src/clock';
import { SerialLink } from '../../bridge/src/transport/serial-link';
import type { CanBus } from '../../bridge/src/transport/types';
import { openPtyPair, type PtyPair } from '../../sim-kit/src/pty';
import { SlcanAdapter, type SlcanAdapterStatus } from './slcan-adapter';

/** Faults below the CAN frames, towards the bridge; offered by transports that can do them. */
export interface TransportFaults {
  /** Bus-off (or no ACK → ENOBUFS) as the bridge sees it, for durationMs or until busOn(). */
  busOff(durationMs: number | null): void;
  busOn(): void;
  readonly isBusOff: boolean;
  /** count bytes of garbage on the line to the bridge. */
  junk(count: number): void;
  /** The adapter disappears (its device node goes away) and returns after durationMs, or stays away with null. */
  unplug(durationMs: number | null): Promise<void>;
  replug(): Promise<void>;
  readonly isUnplugged: boolean;
}

export interface SlcanPtyOptions {
  /** Where the bridge opens the adapter. */
  link: string;
  clock: Clock;
  random?: () => number;
}

export class SlcanPtyEndpoint implements TransportFaults {
  private readonly adapter: SlcanAdapter;
  private pty: PtyPair | undefined;
  private serial: SerialLink | undefined;
  private busOffTimer: unknown;
  private replugTimer: unknown;
  private closed = false;

  private constructor(
    private readonly options: SlcanPtyOptions,
  ) {
    this.adapter = new SlcanAdapter(() => options.clock.now());
  }

  /** Creates the pty at options.link and starts answering there. */
  static async open(options: SlcanPtyOptions): Promise<SlcanPtyEndpoint> {
    const endpoint = new SlcanPtyEndpoint(options);
    await endpoint.plug();
    return endpoint;
  }

  /** The path the bridge opens. */
  get link(): string {
    return this.options.link;
  }

  /** The inverter's side of the bus. */
  get bus(): CanBus {
    return this.adapter.bus;
  }

  get adapterStatus(): Readonly<SlcanAdapterStatus> {
    return this.adapter.status;
  }

  get isBusOff(): boolean {
    return this.adapter.status.busOff;
  }

  get isUnplugged(): boolean {
    return this.pty === undefined;
  }

  busOff(durationMs: number | null): void {
    this.cancel('busOffTimer');
    this.adapter.setBusOff(true);
    if (durationMs !== null) this.busOffTimer = this.options.clock.setTimeout(() => this.busOn(), durationMs);
  }

  busOn(): void {
    this.cancel('busOffTimer');
    this.adapter.setBusOff(false);
  }

  junk(count: number): void {
    const random = this.options.random ?? Math.random;
    const bytes = new Uint8Array(count);
    for (let i = 0; i < count; i++) bytes[i] = Math.floor(random() * 256);
    this.adapter.sendJunk(bytes);
  }

  async unplug(durationMs: number | null): Promise<void> {
    this.cancel('replugTimer');
    await this.unplugNow();
    if (durationMs !== null) {
      this.replugTimer = this.options.clock.setTimeout(() => {
        this.replugTimer = undefined;
        void this.replug().catch(() => undefined);
      }, durationMs);
    }
  }

  async replug(): Promise<void> {
    this.cancel('replugTimer');
    if (this.pty === undefined && !this.closed) await this.plug();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancel('busOffTimer');
    this.cancel('replugTimer');
    await this.unplugNow();
  }

  private async plug(): Promise<void> {
    const pty = await openPtyPair({ linkA: this.options.link });
    const serial = new SerialLink({ path: pty.pathB });
    try {
      await serial.open();
    } catch (error) {
      await pty.close();
      throw error;
    }
    this.pty = pty;
    this.serial = serial;
    this.adapter.attach(serial);
  }

  private async unplugNow(): Promise<void> {
    const { pty, serial } = this;
    this.pty = undefined;
    this.serial = undefined;
    this.adapter.detach();
    await serial?.close();
    await pty?.close();
  }

  private cancel(which: 'busOffTimer' | 'replugTimer'): void {
    if (this[which] !== undefined) this.options.clock.clearTimeout(this[which]);
    this[which] = undefined;
  }
}
