/**
 * The control interface of a running simulator: HTTP on 127.0.0.1 only, so a person can inject
 * faults from another terminal (`npm run ctl -- <port> silent 10s`) and scripts can
 * use curl. One request = one command line: `POST /` with the line as the body answers
 * 200 + the output, or 400 + the error text. Loopback only: the commands switch MOSFETs.
 *
 * Listening on 127.0.0.1 is not enough: a web page in a browser on the same machine may POST to
 * it (a "simple" cross-origin request needs no preflight), and DNS rebinding gives a foreign name
 * a loopback address. So a request must name a loopback Host, and a browser's Origin, when sent,
 * must be that same loopback origin; anything else is refused with 403 before the command is read
 * (issue 10, bug 8). The ctl client and curl send no Origin.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CommandSet } from './commands';

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

/** A command line is short; anything bigger is a mistake (or not a person). */
const MAX_BODY_BYTES = 4096;

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i;

/** Why a request does not come from this machine's own tools, or undefined when it does. */
function foreignRequest(headers: http.IncomingHttpHeaders): string | undefined {
  const { host, origin } = headers;
  if (host === undefined || !LOOPBACK_HOST.test(host)) return `refused: Host ${host ?? '(none)'} is not a loopback address`;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`) return `refused: cross-origin request from ${origin}`;
  return undefined;
}

export function startControlServer(
  commands: CommandSet,
  opts: { port: number; host?: '127.0.0.1' },
): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(text.endsWith('\n') ? text : `${text}\n`);
    };
    const foreign = foreignRequest(req.headers);
    if (foreign !== undefined) {
      reply(403, foreign);
      req.resume();
      return;
    }
    if (req.url !== '/' || req.method !== 'POST') {
      reply(req.url === '/' ? 405 : 404, 'send POST / with one command line as the body (try: help)');
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reply(413, `command line too long (more than ${MAX_BODY_BYTES} bytes)`);
        return;
      }
      const line = Buffer.concat(chunks).toString('utf8').trim();
      void commands.execute(line).then((result) => reply(result.ok ? 200 : 400, result.output));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
