import * as http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError, CommandSet } from '../src/commands';
import { startControlServer, type ControlServer } from '../src/control-server';
import { sendControlCommand } from '../src/ctl';

function rawRequest(port: number, method: string, path: string, body = '', headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('control server on 127.0.0.1', () => {
  let server: ControlServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const seen: string[] = [];
  const commands = new CommandSet([
    {
      name: 'echo',
      usage: 'echo <word>',
      help: 'repeat a word',
      run: (args) => {
        if (args.length !== 1) throw new CommandError('expected one word');
        seen.push(args[0]);
        return args[0];
      },
    },
  ]);

  it('round-trips a command line: 200 with the output, 400 with the error, and keeps serving', async () => {
    server = await startControlServer(commands, { port: 0 });
    expect(server.port).toBeGreaterThan(0);
    await expect(sendControlCommand(server.port, 'echo hello')).resolves.toEqual({ ok: true, output: 'hello' });
    expect(seen).toContain('hello');
    await expect(sendControlCommand(server.port, 'frobnicate')).resolves.toEqual({
      ok: false,
      output: "unknown command 'frobnicate' (try: help)",
    });
    const bad = await rawRequest(server.port, 'POST', '/', 'echo a b');
    expect(bad).toEqual({ status: 400, text: 'expected one word\nusage: echo <word>\n' });
    const good = await rawRequest(server.port, 'POST', '/', 'echo again\n');
    expect(good).toEqual({ status: 200, text: 'again\n' });
  });

  it('refuses other methods, paths and oversized bodies with a clear text', async () => {
    server = await startControlServer(commands, { port: 0 });
    const get = await rawRequest(server.port, 'GET', '/');
    expect(get.status).toBe(405);
    expect(get.text).toMatch(/POST \//);
    expect((await rawRequest(server.port, 'POST', '/other', 'echo x')).status).toBe(404);
    const big = await rawRequest(server.port, 'POST', '/', `echo ${'x'.repeat(5000)}`);
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/too long/);
    await expect(sendControlCommand(server.port, 'echo still-alive')).resolves.toEqual({ ok: true, output: 'still-alive' });
  });

  describe('requests from a browser or a foreign name are refused (issue 10, bug 8)', () => {
    it.each([
      ['a foreign Origin (a web page POSTing cross-origin)', { origin: 'http://evil.example' }, 'refused: cross-origin request from http://evil.example'],
      ['a foreign Host (DNS rebinding)', { host: 'evil.example:8080' }, 'refused: Host evil.example:8080 is not a loopback address'],
      ['both, as a browser sends them after rebinding', { host: 'evil.example', origin: 'http://evil.example' }, 'refused: Host evil.example is not a loopback address'],
      ['a loopback origin on another port', { origin: 'http://127.0.0.1:1' }, 'refused: cross-origin request from http://127.0.0.1:1'],
      ['an opaque origin (a sandboxed page, a file)', { origin: 'null' }, 'refused: cross-origin request from null'],
    ])('%s: 403 and the command never runs', async (_name, headers, text) => {
      server = await startControlServer(commands, { port: 0 });
      const before = seen.length;
      const answer = await rawRequest(server.port, 'POST', '/', 'echo switched', headers);
      expect(answer).toEqual({ status: 403, text: `${text}\n` });
      expect(seen.length).toBe(before);
    });

    it('accepts its own loopback origin and the names of loopback', async () => {
      server = await startControlServer(commands, { port: 0 });
      const self = `127.0.0.1:${server.port}`;
      expect(await rawRequest(server.port, 'POST', '/', 'echo a', { origin: `http://${self}` })).toEqual({ status: 200, text: 'a\n' });
      expect(await rawRequest(server.port, 'POST', '/', 'echo b', { host: `localhost:${server.port}` })).toEqual({ status: 200, text: 'b\n' });
      expect(await rawRequest(server.port, 'POST', '/', 'echo c', { host: `[::1]:${server.port}` })).toEqual({ status: 200, text: 'c\n' });
    });
  });

  it('listens on loopback only and frees the port on close', async () => {
    server = await startControlServer(commands, { port: 0 });
    const { port } = server;
    await server.close();
    server = undefined;
    await expect(sendControlCommand(port, 'echo x')).rejects.toThrow(/ECONNREFUSED/);
  });
});
