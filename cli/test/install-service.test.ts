import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applySteps, planInstall, renderUnit, SAMPLE_CONFIG, UNIT_TEMPLATE, type ServiceHost, type ServiceOptions } from '../src/install-service';

const OPTIONS: ServiceOptions = { dryRun: false, root: '/srv/pi', user: 'jkbridge', command: '/usr/local/bin/jk-can-bridge', node: '/usr/bin/node', ip: '/usr/sbin/ip' };
const DROP_IN = '/srv/pi/etc/systemd/system/jk-can-bridge.service.d/socketcan.conf';
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\n';
const GROUP = 'root:x:0:\ndialout:x:20:\n';

/** Files in a map; useradd/usermod edit the passwd and group texts as the real ones do. */
class FakeHost implements ServiceHost {
  readonly files = new Map<string, string>();
  readonly modes = new Map<string, number>();
  readonly owners = new Map<string, string>();
  readonly commands: string[] = [];

  constructor(files: Record<string, string>) {
    for (const [file, text] of Object.entries(files)) this.files.set(file, text);
    this.files.set(UNIT_TEMPLATE, readFileSync(UNIT_TEMPLATE, 'utf8'));
    this.files.set(SAMPLE_CONFIG, readFileSync(SAMPLE_CONFIG, 'utf8'));
  }

  readFile(file: string): string | undefined {
    return this.files.get(file);
  }

  writeFile(file: string, text: string, mode: number): void {
    this.files.set(file, text);
    this.modes.set(file, mode);
  }

  removeFile(file: string): void {
    this.files.delete(file);
  }

  chown(file: string, uid: number, gid: number): void {
    this.owners.set(file, `${uid}:${gid}`);
  }

  run(program: string, args: string[]): void {
    this.commands.push([program, ...args].join(' '));
    const user = args.at(-1)!;
    if (program === 'useradd') {
      this.files.set('/srv/pi/etc/passwd', `${this.files.get('/srv/pi/etc/passwd')}${user}:x:999:995::/nonexistent:/usr/sbin/nologin\n`);
      this.files.set('/srv/pi/etc/group', `${this.files.get('/srv/pi/etc/group')!.replace('dialout:x:20:', `dialout:x:20:${user}`)}${user}:x:995:\n`);
    }
    if (program === 'systemctl' && args.includes('fail')) throw new Error('Failed to enable unit');
  }
}

function lines(host: ServiceHost, options = OPTIONS): string[] {
  const said: string[] = [];
  expect(applySteps(planInstall(options, host), options.dryRun, (line) => said.push(line))).toBe(0);
  return said;
}

