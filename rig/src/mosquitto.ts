/**
 * A real MQTT broker for tests and the rig: Debian's mosquitto on a free loopback port, no
 * persistence (a restart loses every retained message, as a broker without a disk would, so a
 * test sees whether the bridge republishes). Started, frozen (SIGSTOP, a hung broker), killed
 * (SIGKILL, a crash) and restarted on the same port by the test setup.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export function mosquittoInstalled(): boolean {
  return spawnSync(MOSQUITTO, ['-h']).error === undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class Mosquitto {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'jk-mosquitto-'));
  private output = '';

  private constructor(readonly port: number) {}

  static async start(): Promise<Mosquitto> {
    if (!mosquittoInstalled()) throw new Error(`${MOSQUITTO} not found: run npm run setup (apt-get install mosquitto)`);
    const broker = new Mosquitto(await freePort());
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts it (again) on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('mosquitto is already running');
    const conf = path.join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, [`listener ${this.port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
    const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)));
    child.on('exit', () => {
      if (this.child === child) this.child = null;
    });
    this.child = child;
    const deadline = Date.now() + 5000;
    while (!(await this.accepts())) {
      if (this.child === null || Date.now() > deadline) throw new Error(`mosquitto did not start on port ${this.port}: ${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
  }

  /** SIGSTOP: the broker hangs (accepts nothing, reads nothing) with its connections open: a slow broker at its worst. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL: the broker dies without a word (a crash, a pulled cable). */
  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.end('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = null;
  }
}
