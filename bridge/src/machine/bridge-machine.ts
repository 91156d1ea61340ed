/**
 * The bridge's behaviour, one statechart (design/ARCHITECTURE.md "The statechart").
 *
 * Parallel regions:
 *  - bms:      the bank (one pack, or several in parallel: issue 12) as the inverter is told of
 *              it: idle → connected → stale → fault (→ silent), derived from the packs (bank/bank.ts);
 *  - inverter: unknown → alive ⇄ silent (clears by itself when frames return); a Pylon HV inverter
 *              is alive by its valid requests, and each is answered at once (hv-responder.ts);
 *  - can:      link (opening → up) ⇄ down, reopened with exponential back-off;
 *  - tx:       the periodic sender; what it sends depends on the bms state (busMode). Pylon HV
 *              never sends on its own (spec §7): only answers, built from the same bus output.
 * Each pack is a child actor of this chart (packMachine, below; one per configured pack, each with
 * its own poller on its own link, all polled at once): idle → connected → stale → fault, back to
 * connected after `recoverAfter` consecutive valid snapshots without active protection. The chart
 * keeps each pack's snapshot and control state, steps the policy per pack and asks bank/bank.ts
 * what the bank may do; the bms region follows that verdict.
 *
 * What goes on the bus per bms state (ARCHITECTURE.md table): idle nothing; connected the policy's
 * limits, a decrease (CCL, DCL, CVL or an enable flag) sent at once; stale and fault CCL = DCL = 0
 * with flags cleared, sent at once on entry; fault goes silent after `silenceAfterMs` (0 = never).
 * Every frame set is built with the age of its data checked at that moment (bus-output.ts), so a
 * process that was stalled sends zeros first, not the limits it had before the stall.
 */
import { assign, enqueueActions, sendParent, setup } from 'xstate';
import { combineBank, stepPack, type BankMeasurements, type BankResult, type PackState, type PackView } from '../bank/bank';
import { pollerOptionsFor, type LogFn } from '../bms/poller';
import { backoffDelayMs, type Clock } from '../clock';
import type { PackConfig, RunnableConfig } from '../config/schema';
import {
  batteryPolicyKey,
  createControlState,
  recoveringControlState,
  resolveBatteryPolicy,
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
  createBmsLink(pack: PackConfig): ByteLink;
  createCanBus(): CanBus;
  clock: Clock;
  log: LogFn;
}

export interface BridgeInput {
  config: RunnableConfig;
  ports: BridgePorts;
}

/** One pack as the chart keeps it: what its actor reported, its data and its control state. */
export interface PackRecord extends PackView {
  control: ControlState;
}

export interface BridgeContext {
  config: RunnableConfig;
  ports: BridgePorts;
  /** Every configured pack, in configuration order. */
  packs: PackRecord[];
  /** What the bank may do now (bank/bank.ts), from the packs. */
  bank: BankResult | null;
  /** The bank's measurements, its output (limits with reasons) and when its oldest data arrived. */
  measurements: BankMeasurements | null;
  output: ControlOutput | null;
  snapshotAtMs: number | null;
  /** Chemistry, resolved settings and contradictions for the first pack's BMS settings (logged on change). */
  policy: BatteryPolicy | null;
  busMode: BusMode;
  canUp: boolean;
  canFailures: number;
  /** Limits and flags in the last frame set sent (to send any decrease at once). */
  transmitted: TransmittedLimits | null;
  faultReason: string | null;
  /** Pylon HV: what the inverter asked (sleep, its last charge/discharge command) and frames ignored. */
  hv: { sleeping: boolean; lastCommand: HvCommand | null; ignored: number };
  /** A person's commands (MQTT, web page): conservative inputs of the policy, applied with the next snapshot. */
  commands: Commands;
}

/**
 * What a pack actor tells the chart after each event it handled: its state, and the snapshot it
 * accepted (if any) with how its control state restarts (`fresh` on the first data ever,
 * `recovering` on the way back from stale or fault: currents from 0 through hold and ramp).
 */
