/**
 * npm start -- [--config <file>] [--profile <name|file>] [--soc <pct>] [--packs <n>] [--inverter <profile>]
 *              [--time-scale <x>] [--scenario <file>] [--control-port <n>] [--duration <time>] [--no-view]
 * (installed: jk-can-bridge rig [options])
 *
 * The whole rig in one terminal, for a newcomer and for CI smoke tests: the virtual JK BMS on a
 * socat pty, the virtual inverter on SLCAN over a second pty (closed loop: its current flows into
 * the battery), and the real bridge (bridge-process.ts) between them, all in a temporary
 * directory. The inverter offers 3000 W of solar, so the battery charges through the bridge within
 * seconds. One view shows all three; one prompt and one control server take `bms <command>`,
 * `inverter <command>`, `play <timeline>` and `quit`.
 *
 * Runs without privileges. Exit codes: 0 after quit, SIGINT/SIGTERM or Ctrl-D; with --duration,
 * 0 only when the bridge connected, the inverter's checker saw no violation and the bridge
 * stopped cleanly, else 1 (a CI smoke test); 1 on a start-up error; 2 on bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { systemClock } from '../../bridge/src/clock';
import { loadConfig } from '../../bridge/src/config/load';
import type { BridgeConfigInput } from '../../bridge/src/config/schema';
import { bankStatus, type VirtualBank } from '../../sim-bms/src/bank';
import { listProfiles, loadProfile } from '../../sim-bms/src/profile';
import { bmsStatusLine, renderStatus } from '../../sim-bms/src/view';
import type { VirtualBms } from '../../sim-bms/src/virtual-bms';
import { INVERTER_PROFILE_NAMES, isInverterProfileName, type InverterProfileName } from '../../sim-inverter/src/profiles';
import { SlcanPtyEndpoint } from '../../sim-inverter/src/slcan-pty';
import { formatViolation, renderStatusLine, renderView } from '../../sim-inverter/src/view';
import type { VirtualInverter } from '../../sim-inverter/src/virtual-inverter';
import { BridgeProcess, stateName, type BridgeLogLine } from './bridge-process';
import { CommandError, CommandSet, expectArgs, parseDurationMs, type RigCommand } from '../../sim-kit/src/commands';
import { numberOption, runCli, startConsole, UsageError, type LiveConsole } from '../../sim-kit/src/console';
import { BRIDGE_PROFILE_FOR, declaredBridgeConfig, PRODUCTION_TIMING, serveVirtualBank, serveVirtualBms, startVirtualInverter, type RigDeclaration } from './rig-setup';
import { loadTimeline } from '../../sim-kit/src/timeline';

const USAGE = `usage: jk-can-bridge rig [options]     (in a clone: npm start -- [options])
  sim-bms → the real bridge → sim-inverter on socat ptys, with a live view of all three.
  --config <file>       try this bridge configuration (its BMS and CAN links are replaced by the
                        rig's; the inverter plays its can.profile unless --inverter says otherwise)
  --profile <name|file> battery profile (default jk-16s-280ah; known: ${listProfiles().join(', ')})
  --soc <pct>           initial state of charge (default 40)
  --packs <n>           n packs in parallel on one DC bus, each its own BMS and pty (default 1)
  --inverter <name>     ${INVERTER_PROFILE_NAMES.join(' | ')} (default: the config's profile, else pylon-lv);
                        the bridge uses its codec
  --time-scale <x>      battery model seconds per real second (default 30, so the SoC visibly moves)
  --scenario <file>     play a timeline (scenarios/*.yaml; bms: and inverter: steps) from the start
  --control-port <n>    control server port on 127.0.0.1 (default 0 = any free port, printed)
  --duration <time>     stop after e.g. 10s or 2m; exit 0 only if the bridge connected, the checker
                        saw no violation and the bridge stopped cleanly (for CI smoke tests)
  --no-view             no live view and no status lines (the prompt stays)
at the prompt, or from another terminal with jk-can-bridge ctl <port> <line> (in a clone: npm run ctl -- <port> <line>):
  bms <command>         e.g. bms cell 5 3600mV, bms silent 10s, bms help
                        with --packs: bms <n> <command>, e.g. bms 2 silent, bms 3 cell 5 3600mV
  inverter <command>    (or inv) e.g. inverter demand -20A, inverter heartbeat off, inverter help
  play <file>           e.g. play scenarios/demo-cell-runaway.yaml
  help, quit`;

/** The solar surplus the inverter offers from the start: the battery charges at once. */
const SOLAR_W = 3000;
/**
 * The bridge's config file: the declaration (production timing, the battery profile's cell
 * limits; the virtual inverter's judge gets the same), the web page on its default address with
 * commands on behind a fresh token (printed), defaults otherwise.
 */
