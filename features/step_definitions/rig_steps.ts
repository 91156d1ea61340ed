/** Setting up the rig and driving the bridge process. */
import assert from 'node:assert/strict';
import { Given, When, Then } from '@cucumber/cucumber';
import { isInverterProfileName } from '../../sim-inverter/src/profiles';
import { stateName } from '../../rig/src/bridge-process';
import { splitTimingSettings } from '../../rig/src/rig-setup';
import type { RigWorld } from '../support/world';

const DEFAULT_PROFILE = 'jk-16s-280ah';

Given('a {int}-cell battery at {int} % SoC', async function (this: RigWorld, cells: number, soc: number) {
  await this.createBattery(DEFAULT_PROFILE, cells, soc);
});

Given(
  'the {string} battery at {int} % SoC, its time running {int} times faster',
  async function (this: RigWorld, profile: string, soc: number, timeScale: number) {
    await this.createBattery(profile, undefined, soc, timeScale);
  },
);

Given('a(n) {string} inverter on the bus', async function (this: RigWorld, profile: string) {
  assert.ok(isInverterProfileName(profile), `unknown inverter profile "${profile}"`);
  await this.createInverter(profile);
});

/**
 * A bridge setting. The timing keys the judge reads (poll interval, reply timeout, stale timeout)
 * become part of the scenario's declaration, so the bridge and the judge get the same value; the
 * other judged keys (cell limits, frame period) are refused: they belong to the battery or
 * inverter profile.
 */
Given('the bridge setting {string} is {string}', function (this: RigWorld, key: string, value: string) {
  assert.equal(this.inverter, undefined, 'give bridge settings before the inverter joins the bus: its checker judges the bridge by them');
  const { timing, others } = splitTimingSettings([`${key}=${value}`], this.timing);
  Object.assign(this.timing, timing);
  for (const setting of others) this.settings.push([key, setting.slice(key.length + 1)]);
});

Given('the bridge is running', async function (this: RigWorld) {
  await this.startBridge();
});

When('the inverter has heard {int} frame sets', async function (this: RigWorld, sets: number) {
  const since = this.mark('bridge started');
  await this.eventually(`${sets} frame sets`, () => this.frames.filter((r) => r.frame.id === 0x351 && r.atMs >= since).length >= sets, this.ms(sets * 1000 + 2000));
});

When('the bridge is stopped', async function (this: RigWorld) {
  assert.ok(this.bridge);
  // The pause that follows is the scenario's, not a slow bridge's.
  this.inverter?.checker.suspendTiming();
  this.mark('event');
  const code = await this.bridge.stop();
  assert.equal(code, 0, `bridge exit code ${code}`);
  this.mark('bridge stopped');
});

When('the bridge is started again', async function (this: RigWorld) {
  // The bridge was stopped on purpose: the period invariant holds "while transmitting", so the
  // checker starts timing anew with the new process.
  this.inverter?.checker.resync();
  this.mark('bridge restarting');
  await this.startBridge();
});

/**
 * Not crashed: the process handle saw no exit, the kernel does not have it stopped, and it still
 * answers (the inverter heard a frame set within the last 1.5 periods).
 */
Then('the bridge process is still running', function (this: RigWorld) {
  const bridge = this.bridge;
  assert.ok(bridge && this.inverter);
  assert.equal(bridge.exit, null, `the bridge exited: ${JSON.stringify(bridge.exit)}`);
  assert.equal(bridge.liveness, 'running', `the bridge process is ${bridge.liveness}`);
  const lastFrameAt = this.frames.at(-1)?.atMs ?? 0;
  const bound = 1.5 * this.inverter.thresholds.framePeriodMs;
  assert.ok(Date.now() - lastFrameAt <= bound, `the bridge stopped answering: no frame for ${Date.now() - lastFrameAt} ms`);
});

Then('within {int} ms the bridge reports {word} {string}', async function (this: RigWorld, ms: number, region: string, state: string) {
  assert.ok(this.bridge);
  assert.ok(region === 'bms' || region === 'can', `region ${region}`);
  const line = await this.bridge.waitForState(region, state, this.ms(ms), this.markOf('event'));
  this.marks.set('event', line.atMs);
});

Then('the bridge reports the inverter link {string}', async function (this: RigWorld, state: string) {
  assert.ok(this.bridge);
  if (state === 'unknown') {
    // Nothing to wait for: after several heartbeat periods it must still never have heard one.
    await new Promise((resolve) => setTimeout(resolve, this.ms(1500)));
    assert.equal(this.bridge.statusLines().at(-1)?.state?.inverter, 'unknown');
    return;
  }
  await this.bridge.waitForState('inverter', state, this.ms(3000));
});

Then('within {int} ms the bridge reports the inverter link {string}', async function (this: RigWorld, ms: number, state: string) {
  assert.ok(this.bridge);
  const line = await this.bridge.waitForState('inverter', state, this.ms(ms), this.markOf('event'));
  this.marks.set('event', line.atMs);
});

Then('the bridge stayed {string} throughout', function (this: RigWorld, state: string) {
  assert.ok(this.bridge);
  // From its first time in that state on (it starts in idle, before the first reply).
  const states = this.bridge.statusLines().map((line) => stateName(line.state?.bms));
  const others = states.slice(states.indexOf(state)).filter((s) => s !== state);
  assert.deepEqual(others, [], `bms state left "${state}": ${JSON.stringify(others)}`);
});
