/**
 * The bridge's web page, its live feed and /metrics on one node:http server (web.listen, default
 * 127.0.0.1:8080). Read-only routes (GET) change nothing. The one route that changes state,
 * POST /api/command, needs web.commands, the bearer token, a Host this server answers to (no DNS
 * rebinding) and, when the browser sends one, an Origin equal to that host (no cross-site request).
 *
 * The page is plain HTML/JS/CSS in bridge/web/ (no build step, nothing downloaded, works offline).
 * Live updates are Server-Sent Events; a client that does not keep up is dropped, never buffered
 * without bound.
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isLoopbackListen } from '../config/load';
import type { BridgeConfig } from '../config/schema';
import { parseCommand, type BridgeCommand } from '../control/commands';
import { formatCanId } from '../protocol/can/frame';
import { toHex } from '../protocol/can/wire';
import { candumpLog, logInterfaceName } from '../status/frame-log';
import type { SentFrame, StatusHub } from '../status/hub';

export interface WebOptions {
  config: Pick<BridgeConfig, 'name' | 'web' | 'commands'> & { can: { bus: string } };
  hub: StatusHub;
  metrics: Pick<Registry, 'metrics' | 'contentType'>;
  log: Logger;
  onCommand(command: BridgeCommand, source: string): void;
}

export interface WebServer {
  /** e.g. http://127.0.0.1:8080/ once listening; null if it could not listen. */
  readonly url: string | null;
  close(): Promise<void>;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const MAX_SSE_CLIENTS = 32;
/** A live client further behind than this is dropped. */
const MAX_SSE_BACKLOG_BYTES = 1 << 20;
const MAX_BODY_BYTES = 2048;
/** Frames shown on the page (the download has all that are kept). */
const PAGE_FRAMES = 12;

/** bridge/web, from bridge/src/web (ts-node, tests) or dist/bridge/src/web (built). */
export function webAssetsDir(from = __dirname): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'bridge', 'web');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  throw new Error(`bridge/web/index.html not found above ${from}`);
}

