/**
 * Wires a validated config to real transports and the statechart, and reports what the bridge
 * does: one human status line whenever a region changes state or a limiting reason changes.
 */
import type { Logger } from 'pino';
import { createActor, type SnapshotFrom } from 'xstate';
import { systemClock, type Clock } from './clock';
import type { RunnableConfig } from './config/schema';
import type { BridgeCommand } from './control/commands';
import { bridgeMachine, type BridgePorts } from './machine/bridge-machine';
import { recordSentFrames } from './status/frame-log';
import { StatusHub } from './status/hub';
import { bridgeStatus } from './status/model';
import { createBmsLink, createCanBus } from './transport/spec';
import type { CanBus } from './transport/types';

/** Longest wait for the last frames at shutdown (a slow SLCAN adapter answers each frame). */
const SHUTDOWN_DRAIN_MS = 1000;

export type BridgeSnapshot = SnapshotFrom<typeof bridgeMachine>;

export interface RunningBridge {
  /** Sends one zero-limit frame set (if the bus is up), then stops every actor and closes the links. */
  stop(): Promise<void>;
  /** What the observers read (MQTT, web page, /metrics); written on every change of the chart. */
  readonly hub: StatusHub;
  /** A validated command from a person; logged with its source, applied with the next snapshot. */
  command(command: BridgeCommand, source: string): void;
}

export function startBridge(config: RunnableConfig, log: Logger, clock: Clock = systemClock): RunningBridge {
  let canBus: CanBus | null = null;
  const hub = new StatusHub(config.web, clock.now.bind(clock));
  const ports: BridgePorts = {
    createBmsLink: () => createBmsLink(config.bms.packs[0].link, { baudRate: config.bms.packs[0].baudRate }),
    createCanBus: () => (canBus = recordSentFrames(createCanBus(config.can.bus, { log }), hub)),
    clock,
    log,
  };
  log.info(
    { bms: config.bms.link, can: config.can.bus, profile: config.can.profile },
    `bridge starting: BMS ${config.bms.link} → CAN ${config.can.bus} as ${config.can.profile}`,
  );
  const actor = createActor(bridgeMachine, { input: { config, ports } });
  let lastLine = '';
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
      const line = statusLine(snapshot);
      if (line !== lastLine) {
        lastLine = line;
        log.info({ state: snapshot.value }, line);
        hub.event('info', line);
      }
      hub.update(bridgeStatus(snapshot.value, snapshot.context, clock.now()));
    },
    error: (err) => log.error({ err }, 'bridge state machine failed'),
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
  };
}

/** e.g. "bms connected · inverter alive · can up · CVL 55.2 V (bulk) · CCL 50.0 A (configured maximum) · DCL 100.0 A (…)". */
export function statusLine(snapshot: BridgeSnapshot): string {
  const value = snapshot.value as { bms: string | Record<string, string>; inverter: string; can: string | Record<string, string> };
  const name = (v: string | Record<string, string>): string =>
    typeof v === 'string' ? v : Object.entries(v).map(([k, sub]) => `${k}/${sub}`).join(',');
  const parts = [`bms ${name(value.bms)}`, `inverter ${value.inverter}`, `can ${name(value.can)}`];
  const { output, faultReason, busMode, hv } = snapshot.context;
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
  return parts.join(' · ');
}
