import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TcpLink } from '../../src/transport/tcp-link';
import type { TransportError } from '../../src/transport/types';
import { byteLinkContract, expectTransportError } from './support/byte-link-contract';
import { concatBytes, eventually } from './support/eventually';

/** A converter stand-in: a TCP server on 127.0.0.1 that records what it receives. */
async function fakeConverter(): Promise<{
  port: number;
  received: Uint8Array[];
  current(): Promise<net.Socket>;
  stop(): Promise<void>;
}> {
  const server = net.createServer();
  const sockets: net.Socket[] = [];
  const received: Uint8Array[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('data', (chunk) => received.push(Uint8Array.from(chunk)));
    // A reset from the link side is expected in some tests; it must not crash the server.
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    // The server accepts a moment after the client sees 'connect'.
    current: async () => {
      await eventually(() => sockets.length > 0, 'the server to accept');
      return sockets[sockets.length - 1];
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

byteLinkContract('tcp-link to a local server', async () => {
  const converter = await fakeConverter();
  const link = new TcpLink({ host: '127.0.0.1', port: converter.port });
  return {
    link,
    peer: {
      write: async (bytes) => {
        const socket = await converter.current();
        await new Promise<void>((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve())));
      },
      received: () => concatBytes(converter.received),
    },
    // The converter drops the connection the orderly way (FIN).
    disappear: async () => {
      (await converter.current()).end();
    },
    unreachable: async () => new TcpLink({ host: '127.0.0.1', port: await closedPort() }),
    dispose: async () => {
      await link.close();
      await converter.stop();
    },
  };
});

describe('tcp-link specifics', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('describes itself as host:port, bracketing IPv6', () => {
    expect(new TcpLink({ host: '192.0.2.7', port: 8899 }).description).toBe('tcp 192.0.2.7:8899');
    expect(new TcpLink({ host: '::1', port: 8899 }).description).toBe('tcp [::1]:8899');
  });

  it('explains a refused connection', async () => {
    const port = await closedPort();
    const error = await expectTransportError(new TcpLink({ host: '127.0.0.1', port }).open(), 'OPEN_FAILED');
    expect(error.message).toBe(
      `OPEN_FAILED: tcp 127.0.0.1:${port}: connection refused — is the RS485-to-Ethernet converter in TCP server mode on that port?`,
    );
  });

  it('turns ETIMEDOUT from the OS into OPEN_FAILED', async () => {
    const socket = new net.Socket();
    const link = new TcpLink({ host: '192.0.2.7', port: 8899, connect: () => socket });
    const opening = link.open();
    socket.destroy(Object.assign(new Error('connect ETIMEDOUT 192.0.2.7:8899'), { code: 'ETIMEDOUT' }));
    const error = await expectTransportError(opening, 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: tcp 192.0.2.7:8899: connection timed out — is the converter powered and on this network?');
  });

  it('gives up connecting after connectTimeoutMs', async () => {
    vi.useFakeTimers();
    // A socket that never connects, as with a converter that is switched off.
    const socket = new net.Socket();
    const link = new TcpLink({ host: '192.0.2.7', port: 8899, connectTimeoutMs: 3000, connect: () => socket });
    const outcome = link.open().then(
      () => 'opened',
      (e: TransportError) => e.message,
    );
    await vi.advanceTimersByTimeAsync(2999);
    expect(socket.destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe(
      'OPEN_FAILED: tcp 192.0.2.7:8899: no connection within 3000 ms — is the converter powered and on this network?',
    );
    expect(socket.destroyed).toBe(true);
    expect(link.isOpen).toBe(false);
  });

  it('sets TCP_NODELAY and keepalive on the connection', async () => {
    const converter = await fakeConverter();
    let socket: net.Socket | undefined;
    const link = new TcpLink({
      host: '127.0.0.1',
      port: converter.port,
      keepAliveMs: 2500,
      connect: (options) => {
        socket = net.connect(options);
        vi.spyOn(socket, 'setNoDelay');
        vi.spyOn(socket, 'setKeepAlive');
        return socket;
      },
    });
    await link.open();
    expect(socket?.setNoDelay).toHaveBeenCalledWith(true);
    expect(socket?.setKeepAlive).toHaveBeenCalledWith(true, 2500);
    await link.close();
    await converter.stop();
  });

  it('reports one DISCONNECTED naming the reset when the converter resets the connection', async () => {
    const converter = await fakeConverter();
    const link = new TcpLink({ host: '127.0.0.1', port: converter.port });
    const lost: TransportError[] = [];
    link.onDisconnect((e) => lost.push(e));
    await link.open();
    (await converter.current()).resetAndDestroy();
    await eventually(() => lost.length > 0, 'the disconnect');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lost).toHaveLength(1);
    expect(lost[0].message).toContain('ECONNRESET');
    await converter.stop();
  });

  it('says the converter closed the connection after an orderly end', async () => {
    const converter = await fakeConverter();
    const link = new TcpLink({ host: '127.0.0.1', port: converter.port });
    const lost: TransportError[] = [];
    link.onDisconnect((e) => lost.push(e));
    await link.open();
    (await converter.current()).end();
    await eventually(() => lost.length > 0, 'the disconnect');
    expect(lost[0].message).toBe(`DISCONNECTED: tcp 127.0.0.1:${converter.port}: the converter closed the connection`);
    await converter.stop();
  });
});
