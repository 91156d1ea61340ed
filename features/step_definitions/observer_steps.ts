/** MQTT, Home Assistant discovery and the web page, seen from a real broker and a real browser. */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import { observers } from '../support/observers';
import type { RigWorld } from '../support/world';

/** The page's DOM as the functions that run in the browser use it (the project compiles without the DOM library). */
declare const document: {
  getElementById(id: string): { dataset: Record<string, string | undefined>; textContent: string | null } | null;
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
};

const BASE = 'jk-can-bridge/rig';
const WEB_TOKEN = 'scenario-token-0123456789';

function setting(world: RigWorld, key: string, value: string | number | boolean): void {
  assert.equal(world.bridge, undefined, 'give bridge settings before the bridge starts');
  world.settings.push([key, String(value)]);
}

Given('an MQTT broker the bridge publishes to', async function (this: RigWorld) {
  const broker = await observers(this).startBroker();
  setting(this, 'name', 'rig');
  setting(this, 'mqtt.url', broker.url);
  setting(this, 'mqtt.periodMs', this.ms(500));
  setting(this, 'mqtt.reconnectInitialMs', this.ms(200));
  setting(this, 'mqtt.reconnectMaxMs', this.ms(1000));
  await observers(this).watch();
});

Given('the bridge accepts MQTT commands', function (this: RigWorld) {
  setting(this, 'mqtt.commands', true);
});

Given('the bridge serves its web page on a free port', function (this: RigWorld) {
  setting(this, 'name', 'rig');
  setting(this, 'web.listen', '127.0.0.1:0');
  // A chart point a second, so the charts have a line within the scenario.
  setting(this, 'web.historySampleS', 1);
});

Given('the bridge accepts commands from its web page', function (this: RigWorld) {
  setting(this, 'web.commands', true);
  setting(this, 'web.token', WEB_TOKEN);
});

async function retainedState(world: RigWorld, ms: number, ok: (state: Record<string, unknown>) => boolean, what: string) {
  const rig = observers(world);
  return world.eventually(
    () => `the broker holds a bridge state with ${what}; latest: ${rig.latest(`${BASE}/state`)?.payload ?? 'none'}`,
    () => {
      const message = rig.latest(`${BASE}/state`);
      if (!message) return undefined;
      const state = JSON.parse(message.payload) as Record<string, unknown>;
      return ok(state) ? state : undefined;
    },
    world.ms(ms),
  );
}

Then('within {int} ms the broker holds the bridge state with bms {string}', async function (this: RigWorld, ms: number, bms: string) {
  await retainedState(this, ms, (s) => (s.states as { bms: string }).bms === bms, `bms ${bms}`);
});

Then('within {int} ms the broker holds the bridge state with a charge current limit of {int} A', async function (this: RigWorld, ms: number, amps: number) {
  await retainedState(this, ms, (s) => (s.limits as { chargeCurrentA: number } | null)?.chargeCurrentA === amps, `CCL ${amps} A`);
});

