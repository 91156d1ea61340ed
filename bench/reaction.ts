/**
 * Reaction of the bridge to a cell reaching a stop voltage, on the portable rig (sim-bms on a pty,
 * sim-inverter behind SLCAN on a pty, the real bridge in between), at its default polling:
 *
 *   ramp  one cell moves through the stop at 5 mV/s (the physical case: a cell running away at
 *         the top or the bottom of the charge). It starts 10 mV before the stop, inside the
 *         fast-poll margin, so the bridge is polling back to back when the cell crosses; the
 *         figure is the first frame with the limit at 0 minus the moment the cell reached the stop;
 *   step  one cell jumps 50 mV past the stop (a sense wire, a sudden load) while the bridge polls at
 *         its relaxed pace; the figure is that frame minus the jump.
 *
 * Charge (cell ≥ control.chargeStopCellMv → CCL 0) and discharge (cell ≤ dischargeStopCellMv →
 * DCL 0) alike, with the four kinds taking turns so that slow drift of the machine's load spreads
 * over all of them. The BMS reports the ramp's value of the moment each request arrives.
 *
 * Overrides, none of them on the reaction path: the cell-voltage tables are flat up to the stop
 * (the default tables already bring CCL to 0.1 A or less ~10 mV before the stop, so the figure
 * would time the table, not the reaction), and limits come back without hold or ramp between
 * trials. The virtual BMS's cell-difference protection is off, so one overridden cell does not
 * also raise an alarm (a change of state the fast-poll schedule would react to).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnableConfig } from '../bridge/src/config/schema';
import type { BatteryStatePatch } from '../bridge/src/protocol/can';
import type { BridgeProcess } from '../rig/src/bridge-process';
import { PtyRig } from '../rig/src/rig-setup';
import { loadProfile, type BatteryProfile } from '../sim-bms/src/profile';
import type { ReceivedRequest } from '../sim-bms/src/virtual-bms';
import { systemClock } from '../bridge/src/clock';
import { distribution, type Distribution } from './stats';
import { WEB_ON_ANY_PORT } from './web-port';


/** The rig's clock, which stamps the frames the inverter receives and the requests sim-bms gets. */
const now = (): number => systemClock.now();
export const RAMP_MV_PER_S = 5;
/** Where a ramp starts, before the stop: two seconds at 5 mV/s, inside the default 50 mV margin. */
export const RAMP_LEAD_MV = 10;
/** A step lands this far past the stop (below the 16S profile's OVP 3650 mV; UVP needs 5 s). */
export const STEP_PAST_MV = 50;
const CELL = 1;

export type Direction = 'charge' | 'discharge';
export type Stimulus = 'ramp' | 'step';
export type ReactionKind = `${Stimulus}-${Direction}`;
export const REACTION_KINDS: readonly ReactionKind[] = ['ramp-charge', 'step-charge', 'ramp-discharge', 'step-discharge'];

/** The stops the reaction battery declares (its profile's limits, given to the bridge by the rig). */
const DEFAULTS = battery().limits;

/** The overrides of every reaction rig (see the file comment). */
export const REACTION_SETTINGS = [
  WEB_ON_ANY_PORT,
  `control.tables.chargeVsMaxCellMv.points=[[${DEFAULTS.chargeStopCellMv}, 1]]`,
  `control.tables.dischargeVsMinCellMv.points=[[${DEFAULTS.dischargeStopCellMv}, 1]]`,
  'control.current.chargeRecovery.holdS=0',
  'control.current.chargeRecovery.rateAPerS=1000',
  'control.current.dischargeRecovery.holdS=0',
  'control.current.dischargeRecovery.rateAPerS=1000',
] as const;

export interface ReactionOptions {
  inverter: 'pylon-lv' | 'sma-si';
  /** Trials of each kind. */
  trials: number;
  /** The kinds to run, in turn; all four by default. */
  kinds?: readonly ReactionKind[];
  /** More --set settings for the bridge (bench/observers.ts turns MQTT and the web page on or off). */
  settings?: readonly string[];
  /** Called once the bridge runs, e.g. to connect a browser; what it returns is awaited before the rig closes. */
  connect?: (bridge: BridgeProcess) => Promise<() => Promise<void>>;
  log: (line: string) => void;
}

export interface ReactionResult {
  inverter: string;
  settings: readonly string[];
  /** Everything the bridge ran with, as its own loader read the command line. */
  config: RunnableConfig;
  rampMvPerS: number;
  rampLeadMv: number;
  stepPastMv: number;
  /** By kind, for the kinds that ran. */
  kinds: Partial<Record<ReactionKind, Distribution & { samplesMs: number[] }>>;
  /** Step trials that started although the bridge had not gone back to its relaxed pace within 5 s. */
  stepsNotRelaxed: number;
  /** Invariant and protocol violations the inverter's checker recorded over all trials, by rule. */
  violations: Record<string, number>;
}

/** The figures of one kind; an error if that kind did not run. */
export function reactionOf(result: ReactionResult, kind: ReactionKind): Distribution & { samplesMs: number[] } {
  const figures = result.kinds[kind];
  if (figures === undefined) throw new Error(`no ${kind} trials in this reaction result`);
  return figures;
}

/** The battery every reaction rig runs: the 16S profile at 50 % SoC, cell-difference protection off. */
function battery(): BatteryProfile {
  const profile = loadProfile('jk-16s-280ah');
  return { ...profile, settings: { ...profile.settings, cellDiffProtectionMv: 0 } };
}

