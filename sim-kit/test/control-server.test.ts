import * as http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError, CommandSet } from '../src/commands';
import { startControlServer, type ControlServer } from '../src/control-server';
import { sendControlCommand } from '../src/ctl';

function rawRequest(port: number, method: string, path: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
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

  it('listens on loopback only and frees the port on close', async () => {
    server = await startControlServer(commands, { port: 0 });
    const { port } = server;
    await server.close();
    server = undefined;
    await expect(sendControlCommand(port, 'echo x')).rejects.toThrow(/ECONNREFUSED/);
  });
});
