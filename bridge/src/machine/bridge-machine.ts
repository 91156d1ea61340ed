/**
 * The bridge's behaviour, one statechart (design/ARCHITECTURE.md "The statechart").
 *
 * Parallel regions:
 *  - bms:      idle → connected → stale → fault (→ silent), recovery after `recoverAfter`
 *              consecutive valid snapshots without active protection;
 *  - inverter: unknown → alive ⇄ silent (clears by itself when frames return); a Pylon HV inverter
 *              is alive by its valid requests, and each is answered at once (hv-responder.ts);
 *  - can:      link (opening → up) ⇄ down, reopened with exponential back-off;
 *  - tx:       the periodic sender; what it sends depends on the bms state (busMode). Pylon HV
 *              never sends on its own (spec §7): only answers, built from the same bus output.
 *
 * What goes on the bus per bms state (ARCHITECTURE.md table): idle nothing; connected the policy's
 * limits, a decrease (CCL, DCL, CVL or an enable flag) sent at once; stale and fault CCL = DCL = 0
 * with flags cleared, sent at once on entry; fault goes silent after `silenceAfterMs` (0 = never).
 * Every frame set is built with the age of its data checked at that moment (bus-output.ts), so a
 * process that was stalled sends zeros first, not the limits it had before the stall.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { pollerOptionsFor, type LogFn } from '../bms/poller';
import { backoffDelayMs, type Clock } from '../clock';
import type { RunnableConfig } from '../config/schema';
import {
  createControlState,
  recoveringControlState,
  resolveBatteryPolicy,
  stepControl,
  batteryPolicyKey,
  type BatteryPolicy,
  type ControlOutput,
  type ControlState,
} from '../control';
import { decodePylonHvRequest, pylonHvVariant } from '../protocol/can';
import { isInverterHeartbeat } from '../protocol/can/inverter-frames';
import { applyCommand, noCommands, type BridgeCommand, type Commands } from '../control/commands';
import { hasAlarm, type BmsSnapshot, type JkAlarmName } from '../protocol/jk/snapshot';
import type { ByteLink, CanBus } from '../transport/types';
import { bmsPollerActor, canLinkActor, type CanLinkCommand, type IoEvent } from './actors';
import { broadcasts, busFrames, isDecrease, profileCodec, type BusMode, type TransmittedLimits } from './bus-output';
import { respondToInverter, type HvCommand } from './hv-responder';

export interface BridgePorts {
  createBmsLink(): ByteLink;
  createCanBus(): CanBus;
  clock: Clock;
  log: LogFn;
}

export interface BridgeInput {
  config: RunnableConfig;
  ports: BridgePorts;
}

export interface BridgeContext {
  config: RunnableConfig;
  ports: BridgePorts;
  /** Newest valid snapshot, and when it arrived (clock.now()). */
  snapshot: BmsSnapshot | null;
  snapshotAtMs: number | null;
  control: ControlState;
  output: ControlOutput | null;
  /** Chemistry, resolved settings and contradictions for the BMS settings last seen. */
  policy: BatteryPolicy | null;
  busMode: BusMode;
  canUp: boolean;
  canFailures: number;
  /** Limits and flags in the last frame set sent (to send any decrease at once). */
  transmitted: TransmittedLimits | null;
  /** When the last frame set was handed to the CAN link (the profile's inhibit time runs from it). */
  lastSentAtMs: number | null;
  /** A set is scheduled for the end of the inhibit time (TX.INHIBIT_OVER). */
  sendPending: boolean;
  /** Consecutive valid snapshots without active protection, counted in fault. */
  validStreak: number;
  faultReason: string | null;
  /** Pylon HV: what the inverter asked (sleep, its last charge/discharge command) and frames ignored. */
  hv: { sleeping: boolean; lastCommand: HvCommand | null; ignored: number };
  /** A person's commands (MQTT, web page): conservative inputs of the policy, applied with the next snapshot. */
  commands: Commands;
}

/**
 * SHUTDOWN: the process is stopping (SIGINT/SIGTERM). COMMAND: validated, from MQTT or the web
 * page. TX.INHIBIT_OVER: the profile's minimum interval since the last set has passed, a deferred
 * set may go.
 */
