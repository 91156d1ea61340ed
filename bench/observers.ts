/**
 * `npm run bench:observers [-- --trials N]`: do MQTT, the web page and a browser watching it cost
 * the CAN side anything? The reaction bench (bench/reaction.ts, cell steps past the charge stop) runs twice on the
 * portable rig: once with no observers (web.listen off, no MQTT), once with all three: a real broker
 * (Debian's mosquitto) the bridge publishes to every 100 ms with a client subscribed to everything,
 * the web page served, and Debian's chromium showing it live over SSE. Targets (issue 14): the p99
 * stays within 10 % of the run without them; the bridge's resident memory with all three on stays
 * under 100 MB. Results go to bench/tmp/observers.json (not published).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { launchChromium } from '../rig/src/browser';
import type { BridgeProcess } from '../rig/src/bridge-process';
import { Mosquitto } from '../rig/src/mosquitto';
import { measureReaction, reactionOf, type ReactionResult } from './reaction';

const HERE = path.resolve(__dirname, '..');
const ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** VmRSS and VmHWM (peak) of a process, in MB. */
function residentMb(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakMb: Math.round(kb('VmHWM') / 102.4) / 10 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { trials: { type: 'string', default: '30' } }, strict: true });
  const cellTrials = Number(values.trials);
  const broker = await Mosquitto.start();
  try {
    log(`observers bench: ${cellTrials} cell trials without observers`);
    const without = await measureReaction({ inverter: 'pylon-lv', trials: cellTrials, kinds: ['step-charge'], log, settings: ['web.listen=off'] });

    log(`observers bench: ${cellTrials} cell trials with MQTT, the web page and a browser on it`);
    let memory = { rssMb: NaN, peakMb: NaN };
    let mqttMessages = 0;
    let sseEvents = 0;
    const withObservers = await measureReaction({
      inverter: 'pylon-lv',
      trials: cellTrials,
      kinds: ['step-charge'],
      log,
      settings: ['web.listen=127.0.0.1:0', `mqtt.url=${broker.url}`, 'mqtt.periodMs=100', 'web.historySampleS=1'],
      connect: async (bridge: BridgeProcess) => {
        const line = await bridge.waitFor('the web page address', (l) => l.msg.startsWith('web page at '), 10_000);
        const watcher = mqtt.connect(broker.url);
        watcher.on('connect', () => watcher.subscribe('#'));
        watcher.on('message', () => (mqttMessages += 1));
        const chromium = await launchChromium();
        const page = await chromium.browser.newPage();
        await page.goto(line.msg.split(' ')[3], { waitUntil: 'load' });
        await page.waitForSelector('#live.on', { timeout: 10_000 });
        return async () => {
          sseEvents = await page.$$eval('#events li', (items) => items.length);
          memory = residentMb(bridge.pid);
          await chromium.close();
          watcher.end(true);
        };
      },
    });

    const p99Without = cellStep(without).p99Ms;
    const p99With = cellStep(withObservers).p99Ms;
    const results = {
      trials: cellTrials,
      without: summary(without),
      withObservers: { ...summary(withObservers), mqttMessagesSeen: mqttMessages, pageEventsShown: sseEvents, bridgeMemory: memory },
      targets: [
        { measure: 'reaction p99 with observers vs without', limit: '≤ +10 %', measured: `${p99With} ms vs ${p99Without} ms (${pct(p99With, p99Without)})`, pass: p99With <= 1.1 * p99Without },
        { measure: 'bridge resident memory with MQTT, page and browser', limit: '< 100 MB', measured: `${memory.rssMb} MB (peak ${memory.peakMb} MB)`, pass: memory.peakMb < 100 },
      ],
    };
    const out = path.join(ROOT, 'bench/tmp/observers.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    for (const t of results.targets) log(`${t.pass ? 'PASS' : 'MISS'} ${t.measure}: ${t.measured} (target ${t.limit})`);
    log(`written ${path.relative(ROOT, out)}`);
  } finally {
    await broker.stop();
  }
}

const cellStep = (result: ReactionResult) => reactionOf(result, 'step-charge');

function summary(result: ReactionResult) {
  return { cell: { ...cellStep(result), samplesMs: undefined }, violations: result.violations };
}

function pct(a: number, b: number): string {
  const d = (100 * (a - b)) / b;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)} %`;
}

main().catch((err: Error) => {
  log(`observers bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
