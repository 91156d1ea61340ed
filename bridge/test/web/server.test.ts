/** The web server on a real socket: what the page reads, /metrics, the CAN log, and the guards on commands. */
import { request } from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeConfigSchema, type BridgeConfigInput } from '../../src/config/schema';
import type { BridgeCommand } from '../../src/control/commands';
import { parseCandumpLine } from '../../src/protocol/can/candump';
import { canFrame } from '../../src/protocol/can/frame';
import { StatusHub } from '../../src/status/hub';
import { createMetrics } from '../../src/web/metrics';
import { startWebServer, type WebServer } from '../../src/web/server';
import { connectedStatus } from '../support/status-fixture';

const TOKEN = 'correct-horse-battery-staple';
let server: WebServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(web: BridgeConfigInput['web'] = {}) {
  const config = { ...bridgeConfigSchema.parse({ name: 'garage', web: { listen: '127.0.0.1:0', ...web } }), can: { bus: 'socketcan:can0' } };
  const hub = new StatusHub(config.web);
  const commands: Array<{ command: BridgeCommand; source: string }> = [];
  hub.update(connectedStatus());
  await new Promise((resolve) => setImmediate(resolve));
  server = await startWebServer({
    config,
    hub,
    log: pino({ level: 'silent' }),
    metrics: createMetrics({ hub }),
    onCommand: (command, source) => commands.push({ command, source }),
  });
  return { hub, commands, url: server.url! };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('web page: read-only routes', () => {
  it('serves the page, its script and style from the repository, with a strict CSP', async () => {
    const { url } = await start();
    const page = await http(url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="packs">');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await http(`${url}app.js`)).body).toContain('EventSource');
    expect((await http(`${url}style.css`)).headers['content-type']).toContain('text/css');
    expect((await http(`${url}nope`)).status).toBe(404);
  });

  it('/api/status carries the status; methods other than GET change nothing', async () => {
    const { url, commands } = await start({ commands: true, token: TOKEN });
    const status = JSON.parse((await http(`${url}api/status`)).body);
    expect(status.status.states).toEqual({ bms: 'connected', inverter: 'unknown', can: 'up' });
    expect(status.status.packs[0].cellsMv).toHaveLength(16);
    for (const method of ['PUT', 'DELETE', 'PATCH']) expect((await http(`${url}api/status`, { method })).status).toBe(405);
    expect((await http(`${url}api/command`)).status).toBe(404);
    expect(commands).toEqual([]);
  });

  it('/metrics: prom-client text with the project prefix, base units and _total counters', async () => {
    const { url, hub } = await start();
    hub.frameSent(canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8]));
    const metrics = (await http(`${url}metrics`)).body;
    expect(metrics).toMatch(/^jk_can_bridge_pack_voltage_volts\{pack="pack1"\} 52\.8$/m);
    expect(metrics).toMatch(/^jk_can_bridge_cell_voltage_volts\{pack="pack1",cell="16"\} 3\.3$/m);
    expect(metrics).toMatch(/^jk_can_bridge_charge_current_limit_amperes 50$/m);
    expect(metrics).toMatch(/^jk_can_bridge_region_state\{region="bms",state="connected"\} 1$/m);
    expect(metrics).toMatch(/^jk_can_bridge_region_state\{region="bms",state="fault"\} 0$/m);
    expect(metrics).toMatch(/^jk_can_bridge_can_frames_sent_total 1$/m);
    expect(metrics).not.toMatch(/^jk_can_bridge_mqtt_connected /m);
    const names = [...metrics.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(names.length).toBeGreaterThan(20);
    for (const [name, type] of names) {
      expect(name).toMatch(/^jk_can_bridge_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
  });

  it('the CAN log downloads as candump -L lines that parse back to the frames sent', async () => {
    const { url, hub } = await start();
    hub.frameSent(canFrame(0x351, [0x28, 0x02, 0xf4, 0x01, 0x58, 0x02, 0xe0, 0x01]));
    hub.frameSent(canFrame(0x35e, [...Buffer.from('PYLON   ')]));
    const log = await http(`${url}api/frames.log`);
    expect(log.headers['content-disposition']).toBe('attachment; filename="garage-can.log"');
    const lines = log.body.trim().split('\n');
    expect(lines).toHaveLength(2);
    const parsed = lines.map((line) => parseCandumpLine(line));
    expect(parsed.map((p) => (p.ok ? [p.iface, p.frame.id, [...p.frame.data]] : p))).toEqual([
      ['can0', 0x351, [0x28, 0x02, 0xf4, 0x01, 0x58, 0x02, 0xe0, 0x01]],
      ['can0', 0x35e, [...Buffer.from('PYLON   ')]],
    ]);
  });

  it('live updates: the stream says hello with everything, then each change', async () => {
    const { url, hub } = await start();
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}api/stream`, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received.push(chunk);
          const text = received.join('');
          if (text.includes('event: hello') && !text.includes('event: status')) {
            const changed = connectedStatus();
            hub.update({ ...changed, states: { ...changed.states, inverter: 'alive' } });
          }
          if (text.includes('event: status')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    const text = received.join('');
    expect(text).toMatch(/event: hello\ndata: \{"name":"garage","commands":false/);
    expect(text).toMatch(/event: status\ndata: .*"inverter":"alive"/);
  });
});

describe('web page: commands', () => {
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    http(`${url}api/command`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('are off by default: refused even with a token', async () => {
    const { url, commands } = await start({ token: TOKEN });
    const reply = await post(url, { command: 'deny-charge', expiresInS: 60 });
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).reason).toContain('commands are off');
    expect(commands).toEqual([]);
  });

  it('with the token, from this page: accepted and handed over with the source', async () => {
    const { url, commands } = await start({ commands: true, token: TOKEN });
    const host = new URL(url).host;
    const reply = await post(url, { command: 'deny-charge', expiresInS: 60, id: 'r1' }, { Origin: `http://${host}` });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true, id: 'r1', command: 'deny-charge' });
    expect(commands).toEqual([{ command: { command: 'deny-charge', expiresInS: 60, id: 'r1' }, source: 'web 127.0.0.1' }]);
  });

  it.each([
    ['no token', { Authorization: '' }, 401, 'token'],
    ['a wrong token', { Authorization: 'Bearer correct-horse-battery-stapler' }, 401, 'token'],
    ['another site (cross-site request)', { Origin: 'http://evil.example' }, 403, 'Origin'],
    ['a rebound DNS name (Host not this server)', { Host: 'evil.example:8080' }, 403, 'Host'],
    ['a form post (not JSON)', { 'Content-Type': 'application/x-www-form-urlencoded' }, 415, 'Content-Type'],
  ])('refuses %s and changes nothing', async (_, headers, code, reason) => {
    const { url, commands } = await start({ commands: true, token: TOKEN });
    const reply = await post(url, { command: 'deny-charge', expiresInS: 60 }, headers);
    expect(reply.status).toBe(code);
    expect(JSON.parse(reply.body).reason).toContain(reason);
    expect(commands).toEqual([]);
  });

  it('answers a malformed or unknown command with the reason and changes nothing', async () => {
    const { url, commands } = await start({ commands: true, token: TOKEN });
    const unknown = await post(url, { command: 'charge-harder' });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).reason).toContain('unknown command');
    expect((await post(url, '{"command":')).status).toBe(400);
    expect((await post(url, 'x'.repeat(5000))).status).toBe(413);
    expect(commands).toEqual([]);
  });
});