export interface PackReport {
  type: 'PACK.REPORT';
  pack: string;
  state: PackState;
  faultCause: 'data' | 'lost' | null;
  faultReason: string | null;
  data: { snapshot: BmsSnapshot; atMs: number; restart: 'fresh' | 'recovering' | null } | null;
}

/** SHUTDOWN: the process is stopping (SIGINT/SIGTERM). COMMAND: validated, from MQTT or the web page. */
export type BridgeEvent =
  | IoEvent
  | PackReport
  | { type: 'SHUTDOWN' }
  | { type: 'COMMAND'; command: BridgeCommand; source: string; atMs: number };

/** The fault reason when the data ran out; its age is added where it is shown. */
export const NO_VALID_DATA = 'no valid BMS data';

/** What a frame set is built from, with the time it is built at (to check the data's age). */
function busInputs(context: BridgeContext) {
  return { ...context, nowMs: context.ports.clock.now() };
}

/** Issue 3: "A limit decrease is transmitted at once, not at the next period." The set to send, if any. */
function decreasedSet(context: BridgeContext) {
  if (!broadcasts(context.config)) return null;
  const set = busFrames(busInputs(context));
  const last = context.transmitted;
  if (set === null || !context.canUp || last === null || !isDecrease(set.limits, last)) return null;
  return set;
}

const policies = new WeakMap<RunnableConfig, BatteryPolicy>();

/**
 * The policy for a pack's snapshot (chemistry, its preset fitted to the BMS, the checks of
 * control/battery-policy.ts), resolved again only when the BMS settings it depends on change.
 */
export function policyFor(config: RunnableConfig, snapshot: BmsSnapshot): BatteryPolicy {
  const key = batteryPolicyKey(snapshot.settings, snapshot.cellsMv.length);
  const cached = policies.get(config);
  if (cached?.key === key) return cached;
  const windows = profileCodec(config).limitWindows;
  const policy = resolveBatteryPolicy(
    { chemistry: config.battery.chemistry, control: config.control, inverter: windows && { profile: config.can.profile, ...windows } },
    snapshot.settings,
    snapshot.cellsMv.length,
  );
  policies.set(config, policy);
  return policy;
}

/** Why a pack's snapshot must not pass limits: a configured protection alarm or a contradiction (issue 11). */
export function packFaultCause(config: RunnableConfig, snapshot: BmsSnapshot): string | null {
  const alarms = activeFaultAlarms(snapshot, config.bms.faultOnAlarms);
  if (alarms.length > 0) return `BMS protection: ${alarms.join(', ')}`;
  const { problems } = policyFor(config, snapshot);
  return problems.length > 0 ? `settings contradict: ${problems.join('; ')}` : null;
}

function activeFaultAlarms(snapshot: BmsSnapshot, faultOn: readonly JkAlarmName[]): JkAlarmName[] {
  return faultOn.filter((name) => hasAlarm(snapshot, name));
}

// ---- one pack ---------------------------------------------------------------------------------

export interface PackInput {
  name: string;
  config: RunnableConfig;
}

interface PackContext {
  name: string;
  config: RunnableConfig;
  state: PackState;
  faultCause: 'data' | 'lost' | null;
  faultReason: string | null;
  /** A valid snapshot was ever accepted (the control restarts fresh before, recovering after). */
  hadData: boolean;
  /** Consecutive valid snapshots without active protection, counted in fault. */
  validStreak: number;
  /** The snapshot of the event being handled, for the report. */
  accepted: PackReport['data'];
}

/** Events a pack actor takes: its poller's (forwarded by the chart), and a disagreement the bank found. */
export type PackEvent =
  | Extract<IoEvent, { type: 'BMS.SNAPSHOT' | 'BMS.IMPLAUSIBLE' }>
  | { type: 'PACK.DISAGREES'; problem: string };

