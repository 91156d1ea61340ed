import * as net from 'node:net';
import { ListenerSet } from './listeners';
import { TransportError, type ByteLink, type Unsubscribe } from './types';

export interface TcpLinkOptions {
  host: string;
  port: number;
  /** The OS gives up on an unanswered SYN only after minutes; a converter that is off should fail fast. */
  connectTimeoutMs?: number;
  /** Idle time before TCP keepalive probes start, so a converter that lost power is noticed. */
  keepAliveMs?: number;
  /** Opens the socket; tests inject a socket that never connects to exercise the timeout. */
  connect?: (options: net.NetConnectOpts) => net.Socket;
}

function describeConnectError(where: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `${where}: connection refused — is the RS485-to-Ethernet converter in TCP server mode on that port?`;
    case 'ETIMEDOUT':
      return `${where}: connection timed out — is the converter powered and on this network?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: unknown host`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where}: host unreachable`;
    default:
      return `${where}: ${error.message}`;
  }
}

/** A ByteLink to a serial-to-TCP converter (tcp://host:port), raw bytes both ways. */
export class TcpLink implements ByteLink {
  readonly description: string;
  private readonly host: string;
  private readonly port: number;
  private readonly connectTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly connect: (options: net.NetConnectOpts) => net.Socket;
  private socket: net.Socket | undefined;
  private opening: Promise<void> | undefined;
  private readonly dataListeners = new ListenerSet<[Uint8Array]>();
  private readonly disconnectListeners = new ListenerSet<[TransportError]>();

  constructor(options: TcpLinkOptions) {
    this.host = options.host;
    this.port = options.port;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.keepAliveMs = options.keepAliveMs ?? 5000;
    this.connect = options.connect ?? ((o) => net.connect(o));
    this.description = `tcp ${net.isIPv6(this.host) ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  open(): Promise<void> {
    if (this.socket) return Promise.resolve();
    this.opening ??= this.openSocket().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private openSocket(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.connect({ host: this.host, port: this.port });
      let connected = false;
      let lastError: NodeJS.ErrnoException | undefined;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError('OPEN_FAILED', `${this.description}: no connection within ${this.connectTimeoutMs} ms — is the converter powered and on this network?`));
      }, this.connectTimeoutMs);
      // All listeners are attached before any event can fire, so nothing (an 'error' above all,
      // which would crash the process unheard) slips between connecting and being open.
      socket.on('connect', () => {
        clearTimeout(timer);
        connected = true;
        socket.setNoDelay(true);
        socket.setKeepAlive(true, this.keepAliveMs);
        this.socket = socket;
        resolve();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        lastError = error;
        if (!connected) {
          clearTimeout(timer);
          reject(new TransportError('OPEN_FAILED', describeConnectError(this.description, error), error));
        }
      });
      socket.on('data', (chunk: Buffer) => {
        // A plain Uint8Array view, like every ByteLink: Buffer's slice() shares memory, Uint8Array's copies.
        if (this.socket === socket) this.dataListeners.emit(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      // With allowHalfOpen off (the default) a peer's FIN ends our side too, so 'close' follows
      // both an orderly end and a reset, exactly once.
      socket.on('close', () => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.disconnectListeners.emit(
          new TransportError(
            'DISCONNECTED',
            `${this.description}: ${lastError ? lastError.message : 'the converter closed the connection'}`,
            lastError,
          ),
        );
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new TransportError('NOT_OPEN', `${this.description} is not open`));
    return new Promise((resolve, reject) => {
      socket.write(Buffer.from(bytes), (error) => {
        if (error) reject(new TransportError('WRITE_FAILED', `${this.description}: ${error.message}`, error));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    // Many converters accept a single client, so the old connection must be gone before a reopen.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.destroy();
    await closed;
  }

  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.dataListeners.add(listener);
  }

  onDisconnect(listener: (error: TransportError) => void): Unsubscribe {
    return this.disconnectListeners.add(listener);
  }
}
