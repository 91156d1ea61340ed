/**
 * Wires a validated config to real transports and the statechart, reports what the bridge does
 * (one human status line when a region's state or a limiting reason changes), and owns the last
 * resort: a chart error or an uncaught exception is fatal (one line, the zero-limit set if the
 * bridge was sending, then exit non-zero so systemd restarts it; issue 10, bug 4).
 */
import type { Logger } from 'pino';
import { createActor, type SnapshotFrom } from 'xstate';
import { systemClock, type Clock } from './clock';
import type { RunnableConfig } from './config/schema';
import type { BridgeCommand } from './control/commands';
import { bridgeMachine, type BridgeContext, type BridgePorts } from './machine/bridge-machine';
import { busFrames } from './machine/bus-output';
import { recordSentFrames } from './status/frame-log';
import { StatusHub } from './status/hub';
import { bridgeStatus } from './status/model';
import { createBmsLink, createCanBus } from './transport/spec';
import type { CanBus } from './transport/types';

/** Longest wait for the last frames at shutdown (a slow SLCAN adapter answers each frame). */
const SHUTDOWN_DRAIN_MS = 1000;
/** Longest a fatal stop may take to reopen the bus and send the zero-limit set. */
const FATAL_SEND_MS = 2000;

export type BridgeSnapshot = SnapshotFrom<typeof bridgeMachine>;

export interface RunningBridge {
  /** Sends one zero-limit frame set (if the bus is up), then stops every actor and closes the links. */
  stop(): Promise<void>;
  /** What the observers read (MQTT, web page, /metrics); written on every change of the chart. */
  readonly hub: StatusHub;
  /** A validated command from a person; logged with its source, applied with the next snapshot. */
  command(command: BridgeCommand, source: string): void;
  /**
   * The bridge cannot go on (an uncaught exception; a chart error calls this itself): logs one
   * fatal line, stops the chart, sends the zero-limit set on a freshly opened bus if the bridge
   * was sending anything, then calls `onFatal` (main exits 1). Once; later calls wait for it.
   */
  fail(error: unknown): Promise<void>;
}

export interface BridgeOptions {
  clock?: Clock;
  /** The links; by default the real transports named by each pack's link and config.can.bus. */
  links?: Pick<BridgePorts, 'createBmsLink' | 'createCanBus'>;
  /** Called once a fatal error has been handled; main.ts exits non-zero. */
  onFatal(error: unknown): void;
}

export function startBridge(config: RunnableConfig, log: Logger, options: BridgeOptions): RunningBridge {
  const clock = options.clock ?? systemClock;
  const links = options.links ?? {
    createBmsLink: (pack) => createBmsLink(pack.link, { baudRate: pack.baudRate }),
    createCanBus: () => createCanBus(config.can.bus, { log }),
  };
  let canBus: CanBus | null = null;
  const hub = new StatusHub(config.web, clock.now.bind(clock));
  const createRecordedCanBus = (): CanBus => recordSentFrames(links.createCanBus(), hub);
  const ports: BridgePorts = {
    createBmsLink: links.createBmsLink,
    createCanBus: () => (canBus = createRecordedCanBus()),
    clock,
    log,
  };
  const packs = config.bms.packs;
  const bms = packs.length === 1 ? packs[0].link : `${packs.length} packs (${packs.map((p) => `${p.name} ${p.link}`).join(', ')})`;
  log.info({ bms: packs.map((p) => p.link), can: config.can.bus, profile: config.can.profile }, `bridge starting: BMS ${bms} → CAN ${config.can.bus} as ${config.can.profile}`);
  // Mirror mode multiplies one watched pack: say loudly, at start and in every status line, what is not watched.
  if (config.bms.mirrorPacks > 1) log.warn(`${mirrorNote(config.bms.mirrorPacks)}: their cells, temperatures and BMS state are invisible to the bridge`);
  const actor = createActor(bridgeMachine, { input: { config, ports } });
  const report = statusReporter(log, clock);
  let failing: Promise<void> | null = null;

  const fail = (error: unknown): Promise<void> => {
    failing ??= (async () => {
      const message = error instanceof Error ? error.message : String(error);
      log.fatal({ err: error }, `bridge failed: ${message}; stopping with exit code 1 (the service manager restarts it)`);
      const context = actor.getSnapshot().context;
      actor.stop();
      try {
        await sendZeroLimits(context, createRecordedCanBus, canBus, clock);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'the zero-limit set could not be sent');
      }
      options.onFatal(error);
    })();
    return failing;
  };

  let lastPolicy: BridgeSnapshot['context']['policy'] = null;
  actor.subscribe({
    next: (snapshot) => {
      // The chemistry and why, once per change of the BMS settings it was read from.
      const policy = snapshot.context.policy;
      if (policy !== null && policy.key !== lastPolicy?.key) {
        lastPolicy = policy;
        log.info({ chemistry: policy.chemistry }, policy.description);
        for (const note of policy.notes) log.warn(note);
      }
      const line = report(snapshot);
      if (line !== null) hub.event('info', line);
      hub.update(bridgeStatus(snapshot.value, snapshot.context, clock.now()));
    },
    error: (err) => void fail(err),
  });
  actor.start();

  return {
    hub,
    command(command, source) {
      const expiry = command.expiresInS === undefined ? '' : ` for ${command.expiresInS} s`;
      const text = `command ${command.command}${expiry} from ${source}`;
      log.info({ command, source }, text);
      hub.event('warn', text);
      actor.send({ type: 'COMMAND', command, source, atMs: clock.now() });
    },
    async stop() {
      actor.send({ type: 'SHUTDOWN' });
      actor.stop();
      // The CAN link closes its bus once the zero-limit set has left; wait for that (bounded).
      const deadline = clock.now() + SHUTDOWN_DRAIN_MS;
      while (canBus?.isOpen === true && clock.now() < deadline) {
        await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 10));
      }
      log.info('bridge stopped');
    },
    fail,
  };
}

