import { ListenerSet } from './listeners';
import { TransportError, type TransportErrorCode, type Unsubscribe } from './types';

/**
 * What the in-memory twins (memory-link, memory-bus) share: open/close with an injectable open
 * failure, a loss reported once through onDisconnect, and asynchronous delivery that is dropped
 * when the endpoint was closed or lost in between, like a real port or interface.
 */
export abstract class MemoryEndpoint {
  private open_ = false;
  /** Bumped on every open, close and loss, so data queued for an earlier session is not delivered. */
  private session = 0;
  private openFailure: string | undefined;
  private readonly disconnectListeners = new ListenerSet<[TransportError]>();

  constructor(readonly description: string) {}

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.open_) return;
    if (this.openFailure !== undefined) {
      const message = this.openFailure;
      this.openFailure = undefined;
      throw new TransportError('OPEN_FAILED', `${this.description}: ${message}`);
    }
    this.open_ = true;
    this.session++;
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.session++;
  }

  onDisconnect(listener: (error: TransportError) => void): Unsubscribe {
    return this.disconnectListeners.add(listener);
  }

  /** The next open() fails with OPEN_FAILED. */
  failNextOpen(message: string): void {
    this.openFailure = message;
  }

  /** If open: closes and reports `code` once, as an unplugged adapter or a removed interface. */
  lose(code: Extract<TransportErrorCode, 'DISCONNECTED' | 'BUS_OFF'>, message: string): void {
    if (!this.open_) return;
    this.open_ = false;
    this.session++;
    this.disconnectListeners.emit(new TransportError(code, `${this.description}: ${message}`));
  }

  protected assertOpen(): void {
    if (!this.open_) throw new TransportError('NOT_OPEN', `${this.description} is not open`);
  }

  /** Runs `emit` in a microtask unless the endpoint is closed or reopened by then. */
  protected deliverLater(emit: () => void): void {
    if (!this.open_) return;
    const session = this.session;
    queueMicrotask(() => {
      if (this.open_ && this.session === session) emit();
    });
  }
}
