/**
 * `npm run bench`: reaction latency, throughput and footprint of the bridge on this machine.
 * Writes bench/results.json and the results block of bench/README.md (the text around it is
 * written by people: method, and why a target was missed).
 *
 * `npm run bench -- --quick`: fewer trials and 30 s footprint runs, for a fast check. Its results
 * go to bench/tmp/ (ignored by git) and are never published.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { measureColdStart, measureFootprint, type ColdStartResult, type FootprintResult } from './footprint';
import { measureHvLatency, type HvLatencyResult } from './hv-latency';
import { measureLatency, type LatencyResult } from './latency';
import { measureThroughput, type ThroughputOptions, type ThroughputResult } from './throughput';

/** The repository root, whether this file runs from source or from dist/. */
const HERE = path.resolve(__dirname, '..');
const ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;
const README = path.join(ROOT, 'bench/README.md');
const BLOCK_START = '<!-- bench:results:start -->';
const BLOCK_END = '<!-- bench:results:end -->';

interface Plan {
  cellTrials: number;
  staleTrials: number;
  coldStarts: number;
  footprintMs: number;
  throughput: ThroughputOptions;
  /** Pylon HV ensemble requests 100 ms apart (hv-latency.ts). */
  hvRequests: number;
}

const PLANS: Record<'full' | 'quick', Plan> = {
  // 100 cell trials so that p99 is not simply the maximum; 50 stale trials take ~7 min at the
  // default 5 s stale timeout, which is kept rather than shortened.
  full: { cellTrials: 100, staleTrials: 50, coldStarts: 10, footprintMs: 5 * 60_000, throughput: { roundMs: 1000, rounds: 5 }, hvRequests: 500 },
  quick: { cellTrials: 10, staleTrials: 5, coldStarts: 3, footprintMs: 30_000, throughput: { roundMs: 300, rounds: 3 }, hvRequests: 50 },
};

/** At 10 polls/s the reply timeout must come down too (the loader refuses timeout ≥ interval). */
const TEN_POLLS_SETTINGS = ['bms.pollIntervalMs=100', 'bms.replyTimeoutMs=80'];

interface Target {
  measure: string;
  limit: string;
  measured: string;
  pass: boolean;
  /** How far off, when missed. */
  miss: string | null;
}

