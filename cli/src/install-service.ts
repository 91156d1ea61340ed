/**
 * `jk-can-bridge install-service [--dry-run] [--root <dir>] [--user <name>] [--command <path>]`, as
 * root: the bridge as a systemd service, each step printed as it is done (with --dry-run, as it
 * would be done; nothing is touched):
 *   1. a system user with its own group, member of `dialout`: Debian gives serial adapters (the BMS
 *      link, SLCAN adapters) to root:dialout 0660. SocketCAN needs no group: any user may open a
 *      raw CAN socket (net/can/af_can.c checks no capability); only bringing the interface up with
 *      its bit rate needs root, which is the system's job (README "Hardware and wiring");
 *   2. /etc/jk-can-bridge.yaml from the commented sample, only if absent (0640, the user's group);
 *   3. /etc/systemd/system/jk-can-bridge.service from deploy/, ExecStart pointing at this command;
 *   4. when the configuration's can.bus is socketcan:<iface>, a drop-in that brings the interface up
 *      with its bit rate before the bridge starts (a fresh boot leaves can0 down); removed otherwise;
 *   5. systemctl daemon-reload and enable (starts at boot; the printed next steps start it now).
 * --root <dir> does all of it inside <dir> (useradd/usermod --prefix, systemctl --root), so a test
 * or CI can run it for real without touching the machine.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../bridge/src/config/load';
import { parseCanSpec } from '../../bridge/src/transport/spec';
import { PACKAGE_ROOT } from './package-root';

export const UNIT_TEMPLATE = path.join(PACKAGE_ROOT, 'deploy/jk-can-bridge.service');
export const SAMPLE_CONFIG = path.join(PACKAGE_ROOT, 'deploy/bridge.example.yaml');

export const UNIT_NAME = 'jk-can-bridge.service';
const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;
export const CONFIG_PATH = '/etc/jk-can-bridge.yaml';
const CAN_DROP_IN_PATH = `/etc/systemd/system/${UNIT_NAME}.d/socketcan.conf`;
/** Classical CAN at 500 kbit/s: every inverter profile here (README "Hardware and wiring"). */
const CAN_BITRATE = 500_000;
/** Serial devices (BMS adapter, SLCAN adapter) are root:dialout 0660 on Debian. */
const DEVICE_GROUP = 'dialout';

export const USAGE = `usage: sudo jk-can-bridge install-service [options]
  Creates the system user (member of dialout), writes ${CONFIG_PATH} from the commented sample
  if it is absent, installs and enables ${UNIT_PATH} running this command, and for a
  socketcan: bus a drop-in that brings the interface up first. Run it again after changing can.bus.
  --dry-run          print what would be done, change nothing
  --root <dir>       do it inside <dir> instead of / (for tests; systemctl --root, useradd --prefix)
  --user <name>      the system user the bridge runs as (default jkbridge)
  --command <path>   the installed jk-can-bridge the unit runs (default: this one)`;

export interface ServiceOptions {
  dryRun: boolean;
  /** "/" for the machine itself. */
  root: string;
  user: string;
  /** Absolute path of the jk-can-bridge command the unit runs. */
  command: string;
  /** Absolute path of node, so the unit does not depend on systemd's PATH. */
  node: string;
  /** Absolute path of iproute2's ip on the machine that runs the unit. */
  ip: string;
}

/** What install-service reads and changes; tests give a fake. Paths are absolute, already under the root. */
export interface ServiceHost {
  /** undefined when the file does not exist. */
  readFile(file: string): string | undefined;
  writeFile(file: string, text: string, mode: number): void;
  removeFile(file: string): void;
  chown(file: string, uid: number, gid: number): void;
  /** Runs a program; throws an Error carrying its stderr when it fails. */
  run(program: string, args: string[]): void;
}

export interface Step {
  /** What the step does, said in the imperative ("create system user ..."), or why nothing is to do. */
  text: string;
  /** Absent when there is nothing to do. */
  apply?: () => void;
}

interface Account {
  uid: number;
  gid: number;
}

/** /etc/passwd and /etc/group under the root, read now (a step may have just changed them). */
function accounts(host: ServiceHost, root: string) {
  const rows = (file: string): string[][] =>
    (host.readFile(path.join(root, file)) ?? '')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  const users = new Map<string, Account>(rows('etc/passwd').map(([name, , uid, gid]) => [name, { uid: Number(uid), gid: Number(gid) }]));
  const groups = new Map(rows('etc/group').map(([name, , gid, members]) => [name, { gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) }]));
  const isMember = (user: string, group: string): boolean => {
    const entry = groups.get(group);
    return entry !== undefined && (entry.members.includes(user) || users.get(user)?.gid === entry.gid);
  };
  return { users, groups, isMember };
}