Then('the broker holds every cell of the pack and the Home Assistant discovery', function (this: RigWorld) {
  const rig = observers(this);
  const pack = rig.latest(`${BASE}/pack1/state`);
  assert.ok(pack, 'no pack state');
  const cells = (JSON.parse(pack.payload) as { cellsMv: number[] }).cellsMv;
  assert.equal(cells.length, this.bms!.lastServed!.snapshot.cellsMv.length);
  const configs = rig.messages.filter((m) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config') && m.payload !== '');
  assert.ok(configs.some((m) => m.topic === 'homeassistant/sensor/jkcb_rig/pack1_voltage/config'), 'no pack voltage sensor');
  assert.ok(configs.some((m) => m.topic === `homeassistant/sensor/jkcb_rig/pack1_cell_${cells.length}/config`), 'no sensor for the last cell');
  assert.ok(configs.some((m) => m.topic === 'homeassistant/binary_sensor/jkcb_rig/bms_link/config'), 'no BMS link sensor');
  assert.equal(rig.latest(`${BASE}/availability`)?.payload, 'online');
});

When('the MQTT broker dies', async function (this: RigWorld) {
  await observers(this).broker!.kill();
  this.mark('broker died');
});

When('the MQTT broker hangs', function (this: RigWorld) {
  observers(this).broker!.freeze();
  this.mark('broker died');
});

When('the MQTT broker recovers', function (this: RigWorld) {
  observers(this).broker!.thaw();
  this.mark('broker back');
});

When('the MQTT broker comes back without its retained messages', async function (this: RigWorld) {
  const rig = observers(this);
  await rig.broker!.restart();
  this.mark('broker back');
  // A new watcher: it can only see what the bridge published again since the restart.
  await rig.watch();
});

Then('within {int} ms the broker holds everything again', async function (this: RigWorld, ms: number) {
  const rig = observers(this);
  await this.eventually(
    () => `state, pack, availability and discovery again; topics so far: ${[...new Set(rig.messages.map((m) => m.topic))].slice(0, 8).join(', ')}`,
    () =>
      rig.latest(`${BASE}/availability`)?.payload === 'online' &&
      rig.latest(`${BASE}/state`) !== undefined &&
      rig.latest(`${BASE}/pack1/state`) !== undefined &&
      rig.latest('homeassistant/sensor/jkcb_rig/charge_current_limit/config') !== undefined,
    this.ms(ms),
  );
});

Then(/^the inverter heard a frame set every period while the broker was (?:away|hung)$/, function (this: RigWorld) {
  const from = this.markOf('broker died');
  const to = this.markOf('broker back');
  const sets = this.frames.filter((r) => r.frame.id === 0x351 && r.atMs >= from - 1500 && r.atMs <= to + 1500).map((r) => r.atMs);
  assert.ok(sets.length >= 3, `only ${sets.length} frame sets while the broker was away`);
  const period = this.inverter!.thresholds.framePeriodMs;
  const gaps = sets.slice(1).map((t, i) => t - sets[i]);
  // Invariant 5's bound: 1.5 × the period (what a real inverter tolerates).
  assert.ok(Math.max(...gaps) <= 1.5 * period, `a gap of ${Math.max(...gaps)} ms between frame sets (period ${period} ms)`);
});

When('an MQTT client sends the bridge the command {string}', async function (this: RigWorld, payload: string) {
  this.mark('event');
  await observers(this).publish(`${BASE}/command`, payload);
});

Then('within {int} ms the bridge answers {string}', async function (this: RigWorld, ms: number, expected: string) {
  const rig = observers(this);
  const since = this.markOf('event');
  await this.eventually(
    () => `an answer containing ${expected}; got ${rig.messages.filter((m) => m.topic === `${BASE}/command/response`).map((m) => m.payload).join(' | ') || 'none'}`,
    () => rig.messages.some((m) => m.topic === `${BASE}/command/response` && m.atMs >= since && m.payload.includes(expected)),
    this.ms(ms),
  );
});

Then('no answer comes within {int} ms', async function (this: RigWorld, ms: number) {
  const since = this.markOf('event');
  await new Promise((resolve) => setTimeout(resolve, this.ms(ms)));
  const answers = observers(this).messages.filter((m) => m.topic === `${BASE}/command/response` && m.atMs >= since);
  assert.deepEqual(answers.map((m) => m.payload), []);
});

When('the bridge process is killed', function (this: RigWorld) {
  assert.ok(this.bridge);
  this.mark('event');
  process.kill(this.bridge.pid, 'SIGKILL');
});

Then('within {int} ms the broker says the bridge is offline', async function (this: RigWorld, ms: number) {
  const rig = observers(this);
  await this.eventually('availability offline (the last will)', () => rig.latest(`${BASE}/availability`)?.payload === 'offline', this.ms(ms));
});

// --- the web page in a real browser ---

async function pageUrl(world: RigWorld): Promise<string> {
  assert.ok(world.bridge);
  const line = await world.bridge.waitFor('the web page address', (l) => l.msg.startsWith('web page at '), world.ms(5000));
  return line.msg.split(' ')[3];
}

Given("a headless browser shows the bridge's page", async function (this: RigWorld) {
  const page = await observers(this).openPage(await pageUrl(this));
  await page.waitForSelector('#live.on', { timeout: this.ms(5000) });
});

function page(world: RigWorld) {
  const p = observers(world).page;
  assert.ok(p, 'no page open');
  return p;
}

Then(/^within (\d+) ms the page shows (bms|inverter|can) "([^"]+)"$/, async function (this: RigWorld, ms: string, region: string, state: string) {
  await page(this).waitForFunction(
    (id, want) => document.getElementById(id)?.dataset.state === want,
    { timeout: this.ms(Number(ms)) },
    `state-${region}`,
    state,
  );
});