export function startWebServer(options: WebOptions): Promise<WebServer> {
  const { config, hub, log } = options;
  const web = config.web;
  let files: Map<string, { body: Buffer; type: string }>;
  try {
    const assets = webAssetsDir();
    files = new Map(Object.entries(STATIC).map(([route, { file, type }]) => [route, { body: readFileSync(path.join(assets, file)), type }]));
  } catch (err) {
    // An installation without the page's files: the bridge runs on without its page.
    log.warn(`web page not started: ${(err as Error).message}`);
    return Promise.resolve({ url: null, close: async () => undefined });
  }
  const iface = logInterfaceName(config.can.bus);
  const clients = new Set<ServerResponse>();
  const listen = web.listen;
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  let url: string | null = null;

  const pageInfo = () => ({
    name: config.name,
    commands: web.commands,
    maxExpiryS: config.commands.maxExpiryS,
  });

  const send = (res: ServerResponse, code: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(code, {
      'Content-Type': type,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
      ...extra,
    });
    res.end(body);
  };
  const json = (res: ServerResponse, code: number, value: unknown) => send(res, code, 'application/json', JSON.stringify(value));

  /** Host names this server answers to for state changes. */
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (hostHeader === undefined) return false;
    const name = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
    if (isLoopbackListen(listen)) return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
    // A wildcard listen has no one name; the token then guards against rebinding.
    if (host === '0.0.0.0' || host === '::') return true;
    return name === host.toLowerCase();
  };

  const tokenMatches = (header: string | undefined): boolean => {
    if (web.token === undefined || header === undefined || !header.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice('Bearer '.length));
    const expected = Buffer.from(web.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const handleCommand = (req: IncomingMessage, res: ServerResponse): void => {
    const refuse = (code: number, reason: string) => {
      log.warn(`web command refused (${req.socket.remoteAddress}): ${reason}`);
      json(res, code, { ok: false, reason });
      req.resume();
    };
    if (!web.commands) return refuse(403, 'commands are off (web.commands: false)');
    if (!hostAllowed(req.headers.host)) return refuse(403, `Host ${req.headers.host ?? '(none)'} is not this server`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return refuse(403, `Origin ${origin} is not this page`);
    if (!tokenMatches(req.headers.authorization)) return refuse(401, 'missing or wrong token (Authorization: Bearer <web.token>)');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(415, 'expected Content-Type: application/json');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return refuse(413, `body over ${MAX_BODY_BYTES} bytes`);
      const parsed = parseCommand(Buffer.concat(chunks).toString('utf8'), config.commands.maxExpiryS);
      if (!parsed.ok) return refuse(400, parsed.reason);
      options.onCommand(parsed.command, `web ${req.socket.remoteAddress ?? ''}`.trim());
      json(res, 200, { ok: true, id: parsed.command.id, command: parsed.command.command });
    });
  };

  const framesJson = (frames: SentFrame[]) => frames.map(({ atMs, frame }) => ({ atMs, id: formatCanId(frame), data: toHex(frame.data) }));

  const handleStream = (req: IncomingMessage, res: ServerResponse): void => {
    if (clients.size >= MAX_SSE_CLIENTS) return send(res, 503, 'text/plain', 'too many live clients\n');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    clients.add(res);
    // A client gone mid-write is the client's problem, never the bridge's.
    res.on('error', () => res.destroy());
    const write = (event: string, data: unknown) => {
      if (res.destroyed) return;
      if (res.writableLength > MAX_SSE_BACKLOG_BYTES) {
        res.destroy();
        return;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    write('hello', { ...pageInfo(), status: hub.status, history: hub.history.toArray(), events: hub.events.toArray(), frames: framesJson(hub.frames.toArray().slice(-PAGE_FRAMES)) });
    let lastSampleMs = hub.history.toArray().at(-1)?.atMs ?? 0;
    const offStatus = hub.onStatus((status) => {
      write('status', status);
      write('frames', framesJson(hub.frames.toArray().slice(-PAGE_FRAMES)));
      const sample = hub.history.toArray().at(-1);
      if (sample !== undefined && sample.atMs !== lastSampleMs) {
        lastSampleMs = sample.atMs;
        write('sample', sample);
      }
    });
    const offEvent = hub.onEvent((event) => write('event', event));
    req.on('close', () => {
      offStatus();
      offEvent();
      clients.delete(res);
    });
  };

  const server: Server = createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && route === '/api/command') return handleCommand(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      return send(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD' });
    }
    const file = files.get(route);
    if (file) return send(res, 200, file.type, file.body);
    switch (route) {
      case '/api/status':
        return json(res, 200, { ...pageInfo(), status: hub.status });
      case '/api/history':
        return json(res, 200, hub.history.toArray());
      case '/api/events':
        return json(res, 200, hub.events.toArray());
      case '/api/frames':
        return json(res, 200, framesJson(hub.frames.toArray()));
      case '/api/frames.log':
        return send(res, 200, 'text/plain; charset=utf-8', candumpLog(hub.frames.toArray(), iface), {
          'Content-Disposition': `attachment; filename="${config.name}-can.log"`,
        });
      case '/api/stream':
        return handleStream(req, res);
      case '/metrics':
        options.metrics.metrics().then(
          (text) => send(res, 200, options.metrics.contentType, text),
          (err: Error) => send(res, 500, 'text/plain', `${err.message}\n`),
        );
        return;
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  });

  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // The page is an extra: the bridge keeps running without it.
      log.warn(`web page not started on ${listen}: ${err.code ?? err.message}`);
      resolve({ url: null, close: async () => undefined });
    });
    server.listen(Number(listen.slice(colon + 1)), host, () => {
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${shown}:${address.port}/`;
      log.info(`web page at ${url} (metrics at ${url}metrics)`);
      resolve({
        get url() {
          return url;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const client of clients) client.destroy();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
