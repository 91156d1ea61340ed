/**
 * `jk-can-bridge --bms /dev/ttyUSB0 --can socketcan:can0 --profile pylon-lv`
 * (in a clone: `npm run bridge -- ...`).
 * Exit codes: 0 clean stop, 1 fatal error (one line; systemd restarts it), 2 configuration refused
 * (one line per problem on stderr).
 */
import { loadConfig, USAGE } from './config/load';
import type { RunnableConfig } from './config/schema';
import { createLogger } from './logging';
import { startObservers } from './observers';
import { startBridge } from './runtime';
import { socketCanAddonProblem } from './transport/socketcan-bus';
import { parseCanSpec } from './transport/spec';

/** package.json's version, for Home Assistant's device info (dist/bridge/src → ../../../package.json). */
function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      return (require(relative) as { version: string }).version;
    } catch {
      // not at this depth: ts-node runs from bridge/src, the build from dist/bridge/src
    }
  }
  return 'unknown';
}

/** --probe: one line per pack on stdout, exit 0 when every pack may pass limits, else 1. */
async function probe(config: RunnableConfig): Promise<void> {
  const { describeProbe, probePacks } = await import('./probe');
  let ok = true;
  for (const result of await probePacks(config)) {
    const described = describeProbe(config, result);
    ok &&= described.ok;
    process.stdout.write(`${described.lines.join('\n')}\n`);
  }
  process.exit(ok ? 0 : 1);
}

export function runBridge(argv: string[]): void {
  const loaded = loadConfig(argv);
  if (loaded.cli.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`config error: ${problem}\n`);
    process.stderr.write('bridge not started (see --help)\n');
    process.exit(2);
  }
  if (loaded.cli.probe) {
    void probe(loaded.config);
    return;
  }
  if (loaded.cli.check) {
    process.stdout.write(`${JSON.stringify(loaded.config, null, 2)}\n`);
    process.exit(0);
  }
  // A missing optional addon is not fixed by waiting: refuse like a bad config (exit 2, which the
  // service unit does not restart) instead of retrying the CAN link forever.
  const can = parseCanSpec(loaded.config.can.bus);
  const addon = can.ok && can.spec.kind === 'socketcan' ? socketCanAddonProblem() : undefined;
  if (addon !== undefined) {
    process.stderr.write(`bridge not started: ${loaded.config.can.bus}: ${addon}\n`);
    process.exit(2);
  }
  const log = createLogger(loaded.config.log);
  const bridge = startBridge(loaded.config, log, { onFatal: () => process.exit(1) });
  // Nothing may keep running after an error nobody handled: one fatal line, the zero-limit set,
  // exit 1 (issue 10, bug 4).
  process.on('uncaughtException', (err) => void bridge.fail(err));
  process.on('unhandledRejection', (reason) => void bridge.fail(reason));
  // The observers never stop the bridge: one that fails to start is logged, and CAN goes on.
  const observers = startObservers(loaded.config, bridge, log, packageVersion()).catch((err: Error) => {
    log.error({ err: err.message }, `observers not started: ${err.message}`);
    return null;
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, stopping`);
    // The bridge first (its zero-limit set must leave), then the observers say offline.
    bridge
      .stop()
      .then(() => observers)
      .then((o) => o?.stop())
      .then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) runBridge(process.argv.slice(2));
