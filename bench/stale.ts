/**
 * Stale data → zero limits on the portable rig, with the bridge's default timing: sim-bms goes
 * silent → the first frame with CCL = DCL = 0, minus state.staleAfterMs. Between trials the BMS
 * answers again and the trial waits for CCL > 0; only the charge recovery (hold and ramp, 30 s
 * and 5 A/s by default) is shortened, which is not on this path.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnableConfig } from '../bridge/src/config/schema';
import type { BatteryStatePatch } from '../bridge/src/protocol/can';
import { PtyRig } from '../rig/src/rig-setup';
import { loadProfile } from '../sim-bms/src/profile';
import { systemClock } from '../bridge/src/clock';
import { distribution, type Distribution } from './stats';
import { WEB_ON_ANY_PORT } from './web-port';

/** The only overrides: how fast CCL comes back between trials. */

/** The rig's clock, which stamps the frames the inverter receives and the requests sim-bms gets. */
const now = (): number => systemClock.now();
export const STALE_SETTINGS = [WEB_ON_ANY_PORT, 'control.current.chargeRecovery.holdS=1', 'control.current.chargeRecovery.rateAPerS=50'] as const;

export interface StaleOptions {
  trials: number;
  log: (line: string) => void;
}

export interface StaleResult {
  settings: readonly string[];
  /** Everything the bridge ran with, as its own loader read the command line (links are the rig's ptys). */
  config: RunnableConfig;
  pollIntervalMs: number;
  replyTimeoutMs: number;
  canPeriodMs: number;
  staleAfterMs: number;
  /** First CCL = DCL = 0 frame − the last reply sim-bms wrote − staleAfterMs: the bridge's part. */
  afterLastReply: Distribution & { samplesMs: number[] };
  /** The same from the "silent" command; up to one poll interval lower, as the data was already that old. */
  afterSilentCommand: Distribution;
  /** Invariant and protocol violations the inverter's checker recorded over all trials, by rule. */
  violations: Record<string, number>;
}

const cclPositive = (p: BatteryStatePatch): boolean => p.chargeCurrentLimitA !== undefined && p.chargeCurrentLimitA > 0;

async function command(rig: PtyRig, line: string): Promise<void> {
  const result = await rig.bms.commands.execute(line);
  if (!result.ok) throw new Error(`sim-bms "${line}": ${result.output}`);
}

export async function measureStale(options: StaleOptions): Promise<StaleResult> {
  const battery = loadProfile('jk-16s-280ah');
  const rig = await PtyRig.open({ battery, socPct: 50, inverter: 'pylon-lv', settings: STALE_SETTINGS });
  try {
    const { bms: bmsConfig, can, state, control } = rig.config;
    const recoveryMs = 1000 * control.current.chargeRecovery.holdS + 3 * can.periodMs + 10_000;
    const reactionTimeoutMs = bmsConfig.pollIntervalMs + bmsConfig.replyTimeoutMs + can.periodMs + 5000;
    rig.startBridge();
    await rig.waitForFrame('CCL > 0 after start', now(), cclPositive, 15_000);

    // The next trial starts at a random point of the poll cycle: the CCL > 0 frame that ends a
    // trial comes at a fixed phase to the polls, so starting right after it would time one phase only.
    const settle = () => sleep(200 + Math.random() * bmsConfig.pollIntervalMs);

    const afterReply: number[] = [];
    const afterCommand: number[] = [];
    for (let i = 0; i < options.trials; i++) {
      await settle();
      const silencedAt = now();
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
      if ((i + 1) % 10 === 0) options.log(`  stale trial ${i + 1}/${options.trials}: last ${afterReply[i]} ms over the timeout`);
    }

    // Counted while the bridge still runs: its shutdown is not part of the trials.
    const violations: Record<string, number> = {};
    for (const v of rig.inverter.checker.violations) violations[v.rule] = (violations[v.rule] ?? 0) + 1;
    return {
      settings: STALE_SETTINGS,
      config: rig.config,
      pollIntervalMs: bmsConfig.pollIntervalMs,
      replyTimeoutMs: bmsConfig.replyTimeoutMs,
      canPeriodMs: can.periodMs,
      staleAfterMs: state.staleAfterMs,
      afterLastReply: { ...distribution(afterReply), samplesMs: afterReply },
      afterSilentCommand: distribution(afterCommand),
      violations,
    };
  } finally {
    await rig.close();
  }
}
