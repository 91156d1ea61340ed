/**
 * npm run sim-bms -- --link <path> [--cells 16] [--soc 50] [--profile <name|file>]
 *                    [--tcp host:port] [--scenario <file>] [--control-port <n>] [--time-scale <x>] [--no-view]
 *
 * A virtual JK BMS for a person at a terminal: it answers 4E57 requests on a socat pty whose
 * bridge end is linked at --link (or on TCP), shows a compact live view, takes commands at a
 * live prompt (when stdin is a terminal) and from another terminal through the control server
 * (`npm run ctl -- <port> <command>`), and can play a scenario timeline.
 * Runs without privileges. Exit codes: 0 after SIGINT/SIGTERM or Ctrl-D, 1 on a start-up error,
 * 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { numberOption, runCli, startConsole, UsageError } from '../../sim-kit/src/console';
import { loadTimeline } from '../../sim-kit/src/timeline';
import { PtyLinkSource, TcpLinkSource, type LinkSource } from './links';
import { listProfiles, loadProfile, withCellCount } from './profile';
import { bmsStatusLine, renderStatus } from './view';
import { VirtualBms } from './virtual-bms';

const USAGE = `usage: npm run sim-bms -- (--link <path> | --tcp <host:port>) [options]
  --link <path>         make a socat pty pair; the bridge opens <path>
  --tcp <host:port>     listen for one TCP client instead (like an RS485-to-Ethernet converter)
  --profile <name|file> battery profile (default jk-16s-280ah; known: ${listProfiles().join(', ')})
  --cells <n>           cell count 4..32 (pack limits scale with it)
  --soc <pct>           initial state of charge
  --scenario <file>     play a timeline (scenarios/*.yaml) against this BMS
  --control-port <n>    control server port on 127.0.0.1 (default 0 = any free port, printed)
  --time-scale <x>      model seconds per real second (default 1)
  --no-view             no live view and no status lines (the prompt stays)`;

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      link: { type: 'string' },
      tcp: { type: 'string' },
      profile: { type: 'string', default: 'jk-16s-280ah' },
      cells: { type: 'string' },
      soc: { type: 'string' },
      scenario: { type: 'string' },
      'control-port': { type: 'string', default: '0' },
      'time-scale': { type: 'string', default: '1' },
      'no-view': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (!values.help && (values.link === undefined) === (values.tcp === undefined)) throw new UsageError('give exactly one of --link <path> or --tcp <host:port>');
  let tcp: { host: string; port: number } | undefined;
  if (values.tcp !== undefined) {
    const m = /^(.+):(\d+)$/.exec(values.tcp);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`--tcp ${values.tcp}: expected host:port, e.g. 127.0.0.1:8899`);
    tcp = { host: m[1], port: Number(m[2]) };
  }
  return {
    help: values.help,
    link: values.link,
    tcp,
    profile: values.profile,
    cells: numberOption('cells', values.cells, 4, 32),
    soc: numberOption('soc', values.soc, 0, 100),
    scenario: values.scenario,
    controlPort: numberOption('control-port', values['control-port'], 0, 65535)!,
    timeScale: numberOption('time-scale', values['time-scale'], 0.001, 10_000)!,
    view: !values['no-view'],
  };
}


type Cli = ReturnType<typeof parseCli>;

async function main(cli: Cli): Promise<number> {
  let profile = loadProfile(cli.profile);
  if (cli.cells !== undefined) profile = withCellCount(profile, cli.cells);
  const timeline = cli.scenario === undefined ? undefined : loadTimeline(cli.scenario);
  const bms = new VirtualBms({ profile, initialSocPct: cli.soc, timeScale: cli.timeScale });
  const source: LinkSource = cli.tcp ? new TcpLinkSource(cli.tcp.host, cli.tcp.port) : new PtyLinkSource(cli.link!);
  await bms.serve(source);
  const ui = await startConsole({
    commands: bms.commands,
    promptLabel: 'sim-bms> ',
    banner: [
      `sim-bms: ${profile.name} (${profile.description}), ${profile.cells} cells, SoC ${bms.battery.socPct.toFixed(0)} %`,
      source instanceof TcpLinkSource ? `bridge: connect to tcp://${cli.tcp!.host}:${source.port}` : `bridge: open ${cli.link}`,
    ],
    render: () => renderStatus(bms),
    statusLine: () => bmsStatusLine(bms),
    view: cli.view,
    controlPort: cli.controlPort,
    onShutdown: () => bms.stop(),
  });
  bms.on('link', (state, detail) => ui.say(`link ${state}: ${detail}`));
  if (timeline) ui.play(timeline, { bms: bms.commands });

  await ui.finished;
  return 0;
}

if (require.main === module) runCli('sim-bms', USAGE, parseCli, main);
