import type { CanFrame } from '../protocol/can/frame';
import { assertSendableFrame } from './frame-check';
import { ListenerSet } from './listeners';
import { MemoryEndpoint } from './memory-endpoint';
import { TransportError, type CanBus, type TransportErrorCode, type Unsubscribe } from './types';

/** Failures a send can report; see CanBus.send. */
export type SendFailureCode = Extract<TransportErrorCode, 'ENOBUFS' | 'BUS_OFF' | 'DISCONNECTED' | 'WRITE_FAILED'>;

function copyFrame(frame: CanFrame): CanFrame {
  return frame.ext ? { id: frame.id, data: Uint8Array.from(frame.data), ext: true } : { id: frame.id, data: Uint8Array.from(frame.data) };
}

class MemoryCanEndpoint extends MemoryEndpoint implements CanBus {
  private readonly frameListeners = new ListenerSet<[CanFrame]>();

  constructor(
    name: string,
    private readonly transmit: (sender: MemoryCanEndpoint, frame: CanFrame) => void,
  ) {
    super(`memory can ${name}`);
  }

  async send(frame: CanFrame): Promise<void> {
    this.assertOpen();
    assertSendableFrame(frame, this.description);
    this.transmit(this, frame);
  }

  onFrame(listener: (frame: CanFrame) => void): Unsubscribe {
    return this.frameListeners.add(listener);
  }

  receive(frame: CanFrame): void {
    const copy = copyFrame(frame);
    this.deliverLater(() => this.frameListeners.emit(copy));
  }
}

/**
 * An in-memory CAN bus: every frame one endpoint sends reaches all other open endpoints (not the
 * sender, as with SocketCAN's default of no own-message reception), in send order, as copies so
 * a receiver cannot alias the sender's buffer. Delivery is asynchronous (a microtask), like a real
 * interface. No arbitration, timing or bus load is modelled.
 */
export class MemoryCanNetwork {
  private readonly endpoints: MemoryCanEndpoint[] = [];
  private pendingSendFailure: { code: SendFailureCode; endpoint: CanBus | undefined } | undefined;

  attach(name: string): CanBus {
    const endpoint = new MemoryCanEndpoint(name, (sender, frame) => this.transmit(sender, frame));
    this.endpoints.push(endpoint);
    return endpoint;
  }

  /** The next send (by `endpoint`, or by any endpoint when omitted) rejects with `code` and is not delivered. */
  failNextSend(code: SendFailureCode, endpoint?: CanBus): void {
    this.pendingSendFailure = { code, endpoint };
  }

  /** The next open() of `endpoint` rejects with OPEN_FAILED, as when the interface is missing. */
  failNextOpen(endpoint: CanBus, message = 'no such interface'): void {
    this.own(endpoint).failNextOpen(message);
  }

  /** The endpoint loses the bus: if open, it closes and reports `code` once through onDisconnect. */
  disconnect(endpoint: CanBus, code: Extract<TransportErrorCode, 'DISCONNECTED' | 'BUS_OFF'> = 'DISCONNECTED', message = 'interface went away'): void {
    this.own(endpoint).lose(code, message);
  }

  private transmit(sender: MemoryCanEndpoint, frame: CanFrame): void {
    const failure = this.pendingSendFailure;
    if (failure && (failure.endpoint === undefined || failure.endpoint === sender)) {
      this.pendingSendFailure = undefined;
      throw new TransportError(failure.code, `${sender.description}: injected ${failure.code}`);
    }
    for (const receiver of this.endpoints) {
      if (receiver !== sender) receiver.receive(frame);
    }
  }

  private own(endpoint: CanBus): MemoryCanEndpoint {
    if (!(endpoint instanceof MemoryCanEndpoint) || !this.endpoints.includes(endpoint)) {
      throw new Error(`${endpoint.description} is not attached to this MemoryCanNetwork`);
    }
    return endpoint;
  }
}
