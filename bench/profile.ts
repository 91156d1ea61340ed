/**
 * `npm run bench:profile [-- --fastest] [-- --seconds 90]`: where the bridge's CPU goes at steady
 * state. Runs the bridge on the portable rig under `node --cpu-prof`, skips the first 10 s
 * (start-up), and sums the sampled main-thread time by the area of the bridge each stack belongs
 * to (the first area, in the order below, that a frame of the stack falls in). The profile itself
 * goes to bench/tmp/profiles/ (open it in Chrome DevTools); nothing is published. The sampler
 * slows the bridge down several times, so the shares count, not the absolute times.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BRIDGE_ENTRY } from '../rig/src/bridge-process';
import { PtyRig } from '../rig/src/rig-setup';
import { loadProfile } from '../sim-bms/src/profile';
import { WEB_ON_ANY_PORT } from './web-port';

const HERE = path.resolve(__dirname, '..');
const ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;
const OUT = path.join(ROOT, 'bench/tmp/profiles');
const WARM_UP_US = 10e6;

/** Areas of the bridge, by a pattern of "function url:line" stack frames; the first match wins. */
const AREAS: ReadonlyArray<[string, RegExp]> = [
  ['start-up (module loading, config)', /cjs\/loader|bridge\/src\/main\.js:0$/],
  ['control policy (stepControl)', /^stepControl /],
  ['frame sets (busFrames, encode)', /^busFrames |bus-output\.js/],
  ['status line and status model (runtime, status/)', /^statusLine |^bridgeStatus |status\/hub\.js|runtime\.js:\d+$/],
  ['JK decode, framer, plausibility', /^decodeResponse |jk\/decode\.js|jk\/framer\.js|^checkPlausibility /],
  ['statechart machinery (xstate)', /node_modules\/xstate\//],
  ['serial I/O (serialport stream, poller, read/write)', /serial-link\.js|node_modules\/@serialport\/|node:internal\/streams|^readSync |^writeSync /],
  ['SLCAN (exchange, line splitter)', /slcan/],
  ['timers', /^processTimers |^listOnTimeout /],
  ['promise jobs and nextTick', /^processTicksAndRejections /],
];

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

function areasOf(profile: CpuProfile): { totalMs: number; areas: Array<{ area: string; ms: number; pct: number }> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sums = new Map<string, number>();
  let atUs = 0;
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    atUs += profile.timeDeltas[i];
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(id)!.callFrame.functionName;
    if (atUs < WARM_UP_US || leaf === '(idle)') return;
    totalUs += us;
    let area = leaf === '(garbage collector)' ? 'garbage collection' : leaf === '(program)' ? 'native, outside JavaScript' : null;
    if (area === null) {
      const frames: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = byId.get(cur)!.callFrame;
        frames.push(`${f.functionName} ${f.url}:${f.lineNumber}`);
      }
      area = AREAS.find(([, pattern]) => frames.some((f) => pattern.test(f)))?.[0] ?? `other (${frames[0]})`;
    }
    sums.set(area, (sums.get(area) ?? 0) + us);
  });
  const areas = [...sums]
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, ms: Math.round(us / 100) / 10, pct: Math.round((1000 * us) / totalUs) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), areas };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fastest: { type: 'boolean' }, seconds: { type: 'string', default: '90' } }, strict: true });
  const settings = [WEB_ON_ANY_PORT, ...(values.fastest === true ? ['bms.pollIntervalMs=100', 'bms.replyTimeoutMs=80'] : [])];
  mkdirSync(OUT, { recursive: true });
  const rig = await PtyRig.open({ battery: loadProfile('jk-16s-280ah'), socPct: 50, inverter: 'pylon-lv', settings });
  let polls = 0;
  rig.bms.on('served', () => (polls += 1));
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${OUT}`, '--cpu-prof-interval=500', BRIDGE_ENTRY, ...rig.bridgeArgs, '--log-format', 'json'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([sleep(Number(values.seconds) * 1000), exited]);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rig.close();
  }
  const newest = readdirSync(OUT)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(OUT, f))
    .filter((f) => statSync(f).mtimeMs >= startedAt)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (newest === undefined) throw new Error(`no profile written to ${OUT}`);
  const { totalMs, areas } = areasOf(JSON.parse(readFileSync(newest, 'utf8')) as CpuProfile);
  process.stdout.write(`${path.relative(ROOT, newest)}: ${polls} polls; ${totalMs} ms sampled on the main thread after the first 10 s\n\n`);
  process.stdout.write('| Area | ms | share |\n|---|---|---|\n');
  for (const a of areas.slice(0, 14)) process.stdout.write(`| ${a.area} | ${a.ms} | ${a.pct} % |\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`profile failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
