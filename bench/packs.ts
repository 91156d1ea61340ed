/**
 * A bank of packs (issue 12): the reaction from one pack's cell stepping over the charge stop to
 * CCL 0 on the bus, and the bridge's CPU and RSS, with 1, 4 and 16 packs, each its own virtual
 * BMS on its own pty, all on one DC bus. The bridge must hold the single-pack bound at 16 packs,
 * and its CPU must not grow faster than the pack count.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { systemClock } from '../bridge/src/clock';
import { BridgeProcess } from '../rig/src/bridge-process';
import { declaredBridgeConfig, PRODUCTION_TIMING, serveVirtualBank, startVirtualInverter, type RigDeclaration } from '../rig/src/rig-setup';
import { loadProfile } from '../sim-bms/src/profile';
import { patchOf } from '../sim-inverter/src/checker';
import { SlcanPtyEndpoint } from '../sim-inverter/src/slcan-pty';
import { distribution, type Distribution } from './stats';

export const PACK_COUNTS = [1, 4, 16] as const;

export interface PacksResult {
  packs: number;
  /** The stepping pack goes round the bank; its cell 5 steps to chargeStop + 20 mV. */
  reaction: Distribution;
  /** Bridge process over a steady window, all packs answering. */
  cpuPct: number;
  cpuPctPerPack: number;
  rssMb: number;
  violations: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const CLOCK_TICKS = 100;
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

export async function measurePacks(options: { packs: number; trials: number; steadyMs: number; log: (line: string) => void }): Promise<PacksResult> {
  const { packs, trials, steadyMs, log } = options;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jk-bench-packs-'));
  const profile = loadProfile('jk-16s-280ah');
  const declaration: RigDeclaration = { battery: profile, inverter: 'pylon-lv', timing: PRODUCTION_TIMING, timeScale: 1 };
  const links = Array.from({ length: packs }, (_, i) => path.join(dir, `bms-${i + 1}`));
  const canLink = path.join(dir, 'can');
  writeFileSync(path.join(dir, 'bridge.yaml'), stringify(declaredBridgeConfig(declaration)));
  // A short recovery so each trial starts from a charging bank.
  const args = ['--config', path.join(dir, 'bridge.yaml'), ...links.flatMap((l) => ['--bms', l]), '--can', `slcan:${canLink}`,
    '--set', 'control.current.chargeRecovery.holdS=0.5', '--set', 'control.current.chargeRecovery.rateAPerS=1000'];
  const bank = await serveVirtualBank({ packs: links.map((_, i) => ({ profile: { ...profile, seed: profile.seed + i }, socPct: 60 })), links });
  const slcan = await SlcanPtyEndpoint.open({ link: canLink, clock: systemClock });
  const inverter = await startVirtualInverter({ bus: slcan.bus, bms: bank, declaration, transportFaults: slcan });
  const bridge = new BridgeProcess(args);
  try {
    await bridge.waitForState('bms', 'connected', 30_000);
    await sleep(2000);
    const cpu0 = cpuSeconds(bridge.pid);
    const wall0 = Date.now();
    await sleep(steadyMs);
    const cpuPct = ((cpuSeconds(bridge.pid) - cpu0) / ((Date.now() - wall0) / 1000)) * 100;
    const rss = rssMb(bridge.pid);
    const stepMv = profile.settings.cellOvpMv > 3520 ? 3520 : profile.settings.cellOvpMv - 10;
    const samples: number[] = [];
    const frames = inverter.checker.frames;
    const lastCcl = (): number | undefined => [...frames].reverse().map((f) => patchOf(f)?.chargeCurrentLimitA).find((v) => v !== undefined);
    for (let t = 0; t < trials; t++) {
      const pack = 1 + (t % packs);
      const since = Date.now();
      await bank.commands.execute(`${pack} cell 5 ${stepMv}mV`);
      let hit: number | undefined;
      for (let waited = 0; hit === undefined && waited < 5000; waited += 5) {
        hit = frames.find((f) => f.atMs >= since && patchOf(f)?.chargeCurrentLimitA === 0)?.atMs;
        if (hit === undefined) await sleep(5);
      }
      if (hit === undefined) throw new Error(`bench packs: no CCL 0 within 5 s with ${packs} packs`);
      samples.push(hit - since);
      await bank.commands.execute(`${pack} cell 5 clear`);
      for (let waited = 0; !((lastCcl() ?? 0) > 0) && waited < 10_000; waited += 50) await sleep(50);
    }
    const result: PacksResult = {
      packs,
      reaction: distribution(samples),
      cpuPct: Math.round(cpuPct * 100) / 100,
      cpuPctPerPack: Math.round((cpuPct / packs) * 1000) / 1000,
      rssMb: Math.round(rss * 10) / 10,
      violations: inverter.checker.violations.length,
    };
    log(`packs ${packs}: reaction median ${result.reaction.medianMs} ms, p99 ${result.reaction.p99Ms} ms; CPU ${result.cpuPct} % (${result.cpuPctPerPack} % a pack), RSS ${result.rssMb} MB`);
    return result;
  } finally {
    await bridge.stop();
    await inverter.stop();
    await slcan.close();
    await bank.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