/**
 * After a fatal error the chart is gone and its CAN link actor is closing its bus: wait for that,
 * open the bus afresh and send the stale set (CCL = DCL = 0, flags cleared), bounded in time. Only
 * when the bridge was sending at all: from idle or a silent fault the inverter's own timeout stays
 * in charge, as before.
 */
async function sendZeroLimits(context: BridgeContext, createBus: () => CanBus, oldBus: CanBus | null, clock: Clock): Promise<void> {
  if (context.busMode === 'none') return;
  const set = busFrames({ ...context, busMode: 'stale', nowMs: clock.now() });
  if (set === null) return;
  let timer: unknown;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`not sent within ${FATAL_SEND_MS} ms`)), FATAL_SEND_MS);
  });
  const send = async (): Promise<void> => {
    await oldBus?.close();
    const bus = createBus();
    await bus.open();
    try {
      for (const frame of set.frames) await bus.send(frame);
    } finally {
      await bus.close();
    }
  };
  try {
    await Promise.race([send(), deadline]);
  } finally {
    clock.clearTimeout(timer);
  }
}

/**
 * Logs the status line when it says something new: a region's state or a limiting reason. The
 * numbers in it (a recovery hold counting down, a ramp, a table position, the age of the last
 * data) do not make a new line on their own, so a 30-s hold is one line, not thirty. Returns the
 * line when it was logged, else null.
 */
export function statusReporter(log: Pick<Logger, 'info'>, clock: Clock): (snapshot: BridgeSnapshot) => string | null {
  let lastKey = '';
  return (snapshot) => {
    const line = statusLine(snapshot, clock.now());
    const key = line.replace(/\d+(\.\d+)?/g, '#');
    if (key === lastKey) return null;
    lastKey = key;
    log.info({ state: snapshot.value }, line);
    return line;
  };
}

/**
 * e.g. "bms connected · inverter alive · can up · CVL 55.2 V (bulk) · CCL 50.0 A (configured maximum) · DCL 100.0 A (…)";
 * in stale and fault also how old the last valid data is at `nowMs`.
 */
export function statusLine(snapshot: BridgeSnapshot, nowMs: number): string {
  const value = snapshot.value as { bms: string | Record<string, string>; inverter: string; can: string | Record<string, string> };
  const name = (v: string | Record<string, string>): string =>
    typeof v === 'string' ? v : Object.entries(v).map(([k, sub]) => `${k}/${sub}`).join(',');
  const parts = [`bms ${name(value.bms)}`, `inverter ${value.inverter}`, `can ${name(value.can)}`];
  const { output, faultReason, busMode, hv, snapshotAtMs } = snapshot.context;
  if (busMode === 'normal' && hv.sleeping) {
    parts.push('asleep at the inverter\'s request: CCL 0 A, DCL 0 A, charge/discharge forbidden');
  } else if (busMode === 'normal' && output !== null) {
    parts.push(
      `CVL ${output.chargeVoltageV.toFixed(1)} V (${output.reasons.chargeVoltage})`,
      `CCL ${output.chargeCurrentLimitA.toFixed(1)} A (${output.reasons.chargeCurrent})`,
      `DCL ${output.dischargeCurrentLimitA.toFixed(1)} A (${output.reasons.dischargeCurrent})`,
    );
  } else if (busMode === 'stale' || busMode === 'fault') {
    parts.push('CCL 0 A, DCL 0 A, charge/discharge disabled');
  }
  if (faultReason !== null) parts.push(`fault: ${faultReason}`);
  if (hv.lastCommand !== null) {
    const what = [hv.lastCommand.charge ? 'charge' : '', hv.lastCommand.discharge ? 'discharge' : ''].filter(Boolean).join('+');
    parts.push(`inverter sent ${what} command (not acted on)`);
  }
  const { packs, bank, config } = snapshot.context;
  // Several packs: each one's state, and what the bank left out; one pack: the line of old.
  if (packs.length > 1) parts.push(`packs ${packs.map((p) => `${p.name} ${p.state}`).join(', ')}`);
  if (bank?.excluded.length) parts.push(bank.reason ?? '');
  if (config.bms.mirrorPacks > 1) parts.push(mirrorNote(config.bms.mirrorPacks));
  const quiet = value.bms === 'stale' || (typeof value.bms === 'object' && 'fault' in value.bms);
  if (quiet && snapshotAtMs !== null) parts.push(`last valid data ${Math.round((nowMs - snapshotAtMs) / 1000)} s ago`);
  return parts.join(' · ');
}

function mirrorNote(copies: number): string {
  return `mirror mode: one pack watched for ${copies}, ${copies - 1} not watched`;
}
