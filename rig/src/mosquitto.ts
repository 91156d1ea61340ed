/**
 * A real MQTT broker for tests and the rig: Debian's mosquitto on a free loopback port, no
 * persistence (a restart loses every retained message, as a broker without a disk would, so a
 * test sees whether the bridge republishes). Started, frozen (SIGSTOP, a hung broker), killed
 * (SIGKILL, a crash) and restarted on the same port by the test setup. Secured as home brokers
 * are: user names and passwords (mosquitto_passwd), and TLS with a certificate from a private CA
 * made here with openssl (`caFile` is what a client must trust).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** Only these users, with these passwords (allow_anonymous false). */
  users?: Record<string, string>;
  /** mqtts:// with a server certificate for 127.0.0.1 signed by a CA made for this broker. */
  tls?: boolean;
}

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

  private readonly settings: string[];

  private constructor(
    readonly port: number,
    private readonly options: MosquittoOptions,
  ) {
    this.settings = [`listener ${port} 127.0.0.1`, `allow_anonymous ${options.users === undefined}`];
    // Started as root, mosquitto drops to its own user before it reads these files.
    chmodSync(this.dir, 0o755);
    if (options.users !== undefined) {
      const file = path.join(this.dir, 'passwords');
      writeFileSync(file, '');
      for (const [user, password] of Object.entries(options.users)) run('mosquitto_passwd', ['-b', file, user, password]);
      chmodSync(file, 0o644);
      this.settings.push(`password_file ${file}`);
    }
    if (options.tls === true) {
      const certs = makeCertificates(this.dir);
      this.settings.push(`certfile ${certs.certFile}`, `keyfile ${certs.keyFile}`);
    }
  }

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    if (!mosquittoInstalled()) throw new Error(`${MOSQUITTO} not found: run npm run setup (apt-get install mosquitto)`);
    const broker = new Mosquitto(await freePort(), options);
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `${this.options.tls === true ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  /** The CA certificate (PEM) a client must trust to reach a TLS broker. */
  get caFile(): string {
    return path.join(this.dir, 'ca.pem');
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts it (again) on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('mosquitto is already running');
    const conf = path.join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, [...this.settings, 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
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

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
  }
}

/** A CA (ca.pem) and a server certificate for 127.0.0.1 it signed, valid for two days. */
function makeCertificates(dir: string): { certFile: string; keyFile: string } {
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=jk-can-bridge test CA']);
  run('openssl', ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext')]);
  for (const name of ['ca.pem', 'server.pem', 'server.key']) chmodSync(file(name), 0o644);
  return { certFile: file('server.pem'), keyFile: file('server.key') };
}