/** ExecStart with both paths absolute; a path with white space is quoted (systemd.service "Command lines"). */
function execStart(options: ServiceOptions): string {
  const quote = (word: string): string => (/\s/.test(word) ? `"${word}"` : word);
  return [options.node, options.command, '--config', CONFIG_PATH].map(quote).join(' ');
}

/** The unit from deploy/, with this installation's user and command. */
export function renderUnit(template: string, options: ServiceOptions): string {
  const replace = (text: string, key: string, value: string): string => {
    const line = new RegExp(`^${key}=.*$`, 'gm');
    const count = text.match(line)?.length ?? 0;
    if (count !== 1) throw new Error(`${UNIT_TEMPLATE}: expected one ${key}= line, found ${count}`);
    return text.replace(line, `${key}=${value}`);
  };
  return replace(replace(template, 'User', options.user), 'ExecStart', execStart(options));
}

/** Every step, in order, from what the host holds now. */
export function planInstall(options: ServiceOptions, host: ServiceHost, files = { template: UNIT_TEMPLATE, sample: SAMPLE_CONFIG }): Step[] {
  const { root, user } = options;
  const inRoot = (file: string): string => path.join(root, file);
  const prefix = root === '/' ? [] : ['--prefix', root];
  const steps: Step[] = [];

  const now = accounts(host, root);
  if (!now.users.has(user)) {
    const args = [...prefix, '--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--groups', DEVICE_GROUP, user];
    steps.push({ text: `create system user ${user} (own group, member of ${DEVICE_GROUP}): useradd ${args.join(' ')}`, apply: () => host.run('useradd', args) });
  } else if (!now.isMember(user, DEVICE_GROUP)) {
    const args = [...prefix, '--append', '--groups', DEVICE_GROUP, user];
    steps.push({ text: `add user ${user} to ${DEVICE_GROUP}: usermod ${args.join(' ')}`, apply: () => host.run('usermod', args) });
  } else {
    steps.push({ text: `user ${user} exists and is in ${DEVICE_GROUP}` });
  }

  const config = inRoot(CONFIG_PATH);
  if (host.readFile(config) === undefined) {
    const text = sample(host, files.sample);
    steps.push({
      text: `write ${config} from the commented sample (mode 0640, group ${user}); edit bms.link, can.bus and can.profile`,
      apply: () => {
        host.writeFile(config, text, 0o640);
        const account = accounts(host, root).users.get(user);
        if (account !== undefined) host.chown(config, 0, account.gid);
      },
    });
  } else {
    steps.push({ text: `keep ${config} (it exists)` });
  }

  const template = host.readFile(files.template);
  if (template === undefined) throw new Error(`the unit template ${files.template} is missing from the package`);
  const unit = renderUnit(template, options);
  const unitPath = inRoot(UNIT_PATH);
  const installed = host.readFile(unitPath);
  if (installed !== unit) {
    steps.push({
      text: `${installed === undefined ? 'install' : 'update'} ${unitPath} (ExecStart=${execStart(options)}, User=${user})`,
      apply: () => host.writeFile(unitPath, unit, 0o644),
    });
  } else {
    steps.push({ text: `keep ${unitPath} (up to date)` });
  }

  steps.push(canStep(options, host, config, sample(host, files.sample)));

  if (root === '/') {
    steps.push({ text: 'systemctl daemon-reload', apply: () => host.run('systemctl', ['daemon-reload']) });
    steps.push({ text: `systemctl enable ${UNIT_NAME} (starts at boot)`, apply: () => host.run('systemctl', ['enable', UNIT_NAME]) });
  } else {
    const args = [`--root=${root}`, 'enable', UNIT_NAME];
    steps.push({ text: `systemctl ${args.join(' ')}`, apply: () => host.run('systemctl', args) });
  }
  return steps;
}

function sample(host: ServiceHost, file: string): string {
  const text = host.readFile(file);
  if (text === undefined) throw new Error(`the sample configuration ${file} is missing from the package`);
  return text;
}

/** The drop-in for a socketcan: bus, as the configuration in effect after this run names it. */
export function renderCanDropIn(iface: string, ip: string): string {
  return [
    `# Written by jk-can-bridge install-service for can.bus socketcan:${iface} in ${CONFIG_PATH}.`,
    '# Brings the interface up with the inverters\' bit rate before the bridge starts, as root ("+");',
    '# "-": an interface already up (its bit rate cannot change then) or a vcan is not an error.',
    '[Service]',
    `ExecStartPre=-+${ip} link set ${iface} type can bitrate ${CAN_BITRATE} restart-ms 100`,
    `ExecStartPre=-+${ip} link set ${iface} up`,
    '',
  ].join('\n');
}

