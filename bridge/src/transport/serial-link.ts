import { readSync, writeSync } from 'node:fs';
import type { SerialPort } from 'serialport';
import { ListenerSet } from './listeners';
import { TransportError, type ByteLink, type Unsubscribe } from './types';

/** What SerialLink passes to the port constructor: 8N1, no flow control, opened explicitly. */
export interface SerialPortOptions {
  path: string;
  baudRate: number;
  dataBits: 8;
  stopBits: 1;
  parity: 'none';
  rtscts: false;
  xon: false;
  xoff: false;
  autoOpen: false;
}

/**
 * The part of node-serialport's SerialPortStream that SerialLink uses. `SerialPort` and
 * `SerialPortMock` (from 'serialport') both satisfy it.
 */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (error: Error | null) => void): void;
  write(data: Buffer, callback: (error: Error | null | undefined) => void): boolean;
  close(callback: (error: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close' | 'error', listener: (error?: Error | null) => void): unknown;
}

export type SerialPortFactory = (options: SerialPortOptions) => SerialPortLike;

export interface SerialLinkOptions {
  path: string;
  /** JK BMS UART and RS485 ports run at 115200. */
  baudRate?: number;
  /**
   * Builds the port; tests pass `(o) => new SerialPortMock(o)`. The default loads 'serialport'
   * only when a serial link is actually opened, so a TCP-only bridge still starts where the
   * native serial binding is missing.
   */
  createPort?: SerialPortFactory;
}

/** The parts of a bindings-cpp unix port (LinuxPortBinding, DarwinPortBinding) that hangup detection needs. */
interface UnixPortBinding {
  fd: number | null;
  readonly poller: { once(event: 'readable' | 'writable', callback: (error: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
  write(buffer: Buffer): Promise<void>;
  /** What the binding's drain() waits for. */
  writeOperation: Promise<void> | null;
}

interface PortBindingFactory {
  open(options: object): Promise<object>;
}

function isUnixPortBinding(port: object): port is UnixPortBinding {
  return 'fd' in port && 'poller' in port && 'read' in port;
}

const retryable = (code: string | undefined): boolean => code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';

/** Waits on the binding's poller (epoll on the event loop) until the fd is readable or writable. */
const ready = (port: UnixPortBinding, event: 'readable' | 'writable'): Promise<void> =>
  new Promise<void>((resolve, reject) => port.poller.once(event, (e) => (e ? reject(e) : resolve())));

/**
 * bindings-cpp's unix read retries a 0-byte read immediately, forever. On a non-blocking tty "no
 * data yet" is EAGAIN, and 0 bytes means the tty hung up (USB adapter unplugged, pty peer gone):
 * when the hangup lands while a read is in flight rather than parked in the poller, the port
 * spins reading EOF and never reports the disconnect. This read is the same loop, except that EOF
 * is an error, which the stream turns into its disconnect.
 *
 * It also reads synchronously: bindings-cpp opens the fd O_NONBLOCK, so read(2) returns at once
 * with data or EAGAIN, and the thread-pool round trip of fs.read (two thread switches per chunk
 * and per EAGAIN) was a large part of the bridge's CPU per poll (bench/README.md).
 */
async function readReportingHangup(port: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
  const closed = (): Error => Object.assign(new Error('Port is not open'), { canceled: true });
  for (;;) {
    const fd = port.fd;
    if (fd === null) throw closed();
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buffer, offset, length, null);
    } catch (error) {
      if (!retryable((error as NodeJS.ErrnoException).code)) throw error;
      // The port may have closed meanwhile; polling a destroyed poller crashes the process.
      if (port.fd === null) throw closed();
      await ready(port, 'readable');
      continue;
    }
    if (bytesRead === 0) throw new Error('the device hung up (end of file)');
    return { buffer, bytesRead };
  }
}

/**
 * bindings-cpp's unix write, synchronously for the same reason as the read: write(2) on the
 * non-blocking fd copies into the tty buffer at once or says EAGAIN, and then the poller waits.
 * Disconnect errors are marked the way bindings-cpp marks them, so the stream reports them.
 */
async function writeWithoutThreadPool(port: UnixPortBinding, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const fd = port.fd;
    if (fd === null) throw new Error('Port is not open');
    try {
      offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      const err = error as NodeJS.ErrnoException & { disconnect?: boolean };
      if (!retryable(err.code)) {
        if (err.code === 'EBADF' || err.code === 'ENXIO' || err.code === 'UNKNOWN' || err.errno === -1) err.disconnect = true;
        throw err;
      }
      if (port.fd === null) throw new Error('Port is not open');
      await ready(port, 'writable');
    }
  }
}

function reportingHangup(binding: PortBindingFactory): PortBindingFactory {
  return {
    ...binding,
    async open(options) {
      const port = await binding.open(options);
      if (isUnixPortBinding(port)) {
        port.read = (buffer, offset, length) => readReportingHangup(port, buffer, offset, length);
        port.write = (buffer) => {
          const operation = writeWithoutThreadPool(port, buffer).finally(() => {
            if (port.writeOperation === operation) port.writeOperation = null;
          });
          port.writeOperation = operation;
          return operation;
        };
      }
      return port;
    },
  };
}

const defaultCreatePort: SerialPortFactory = (options) => {
  const serialport = require('serialport') as { SerialPort: typeof SerialPort };
  const binding = reportingHangup(serialport.SerialPort.binding as unknown as PortBindingFactory);
  // SerialPort's options type leaves `binding` out, but its constructor spreads the options over
  // its detected default, so a wrapped binding can be passed.
  return new serialport.SerialPort({ ...options, binding } as unknown as ConstructorParameters<typeof SerialPort>[0]);
};

/**
 * node-serialport's native binding reports open failures as plain Errors whose text carries
 * strerror ("Error: No such file or directory, cannot open /dev/ttyUSB0"), with no `code`, so
 * both are checked.
 */
export function describeSerialOpenError(path: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'ENOENT' || /No such file or directory/i.test(text)) {
    return `${path}: no such device — is the adapter plugged in?`;
  }
  if (code === 'EACCES' || /Permission denied/i.test(text)) {
    return `${path}: permission denied — add the user to the dialout group (sudo usermod -aG dialout $USER, then log in again)`;
  }
  if (/Cannot lock port/i.test(text)) {
    return `${path}: in use by another process (a second bridge, or ModemManager probing the port?)`;
  }
  if (/Inappropriate ioctl/i.test(text)) {
    return `${path}: not a serial device`;
  }
  return `cannot open ${path}: ${text}`;
}