const limitOf = (direction: Direction) => (p: BatteryStatePatch): number | undefined =>
  direction === 'charge' ? p.chargeCurrentLimitA : p.dischargeCurrentLimitA;

export async function measureReaction(options: ReactionOptions): Promise<ReactionResult> {
  const settings = [...REACTION_SETTINGS, ...(options.settings ?? [])];
  const kinds = options.kinds ?? REACTION_KINDS;
  const rig = await PtyRig.open({ battery: battery(), socPct: 50, inverter: options.inverter, settings });
  let disconnect: (() => Promise<void>) | undefined;
  try {
    const { bms, can } = rig.config;
    const control = battery().limits;
    const overrides = rig.bms.faults.cellOverridesMv;
    const timeoutMs = bms.pollIntervalMs + bms.replyTimeoutMs + can.periodMs + 5000;
    const stopOf = (d: Direction) => (d === 'charge' ? control.chargeStopCellMv : control.dischargeStopCellMv);
    const sign = (d: Direction) => (d === 'charge' ? 1 : -1);
    const positive = (d: Direction) => (p: BatteryStatePatch) => (limitOf(d)(p) ?? 0) > 0;
    const zero = (d: Direction) => (p: BatteryStatePatch) => limitOf(d)(p) === 0;

    const bridge = rig.startBridge();
    await rig.waitForFrame('CCL and DCL > 0 after start', now(), (p) => positive('charge')(p) && positive('discharge')(p), 15_000);
    disconnect = await options.connect?.(bridge);

    /** The bridge polls at its relaxed pace again: the last two requests were an interval apart. */
    const relaxed = async (): Promise<boolean> => {
      const deadline = now() + 5000;
      while (now() < deadline) {
        const r = rig.bms.requests;
        const n = r.length;
        if (n >= 3 && r[n - 1].atMs - r[n - 2].atMs >= 0.8 * bms.pollIntervalMs && now() - r[n - 1].atMs < bms.pollIntervalMs) {
          return true;
        }
        await sleep(20);
      }
      return false;
    };

    let stepsNotRelaxed = 0;
    const trial = async (kind: ReactionKind): Promise<number> => {
      const [stimulus, direction] = kind.split('-') as [Stimulus, Direction];
      const stop = stopOf(direction);
      const s = sign(direction);
      let stimulusAt: number;
      let waitFrom: number;
      let onRequest: ((r: ReceivedRequest) => void) | null = null;
      if (stimulus === 'step') {
        if (!(await relaxed())) stepsNotRelaxed += 1;
        // A random phase of the relaxed poll cycle, so the figure spans all of them.
        await sleep(Math.random() * bms.pollIntervalMs);
        stimulusAt = now();
        waitFrom = stimulusAt;
        overrides.set(CELL, stop + s * STEP_PAST_MV);
      } else {
        await sleep(Math.random() * bms.pollIntervalMs);
        const startMv = stop - s * RAMP_LEAD_MV;
        const t0 = now();
        stimulusAt = t0 + (RAMP_LEAD_MV / RAMP_MV_PER_S) * 1000;
        waitFrom = t0;
        // The value of the moment the request arrives, whole millivolts as the JK reports them:
        // the stop itself is first reported at stimulusAt.
        const valueAt = (t: number) => {
          const exact = startMv + (s * RAMP_MV_PER_S * (t - t0)) / 1000;
          return s > 0 ? Math.floor(exact) : Math.ceil(exact);
        };
        overrides.set(CELL, startMv);
        onRequest = () => overrides.set(CELL, valueAt(now()));
        rig.bms.on('request', onRequest);
      }
      try {
        const frame = await rig.waitForFrame(`${kind}: limit 0`, waitFrom, zero(direction), timeoutMs + (stimulusAt - waitFrom));
        return frame.atMs - stimulusAt;
      } finally {
        if (onRequest) rig.bms.off('request', onRequest);
        overrides.delete(CELL);
        await rig.waitForFrame(`${kind}: limit > 0 again`, now(), positive(direction), timeoutMs);
      }
    };

    const samples: Record<ReactionKind, number[]> = { 'ramp-charge': [], 'step-charge': [], 'ramp-discharge': [], 'step-discharge': [] };
    for (let i = 0; i < options.trials; i++) {
      for (const kind of kinds) samples[kind].push(await trial(kind));
      if ((i + 1) % 10 === 0) {
        const last = kinds.map((k) => `${k} ${samples[k][i]}`).join(', ');
        options.log(`  ${options.inverter} round ${i + 1}/${options.trials}: ${last} ms`);
      }
    }

    const violations: Record<string, number> = {};
    for (const v of rig.inverter.checker.violations) violations[v.rule] = (violations[v.rule] ?? 0) + 1;
    return {
      inverter: options.inverter,
      settings,
      config: rig.config,
      rampMvPerS: RAMP_MV_PER_S,
      rampLeadMv: RAMP_LEAD_MV,
      stepPastMv: STEP_PAST_MV,
      kinds: Object.fromEntries(kinds.map((k) => [k, { ...distribution(samples[k]), samplesMs: samples[k] }])),
      stepsNotRelaxed,
      violations,
    };
  } finally {
    await disconnect?.();
    await rig.close();
  }
}
