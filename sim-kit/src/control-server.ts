/**
 * The control interface of a running simulator: HTTP on 127.0.0.1 only, so a person can inject
 * faults from another terminal (`npm run ctl -- <port> silent 10s`) and scripts can
 * use curl. One request = one command line: `POST /` with the line as the body answers
 * 200 + the output, or 400 + the error text. Loopback only: the commands switch MOSFETs.
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

export function startControlServer(
  commands: CommandSet,
  opts: { port: number; host?: '127.0.0.1' },
): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(text.endsWith('\n') ? text : `${text}\n`);
    };
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