interface Results {
  mode: 'full' | 'quick';
  startedAt: string;
  finishedAt: string;
  machine: {
    cores: number;
    cpuModel: string;
    node: string;
    os: string;
    totalMemoryMb: number;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  plan: Plan;
  config: {
    note: string;
    reactionPath: LatencyResult['config'];
    settings: Record<string, readonly string[]>;
  };
  targets: Target[];
  latency: LatencyResult;
  throughput: ThroughputResult;
  footprint: { twoPollsPerSecond: FootprintResult; tenPollsPerSecond: FootprintResult; coldStart: ColdStartResult };
  pylonHv: HvLatencyResult;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const loadAverage = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "≤ limit" / "< limit" targets: the figure, pass or miss, and by how much. */
function target(measure: string, limitText: string, value: number, limit: number, strict: boolean, unit: string, digits = 0): Target {
  const pass = strict ? value < limit : value <= limit;
  const over = value - limit;
  return {
    measure,
    limit: limitText,
    measured: `${value.toFixed(digits)} ${unit}`,
    pass,
    miss: pass ? null : `${over.toFixed(digits)} ${unit} over (${((over / limit) * 100).toFixed(0)} %)`,
  };
}

function targets(r: Omit<Results, 'targets' | 'finishedAt'>): Target[] {
  const lat = r.latency;
  const two = r.footprint.twoPollsPerSecond;
  const decode16 = r.throughput.decode['16S'].perSecond;
  return [
    target(
      `Reaction p99: cell > ${lat.chargeStopCellMv} mV → CCL 0 (n=${lat.cell.n})`,
      `≤ ${lat.pollIntervalMs + 25} ms (poll ${lat.pollIntervalMs} ms + 25)`,
      lat.cell.p99Ms,
      lat.pollIntervalMs + 25,
      false,
      'ms',
    ),
    target(
      `Stale-to-zero p99: last BMS reply → CCL = DCL = 0 (n=${lat.stale.afterLastReply.n})`,
      `≤ ${lat.staleAfterMs + lat.canPeriodMs} ms (stale ${lat.staleAfterMs} + period ${lat.canPeriodMs})`,
      lat.staleAfterMs + lat.stale.afterLastReply.p99Ms,
      lat.staleAfterMs + lat.canPeriodMs,
      false,
      'ms',
    ),
    {
      measure: 'JK decode, 16S replies on one core',
      limit: '≥ 200,000 /s',
      measured: `${thousands(decode16)} /s`,
      pass: decode16 >= 200_000,
      miss: decode16 >= 200_000 ? null : `${thousands(200_000 - decode16)} /s short (${(((200_000 - decode16) / 200_000) * 100).toFixed(0)} %)`,
    },
    target('Bridge CPU at 2 polls/s (steady state)', '< 1 % of one core', two.cpuPctOfOneCore, 1, true, '%', 2),
    target('Bridge RSS at 2 polls/s after the run', '< 80 MB', two.rssMb, 80, true, 'MB', 1),
    target(
      `Pylon HV p99: 0x4200 → last answer frame (n=${r.pylonHv.paced.n})`,
      `≤ ${r.pylonHv.replyTimeoutMs} ms (the virtual inverter's reply timeout)`,
      r.pylonHv.paced.p99Ms,
      r.pylonHv.replyTimeoutMs,
      false,
      'ms',
    ),
    target(
      `Cold start: spawn → first CAN frame, worst of ${r.footprint.coldStart.n}`,
      '< 2000 ms',
      r.footprint.coldStart.maxMs,
      2000,
      true,
      'ms',
    ),
  ];
}

function markdown(r: Results): string {
  const { latency: lat, throughput: tp, footprint: fp, machine: m } = r;
  const d = (x: { medianMs: number; p95Ms: number; p99Ms: number; maxMs: number }) =>
    `median ${x.medianMs} · p95 ${x.p95Ms} · p99 ${x.p99Ms} · max ${x.maxMs} ms`;
  const steady = (f: FootprintResult) =>
    `${f.cpuMsPerPoll} ms CPU per poll · ${f.cpuPctOfOneCore} % of one core · RSS ${f.rssMb} MB (peak ${f.peakRssMb} MB) · ${f.polls} polls in ${f.windowS} s`;
  const lines = [
    BLOCK_START,
    `_Generated by \`npm run bench\` (${r.mode} run), ${r.startedAt} → ${r.finishedAt}._`,
    '',
    `Machine: ${m.cores} × ${m.cpuModel}, ${m.os}, Node ${m.node}, ${m.totalMemoryMb} MB RAM; ` +
      `load average ${m.loadAverageAtStart.join(' / ')} at start, ${m.loadAverageAtEnd.join(' / ')} at end (other processes were running).`,
    '',
    `Bridge config: the defaults (poll ${lat.pollIntervalMs} ms, reply timeout ${lat.replyTimeoutMs} ms, CAN period ${lat.canPeriodMs} ms, ` +
      `stale after ${lat.staleAfterMs} ms, charge stop ${lat.chargeStopCellMv} mV), pylon-lv over SLCAN on a pty, sim-bms jk-16s-280ah at 50 % SoC. ` +
      `Overrides: latency ${r.config.settings.latency.map((s) => `\`${s}\``).join(', ')} (recovery between trials only); ` +
      `10 polls/s ${r.config.settings.tenPollsPerSecond.map((s) => `\`${s}\``).join(', ')}.`,
    '',
    '| Target | Limit | Measured | Result |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.measure} | ${t.limit} | ${t.measured} | ${t.pass ? 'pass' : `**miss**: ${t.miss}`} |`),
    '',
    '| Figure | Value |',
    '|---|---|',
    `| Reaction, cell ${lat.trialCellMv} mV → first CCL = 0 frame (n=${lat.cell.n}) | ${d(lat.cell)} |`,
    `| Stale → first zero-limit frame, beyond the ${lat.staleAfterMs} ms timeout, from the last reply (n=${lat.stale.afterLastReply.n}) | ${d(lat.stale.afterLastReply)} |`,
    `| … the same from the \`silent\` command | ${d(lat.stale.afterSilentCommand)} |`,
    `| JK decode, 16S (${tp.decode['16S'].frameBytes} B) / 24S (${tp.decode['24S'].frameBytes} B) | ${thousands(tp.decode['16S'].perSecond)} / ${thousands(tp.decode['24S'].perSecond)} frames/s |`,
    `| JK framer, ${tp.framer.streamBytes} B stream, ${tp.framer.frames} replies, ${tp.framer.junkBytes} B junk, ${tp.framer.truncatedFrames} cut-off replies, ${tp.framer.chunkBytes} B reads | ${tp.framer.mbPerSecond} MB/s |`,
    ...Object.entries(tp.canEncode).map(([name, rate]) => `| CAN frame set encode, ${name} (${rate.framesPerSet} frames) | ${thousands(rate.perSecond)} sets/s |`),
    `| Bridge at 2 polls/s, ${fp.twoPollsPerSecond.durationS} s | ${steady(fp.twoPollsPerSecond)} |`,
    `| Bridge at 10 polls/s, ${fp.tenPollsPerSecond.durationS} s | ${steady(fp.tenPollsPerSecond)} |`,
    `| Pylon HV, 0x4200 → last of 9 answer frames, requests 100 ms apart (n=${r.pylonHv.paced.n}) | ${d(r.pylonHv.paced)} |`,
    `| … during a storm of ${r.pylonHv.storm.requests} requests in 3 s (${r.pylonHv.storm.answers} answers, from the oldest request each answers) | ${d(r.pylonHv.storm)} |`,
    `| Cold start, spawn → first CAN frame (n=${fp.coldStart.n}) | ${d(fp.coldStart)}; \`node -e ''\` alone: median ${fp.coldStart.nodeBaseline.medianMs} ms |`,
    '',
    'Every sample and the full effective config: [results.json](results.json).',
    BLOCK_END,
  ];
  return lines.join('\n');
}

