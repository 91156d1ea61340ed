/**
 * What the bridge costs the box it runs on, measured on the bridge child process of the portable
 * rig the way `top` does it (/proc/<pid>/stat and /proc/<pid>/status):
 *
 *   steady state  CPU time per poll cycle, CPU share of one core, resident memory (after a
 *                 warm-up of a tenth of the run, so start-up work is not counted as steady state);
 *   cold start    spawn → the first CAN frame the inverter receives, with the BMS answering;
 *   period jitter per CAN id, the intervals between two frames of one id as the inverter
 *                 received them over the measured window (the set goes out every can.periodMs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatCanId } from '../bridge/src/protocol/can/frame';
import { PtyRig } from '../rig/src/rig-setup';
import type { FrameRecord } from '../sim-inverter/src/checker';
import { loadProfile } from '../sim-bms/src/profile';
import { distribution, type Distribution } from './stats';
import { WEB_ON_ANY_PORT } from './web-port';

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const RSS_SAMPLE_EVERY_MS = 15_000;
const FIRST_FRAME_TIMEOUT_MS = 15_000;

export interface FootprintOptions {
  /** Bridge config overrides (`--set`); none = the defaults (2 polls/s). */
  settings: readonly string[];
  /** From spawn to the final reading. */
  durationMs: number;
  log: (line: string) => void;
  /** An installed jk-can-bridge to measure instead of this tree's build (bench/installed.ts). */
  command?: string;
}

export interface FootprintResult {
  settings: readonly string[];
  pollIntervalMs: number;
  canPeriodMs: number;
  durationS: number;
  /** The measured window: from the end of the warm-up to the final reading. */
  windowS: number;
  /** Polls the BMS answered in the window. */
  polls: number;
  pollsPerSecond: number;
  /** Bridge user + system CPU time in the window per answered poll (includes the periodic CAN sets). */
  cpuMsPerPoll: number;
  cpuPctOfOneCore: number;
  /** VmRSS at the end of the run. */
  rssMb: number;
  /** VmHWM: the most the bridge was resident at any time. */
  peakRssMb: number;
  /** VmRSS every 15 s over the window, to show whether it grows. */
  rssMbSamples: number[];
  /** Intervals between frames of one id at the inverter over the window, by id ("0x351"). */
  periodsById: Record<string, Distribution>;
  /** The same over every id: how far a frame strays from can.periodMs. */
  periods: Distribution;
}

export interface ColdStartResult extends Distribution {
  samplesMs: number[];
  /** `node -e ''` on this machine, for scale: the part of a cold start the bridge cannot save. */
  nodeBaseline: Distribution;
}

interface ProcStat {
  cpuTicks: number;
}

function procStat(pid: number): ProcStat {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

function memoryMb(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(match[1]);
  };
  const mb = (value: number) => Math.round((value / 1024) * 10) / 10;
  return { rssMb: mb(kb('VmRSS')), peakRssMb: mb(kb('VmHWM')) };
}

/** Intervals between consecutive frames of each id received in [fromMs, toMs]. */
export function periodsOf(frames: readonly FrameRecord[], fromMs: number, toMs: number): { byId: Record<string, number[]>; all: number[] } {
  const last = new Map<string, number>();
  const byId: Record<string, number[]> = {};
  const all: number[] = [];
  for (const record of frames) {
    if (record.atMs < fromMs || record.atMs > toMs) continue;
    const id = formatCanId(record.frame);
    const previous = last.get(id);
    last.set(id, record.atMs);
    if (previous === undefined) continue;
    (byId[id] ??= []).push(record.atMs - previous);
    all.push(record.atMs - previous);
  }
  return { byId, all };
}

export async function measureFootprint(options: FootprintOptions): Promise<FootprintResult> {
  const rig = await PtyRig.open({
    battery: loadProfile('jk-16s-280ah'),
    socPct: 50,
    inverter: 'pylon-lv',
    settings: [WEB_ON_ANY_PORT, ...options.settings],
  });
  try {
    let answered = 0;
    rig.bms.on('served', () => (answered += 1));
    const spawnedAt = Date.now();
    const { pid } = rig.startBridge(options.command);
    await rig.waitForFrame('a first frame', spawnedAt, () => true, FIRST_FRAME_TIMEOUT_MS);
    const endAt = spawnedAt + options.durationMs;
    const windowStartAt = spawnedAt + options.durationMs / 10;

    await sleep(Math.max(0, windowStartAt - Date.now()));
    const start = { atMs: Date.now(), cpuTicks: procStat(pid).cpuTicks, polls: answered };
    const rssMbSamples = [memoryMb(pid).rssMb];
    while (Date.now() < endAt) {
      await sleep(Math.min(RSS_SAMPLE_EVERY_MS, Math.max(0, endAt - Date.now())));
      rssMbSamples.push(memoryMb(pid).rssMb);
      options.log(`  poll ${rig.config.bms.pollIntervalMs} ms, ${Math.round((Date.now() - spawnedAt) / 1000)} s: RSS ${rssMbSamples.at(-1)} MB, ${answered} polls answered`);
    }
    const endTicks = procStat(pid).cpuTicks;
    const endedAt = Date.now();
    const memory = memoryMb(pid);
    const polls = answered - start.polls;
    const cpuMs = ((endTicks - start.cpuTicks) * 1000) / CLK_TCK;
    const windowMs = endedAt - start.atMs;
    const periods = periodsOf(rig.inverter.checker.frames, start.atMs, endedAt);
    return {
      settings: options.settings,
      pollIntervalMs: rig.config.bms.pollIntervalMs,
      canPeriodMs: rig.config.can.periodMs,
      durationS: Math.round((endedAt - spawnedAt) / 1000),
      windowS: Math.round(windowMs / 100) / 10,
      polls,
      pollsPerSecond: Math.round((polls / windowMs) * 1e4) / 10,
      cpuMsPerPoll: Math.round((cpuMs / polls) * 1000) / 1000,
      cpuPctOfOneCore: Math.round((cpuMs / windowMs) * 1e4) / 100,
      rssMb: memory.rssMb,
      peakRssMb: memory.peakRssMb,
      rssMbSamples,
      periodsById: Object.fromEntries(Object.entries(periods.byId).map(([id, intervals]) => [id, distribution(intervals)])),
      periods: distribution(periods.all),
    };
  } finally {
    await rig.close();
  }
}

export async function measureColdStart(trials: number, log: (line: string) => void, command?: string): Promise<ColdStartResult> {
  const rig = await PtyRig.open({ battery: loadProfile('jk-16s-280ah'), socPct: 50, inverter: 'pylon-lv', settings: [WEB_ON_ANY_PORT] });
  try {
    const samples: number[] = [];
    for (let i = 0; i < trials; i++) {
      // The previous bridge closed both ptys; give the simulators a moment to be listening again.
      await sleep(1000);
      const spawnedAt = Date.now();
      const bridge = rig.startBridge(command);
      const first = await rig.waitForFrame('a first frame', spawnedAt, () => true, FIRST_FRAME_TIMEOUT_MS);
      samples.push(first.atMs - spawnedAt);
      await bridge.stop();
      log(`  cold start ${i + 1}/${trials}: ${samples[i]} ms`);
    }
    const baseline: number[] = [];
    for (let i = 0; i < trials; i++) {
      const startedAt = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '']);
      baseline.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
    }
    return { ...distribution(samples), samplesMs: samples, nodeBaseline: distribution(baseline) };
  } finally {
    await rig.close();
  }
}
