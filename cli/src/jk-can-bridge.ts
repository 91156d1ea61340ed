#!/usr/bin/env node
/**
 * The installed command (package.json "bin"). Each subcommand loads only its own modules: the
 * rig's simulators are never loaded by the bridge, and --help loads nothing but this file.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from './package-root';

const HELP = `jk-can-bridge: JK BMS (4E 57 serial) to inverter CAN bridge

usage:
  jk-can-bridge [run] --bms <link> --can <bus> [options]   run the bridge (jk-can-bridge run --help: every option)
  jk-can-bridge check --config <file> [options]           validate a configuration, print it with its defaults, exit
  jk-can-bridge check --config <file> --probe             validate it and read every BMS once: one line per pack
  jk-can-bridge rig [--config <file>] [options]           try a configuration between a virtual JK BMS and a virtual
                                                          inverter, before wiring anything (needs socat)
  jk-can-bridge ctl <port> <command>                      send a command to a running rig (its port is printed)
  sudo jk-can-bridge install-service [--dry-run]          system user, /etc/jk-can-bridge.yaml, systemd unit
  jk-can-bridge --version

examples:
  jk-can-bridge --bms /dev/ttyUSB0 --can stdout                         dry run: frames as candump lines on stdout
  jk-can-bridge --bms /dev/ttyUSB0 --can socketcan:can0 --profile pylon-lv
  jk-can-bridge rig --config /etc/jk-can-bridge.yaml
Exit codes: 0 ok, 1 failure, 2 configuration or arguments refused.`;

function version(): string {
  const manifest = path.join(PACKAGE_ROOT, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

async function dispatch(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return;
    case '--version':
      process.stdout.write(`${version()}\n`);
      return;
    case 'run':
      return (await import('../../bridge/src/main')).runBridge(rest);
    case 'check':
      return (await import('../../bridge/src/main')).runBridge(['--check', ...rest]);
    case 'rig':
      return (await import('../../rig/src/live-rig')).runLiveRig(rest);
    case 'ctl':
      process.exitCode = await (await import('../../sim-kit/src/ctl')).runCtl(rest);
      return;
    case 'install-service':
      return (await import('./install-service')).runInstallService(rest);
    default:
      if (first.startsWith('-')) return (await import('../../bridge/src/main')).runBridge(argv);
      process.stderr.write(`jk-can-bridge: unknown command "${first}"; expected run, check, rig, ctl or install-service (see --help)\n`);
      process.exitCode = 2;
  }
}

void dispatch(process.argv.slice(2));