/**
 * One pack's life: idle (no valid snapshot yet) → connected (fresh data) → stale (none for
 * `staleAfterMs`) → fault (stale for `faultAfterMs`: cause `lost`; a protection alarm, implausible
 * data or a disagreement with the other packs: cause `data`) → connected after `recoverAfter`
 * valid snapshots without protection. It reports every change and every accepted snapshot to the
 * chart, which owns the data and the control state.
 */
export const packMachine = setup({
  types: { context: {} as PackContext, events: {} as PackEvent, input: {} as PackInput },
  delays: {
    staleAfter: ({ context }) => context.config.state.staleAfterMs,
    faultAfter: ({ context }) => context.config.state.faultAfterMs,
  },
  guards: {
    protectionActive: ({ context, event }) => event.type === 'BMS.SNAPSHOT' && packFaultCause(context.config, event.snapshot) !== null,
    /** A lost pack of a bank is left out (bms.onPackLost degrade) rather than stopping it. */
    leftOutWhenLost: ({ context }) => context.config.bms.onPackLost === 'degrade' && context.config.bms.packs.length > 1,
    recoveryComplete: ({ context, event }) =>
      event.type === 'BMS.SNAPSHOT' && packFaultCause(context.config, event.snapshot) === null && context.validStreak + 1 >= context.config.state.recoverAfter,
  },
  actions: {
    /**
     * Keeps the event's snapshot for the report; `restart` says how the control state restarts:
     * fresh only for data at the start, so a pack that joins a running bank late (its first data
     * after it was left out) comes in through hold and ramp like one that recovers.
     */
    accept: assign(({ context, event }, params: { restart: boolean }) => {
      if (event.type !== 'BMS.SNAPSHOT') return {};
      const restart = params.restart ? (context.hadData || context.state !== 'idle' ? 'recovering' : 'fresh') : null;
      return { hadData: true, accepted: { snapshot: event.snapshot, atMs: event.atMs, restart } };
    }),
    enter: assign((_, params: { state: PackState }) => ({ state: params.state })),
    report: enqueueActions(({ context, enqueue }) => {
      enqueue(
        sendParent({
          type: 'PACK.REPORT',
          pack: context.name,
          state: context.state,
          faultCause: context.state === 'fault' ? context.faultCause : null,
          faultReason: context.state === 'fault' ? context.faultReason : null,
          data: context.accepted,
        } satisfies PackReport),
      );
      enqueue.assign({ accepted: null });
    }),
    countRecovery: assign({
      validStreak: ({ context, event }) =>
        event.type === 'BMS.SNAPSHOT' && packFaultCause(context.config, event.snapshot) === null ? context.validStreak + 1 : 0,
    }),
    resetRecovery: assign({ validStreak: 0 }),
    setFaultReason: assign(({ context, event }) => {
      if (event.type === 'BMS.SNAPSHOT') return { faultCause: 'data' as const, faultReason: packFaultCause(context.config, event.snapshot) };
      if (event.type === 'BMS.IMPLAUSIBLE') return { faultCause: 'data' as const, faultReason: `implausible BMS data: ${event.problems.join('; ')}` };
      if (event.type === 'PACK.DISAGREES') return { faultCause: 'data' as const, faultReason: event.problem };
      // The age is not written here, where it would freeze: the status line and the status
      // model say how old the last valid data is when they are written (runtime.ts, status/model.ts).
      return { faultCause: 'lost' as const, faultReason: NO_VALID_DATA };
    }),
  },
}).createMachine({
  id: 'pack',
  context: ({ input }) => ({
    name: input.name,
    config: input.config,
    state: 'idle',
    faultCause: null,
    faultReason: null,
    hadData: false,
    validStreak: 0,
    accepted: null,
  }),
  initial: 'idle',
  states: {
    idle: {
      // With degrade, a pack that never answers is lost like one that fell silent, so the others
      // start without it; alone, or with stop, the bridge waits for it and sends nothing.
      after: { staleAfter: { guard: 'leftOutWhenLost', target: 'stale' } },
      on: {
        'BMS.SNAPSHOT': [
          { guard: 'protectionActive', target: 'fault', actions: [{ type: 'accept', params: { restart: false } }, 'setFaultReason'] },
          { target: 'connected', actions: { type: 'accept', params: { restart: true } } },
        ],
      },
    },
    connected: {
      entry: [{ type: 'enter', params: { state: 'connected' } }, 'report'],
      initial: 'fresh',
      states: {
        // Re-entered on every valid snapshot, which restarts the stale timer.
        fresh: { after: { staleAfter: '#pack.stale' } },
      },
      on: {
        'BMS.SNAPSHOT': [
          { guard: 'protectionActive', target: 'fault', actions: [{ type: 'accept', params: { restart: false } }, 'setFaultReason'] },
          { target: '.fresh', actions: [{ type: 'accept', params: { restart: false } }, 'report'] },
        ],
        'BMS.IMPLAUSIBLE': { target: 'fault', actions: 'setFaultReason' },
        'PACK.DISAGREES': { target: 'fault', actions: 'setFaultReason' },
      },
    },
    stale: {
      entry: [{ type: 'enter', params: { state: 'stale' } }, 'report'],
      after: { faultAfter: { target: 'fault', actions: 'setFaultReason' } },
      on: {
        'BMS.SNAPSHOT': [
          { guard: 'protectionActive', target: 'fault', actions: [{ type: 'accept', params: { restart: false } }, 'setFaultReason'] },
          { target: 'connected', actions: { type: 'accept', params: { restart: true } } },
        ],
        'BMS.IMPLAUSIBLE': { target: 'fault', actions: 'setFaultReason' },
      },
    },
    fault: {
      entry: ['resetRecovery', { type: 'enter', params: { state: 'fault' } }, 'report'],
      on: {
        'BMS.SNAPSHOT': [
          { guard: 'recoveryComplete', target: 'connected', actions: { type: 'accept', params: { restart: true } } },
          { actions: [{ type: 'accept', params: { restart: false } }, 'countRecovery', 'report'] },
        ],
        'BMS.IMPLAUSIBLE': { actions: 'resetRecovery' },
        // Still disagreeing: the streak starts again, the reason is the newest.
        'PACK.DISAGREES': { actions: ['resetRecovery', 'setFaultReason', 'report'] },
      },
    },
  },
});