describe('install-service', () => {
  it('on a fresh system creates the user in dialout, writes the sample config, the unit and its CAN drop-in, enables it', () => {
    const host = new FakeHost({ '/srv/pi/etc/passwd': PASSWD, '/srv/pi/etc/group': GROUP });
    const said = lines(host);
    expect(host.commands).toEqual([
      'useradd --prefix /srv/pi --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --groups dialout jkbridge',
      'systemctl --root=/srv/pi enable jk-can-bridge.service',
    ]);
    expect(host.files.get('/srv/pi/etc/jk-can-bridge.yaml')).toBe(readFileSync(SAMPLE_CONFIG, 'utf8'));
    expect(host.modes.get('/srv/pi/etc/jk-can-bridge.yaml')).toBe(0o640);
    // Readable by the service's group (995, made by useradd in this run), not by everyone.
    expect(host.owners.get('/srv/pi/etc/jk-can-bridge.yaml')).toBe('0:995');
    const unit = host.files.get('/srv/pi/etc/systemd/system/jk-can-bridge.service')!;
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/usr\/local\/bin\/jk-can-bridge --config \/etc\/jk-can-bridge.yaml$/m);
    expect(unit).toMatch(/^User=jkbridge$/m);
    // The sample's can.bus is socketcan:can0: a fresh boot leaves can0 down, so the unit brings it up.
    expect(host.files.get(DROP_IN)).toBe(
      [
        '# Written by jk-can-bridge install-service for can.bus socketcan:can0 in /etc/jk-can-bridge.yaml.',
        '# Brings the interface up with the inverters\' bit rate before the bridge starts, as root ("+");',
        '# "-": an interface already up (its bit rate cannot change then) or a vcan is not an error.',
        '[Service]',
        'ExecStartPre=-+/usr/sbin/ip link set can0 type can bitrate 500000 restart-ms 100',
        'ExecStartPre=-+/usr/sbin/ip link set can0 up',
        '',
      ].join('\n'),
    );
    expect(said.every((line) => line.startsWith('done '))).toBe(true);
    expect(said).toHaveLength(5);
  });

  it('run again, it keeps the edited config and the unit and only re-enables', () => {
    const host = new FakeHost({ '/srv/pi/etc/passwd': PASSWD, '/srv/pi/etc/group': GROUP });
    lines(host);
    host.files.set('/srv/pi/etc/jk-can-bridge.yaml', 'bms: {link: /dev/ttyUSB1}\ncan: {bus: "socketcan:can0"}\n');
    host.commands.length = 0;
    const said = lines(host);
    expect(said.slice(0, 4)).toEqual([
      'ok       user jkbridge exists and is in dialout',
      'ok       keep /srv/pi/etc/jk-can-bridge.yaml (it exists)',
      'ok       keep /srv/pi/etc/systemd/system/jk-can-bridge.service (up to date)',
      `ok       keep ${DROP_IN} (can0 up at 500000 bit/s before start)`,
    ]);
    expect(host.files.get('/srv/pi/etc/jk-can-bridge.yaml')).toBe('bms: {link: /dev/ttyUSB1}\ncan: {bus: "socketcan:can0"}\n');
    expect(host.commands).toEqual(['systemctl --root=/srv/pi enable jk-can-bridge.service']);
  });

  it('follows the configured CAN bus: another interface, an SLCAN adapter (drop-in removed), a refused file', () => {
    const host = new FakeHost({ '/srv/pi/etc/passwd': PASSWD, '/srv/pi/etc/group': GROUP });
    lines(host);
    host.files.set('/srv/pi/etc/jk-can-bridge.yaml', 'bms: {link: /dev/ttyUSB0}\ncan: {bus: "socketcan:can1"}\n');
    expect(lines(host)[3]).toBe(`done     write ${DROP_IN}: bring can1 up at 500000 bit/s before the bridge starts (can.bus socketcan:can1)`);
    expect(host.files.get(DROP_IN)).toContain('ExecStartPre=-+/usr/sbin/ip link set can1 up\n');
    host.files.set('/srv/pi/etc/jk-can-bridge.yaml', 'bms: {link: /dev/ttyUSB0}\ncan: {bus: "slcan:/dev/ttyACM0"}\n');
    expect(lines(host)[3]).toBe(`done     remove ${DROP_IN} (can.bus is slcan:/dev/ttyACM0)`);
    expect(host.files.has(DROP_IN)).toBe(false);
    expect(lines(host)[3]).toBe('ok       no CAN interface to bring up (can.bus slcan:/dev/ttyACM0)');
    host.files.set('/srv/pi/etc/jk-can-bridge.yaml', 'can: {bus: "socketcan:can0"}\n');
    expect(lines(host)[3]).toBe(
      'ok       /etc/jk-can-bridge.yaml is refused (jk-can-bridge check --config /etc/jk-can-bridge.yaml says why); run install-service again once it passes, for its CAN interface',
    );
  });

  it('adds an existing user to dialout, and updates a unit that points at another command', () => {
    const host = new FakeHost({
      '/srv/pi/etc/passwd': `${PASSWD}jkbridge:x:999:995::/nonexistent:/usr/sbin/nologin\n`,
      '/srv/pi/etc/group': `${GROUP}jkbridge:x:995:\n`,
      '/srv/pi/etc/jk-can-bridge.yaml': 'bms: {link: /dev/ttyUSB0}\ncan: {bus: stdout}\n',
      '/srv/pi/etc/systemd/system/jk-can-bridge.service': 'old unit\n',
    });
    lines(host, { ...OPTIONS, command: '/opt/node/bin/jk-can-bridge', node: '/opt/node/bin/node' });
    expect(host.commands[0]).toBe('usermod --prefix /srv/pi --append --groups dialout jkbridge');
    expect(host.files.get('/srv/pi/etc/systemd/system/jk-can-bridge.service')).toMatch(
      /^ExecStart=\/opt\/node\/bin\/node \/opt\/node\/bin\/jk-can-bridge --config \/etc\/jk-can-bridge.yaml$/m,
    );
  });

  it('on the machine itself reloads systemd before enabling, and touches nothing in a dry run', () => {
    const host = new FakeHost({ '/etc/passwd': PASSWD, '/etc/group': GROUP });
    const options = { ...OPTIONS, root: '/', dryRun: true };
    const said = lines(host, options);
    expect(said).toEqual([
      'would    create system user jkbridge (own group, member of dialout): useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --groups dialout jkbridge',
      'would    write /etc/jk-can-bridge.yaml from the commented sample (mode 0640, group jkbridge); edit bms.link, can.bus and can.profile',
      'would    install /etc/systemd/system/jk-can-bridge.service (ExecStart=/usr/bin/node /usr/local/bin/jk-can-bridge --config /etc/jk-can-bridge.yaml, User=jkbridge)',
      'would    write /etc/systemd/system/jk-can-bridge.service.d/socketcan.conf: bring can0 up at 500000 bit/s before the bridge starts (can.bus socketcan:can0)',
      'would    systemctl daemon-reload',
      'would    systemctl enable jk-can-bridge.service (starts at boot)',
    ]);
    expect(host.commands).toEqual([]);
    expect(host.files.has('/etc/jk-can-bridge.yaml')).toBe(false);
  });

  it('stops at the first failing step and says why', () => {
    const host = new FakeHost({ '/srv/pi/etc/passwd': PASSWD, '/srv/pi/etc/group': GROUP });
    const steps = planInstall(OPTIONS, host);
    const failing = [...steps.slice(0, -1), { text: 'systemctl fail', apply: () => host.run('systemctl', ['fail']) }, ...steps.slice(-1)];
    const said: string[] = [];
    expect(applySteps(failing, false, (line) => said.push(line))).toBe(1);
    expect(said.at(-1)).toBe('FAILED   systemctl fail: Failed to enable unit');
  });

  it('quotes paths with spaces and refuses a template without exactly one ExecStart', () => {
    const template = readFileSync(UNIT_TEMPLATE, 'utf8');
    expect(renderUnit(template, { ...OPTIONS, command: '/home/pi/my tools/jk-can-bridge' })).toMatch(
      /^ExecStart=\/usr\/bin\/node "\/home\/pi\/my tools\/jk-can-bridge" --config/m,
    );
    expect(() => renderUnit(template.replace(/^ExecStart=.*$/m, ''), OPTIONS)).toThrow('expected one ExecStart= line, found 0');
  });
});
