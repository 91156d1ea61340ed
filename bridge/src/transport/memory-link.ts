import { ListenerSet } from './listeners';
import { MemoryEndpoint } from './memory-endpoint';
import type { ByteLink, Unsubscribe } from './types';

/**
 * The far end of an in-memory ByteLink: what a BMS (or a test) sees. Unit tests of the poller and
 * of the virtual BMS drive it instead of a serial port.
 */
export interface MemoryPeer {
  /** True while the link side is open, i.e. bytes emitted now will be received. */
  readonly linkIsOpen: boolean;
  /**
   * Sends bytes to the link. Delivery is asynchronous (a microtask), like a real port; bytes sent
   * while the link is closed are lost, as on a wire nobody listens to.
   */
  emitData(bytes: ArrayLike<number>): void;
  /** Every chunk the link wrote, in order, as copies. */
  readonly writes: readonly Uint8Array[];
  /** All written bytes concatenated. */
  written(): Uint8Array;
  clearWrites(): void;
  /** Called with each chunk the link writes (a virtual BMS answers from here). */
  onWrite(listener: (chunk: Uint8Array) => void): Unsubscribe;
  /** Simulates an unplugged adapter: an open link reports DISCONNECTED once and closes. */
  disconnect(message?: string): void;
  /** Makes the next open() of the link fail with OPEN_FAILED. */
  failNextOpen(message?: string): void;
}

class MemoryLink extends MemoryEndpoint implements ByteLink {
  private readonly dataListeners = new ListenerSet<[Uint8Array]>();
  readonly writes: Uint8Array[] = [];
  readonly writeListeners = new ListenerSet<[Uint8Array]>();

  constructor(name: string) {
    super(`memory ${name}`);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.assertOpen();
    const copy = Uint8Array.from(bytes);
    this.writes.push(copy);
    this.writeListeners.emit(copy);
  }

  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.dataListeners.add(listener);
  }

  deliver(bytes: ArrayLike<number>): void {
    const chunk = Uint8Array.from(bytes);
    this.deliverLater(() => this.dataListeners.emit(chunk));
  }
}

/** An in-memory ByteLink and its far end. `name` only appears in descriptions and errors. */
export function createMemoryLinkPair(name = 'link'): [ByteLink, MemoryPeer] {
  const link = new MemoryLink(name);
  const peer: MemoryPeer = {
    get linkIsOpen() {
      return link.isOpen;
    },
    emitData: (bytes) => link.deliver(bytes),
    writes: link.writes,
    written: () => {
      const out = new Uint8Array(link.writes.reduce((n, w) => n + w.length, 0));
      let at = 0;
      for (const w of link.writes) {
        out.set(w, at);
        at += w.length;
      }
      return out;
    },
    clearWrites: () => {
      link.writes.length = 0;
    },
    onWrite: (listener) => link.writeListeners.add(listener),
    disconnect: (message = 'peer disconnected') => link.lose('DISCONNECTED', message),
    failNextOpen: (message = 'no such device') => link.failNextOpen(message),
  };
  return [link, peer];
}
