/**
 * Pylon HV request-to-reply latency on the portable rig (sim-bms jk-24s-200ah on a pty, the
 * pylon-hv virtual inverter behind SLCAN on a pty, the real bridge with `--profile pylon-hv` and its
 * default timing): from the moment the inverter hands a 0x4200 ensemble request to its adapter to
 * the last of the nine answer frames it receives (the checker's reply tracker measures both ends on
 * the inverter's side, as a real inverter would).
 *
 *   paced  extra ensemble requests 100 ms apart on top of the inverter's own 1 s polling;
 *   storm  300 requests/s for 3 s: the bridge answers each set from the newest data and queues at
 *          most one waiting answer, so a set answers every request that came while it was sent,
 *          and its latency counts from the oldest of them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PtyRig } from '../rig/src/rig-setup';
import { loadProfile } from '../sim-bms/src/profile';
import { distribution, type Distribution } from './stats';

export interface HvLatencyOptions {
  /** Paced requests (100 ms apart). */
  requests: number;
  log: (line: string) => void;
}

export interface HvLatencyResult {
  /** The virtual inverter's own reply timeout (the limit an answer is judged by). */
  replyTimeoutMs: number;
  paced: Distribution & { samplesMs: number[] };
  storm: Distribution & { requests: number; answers: number };
  /** Violations the inverter's checker recorded, by rule. */
  violations: Record<string, number>;
}

const PACE_MS = 100;
const STORM = { requests: 900, durationMs: 3000 };

export async function measureHvLatency(options: HvLatencyOptions): Promise<HvLatencyResult> {
  const rig = await PtyRig.open({ battery: loadProfile('jk-24s-200ah'), socPct: 50, inverter: 'pylon-hv' });
  try {
    const replies = rig.inverter.checker.replies;
    const polling = rig.inverter.profile.pylonHv;
    if (replies === null || polling === null) throw new Error('the pylon-hv inverter has no reply tracker');
    rig.startBridge();
    await rig.waitForFrame('an answer with CCL > 0', Date.now(), (p) => (p.chargeCurrentLimitA ?? 0) > 0, 15_000);

    const run = async (line: string): Promise<void> => {
      const result = await rig.inverter.commands.execute(line);
      if (!result.ok) throw new Error(`sim-inverter "${line}": ${result.output}`);
    };

    const pacedFrom = replies.replyLatenciesMs.length;
    for (let i = 0; i < options.requests; i++) {
      await run('hv ensemble');
      await sleep(PACE_MS);
      if ((i + 1) % 100 === 0) options.log(`  hv paced request ${i + 1}/${options.requests}`);
    }
    await sleep(polling.replyTimeoutMs);
    const paced = replies.replyLatenciesMs.slice(pacedFrom);

    const stormFrom = replies.replyLatenciesMs.length;
    await run(`hv storm ${STORM.requests} ${STORM.durationMs}ms`);
    await sleep(STORM.durationMs + polling.replyTimeoutMs);
    const storm = replies.replyLatenciesMs.slice(stormFrom);
    options.log(`  hv storm: ${STORM.requests} requests, ${storm.length} answers`);

    const violations: Record<string, number> = {};
    for (const v of rig.inverter.checker.violations) violations[v.rule] = (violations[v.rule] ?? 0) + 1;
    return {
      replyTimeoutMs: polling.replyTimeoutMs,
      paced: { ...distribution(paced), samplesMs: paced },
      storm: { ...distribution(storm), requests: STORM.requests, answers: storm.length },
      violations,
    };
  } finally {
    await rig.close();
  }
}
