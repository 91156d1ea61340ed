/**
 * Reaction latency on the portable rig (sim-bms on a pty, sim-inverter behind SLCAN on a pty, the
 * real bridge in between), with the bridge's default timing:
 *
 *   cell   sim-bms switches one cell above control.chargeStopCellMv → the first frame with CCL = 0
 *          the inverter receives;
 *   stale  sim-bms goes silent → the first frame with CCL = DCL = 0, minus state.staleAfterMs.
 *
 * Between trials the BMS is returned to normal and the trial waits for CCL > 0 again. Only the
 * charge recovery (hold and ramp, 30 s and 5 A/s by default) is shortened, which is not on the
 * reaction path: a decrease is sent at once whatever the recovery settings.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnableConfig } from '../bridge/src/config/schema';
import type { BatteryStatePatch } from '../bridge/src/protocol/can';
import { bridgeSettingsFor, PtyRig } from '../rig/src/rig-setup';
import { loadProfile } from '../sim-bms/src/profile';
import { distribution, type Distribution } from './stats';

/** The only overrides: how fast CCL comes back between trials. */
export const LATENCY_SETTINGS = ['control.current.chargeRecovery.holdS=1', 'control.current.chargeRecovery.rateAPerS=50'] as const;

/** Above the charge stop, below the 16S profile's cell OVP (3650 mV) and cell-difference protection. */
const OVER_STOP_MV = 50;

export interface LatencyOptions {
  cellTrials: number;
  staleTrials: number;
  log: (line: string) => void;
}

export interface LatencyResult {
  settings: readonly string[];
  /** Everything the bridge ran with, as its own loader read the command line (links are the rig's ptys). */
  config: RunnableConfig;
  pollIntervalMs: number;
  replyTimeoutMs: number;
  canPeriodMs: number;
  staleAfterMs: number;
  chargeStopCellMv: number;
  trialCellMv: number;
  /** Switch → first CCL = 0 frame. */
  cell: Distribution & { samplesMs: number[] };
  stale: {
    /** First CCL = DCL = 0 frame − the last reply sim-bms wrote − staleAfterMs: the bridge's part. */
    afterLastReply: Distribution & { samplesMs: number[] };
    /** The same from the "silent" command; up to one poll interval lower, as the data was already that old. */
    afterSilentCommand: Distribution;
  };
  /** Invariant and protocol violations the inverter's checker recorded over all trials, by rule. */
  violations: Record<string, number>;
}

const cclPositive = (p: BatteryStatePatch): boolean => p.chargeCurrentLimitA !== undefined && p.chargeCurrentLimitA > 0;

async function command(rig: PtyRig, line: string): Promise<void> {
  const result = await rig.bms.commands.execute(line);
  if (!result.ok) throw new Error(`sim-bms "${line}": ${result.output}`);
}

export async function measureLatency(options: LatencyOptions): Promise<LatencyResult> {
  const battery = loadProfile('jk-16s-280ah');
  const rig = await PtyRig.open({ battery, socPct: 50, inverter: 'pylon-lv', settings: LATENCY_SETTINGS });
  try {
    const { bms: bmsConfig, can, state } = rig.config;
    const control = bridgeSettingsFor(rig.config, battery);
    const trialCellMv = control.chargeStopCellMv + OVER_STOP_MV;
    const recoveryMs = 1000 * control.current.chargeRecovery.holdS + 3 * can.periodMs + 10_000;
    const reactionTimeoutMs = bmsConfig.pollIntervalMs + bmsConfig.replyTimeoutMs + can.periodMs + 5000;
    rig.startBridge();
    await rig.waitForFrame('CCL > 0 after start', Date.now(), cclPositive, 15_000);

    // The next trial starts at a random point of the poll cycle: the CCL > 0 frame that ends a
    // trial comes at a fixed phase to the polls, so starting right after it would time one phase only.
    const settle = () => sleep(200 + Math.random() * bmsConfig.pollIntervalMs);

    const cellSamples: number[] = [];
    for (let i = 0; i < options.cellTrials; i++) {
      await settle();
      const switchedAt = Date.now();
      await command(rig, `cell 1 ${trialCellMv}mV`);
      const zero = await rig.waitForFrame('CCL = 0', switchedAt, (p) => p.chargeCurrentLimitA === 0, reactionTimeoutMs);
      cellSamples.push(zero.atMs - switchedAt);
      await command(rig, 'cell 1 clear');
      await rig.waitForFrame('CCL > 0 again', zero.atMs, cclPositive, recoveryMs);
      if ((i + 1) % 10 === 0) options.log(`  cell trial ${i + 1}/${options.cellTrials}: last ${cellSamples[i]} ms`);
    }

    const afterReply: number[] = [];
    const afterCommand: number[] = [];
    for (let i = 0; i < options.staleTrials; i++) {
      await settle();
      const silencedAt = Date.now();
      await command(rig, 'silent');
      const zero = await rig.waitForFrame(
        'CCL = DCL = 0',
        silencedAt,
        (p) => p.chargeCurrentLimitA === 0 && p.dischargeCurrentLimitA === 0,
        state.staleAfterMs + reactionTimeoutMs,
      );
      const lastReplyAt = rig.bms.lastServed?.atMs;
      if (lastReplyAt === undefined) throw new Error('sim-bms never answered');
      afterReply.push(zero.atMs - lastReplyAt - state.staleAfterMs);
      afterCommand.push(zero.atMs - silencedAt - state.staleAfterMs);
      await command(rig, 'silent off');
      await rig.waitForFrame('CCL > 0 again', zero.atMs, cclPositive, recoveryMs);
      if ((i + 1) % 10 === 0) options.log(`  stale trial ${i + 1}/${options.staleTrials}: last ${afterReply[i]} ms over the timeout`);
    }

    // Counted while the bridge still runs: its shutdown is not part of the trials.
    const violations: Record<string, number> = {};
    for (const v of rig.inverter.checker.violations) violations[v.rule] = (violations[v.rule] ?? 0) + 1;
    return {
      settings: LATENCY_SETTINGS,
      config: rig.config,
      pollIntervalMs: bmsConfig.pollIntervalMs,
      replyTimeoutMs: bmsConfig.replyTimeoutMs,
      canPeriodMs: can.periodMs,
      staleAfterMs: state.staleAfterMs,
      chargeStopCellMv: control.chargeStopCellMv,
      trialCellMv,
      cell: { ...distribution(cellSamples), samplesMs: cellSamples },
      stale: {
        afterLastReply: { ...distribution(afterReply), samplesMs: afterReply },
        afterSilentCommand: distribution(afterCommand),
      },
      violations,
    };
  } finally {
    await rig.close();
  }
}