function publishTable(block: string): void {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(BLOCK_START);
  const end = text.indexOf(BLOCK_END);
  if (start < 0 || end < start) throw new Error(`${README}: the ${BLOCK_START} … ${BLOCK_END} block is missing`);
  writeFileSync(README, text.slice(0, start) + block + text.slice(end + BLOCK_END.length));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' } }, strict: true });
  const mode = values.quick === true ? 'quick' : 'full';
  const plan = PLANS[mode];
  const startedAt = new Date().toISOString();
  const cpus = os.cpus();
  const machine = {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: loadAverage(),
    loadAverageAtEnd: [] as number[],
  };
  log(`bench (${mode}) on ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);

  log('throughput (in-process)…');
  const throughput = measureThroughput(plan.throughput);
  log(`cold start × ${plan.coldStarts}…`);
  const coldStart = await measureColdStart(plan.coldStarts, log);
  log(`latency: ${plan.cellTrials} cell trials, ${plan.staleTrials} stale trials…`);
  const latency = await measureLatency({ cellTrials: plan.cellTrials, staleTrials: plan.staleTrials, log });
  log(`footprint at 2 polls/s for ${plan.footprintMs / 1000} s…`);
  const twoPollsPerSecond = await measureFootprint({ settings: [], durationMs: plan.footprintMs, log });
  log(`footprint at 10 polls/s for ${plan.footprintMs / 1000} s…`);
  const tenPollsPerSecond = await measureFootprint({ settings: TEN_POLLS_SETTINGS, durationMs: plan.footprintMs, log });
  log(`pylon-hv request → reply: ${plan.hvRequests} paced requests and a storm…`);
  const pylonHv = await measureHvLatency({ requests: plan.hvRequests, log });
  machine.loadAverageAtEnd = loadAverage();

  const partial = {
    mode,
    startedAt,
    machine,
    plan,
    config: {
      note: 'Bridge defaults; the only overrides are listed per measurement (--set).',
      reactionPath: latency.config,
      settings: { latency: latency.settings, twoPollsPerSecond: twoPollsPerSecond.settings, tenPollsPerSecond: tenPollsPerSecond.settings, coldStart: [] },
    },
    latency,
    throughput,
    footprint: { twoPollsPerSecond, tenPollsPerSecond, coldStart },
    pylonHv,
  } satisfies Omit<Results, 'targets' | 'finishedAt'>;
  const results: Results = { ...partial, targets: targets(partial), finishedAt: new Date().toISOString() };

  const block = markdown(results);
  if (mode === 'full') {
    writeFileSync(path.join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
    publishTable(block);
    log('wrote bench/results.json and the table in bench/README.md');
  } else {
    const out = path.join(ROOT, 'bench/tmp/results.quick.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(`quick run: wrote ${path.relative(ROOT, out)}; nothing published`);
  }
  process.stdout.write(`${block}\n`);
}

main().catch((err: Error) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