export type BridgeEvent =
  | IoEvent
  | { type: 'SHUTDOWN' }
  | { type: 'COMMAND'; command: BridgeCommand; source: string; atMs: number }
  | { type: 'TX.INHIBIT_OVER' };

/** The fault reason when the data ran out; its age is added where it is shown. */
export const NO_VALID_DATA = 'no valid BMS data';

/** What a frame set is built from, with the time it is built at (to check the data's age). */
function busInputs(context: BridgeContext) {
  return { ...context, nowMs: context.ports.clock.now() };
}

function activeFaultAlarms(snapshot: BmsSnapshot, faultOn: readonly JkAlarmName[]): JkAlarmName[] {
  return faultOn.filter((name) => hasAlarm(snapshot, name));
}

/** The policy for this snapshot's BMS settings: the context's while they are unchanged. */
function policyFor(context: BridgeContext, snapshot: BmsSnapshot): BatteryPolicy {
  const key = batteryPolicyKey(snapshot.settings, snapshot.cellsMv.length);
  if (context.policy?.key === key) return context.policy;
  const { config } = context;
  const windows = profileCodec(config).limitWindows;
  return resolveBatteryPolicy(
    { chemistry: config.battery.chemistry, control: config.control, inverter: windows && { profile: config.can.profile, ...windows } },
    snapshot.settings,
    snapshot.cellsMv.length,
  );
}

/** Why this snapshot must not pass limits: a configured protection alarm or a contradiction. */
function faultCause(context: BridgeContext, snapshot: BmsSnapshot): string | null {
  const alarms = activeFaultAlarms(snapshot, context.config.bms.faultOnAlarms);
  if (alarms.length > 0) return `BMS protection: ${alarms.join(', ')}`;
  const { problems } = policyFor(context, snapshot);
  return problems.length > 0 ? `settings contradict: ${problems.join('; ')}` : null;
}

type TransmitPlan = { kind: 'none' } | { kind: 'defer'; waitMs: number } | { kind: 'send'; set: NonNullable<ReturnType<typeof busFrames>> };

/**
 * Whether a frame set goes now, at the end of the inhibit time, or not at all. onlyIfDecreased:
 * only a set that lowers a limit or clears an enable flag (the policy's decreases go at once).
 */
function planTransmit(context: BridgeContext, onlyIfDecreased: boolean): TransmitPlan {
  if (!broadcasts(context.config)) return { kind: 'none' };
  const set = busFrames(busInputs(context));
  if (set === null || !context.canUp) return { kind: 'none' };
  if (onlyIfDecreased && (context.transmitted === null || !isDecrease(set.limits, context.transmitted))) return { kind: 'none' };
  const waitMs = inhibitLeftMs(context);
  if (waitMs === 0) return { kind: 'send', set };
  return context.sendPending ? { kind: 'none' } : { kind: 'defer', waitMs };
}

/**
 * Time left of the profile's inhibit time (SMA 200 ms per id, §5.1) since the last set was handed
 * over; 0 = a set may go now. The set is built when it may go, from the newest data; the CAN link
 * actor keeps the same spacing on the wire, from each frame's acknowledgement.
 */
function inhibitLeftMs(context: BridgeContext): number {
  const minMs = profileCodec(context.config).minFrameIntervalMs ?? 0;
  if (context.lastSentAtMs === null || minMs === 0) return 0;
  return Math.max(0, context.lastSentAtMs + minMs - context.ports.clock.now());
}

