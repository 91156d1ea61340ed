/**
 * The two edges of the bridge, each a small interface with real implementations
 * (serialport / TCP; socketcan / SLCAN / stdout) and in-memory twins for tests.
 * Nothing here imports node:*; implementations live beside it.
 */
import type { CanFrame } from '../protocol/can/frame';

/** Why a transport operation failed; drives reconnect decisions and logs. */
export type TransportErrorCode =
  | 'OPEN_FAILED' // device missing, permission denied, connection refused
  | 'DISCONNECTED' // unplugged, TCP reset, pty peer gone, interface removed
  | 'WRITE_FAILED'
  | 'ENOBUFS' // SocketCAN tx queue full (no ACK on the bus)
  | 'BUS_OFF'
  | 'NOT_OPEN';

export class TransportError extends Error {
  readonly transportError = true;
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TransportError';
  }
}

export function isTransportError(err: unknown): err is TransportError {
  return typeof err === 'object' && err !== null && (err as { transportError?: unknown }).transportError === true;
}

export type Unsubscribe = () => void;

/** A byte stream to the BMS (serial device, TCP converter, pty, or memory twin). */
export interface ByteLink {
  /** Human description, e.g. "serial /dev/ttyUSB0 115200 8N1" or "tcp 192.0.2.7:8899". */
  readonly description: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe;
  /** Fires once when an open link is lost (not after close()). */
  onDisconnect(listener: (error: TransportError) => void): Unsubscribe;
}

/** A CAN bus endpoint (socketcan, slcan, stdout dry run, or memory twin). */
export interface CanBus {
  readonly description: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  /** Rejects with TransportError (ENOBUFS, BUS_OFF, DISCONNECTED, NOT_OPEN, WRITE_FAILED). */
  send(frame: CanFrame): Promise<void>;
  close(): Promise<void>;
  /**
   * `waitedMs`: how long the frame had already been received when the listener hears it (the
   * kernel's receive timestamp on SocketCAN); absent where the transport cannot tell. A listener
   * that judges timing on the wire (the virtual inverter) subtracts it from its own clock.
   */
  onFrame(listener: (frame: CanFrame, waitedMs?: number) => void): Unsubscribe;
  onDisconnect(listener: (error: TransportError) => void): Unsubscribe;
}