function canStep(options: ServiceOptions, host: ServiceHost, configFile: string, sampleText: string): Step {
  const dropIn = path.join(options.root, CAN_DROP_IN_PATH);
  const installed = host.readFile(dropIn);
  // The file as it will be: the one there, or the sample this run writes.
  const text = host.readFile(configFile) ?? sampleText;
  const loaded = loadConfig(['--config', configFile], () => text);
  if (!loaded.ok) {
    return { text: `${CONFIG_PATH} is refused (jk-can-bridge check --config ${CONFIG_PATH} says why); run install-service again once it passes, for its CAN interface` };
  }
  const can = parseCanSpec(loaded.config.can.bus);
  if (can.ok && can.spec.kind === 'socketcan') {
    const wanted = renderCanDropIn(can.spec.iface, options.ip);
    if (installed === wanted) return { text: `keep ${dropIn} (${can.spec.iface} up at ${CAN_BITRATE} bit/s before start)` };
    return {
      text: `write ${dropIn}: bring ${can.spec.iface} up at ${CAN_BITRATE} bit/s before the bridge starts (can.bus ${loaded.config.can.bus})`,
      apply: () => host.writeFile(dropIn, wanted, 0o644),
    };
  }
  if (installed !== undefined) return { text: `remove ${dropIn} (can.bus is ${loaded.config.can.bus})`, apply: () => host.removeFile(dropIn) };
  return { text: `no CAN interface to bring up (can.bus ${loaded.config.can.bus})` };
}

/** Applies the steps in order, printing each; stops at the first failure. Returns the exit code. */
export function applySteps(steps: readonly Step[], dryRun: boolean, say: (line: string) => void): number {
  for (const step of steps) {
    if (step.apply === undefined) {
      say(`ok       ${step.text}`);
      continue;
    }
    if (dryRun) {
      say(`would    ${step.text}`);
      continue;
    }
    try {
      step.apply();
    } catch (error) {
      say(`FAILED   ${step.text}: ${(error as Error).message.trim().split('\n').join(' ')}`);
      return 1;
    }
    say(`done     ${step.text}`);
  }
  return 0;
}

export function nextSteps(root: string): string {
  const where = root === '/' ? '' : ` (inside ${root})`;
  return [
    `next${where}:`,
    `  edit ${CONFIG_PATH}, then check it:  jk-can-bridge check --config ${CONFIG_PATH}`,
    `  start it now:                        sudo systemctl restart jk-can-bridge`,
    `  follow it:                           journalctl -u jk-can-bridge -f`,
  ].join('\n');
}

export const systemHost: ServiceHost = {
  readFile: (file) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined),
  writeFile: (file, text, mode) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text, { mode });
  },
  removeFile: (file) => rmSync(file, { force: true }),
  chown: (file, uid, gid) => chownSync(file, uid, gid),
  run: (program, args) => {
    try {
      execFileSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    } catch (error) {
      const failure = error as { stderr?: string; message: string };
      throw new Error(failure.stderr?.trim() || failure.message);
    }
  },
};

export function parseServiceArgs(argv: string[]): ServiceOptions | { help: true } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      root: { type: 'string', default: '/' },
      user: { type: 'string', default: 'jkbridge' },
      command: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  // Names useradd accepts on Debian (NAME_REGEX_SYSTEM), so the unit's User= always matches.
  if (!/^[a-z_][a-z0-9_-]*$/.test(values.user)) throw new Error(`--user ${values.user}: expected a system user name (a-z, 0-9, _ and -)`);
  const command = values.command ?? process.argv[1];
  if (command === undefined) throw new Error('--command: cannot tell which command is installed; give its path');
  // Debian 12 and later keep ip in /usr/sbin (/sbin is a link to it); older systems only in /sbin.
  const ip = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : '/sbin/ip';
  return { dryRun: values['dry-run'], root: path.resolve(values.root), user: values.user, command: path.resolve(command), node: process.execPath, ip };
}

export function runInstallService(argv: string[]): void {
  let options: ReturnType<typeof parseServiceArgs>;
  try {
    options = parseServiceArgs(argv);
  } catch (error) {
    process.stderr.write(`install-service: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if ('help' in options) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!options.dryRun && options.root === '/' && process.getuid?.() !== 0) {
    process.stderr.write('install-service: run it as root (sudo jk-can-bridge install-service), or see what it would do with --dry-run\n');
    process.exit(2);
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  let code: number;
  try {
    code = applySteps(planInstall(options, systemHost), options.dryRun, say);
  } catch (error) {
    process.stderr.write(`install-service: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (code === 0 && !options.dryRun) say(nextSteps(options.root));
  process.exit(code);
}
