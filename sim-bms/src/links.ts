/**
 * Where the virtual BMS gets its byte streams from, and how a "drop-link" fault breaks them the
 * way the bridge would see it on real hardware:
 *
 *   pty   socat pair; the bridge opens the linked path. Drop = the pair disappears (like an
 *         unplugged USB adapter: the bridge's port errors out and the path is gone), restore =
 *         a new pair at the same path.
 *   tcp   a listening socket (an RS485-to-Ethernet converter); one client at a time. Drop = the
 *         client is reset and connects are refused, restore = listening again.
 *   link  one given ByteLink (in-process tests): drop = close it, restore = reopen it.
 */
import * as net from 'node:net';
import { ListenerSet } from '../../bridge/src/transport/listeners';
import { SerialLink } from '../../bridge/src/transport/serial-link';
import { TransportError, type ByteLink, type Unsubscribe } from '../../bridge/src/transport/types';
import { openPtyPair } from '../../sim-kit/src/pty';

/** Pause before another try when socat could not be restarted. */
const PTY_RETRY_MS = 1000;

export interface LinkSource {
  readonly description: string;
  /** Starts; onLink receives every newly usable link (the first, each TCP client, each restore). */
  start(onLink: (link: ByteLink) => void): Promise<void>;
  /** Breaks the link now, as a pulled cable would. */
  drop(): Promise<void>;
  /** Undoes drop(). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export class SingleLinkSource implements LinkSource {
  private onLink: (link: ByteLink) => void = () => undefined;

  constructor(private readonly link: ByteLink) {}

  get description(): string {
    return this.link.description;
  }

  async start(onLink: (link: ByteLink) => void): Promise<void> {
    this.onLink = onLink;
    await this.restore();
  }

  drop(): Promise<void> {
    return this.link.close();
  }

  async restore(): Promise<void> {
    await this.link.open();
    this.onLink(this.link);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/** The sim's end of a socat pty pair whose other end is linked at `linkPath` for the bridge. */
export class PtyLinkSource implements LinkSource {
  readonly description: string;
  private pair: { pathA: string; pathB: string; close(): Promise<void> | void } | null = null;
  private link: SerialLink | null = null;
  private onLink: (link: ByteLink) => void = () => undefined;
  private closed = false;

  constructor(readonly linkPath: string) {
    this.description = `pty ${linkPath}`;
  }

  async start(onLink: (link: ByteLink) => void): Promise<void> {
    this.onLink = onLink;
    this.closed = false;
    await this.restore();
  }

  async drop(): Promise<void> {
    const { link, pair } = this;
    this.link = null;
    this.pair = null;
    await link?.close();
    await pair?.close();
  }

  async restore(): Promise<void> {
    if (this.pair) return;
    const pair = await openPtyPair({ linkA: this.linkPath });
    const link = new SerialLink({ path: pair.pathB });
    try {
      await link.open();
    } catch (err) {
      await pair.close();
      throw err;
    }
    this.pair = pair;
    this.link = link;
    // If socat goes away unasked, make a fresh pair at the same path so the bridge can reopen.
    link.onDisconnect(() => {
      if (this.link === link) this.recover();
    });
    this.onLink(link);
  }

  private recover(): void {
    this.drop()
      .then(() => (this.closed ? undefined : this.restore()))
      .catch(() => {
        if (!this.closed) setTimeout(() => this.recover(), PTY_RETRY_MS).unref();
      });
  }

  close(): Promise<void> {
    this.closed = true;
    return this.drop();
  }
}

/** A ByteLink over a socket accepted by TcpLinkSource. */
class AcceptedSocketLink implements ByteLink {
  readonly description: string;
  private open_ = true;
  private readonly dataListeners = new ListenerSet<[Uint8Array]>();
  private readonly disconnectListeners = new ListenerSet<[TransportError]>();

  constructor(private readonly socket: net.Socket) {
    this.description = `tcp client ${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.dataListeners.emit(chunk));
    socket.on('error', () => undefined); // 'close' follows and reports it
    socket.on('close', () => {
      if (!this.open_) return;
      this.open_ = false;
      this.disconnectListeners.emit(new TransportError('DISCONNECTED', `${this.description} went away`));
    });
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (!this.open_) throw new TransportError('OPEN_FAILED', `${this.description}: an accepted socket cannot be reopened`);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.open_) return Promise.reject(new TransportError('NOT_OPEN', `${this.description} is not open`));
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => (err ? reject(new TransportError('WRITE_FAILED', `${this.description}: ${err.message}`, err)) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.socket.destroy();
  }

  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.dataListeners.add(listener);
  }

  onDisconnect(listener: (error: TransportError) => void): Unsubscribe {
    return this.disconnectListeners.add(listener);
  }
}

/** Listens like an RS485-to-Ethernet converter in TCP-server mode; a second client is refused. */
export class TcpLinkSource implements LinkSource {
  private server: net.Server | null = null;
  private client: AcceptedSocketLink | null = null;
  private onLink: (link: ByteLink) => void = () => undefined;
  private boundPort: number;

  constructor(
    private readonly host: string,
    port: number,
  ) {
    this.boundPort = port;
  }

  get description(): string {
    return `tcp ${this.host}:${this.boundPort}`;
  }

  /** The listening port (useful after asking for port 0). */
  get port(): number {
    return this.boundPort;
  }

  async start(onLink: (link: ByteLink) => void): Promise<void> {
    this.onLink = onLink;
    await this.restore();
  }

  async restore(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((socket) => {
      if (this.client?.isOpen) {
        socket.destroy(); // one client at a time, as most converters
        return;
      }
      const link = new AcceptedSocketLink(socket);
      this.client = link;
      this.onLink(link);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async drop(): Promise<void> {
    const { server, client } = this;
    this.server = null;
    this.client = null;
    await client?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.drop();
  }
}
