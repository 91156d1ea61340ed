/** Pylon HV (issue 13): the inverter's requests and commands, and what it made of the answers. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import type { RigWorld } from '../support/world';

function inverterOf(world: RigWorld) {
  const inverter = world.inverter;
  assert.ok(inverter, 'no inverter in this scenario');
  return inverter;
}

Given('the {string} battery at {int} % SoC', async function (this: RigWorld, profile: string, soc: number) {
  await this.createBattery(profile, undefined, soc);
});

When('the inverter has had {int} answers', async function (this: RigWorld, n: number) {
  const replies = inverterOf(this).checker.replies;
  assert.ok(replies, 'the inverter does not speak a request/response protocol');
  const from = replies.answered;
  await this.eventually(`${n} complete answers (had ${from})`, () => replies.answered - from >= n, this.ms(n * 1000 + 3000));
});

When('the inverter sends {string}', async function (this: RigWorld, line: string) {
  const inverter = inverterOf(this);
  this.mark('event');
  const result = await inverter.commands.execute(line);
  assert.ok(result.ok, `inverter command "${line}" failed: ${result.output}`);
});

Then('the inverter sees {int} cells in the equipment answer', async function (this: RigWorld, cells: number) {
  await this.eventually(`0x7320 with ${cells} cells`, () => this.decoded.pack?.cellCount === cells, this.ms(3000));
});

Then(/^within (\d+) ms the inverter sees the battery (asleep|awake)$/, async function (this: RigWorld, ms: string, state: string) {
  const since = this.markOf('event');
  const record = await this.eventually(
    `0x4250 basic status ${state === 'asleep' ? 'sleep' : 'not sleep'}`,
    () => this.firstFrame(since, (p) => p.sleeping === (state === 'asleep')),
    this.ms(Number(ms)),
  );
  this.marks.set('event', record.atMs);
});

Then('the bridge logged {string}', async function (this: RigWorld, text: string) {
  const bridge = this.bridge;
  assert.ok(bridge);
  await this.eventually(`a bridge log line with "${text}"`, () => bridge.logs.some((l) => l.msg.includes(text)), this.ms(2000));
});

/** While the inverter was quiet, so was the bridge (it never sends on its own, spec §7). */
Then('the bridge sent nothing while the inverter was not asking', function (this: RigWorld) {
  const inverter = inverterOf(this);
  const quietSince = this.markOf('event') - (this.bridgeConfig().state?.inverterTimeoutMs ?? 0) + (inverter.profile.pylonHv?.replyTimeoutMs ?? 0);
  const sent = this.frames.filter((r) => r.atMs > quietSince);
  assert.deepEqual(sent.map((r) => r.frame.id.toString(16)), [], 'the bridge sent frames nobody asked for');
});

/** No poll slot lost: consecutive read-all requests at most two poll intervals apart. */
Then('the BMS was polled on time during the last {int} ms', function (this: RigWorld, ms: number) {
  const bms = this.bms;
  assert.ok(bms);
  const interval = this.timing.pollIntervalMs;
  const since = Date.now() - this.ms(ms);
  const times = bms.requests.filter((r) => r.atMs >= since).map((r) => r.atMs);
  assert.ok(times.length >= 2, `only ${times.length} polls in the last ${ms} ms`);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(Math.max(...gaps) <= 2 * interval, `poll gaps ${gaps.join(', ')} ms (interval ${interval} ms)`);
});

Then(/^(?:within (\d+) ms )?the checker flags "([a-z-]+)"$/, async function (this: RigWorld, ms: string | undefined, rule: string) {
  const inverter = inverterOf(this);
  await this.eventually(
    () => `a "${rule}" violation (seen: ${[...new Set(inverter.checker.violations.map((v) => v.rule))].join(', ') || 'none'})`,
    () => inverter.checker.violations.some((v) => v.rule === rule),
    this.ms(Number(ms ?? 1000)),
  );
});

Then('within {int} ms the inverter reports {string}', async function (this: RigWorld, ms: number, text: string) {
  const inverter = inverterOf(this);
  await this.eventually(() => `the inverter to report "${text}" (it says: ${inverter.describeLink()})`, () => inverter.describeLink().includes(text), this.ms(ms));
});