export const bridgeMachine = setup({
  types: {
    context: {} as BridgeContext,
    events: {} as BridgeEvent,
    input: {} as BridgeInput,
  },
  actors: {
    bmsPoller: bmsPollerActor,
    canLink: canLinkActor,
  },
  delays: {
    staleAfter: ({ context }) => context.config.state.staleAfterMs,
    faultAfter: ({ context }) => context.config.state.faultAfterMs,
    silenceAfter: ({ context }) => context.config.state.silenceAfterMs,
    inverterTimeout: ({ context }) => context.config.state.inverterTimeoutMs,
    canPeriod: ({ context }) => context.config.can.periodMs,
    canBackoff: ({ context }) =>
      backoffDelayMs(context.canFailures, context.config.can.reconnectInitialMs, context.config.can.reconnectMaxMs),
    // Up as long as the longest back-off: the link is good again, the next loss starts from the
    // initial back-off. Not at once on up, or a link failing right after each open never backs off.
    canGoodPeriod: ({ context }) => context.config.can.reconnectMaxMs,
  },
  guards: {
    protectionActive: ({ context, event }) => event.type === 'BMS.SNAPSHOT' && faultCause(context, event.snapshot) !== null,
    recoveryComplete: ({ context, event }) =>
      event.type === 'BMS.SNAPSHOT' &&
      faultCause(context, event.snapshot) === null &&
      context.validStreak + 1 >= context.config.state.recoverAfter,
    silenceEnabled: ({ context }) => context.config.state.silenceAfterMs > 0,
    /** 0x305-0x307 for the 0x35x family; a valid request for Pylon HV (malformed ones are no sign of life). */
    inverterSignOfLife: ({ context, event }) =>
      event.type === 'INVERTER.FRAME' &&
      (broadcasts(context.config) || decodePylonHvRequest(event.frame, pylonHvVariant(context.config.can.pylonHv).address).ok),
  },
  actions: {
    applySnapshot: assign(({ context, event }) => {
      if (event.type !== 'BMS.SNAPSHOT') return {};
      const policy = policyFor(context, event.snapshot);
      const step = stepControl(context.control, event.snapshot, event.atMs, policy.settings, context.commands);
      return { snapshot: event.snapshot, snapshotAtMs: event.atMs, policy, control: step.state, output: step.output };
    }),
    /**
     * Entering connected. With the first data ever (no snapshot yet) the policy's limits apply at
     * once; after stale data or a fault the currents restart from 0 through the policy's hold and
     * ramp, while the charge phase and the CVL carry on (a pack in float stays in float after a
     * cable blip; issue 10, bug 2).
     */
    resetControl: assign({
      control: ({ context }) => (context.snapshot === null ? createControlState() : recoveringControlState(context.control)),
    }),
    countRecovery: assign({
      validStreak: ({ context, event }) =>
        event.type === 'BMS.SNAPSHOT' && faultCause(context, event.snapshot) === null ? context.validStreak + 1 : 0,
    }),
    resetRecovery: assign({ validStreak: 0 }),
    setFaultReason: assign({
      faultReason: ({ context, event }) => {
        if (event.type === 'BMS.SNAPSHOT') return faultCause(context, event.snapshot);
        if (event.type === 'BMS.IMPLAUSIBLE') return `implausible BMS data: ${event.problems.join('; ')}`;
        // The age is not written here, where it would freeze: the status line and the status
        // model say how old the last valid data is when they are written (runtime.ts, status/model.ts).
        return NO_VALID_DATA;
      },
    }),
    clearFaultReason: assign({ faultReason: null }),
    applyCommand: assign({
      commands: ({ context, event }) =>
        event.type === 'COMMAND' ? applyCommand(context.commands, event.command, event.source, event.atMs) : context.commands,
    }),
    setBusMode: assign({ busMode: (_, params: { mode: BusMode }) => params.mode }),
    /**
     * Send the frame set for the current bus mode, if the bus is up and the mode sends anything;
     * within the profile's inhibit time, at its end instead (built then, from the newest data).
     */
    transmit: enqueueActions(({ context, enqueue }, params: { onlyIfDecreased: boolean } | undefined) => {
      // Issue 3: "A limit decrease is transmitted at once, not at the next period" (onlyIfDecreased).
      const plan = planTransmit(context, params?.onlyIfDecreased === true);
      if (plan.kind === 'defer') {
        enqueue.raise({ type: 'TX.INHIBIT_OVER' }, { delay: plan.waitMs, id: 'inhibit' });
        enqueue.assign({ sendPending: true });
      } else if (plan.kind === 'send') {
        enqueue.sendTo('canLink', { type: 'TRANSMIT', frames: plan.set.frames } satisfies CanLinkCommand);
        enqueue.assign({ transmitted: plan.set.limits, lastSentAtMs: context.ports.clock.now(), sendPending: false });
      }
    }),
    /**
     * On shutdown, a bridge that was passing limits sends one zero-limit set so the inverter stops
     * now rather than after its own timeout (safety first: never leave the last limits standing).
     */
    transmitShutdown: enqueueActions(({ context, enqueue }) => {
      if (context.busMode !== 'normal' || !context.canUp || !broadcasts(context.config)) return;
      const set = busFrames({ ...busInputs(context), busMode: 'stale' });
      if (set === null) return;
      enqueue.sendTo('canLink', { type: 'TRANSMIT', frames: set.frames } satisfies CanLinkCommand);
      enqueue.assign({ busMode: 'none' as BusMode, transmitted: set.limits, lastSentAtMs: context.ports.clock.now() });
    }),
    /**
     * Pylon HV: answer the inverter's frame now (hv-responder.ts), and honour a sleep request. Logs
     * one line per change (sleep, a different command, every 100th ignored frame), not per request.
     */
    answerInverter: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'INVERTER.FRAME' || broadcasts(context.config)) return;
      const log = context.ports.log;
      const hv = context.hv;
      const response = respondToInverter(event.frame, { ...busInputs(context), sleeping: hv.sleeping });
      if (!response.valid) {
        const ignored = hv.ignored + 1;
        if (ignored === 1 || ignored % 100 === 0) log.warn({ ignored, detail: response.detail }, `Pylon HV: ${ignored} malformed or unknown inverter frame(s) ignored (latest: ${response.detail})`);
        enqueue.assign({ hv: { ...hv, ignored } });
        return;
      }
      if (response.reply !== null && context.canUp) {
        enqueue.sendTo('canLink', { type: 'TRANSMIT', frames: response.reply.frames, key: response.reply.key } satisfies CanLinkCommand);
      }
      const request = response.request;
      if (request.kind === 'sleep' && request.sleep !== hv.sleeping) {
        log.info(
          request.sleep
            ? 'Pylon HV: the inverter asked the battery to sleep: answering with CCL = DCL = 0, charge and discharge forbidden'
            : 'Pylon HV: the inverter woke the battery: limits return through hold and ramp',
        );
        // Waking raises limits from 0, so they rise only through the policy's hold and ramp.
        enqueue.assign(request.sleep ? { hv: { ...hv, sleeping: true } } : { hv: { ...hv, sleeping: false }, control: recoveringControlState(context.control) });
      }
      if (request.kind === 'command' && (hv.lastCommand?.charge !== request.charge || hv.lastCommand.discharge !== request.discharge)) {
        const what = [request.charge ? 'charge' : '', request.discharge ? 'discharge' : ''].filter(Boolean).join(' and ');
        log.info(`Pylon HV: ${what} command from the inverter logged, not acted on (it asks to close a relay in protection; the bridge never lifts a limit on request)`);
        enqueue.assign({ hv: { ...hv, lastCommand: { charge: request.charge, discharge: request.discharge } } });
      }
      if (response.unanswered !== null) log.debug({ request }, `Pylon HV: request not answered: ${response.unanswered}`);
    }),
    markCanUp: assign({ canUp: true }),
    resetCanBackoff: assign({ canFailures: 0 }),
    markCanDown: assign(({ context }) => ({ canUp: false, canFailures: context.canFailures + 1, transmitted: null })),
  },
}).createMachine({
  id: 'bridge',
  type: 'parallel',
  context: ({ input }) => ({
    config: input.config,
    ports: input.ports,
    snapshot: null,
    snapshotAtMs: null,
    control: createControlState(),
    output: null,
    policy: null,
    busMode: 'none',
    canUp: false,
    canFailures: 0,
    transmitted: null,
    lastSentAtMs: null,
    sendPending: false,
    validStreak: 0,
    faultReason: null,
    hv: { sleeping: false, lastCommand: null, ignored: 0 },
    commands: noCommands,
  }),
  on: {
    SHUTDOWN: { actions: 'transmitShutdown' },
    COMMAND: { actions: 'applyCommand' },
    'TX.INHIBIT_OVER': { actions: [assign({ sendPending: false }), 'transmit'] },
  },
  invoke: {
    id: 'bmsPoller',
    src: 'bmsPoller',
    input: ({ context }) => ({
      link: context.ports.createBmsLink(),
      options: pollerOptionsFor(context.config),
      clock: context.ports.clock,
      log: context.ports.log,
    }),
  },
  states: {
    bms: {
      initial: 'idle',
      states: {
        idle: {
          on: {
            'BMS.SNAPSHOT': [
              { guard: 'protectionActive', target: 'fault', actions: ['applySnapshot', 'setFaultReason'] },
              { target: 'connected' },
            ],
          },
        },
        connected: {
          // Entry actions see the snapshot that brought us here: apply it to a fresh control state.
          entry: ['resetControl', 'applySnapshot', { type: 'setBusMode', params: { mode: 'normal' } }, 'clearFaultReason', 'transmit'],
          initial: 'fresh',
          states: {
            // Re-entered on every valid snapshot, which restarts the stale timer without
            // touching the tx period or the control state.
            fresh: { after: { staleAfter: '#bridge.bms.stale' } },
          },
          on: {
            'BMS.SNAPSHOT': [
              { guard: 'protectionActive', target: 'fault', actions: ['applySnapshot', 'setFaultReason'] },
              { target: '.fresh', actions: ['applySnapshot', { type: 'transmit', params: { onlyIfDecreased: true } }] },
            ],
            'BMS.IMPLAUSIBLE': { target: 'fault', actions: 'setFaultReason' },
          },
        },
        stale: {
          entry: [{ type: 'setBusMode', params: { mode: 'stale' } }, 'transmit'],
          after: { faultAfter: { target: 'fault', actions: 'setFaultReason' } },
          on: {
            'BMS.SNAPSHOT': [
              { guard: 'protectionActive', target: 'fault', actions: ['applySnapshot', 'setFaultReason'] },
              { target: 'connected' },
            ],
            'BMS.IMPLAUSIBLE': { target: 'fault', actions: 'setFaultReason' },
          },
        },
        fault: {
          entry: 'resetRecovery',
          initial: 'transmitting',
          states: {
            transmitting: {
              entry: [{ type: 'setBusMode', params: { mode: 'fault' } }, 'transmit'],
              after: { silenceAfter: { guard: 'silenceEnabled', target: 'silent' } },
            },
            silent: { entry: { type: 'setBusMode', params: { mode: 'none' } } },
          },
          on: {
            'BMS.SNAPSHOT': [
              { guard: 'recoveryComplete', target: 'connected' },
              { actions: ['applySnapshot', 'countRecovery'] },
            ],
            'BMS.IMPLAUSIBLE': { actions: 'resetRecovery' },
          },
        },
      },
    },
    inverter: {
      initial: 'unknown',
      states: {
        unknown: {
          on: { 'INVERTER.FRAME': [{ guard: 'inverterSignOfLife', target: 'alive', actions: 'answerInverter' }, { actions: 'answerInverter' }] },
        },
        alive: {
          after: { inverterTimeout: 'silent' },
          on: {
            'INVERTER.FRAME': [{ guard: 'inverterSignOfLife', target: 'alive', reenter: true, actions: 'answerInverter' }, { actions: 'answerInverter' }],
          },
        },
        silent: {
          on: { 'INVERTER.FRAME': [{ guard: 'inverterSignOfLife', target: 'alive', actions: 'answerInverter' }, { actions: 'answerInverter' }] },
        },
      },
    },
    can: {
      initial: 'link',
      states: {
        link: {
          invoke: {
            id: 'canLink',
            src: 'canLink',
            input: ({ context }) => ({
              bus: context.ports.createCanBus(),
              log: context.ports.log,
              downAfterFailedSends: context.config.can.downAfterFailedSends,
              // Pylon HV requests are 29-bit (spec §7); the chart counts the ones it cannot read.
              isInverterFrame: broadcasts(context.config) ? isInverterHeartbeat : (frame) => frame.ext === true,
              clock: context.ports.clock,
              minFrameIntervalMs: profileCodec(context.config).minFrameIntervalMs ?? 0,
            }),
          },
          initial: 'opening',
          states: {
            opening: { on: { 'CAN.UP': 'up' } },
            up: { entry: ['markCanUp', 'transmit'], after: { canGoodPeriod: { actions: 'resetCanBackoff' } } },
          },
          on: { 'CAN.DOWN': { target: 'down', actions: 'markCanDown' } },
        },
        down: { after: { canBackoff: 'link' } },
      },
    },
    tx: {
      initial: 'waiting',
      states: {
        waiting: { after: { canPeriod: { target: 'waiting', reenter: true, actions: 'transmit' } } },
      },
    },
  },
});

export type BridgeMachine = typeof bridgeMachine;