// ---- the bank ----------------------------------------------------------------------------------

/** The pack actor's id, and its poller's. */
const packId = (name: string): string => `pack:${name}`;
const pollerId = (name: string): string => `bmsPoller:${name}`;

/** A pack's log lines name it, when there are several. */
function packLog(log: LogFn, name: string, packs: number): LogFn {
  if (packs === 1) return log;
  const prefix = (args: unknown[]): unknown[] =>
    typeof args[0] === 'string' ? [`pack ${name}: ${args[0]}`, ...args.slice(1)] : typeof args[1] === 'string' ? [args[0], `pack ${name}: ${args[1]}`, ...args.slice(2)] : args;
  const wrap = (level: keyof LogFn) => ((...args: unknown[]) => (log[level] as (...a: unknown[]) => void)(...prefix(args))) as LogFn[typeof level];
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

function bankOf(packs: readonly PackRecord[], config: RunnableConfig): BankResult {
  return combineBank(packs, {
    onPackLost: config.bms.onPackLost,
    copies: config.bms.mirrorPacks,
    maxPackVoltageSpreadMv: config.bms.maxPackVoltageSpreadMv,
    ocpCapFraction: config.control.current.bmsOcpCapFraction,
    stopCurrentA: config.control.stop.currentA,
  });
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
    pack: packMachine,
  },
  delays: {
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
    bankIs: ({ context }, params: { mode: BankResult['mode'] }) => context.bank?.mode === params.mode,
    silenceEnabled: ({ context }) => context.config.state.silenceAfterMs > 0,
    /** 0x305-0x307 for the 0x35x family; a valid request for Pylon HV (malformed ones are no sign of life). */
    inverterSignOfLife: ({ context, event }) =>
      event.type === 'INVERTER.FRAME' &&
      (broadcasts(context.config) || decodePylonHvRequest(event.frame, pylonHvVariant(context.config.can.pylonHv).address).ok),
  },
  actions: {
    /** One actor per pack and one poller per link, all started at once (links polled concurrently). */
    startPacks: enqueueActions(({ context, enqueue }) => {
      const { config, ports } = context;
      for (const pack of config.bms.packs) {
        enqueue.spawnChild('pack', { id: packId(pack.name), input: { name: pack.name, config } });
        enqueue.spawnChild('bmsPoller', {
          id: pollerId(pack.name),
          input: { pack: pack.name, link: ports.createBmsLink(pack), options: pollerOptionsFor(config, pack), clock: ports.clock, log: packLog(ports.log, pack.name, config.bms.packs.length) },
        });
      }
    }),
    /** A poller's event goes to its pack's actor. */
    forwardToPack: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'BMS.SNAPSHOT' || event.type === 'BMS.IMPLAUSIBLE') enqueue.sendTo(packId(event.pack), event);
    }),
    /**
     * A pack reported: keep its state; step the policy for the snapshot it accepted (after
     * restarting its control state as it says: the first data ever applies at once; after stale
     * data or a fault the currents restart from 0 through hold and ramp while the charge phase and
     * the CVL carry on, issue 10 bug 2); then ask the bank what it may do. A decrease goes out at
     * once while the bank stays connected; packs that disagree with the others are faulted.
     */
    applyReport: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PACK.REPORT') return;
      const { config } = context;
      const packs = context.packs.map((p): PackRecord => {
        if (p.name !== event.pack) return p;
        const next: PackRecord = { ...p, state: event.state, faultCause: event.faultCause, faultReason: event.faultReason };
        if (event.data === null) return next;
        const { snapshot, atMs, restart } = event.data;
        const control = restart === 'fresh' ? createControlState() : restart === 'recovering' ? recoveringControlState(p.control) : p.control;
        const step = stepPack(control, p.name, snapshot, context.packs, config.bms.mirrorPacks, atMs, policyFor(config, snapshot).settings, context.commands);
        return { ...next, snapshot, snapshotAtMs: atMs, control: step.state, output: step.output };
      });
      const bank = bankOf(packs, config);
      const first = packs.find((p) => p.snapshot !== null)?.snapshot ?? null;
      const policy = first === null ? context.policy : policyFor(config, first);
      enqueue.assign({ packs, bank, policy, measurements: bank.measurements, output: bank.output, snapshotAtMs: bank.dataAtMs });
      for (const name of bank.disagreeing) enqueue.sendTo(packId(name), { type: 'PACK.DISAGREES', problem: bank.reason ?? 'disagrees with the other packs' } satisfies PackEvent);
      if (bank.mode === 'normal' && context.busMode === 'normal') {
        const set = decreasedSet({ ...context, packs, bank, policy, measurements: bank.measurements, output: bank.output, snapshotAtMs: bank.dataAtMs });
        if (set !== null) {
          enqueue.sendTo('canLink', { type: 'TRANSMIT', frames: set.frames } satisfies CanLinkCommand);
          enqueue.assign({ transmitted: set.limits });
        }
      }
    }),
    setFaultReason: assign({ faultReason: ({ context }) => context.bank?.reason ?? null }),
    clearFaultReason: assign({ faultReason: null }),
    applyCommand: assign({
      commands: ({ context, event }) =>
        event.type === 'COMMAND' ? applyCommand(context.commands, event.command, event.source, event.atMs) : context.commands,
    }),
    setBusMode: assign({ busMode: (_, params: { mode: BusMode }) => params.mode }),
    /** Send the frame set for the current bus mode, if the bus is up and the mode sends anything. */
    transmit: enqueueActions(({ context, enqueue }) => {
      if (!broadcasts(context.config)) return;
      const set = busFrames(busInputs(context));
      if (set === null || !context.canUp) return;
      enqueue.sendTo('canLink', { type: 'TRANSMIT', frames: set.frames } satisfies CanLinkCommand);
      enqueue.assign({ transmitted: set.limits });
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
      enqueue.assign({ busMode: 'none' as BusMode, transmitted: set.limits });
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
        enqueue.assign(
          request.sleep
            ? { hv: { ...hv, sleeping: true } }
            : { hv: { ...hv, sleeping: false }, packs: context.packs.map((p) => ({ ...p, control: recoveringControlState(p.control) })) },
        );
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
    packs: input.config.bms.packs.map(
      (p): PackRecord => ({
        name: p.name,
        state: 'idle',
        faultCause: null,
        faultReason: null,
        snapshot: null,
        snapshotAtMs: null,
        output: null,
        internalResistanceMohm: p.internalResistanceMohm ?? null,
        control: createControlState(),
      }),
    ),
    bank: null,
    measurements: null,
    output: null,
    policy: null,
    snapshotAtMs: null,
    busMode: 'none',
    canUp: false,
    canFailures: 0,
    transmitted: null,
    faultReason: null,
    hv: { sleeping: false, lastCommand: null, ignored: 0 },
    commands: noCommands,
  }),
  entry: 'startPacks',
  on: {
    SHUTDOWN: { actions: 'transmitShutdown' },
    COMMAND: { actions: 'applyCommand' },
    'BMS.SNAPSHOT': { actions: 'forwardToPack' },
    'BMS.IMPLAUSIBLE': { actions: 'forwardToPack' },
    'PACK.REPORT': { actions: 'applyReport' },
  },
  states: {
    bms: {
      initial: 'idle',
      states: {
        // The bank's verdict (context.bank) after each pack report decides; nothing is sent
        // before every pack has answered once.
        idle: {
          always: [
            { guard: { type: 'bankIs', params: { mode: 'normal' } }, target: 'connected' },
            { guard: { type: 'bankIs', params: { mode: 'stale' } }, target: 'stale' },
            { guard: { type: 'bankIs', params: { mode: 'fault' } }, target: 'fault' },
          ],
        },
        connected: {
          entry: [{ type: 'setBusMode', params: { mode: 'normal' } }, 'clearFaultReason', 'transmit'],
          // The bank's data is fresh; each pack times its own staleness. The substate keeps the
          // state name logs, the rig and the observers read ("bms connected/fresh").
          initial: 'fresh',
          states: { fresh: {} },
          always: [
            { guard: { type: 'bankIs', params: { mode: 'stale' } }, target: 'stale' },
            { guard: { type: 'bankIs', params: { mode: 'fault' } }, target: 'fault' },
          ],
        },
        stale: {
          entry: [{ type: 'setBusMode', params: { mode: 'stale' } }, 'transmit'],
          always: [
            { guard: { type: 'bankIs', params: { mode: 'normal' } }, target: 'connected' },
            { guard: { type: 'bankIs', params: { mode: 'fault' } }, target: 'fault' },
          ],
        },
        fault: {
          entry: 'setFaultReason',
          initial: 'transmitting',
          states: {
            transmitting: {
              entry: [{ type: 'setBusMode', params: { mode: 'fault' } }, 'transmit'],
              after: { silenceAfter: { guard: 'silenceEnabled', target: 'silent' } },
            },
            silent: { entry: { type: 'setBusMode', params: { mode: 'none' } } },
          },
          always: [
            { guard: { type: 'bankIs', params: { mode: 'normal' } }, target: 'connected' },
            { guard: { type: 'bankIs', params: { mode: 'stale' } }, target: 'stale' },
          ],
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
              clock: context.ports.clock,
              minFrameIntervalMs: profileCodec(context.config).minFrameIntervalMs ?? 0,
              downAfterFailedSends: context.config.can.downAfterFailedSends,
              // Pylon HV requests are 29-bit (spec §7); the chart counts the ones it cannot read.
              isInverterFrame: broadcasts(context.config) ? isInverterHeartbeat : (frame) => frame.ext === true,
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