const bridgeConfig = (declaration: RigDeclaration, webToken: string): BridgeConfigInput => ({
  ...declaredBridgeConfig(declaration),
  web: { commands: true, token: webToken },
});

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', default: 'jk-16s-280ah' },
      soc: { type: 'string', default: '40' },
      config: { type: 'string' },
      packs: { type: 'string', default: '1' },
      inverter: { type: 'string' },
      'time-scale': { type: 'string', default: '30' },
      scenario: { type: 'string' },
      'control-port': { type: 'string', default: '0' },
      duration: { type: 'string' },
      'no-view': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.inverter !== undefined && !isInverterProfileName(values.inverter)) throw new UsageError(`--inverter ${values.inverter}: expected one of ${INVERTER_PROFILE_NAMES.join(', ')}`);
  let durationMs: number | undefined;
  try {
    durationMs = values.duration === undefined ? undefined : parseDurationMs(values.duration);
  } catch (err) {
    throw new UsageError(`--duration: ${(err as Error).message}`);
  }
  return {
    help: values.help,
    profile: values.profile,
    soc: numberOption('soc', values.soc, 0, 100)!,
    config: values.config,
    packs: numberOption('packs', values.packs, 1, 16)!,
    inverter: values.inverter as InverterProfileName | undefined,
    timeScale: numberOption('time-scale', values['time-scale'], 0.001, 10_000)!,
    scenario: values.scenario,
    controlPort: numberOption('control-port', values['control-port'], 0, 65535)!,
    durationMs,
    view: !values['no-view'],
  };
}

/**
 * The bridge's latest status line, one part a line: the three regions, then each limit with its
 * reason. With the BMS and inverter views below it the whole view fits a 24-line terminal.
 */
function renderBridge(bridge: BridgeProcess, runningS: number): string[] {
  const latest = bridge.statusLines().at(-1);
  const rig = `rig +${runningS.toFixed(0)} s`;
  if (latest === undefined) return [`bridge    starting (no status line yet)   ${rig}`];
  const [bms, inverter, can, ...limits] = latest.msg.split(' · ');
  const age = ((Date.now() - latest.atMs) / 1000).toFixed(0);
  return [`bridge    ${[bms, inverter, can].join(' · ')}   (changed ${age} s ago, ${rig})`, ...limits.map((part) => `          ${part}`)];
}

/** The three regions' states of a status line, without the limits that change every few seconds. */
function regions(line: BridgeLogLine): string {
  const state = line.state!;
  return [stateName(state.bms), stateName(state.inverter), stateName(state.can)].join(' ');
}

/**
 * Prints what a person should notice from the bridge: a region changing state, and its warnings
 * and errors (pino levels 40 and up; a line that is not JSON, like a crash, counts as an error).
 */
function followBridge(bridge: BridgeProcess, say: (text: string) => void): () => void {
  let seen = 0;
  let lastRegions = '';
  const timer = setInterval(() => {
    for (const line of bridge.logs.slice(seen)) {
      if (line.msg.startsWith('web page at ')) {
        say(`bridge: ${line.msg}  ← open it in a browser`);
      } else if (line.state !== undefined && regions(line) !== lastRegions) {
        lastRegions = regions(line);
        say(`bridge: ${line.msg}`);
      } else if (line.level >= 40) {
        say(`bridge ${line.level >= 50 ? 'error' : 'warning'}: ${line.msg}`);
      }
    }
    seen = bridge.logs.length;
  }, 200);
  return () => clearInterval(timer);
}

/** A word that held spaces was quoted at the prompt; quote it again for the sim's own parser. */
function quoteWord(word: string): string {
  return /\s/.test(word) ? `"${word}"` : word;
}