/** A ByteLink over node-serialport: a USB-serial or RS485 adapter, or a pty. */
export class SerialLink implements ByteLink {
  readonly description: string;
  private readonly path: string;
  private readonly baudRate: number;
  private readonly createPort: SerialPortFactory;
  private port: SerialPortLike | undefined;
  private opening: Promise<void> | undefined;
  private readonly dataListeners = new ListenerSet<[Uint8Array]>();
  private readonly disconnectListeners = new ListenerSet<[TransportError]>();

  constructor(options: SerialLinkOptions) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? 115200;
    this.createPort = options.createPort ?? defaultCreatePort;
    this.description = `serial ${this.path} ${this.baudRate} 8N1`;
  }

  get isOpen(): boolean {
    return this.port !== undefined;
  }

  open(): Promise<void> {
    if (this.port) return Promise.resolve();
    this.opening ??= this.openPort().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private openPort(): Promise<void> {
    return new Promise((resolve, reject) => {
      // A stream that was closed or destroyed cannot be reused, so every open builds a new port.
      let port: SerialPortLike;
      try {
        port = this.createPort({
          path: this.path,
          baudRate: this.baudRate,
          dataBits: 8,
          stopBits: 1,
          parity: 'none',
          rtscts: false,
          xon: false,
          xoff: false,
          autoOpen: false,
        });
      } catch (error) {
        // The constructor throws TypeError on an empty path or a bad baud rate.
        reject(new TransportError('OPEN_FAILED', describeSerialOpenError(this.path, error), error));
        return;
      }
      let lastError: Error | undefined;
      // Without an 'error' listener a failed write that destroys the stream would crash the
      // process; the failure itself reaches us through the write callback and 'close'.
      port.on('error', (error) => {
        lastError = error ?? undefined;
      });
      port.on('data', (chunk) => {
        // A plain Uint8Array view, like every ByteLink: Buffer's slice() shares memory, Uint8Array's copies.
        if (this.port === port) this.dataListeners.emit(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      port.on('close', (error) => {
        if (this.port !== port) return; // our own close(), or a port from an earlier session
        this.port = undefined;
        const reason = error ?? lastError;
        this.disconnectListeners.emit(
          new TransportError(
            'DISCONNECTED',
            `${this.description} lost${reason ? `: ${reason.message}` : ''} — unplugged, or the other end went away?`,
            reason,
          ),
        );
      });
      port.open((error) => {
        if (error) {
          reject(new TransportError('OPEN_FAILED', describeSerialOpenError(this.path, error), error));
          return;
        }
        this.port = port;
        resolve();
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    // A port that is closing (disconnect in progress) would queue the write until a reopen that
    // never comes, so it counts as not open.
    if (!port || !port.isOpen) return Promise.reject(new TransportError('NOT_OPEN', `${this.description} is not open`));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(bytes), (error) => {
        if (error) reject(new TransportError('WRITE_FAILED', `${this.description}: ${error.message}`, error));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const port = this.port;
    if (!port) return;
    this.port = undefined;
    // A close error means the port is already gone, which is what close wants anyway.
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.dataListeners.add(listener);
  }

  onDisconnect(listener: (error: TransportError) => void): Unsubscribe {
    return this.disconnectListeners.add(listener);
  }
}
