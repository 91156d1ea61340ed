/**
 * npm run sim-inverter -- --can <spec> [--profile <name>] [--codec <codec>] [--demand <W|A>]
 *                         [--scenario <file>] [--control-port <n>] [--period-ms <ms>] [--max-cvl <V>] [--no-view]
 *
 * A virtual inverter for a person at a terminal: it joins the CAN bus as the chosen profile,
 * answers with that brand's heartbeat, shows the battery as the inverter decodes it (limits,
 * SOC, flags, alarms, frame ages, violations), takes commands at a live prompt (when stdin is a
 * terminal) and from another terminal through the control server
 * (`npm run ctl -- <port> <command>`), and can play a scenario timeline.
 *
 * --can slcan-pty:<link> needs no privileges: the bridge then runs with --can slcan:<link>.
 * Exit codes: 0 after SIGINT/SIGTERM or Ctrl-D, 1 on a start-up error, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { systemClock } from '../../bridge/src/clock';
import { createCanBus, parseCanSpec } from '../../bridge/src/transport/spec';
import type { CanBus } from '../../bridge/src/transport/types';
import { numberOption, runCli, startConsole, UsageError } from '../../sim-kit/src/console';
import { loadTimeline } from '../../sim-kit/src/timeline';
import { formatViolation, renderStatusLine, renderView } from './view';
import { parseDemand } from './inverter-commands';
import { INVERTER_PROFILE_NAMES, INVERTER_PROFILES, isInverterProfileName, type CodecName } from './profiles';
import { standaloneThresholds } from './judge';
import { PROFILES } from '../../bridge/src/protocol/can';
import { SlcanPtyEndpoint } from './slcan-pty';
import { VirtualInverter } from './virtual-inverter';

const CODEC_NAMES = Object.keys(PROFILES) as CodecName[];

const USAGE = `usage: npm run sim-inverter -- --can <spec> [options]
  --can <spec>          socketcan:<iface> (vcan0 or a real interface)
                        slcan-pty:<link>  make a pty at <link> and play the SLCAN adapter there
                                          (the bridge opens --can slcan:<link>)
                        slcan:<path>[@bitrate]  use a real SLCAN adapter
  --profile <name>      ${INVERTER_PROFILE_NAMES.join(' | ')} (default pylon-lv)
  --codec <codec>       decode with this codec instead of the profile's (${CODEC_NAMES.join(', ')})
  --demand <W|A>        initial demand, e.g. 3000W (surplus) or -20A (load); default 0A
  --scenario <file>     play a timeline (scenarios/*.yaml; "inverter:" steps) against this inverter
  --control-port <n>    control server port on 127.0.0.1 (default 0 = any free port, printed)
  --period-ms <ms>      the frame-set period the checker expects (default: the profile's, 1000)
  --max-cvl <V>         the bridge's configured CVL maximum (default 58.4)
  --no-view             no live view and no status lines (the prompt stays)`;

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      can: { type: 'string' },
      profile: { type: 'string', default: 'pylon-lv' },
      codec: { type: 'string' },
      demand: { type: 'string' },
      scenario: { type: 'string' },
      'control-port': { type: 'string', default: '0' },
      'period-ms': { type: 'string' },
      'max-cvl': { type: 'string' },
      'no-view': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return { help: true as const };
  if (values.can === undefined) throw new UsageError('--can <spec> is required');
  const can = values.can.trim();
  let bus: { kind: 'slcan-pty'; link: string } | { kind: 'other'; spec: string };
  if (can.startsWith('slcan-pty:')) {
    const link = can.slice('slcan-pty:'.length);
    if (!link.startsWith('/')) throw new UsageError(`--can ${can}: slcan-pty needs an absolute link path, e.g. slcan-pty:/tmp/inverter`);
    bus = { kind: 'slcan-pty', link };
  } else {
    const parsed = parseCanSpec(can);
    if (!parsed.ok) throw new UsageError(`--can: ${parsed.error}; the inverter also takes slcan-pty:<link>`);
    if (parsed.spec.kind === 'stdout') throw new UsageError('--can stdout: an inverter needs a bus to listen on');
    bus = { kind: 'other', spec: can };
  }
  if (!isInverterProfileName(values.profile)) throw new UsageError(`--profile ${values.profile}: expected one of ${INVERTER_PROFILE_NAMES.join(', ')}`);
  const codec = values.codec;
  if (codec !== undefined && !(CODEC_NAMES as string[]).includes(codec)) throw new UsageError(`--codec ${codec}: expected one of ${CODEC_NAMES.join(', ')}`);
  let demand;
  try {
    demand = values.demand === undefined ? undefined : parseDemand(values.demand);
  } catch (err) {
    throw new UsageError(`--demand: ${(err as Error).message}`);
  }
  return {
    help: false as const,
    bus,
    profile: values.profile,
    codec: codec as CodecName | undefined,
    demand,
    scenario: values.scenario,
    controlPort: numberOption('control-port', values['control-port'], 0, 65535)!,
    periodMs: numberOption('period-ms', values['period-ms'], 10, 600_000),
    maxCvl: numberOption('max-cvl', values['max-cvl'], 1, 1000),
    view: !values['no-view'],
  };
}

type Cli = ReturnType<typeof parseCli>;

async function main(cli: Exclude<Cli, { help: true }>): Promise<number> {
  const timeline = cli.scenario === undefined ? undefined : loadTimeline(cli.scenario);
  const endpoint = cli.bus.kind === 'slcan-pty' ? await SlcanPtyEndpoint.open({ link: cli.bus.link, clock: systemClock }) : undefined;
  const bus: CanBus = endpoint?.bus ?? createCanBus((cli.bus as { spec: string }).spec);
  const thresholds = standaloneThresholds(INVERTER_PROFILES[cli.profile], { periodMs: cli.periodMs, maxChargeVoltageV: cli.maxCvl });
  // A long manual run must not grow without bound; 100 000 frames is well over an hour of traffic.
  const inverter = new VirtualInverter({ profile: cli.profile, bus, codec: cli.codec, thresholds, transportFaults: endpoint, maxFrames: 100_000 });
  if (cli.demand) inverter.setDemand(cli.demand);
  try {
    await inverter.start();
  } catch (err) {
    await endpoint?.close();
    throw err;
  }
  const origin = inverter.startedAtMs;
  // Subscribed once the console can print; onShutdown also runs when the console cannot start.
  let stopViolations = (): void => undefined;
  const ui = await startConsole({
    commands: inverter.commands,
    promptLabel: 'sim-inverter> ',
    banner: [
      `sim-inverter: ${inverter.profile.label}, decoding ${inverter.checker.codec.name}, on ${bus.description}`,
      ...(endpoint ? [`bridge: --can slcan:${endpoint.link}`] : []),
    ],
    render: () => renderView(inverter, origin),
    statusLine: () => renderStatusLine(inverter, origin),
    view: cli.view,
    controlPort: cli.controlPort,
    onShutdown: async () => {
      stopViolations();
      await inverter.stop();
      await endpoint?.close();
    },
  });
  stopViolations = inverter.checker.onViolation((v) => ui.say(`violation ${formatViolation(v, origin)}`));
  if (timeline) ui.play(timeline, { inverter: inverter.commands });

  await ui.finished;
  return 0;
}

if (require.main === module) runCli('sim-inverter', USAGE, parseCli, main);