/** "bms cell 3 3650mV" runs "cell 3 3650mV" in the BMS's own command set. */
function forward(name: string, target: CommandSet, what: string): RigCommand {
  return {
    name,
    usage: `${name} <command>`,
    help: `${what} ("${name} help" lists them)`,
    run: async (args) => {
      if (args.length === 0) return target.help();
      const result = await target.execute(args.map(quoteWord).join(' '));
      if (!result.ok) throw new CommandError(result.output);
      return result.output;
    },
  };
}

/** Every bridge profile has the virtual inverter of the same name (--inverter picks another). */
function sameNamedInverter(profile: string): InverterProfileName {
  if (!isInverterProfileName(profile)) throw new Error(`no virtual inverter plays ${profile}; choose one with --inverter`);
  return profile;
}

type Cli = ReturnType<typeof parseCli>;

async function main(cli: Cli): Promise<number> {
  if (spawnSync('socat', ['-V']).error !== undefined) {
    process.stderr.write('live-rig: socat is missing; it makes the virtual serial and CAN links. Install it: sudo apt-get install socat\n');
    return 1;
  }

  const profile = loadProfile(cli.profile);
  const timeline = cli.scenario === undefined ? undefined : loadTimeline(cli.scenario);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'jk-live-rig-'));
  /** What is running, newest last; shutdown stops it newest first (the bridge before the sims). */
  const stops: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  const configPath = cli.config ?? path.join(dir, 'bridge.yaml');
  // One pack: the link of old; a bank: one pty per pack, named like the bridge names them.
  const bmsLinks = cli.packs === 1 ? [path.join(dir, 'bms')] : Array.from({ length: cli.packs }, (_, i) => path.join(dir, `bms-${i + 1}`));
  const canLink = path.join(dir, 'can');
  const bridgeArgs = ['--config', configPath, ...bmsLinks.flatMap((link) => ['--bms', link]), '--can', `slcan:${canLink}`];
  if (cli.inverter !== undefined) bridgeArgs.push('--profile', BRIDGE_PROFILE_FOR[cli.inverter]);
  let bms: VirtualBms | VirtualBank;
  let inverter: VirtualInverter;
  let bridge: BridgeProcess;
  let webToken: string;
  try {
    webToken = randomBytes(12).toString('hex');
    // The bridge and the virtual inverter's judge get the same declaration: the battery profile's
    // cell limits, the inverter, and the production timing, or the timing of the person's own
    // --config file (their declaration; the judge never takes the bridge's defaults).
    let declaration: RigDeclaration;
    if (cli.config === undefined) {
      declaration = { battery: profile, inverter: cli.inverter ?? 'pylon-lv', timing: PRODUCTION_TIMING, timeScale: 1 };
      await writeFile(configPath, stringify(bridgeConfig(declaration, webToken)));
      if (cli.inverter === undefined) bridgeArgs.push('--profile', BRIDGE_PROFILE_FOR[declaration.inverter]);
    } else {
      const loaded = loadConfig(bridgeArgs);
      if (!loaded.ok) throw new Error(`the bridge would refuse its config:\n${loaded.problems.join('\n')}`);
      const { bms: b, state } = loaded.config;
      const timing = { pollIntervalMs: b.pollIntervalMs, replyTimeoutMs: b.replyTimeoutMs, staleAfterMs: state.staleAfterMs };
      declaration = { battery: profile, inverter: cli.inverter ?? sameNamedInverter(loaded.config.can.profile), timing, timeScale: 1 };
    }
    bms =
      cli.packs === 1
        ? await serveVirtualBms({ profile, socPct: cli.soc, link: bmsLinks[0], timeScale: cli.timeScale })
        : await serveVirtualBank({
            // Each pack its own seed: their cells spread differently, as real packs' do.
            packs: bmsLinks.map((_, i) => ({ profile: { ...profile, seed: profile.seed + i }, socPct: cli.soc })),
            links: bmsLinks,
            timeScale: cli.timeScale,
          });
    stops.push(() => bms.stop());
    const slcan = await SlcanPtyEndpoint.open({ link: canLink, clock: systemClock });
    stops.push(() => slcan.close());
    inverter = await startVirtualInverter({ bus: slcan.bus, bms, declaration, transportFaults: slcan });
    stops.push(() => inverter.stop());
    inverter.setDemand({ unit: 'W', watts: SOLAR_W });
    bridge = new BridgeProcess(bridgeArgs);
  } catch (err) {
    await stopAll();
    throw err;
  }
  let bridgeExit: number | null | undefined;
  stops.push(async () => (bridgeExit = await bridge.stop()));

  const startedAt = Date.now();
  const origin = inverter.startedAtMs;
  const targets = { bms: bms.commands, inverter: inverter.commands };
  /** The three at a glance: the log's status line and the summary at the end. */
  const statusLines = (): string[] => [
    `bridge    ${bridge.statusLines().at(-1)?.msg ?? 'starting'}`,
    ...('packs' in bms ? bankStatus(bms.bus).map((line) => `bms       ${line}`) : [`bms       ${bmsStatusLine(bms)}`]),
    `inverter  ${renderStatusLine(inverter, origin)}`,
  ];
  // The commands run only once the console exists.
  let ui: LiveConsole;
  const commands = new CommandSet([
    forward('bms', targets.bms, 'a sim-bms command, e.g. bms cell 5 3600mV'),
    forward('inverter', targets.inverter, 'a sim-inverter command, e.g. inverter demand -20A'),
    forward('inv', targets.inverter, 'short for inverter'),
    {
      name: 'play',
      usage: 'play <file>',
      help: 'play a timeline (bms: and inverter: steps) against both sims; one still playing stops',
      run: (args) => {
        expectArgs(args, 1);
        try {
          const played = loadTimeline(args[0]);
          ui.play(played, targets);
          return `playing ${args[0]}: ${played.description ?? `${played.steps.length} steps`}`;
        } catch (err) {
          throw new CommandError((err as Error).message);
        }
      },
    },
    {
      name: 'quit',
      usage: 'quit',
      help: 'stop the bridge and both sims, remove the temporary directory',
      run: (args) => {
        expectArgs(args, 0);
        // After this answer is out: the shutdown closes the control server's connections.
        setImmediate(() => void ui.shutdown());
        return 'stopping';
      },
    },
  ]);

  let stopFollowing = (): void => undefined;
  let lastLines: string[] = [];
  ui = await startConsole({
    commands,
    promptLabel: 'rig> ',
    banner: [
      `sim-bms: ${cli.packs === 1 ? '' : `${cli.packs} packs of `}${profile.name} (${profile.description}), SoC ${cli.soc} %, battery time ×${cli.timeScale}`,
      `sim-inverter: ${inverter.profile.label}, offering ${SOLAR_W} W of solar`,
      `bridge: ${bridge.commandLine}`,
      // A configuration under test keeps its own web settings.
      ...(cli.config === undefined ? [`bridge web page: commands take the token ${webToken}`] : []),
    ],
    render: () => [
      ...renderBridge(bridge, (Date.now() - startedAt) / 1000),
      ...('packs' in bms ? bankStatus(bms.bus) : renderStatus(bms)),
      ...renderView(inverter, origin),
    ],
    statusLine: () => statusLines().join('\n'),
    view: cli.view,
    controlPort: cli.controlPort,
    onShutdown: async () => {
      stopFollowing();
      // Taken while the battery still charges: what the run came to.
      lastLines = [`live-rig: stopped after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`, ...statusLines()];
      await stopAll();
    },
  });
  stopFollowing = followBridge(bridge, ui.say);
  if (timeline) {
    try {
      ui.play(timeline, targets);
    } catch (err) {
      // A step for a target the rig does not have: stop what runs before reporting it.
      await ui.shutdown();
      throw err;
    }
  }
  if (cli.durationMs !== undefined) setTimeout(() => void ui.shutdown(), cli.durationMs).unref();

  await ui.finished;
  const connected = bridge.statusLines().some((line) => stateName(line.state?.bms) === 'connected');
  const violations = inverter.checker.violations;
  ui.say(
    [
      ...lastLines,
      `live-rig: the bridge ${connected ? 'connected to the BMS' : 'never connected to the BMS'} and exited with ${typeof bridgeExit === 'number' ? `code ${bridgeExit}` : 'a signal'}; ` +
        `${violations.length} violation${violations.length === 1 ? '' : 's'}`,
      ...violations.slice(0, 10).map((v) => `  ${formatViolation(v, origin)}`),
    ].join('\n'),
  );
  if (cli.durationMs === undefined) return 0;
  return connected && violations.length === 0 && bridgeExit === 0 ? 0 : 1;
}

export function runLiveRig(argv: string[]): void {
  runCli('live-rig', USAGE, parseCli, main, argv);
}

if (require.main === module) runLiveRig(process.argv.slice(2));