Then('the page shows {int} cell bars', async function (this: RigWorld, cells: number) {
  assert.equal(await page(this).$$eval('.pack[data-pack="pack1"] .cell-bar', (bars) => bars.length), cells);
});

Then(/^within (\d+) ms the page shows a charge current limit (of|above) (\d+) A$/, async function (this: RigWorld, ms: string, relation: string, amps: string) {
  await page(this).waitForFunction(
    (rel, a) => {
      const text = document.getElementById('limit-ccl')?.textContent ?? '';
      const value = Number.parseFloat(text);
      return Number.isFinite(value) && (rel === 'of' ? value === a : value > a);
    },
    { timeout: this.ms(Number(ms)) },
    relation,
    Number(amps),
  );
});

Then('the page marks cell {int} as the highest', async function (this: RigWorld, cell: number) {
  const marked = await page(this).$$eval('.pack[data-pack="pack1"] .cell-bar.max', (bars) => bars.map((b) => Number(b.getAttribute('data-cell'))));
  assert.deepEqual(marked, [cell]);
});

Then('the page gives the charge current reason {string}', async function (this: RigWorld, words: string) {
  const reason = await page(this).$eval('#reason-ccl', (el) => el.textContent ?? '');
  assert.ok(reason.includes(words), `CCL reason "${reason}" does not say "${words}"`);
});

Then('the page shows charging {word}', async function (this: RigWorld, allowed: string) {
  const on = await page(this).$eval('#flag-charge', (el) => el.getAttribute('data-on'));
  assert.equal(on, String(allowed === 'allowed'));
});

Then('the page lists a recent event saying {string}', async function (this: RigWorld, words: string) {
  await page(this).waitForFunction((w) => [...document.querySelectorAll('#events li')].some((li) => li.textContent?.includes(w)), { timeout: this.ms(3000) }, words);
});

Then('the page lists the CAN frames sent, with id 351 among them', async function (this: RigWorld) {
  const ids = await page(this).$$eval('#frames tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
  assert.ok(ids.includes('351'), `frame ids on the page: ${ids.join(' ')}`);
});

When('a person denies discharging on the page for 15 min', async function (this: RigWorld) {
  const p = page(this);
  await p.waitForSelector('#commands-card:not([hidden])', { timeout: this.ms(3000) });
  await p.type('#token', WEB_TOKEN);
  await p.select('#expiry', '900');
  this.mark('event');
  await p.click('button[data-command="deny-discharge"]');
  await p.waitForFunction(() => document.getElementById('command-result')?.textContent?.includes('accepted'), { timeout: this.ms(3000) });
});

Then('a screenshot of the page is saved', async function (this: RigWorld) {
  // WEB_SCREENSHOT=docs/web-page.png refreshes the one the README shows; otherwise it stays with the scenario.
  const file = process.env.WEB_SCREENSHOT ?? path.join(this.dir, 'web-page.png');
  mkdirSync(path.dirname(file), { recursive: true });
  await page(this).screenshot({ path: file as `${string}.png`, fullPage: true });
  this.attach(`screenshot: ${file}`, 'text/plain');
});
