/** Setting up the rig and driving the bridge process. */
import assert from 'node:assert/strict';
import { Given, When, Then } from '@cucumber/cucumber';
import { isInverterProfileName } from '../../sim-inverter/src/profiles';
import { stateName } from '../../rig/src/bridge-process';
import { patchOf } from '../../sim-inverter/src/checker';
import { splitDeclaredSettings } from '../../rig/src/rig-setup';
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
 * A bridge setting. The keys the judge reads (poll interval, reply timeout, stale timeout, what a
 * lost pack of a bank means) become part of the scenario's declaration, so the bridge and the judge get the same value; the
 * other judged keys (cell limits, frame period) are refused: they belong to the battery or
 * inverter profile.
 */
Given('the bridge setting {string} is {string}', function (this: RigWorld, key: string, value: string) {
  assert.equal(this.inverter, undefined, 'give bridge settings before the inverter joins the bus: its checker judges the bridge by them');
  const { timing, onPackLost, others } = splitDeclaredSettings([`${key}=${value}`], { timing: this.timing, onPackLost: this.onPackLost });
  // A timing the scenario states is a base value like the World's own: scaled for this machine
  // (inside the vcan VM), so it keeps its relation to the scaled reply timeout.
  for (const field of Object.keys(timing) as Array<keyof typeof timing>) {
    if (timing[field] !== this.timing[field]) timing[field] = this.ms(timing[field]);
  }
  Object.assign(this.timing, timing);
  this.onPackLost = onPackLost;
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

// The bridge process as a thing that can die, stall or fail (issue 10)

When('the bridge is killed with SIGKILL', async function (this: RigWorld) {
  assert.ok(this.bridge);
  // Like a power cut: no shutdown frames; the pause that follows is the scenario's.
  this.inverter?.checker.suspendTiming();
  this.mark('event');
  await this.bridge.kill();
  this.mark('bridge stopped');
});

/**
 * SIGSTOP, as a swapping Pi or a long stall freezes the process, then SIGCONT. The pause is the
 * scenario's; what the bridge sends after it is judged: a frame built from data older than the
 * stale timeout is an invariant 2 violation.
 */
When('the bridge is frozen for {int} ms, then resumed', async function (this: RigWorld, ms: number) {
  const bridge = this.bridge;
  assert.ok(bridge && this.inverter);
  this.inverter.checker.suspendTiming();
  bridge.freeze();
  this.mark('frozen');
  await new Promise((resolve) => setTimeout(resolve, this.ms(ms)));
  assert.equal(bridge.liveness, 'stopped', 'the bridge was not stopped by SIGSTOP');
  this.inverter.checker.resync();
  this.mark('event');
  this.mark('resumed');
  bridge.resume();
});

Then('no frame after the resume carried limits above 0 before the bridge had read the BMS again', function (this: RigWorld) {
  const resumedAt = this.markOf('resumed');
  const bms = this.bms;
  assert.ok(bms);
  const firstReply = bms.requests.find((r) => r.atMs >= resumedAt && r.outcome === 'read');
  const early = this.frames.filter((r) => {
    const p = patchOf(r);
    const before = firstReply === undefined || r.atMs < firstReply.atMs;
    return r.atMs >= resumedAt && before && ((p?.chargeCurrentLimitA ?? 0) > 0 || (p?.dischargeCurrentLimitA ?? 0) > 0);
  });
  assert.deepEqual(
    early.map((r) => `+${r.atMs - resumedAt} ms: ${JSON.stringify(patchOf(r))}`),
    [],
    'frames from the data before the stall left after the resume',
  );
});

Given('the bridge runs with the test-only chart fault hook', function (this: RigWorld) {
  this.bridgeOptions.chartFault = true;
});

When('an unhandled error happens inside the chart', function (this: RigWorld) {
  assert.ok(this.bridge);
  this.inverter?.checker.suspendTiming();
  this.mark('event');
  this.bridge.injectChartError();
});

Then('within {int} ms the bridge exits with a non-zero code', async function (this: RigWorld, ms: number) {
  assert.ok(this.bridge);
  const exit = await this.bridge.waitForExit(this.ms(ms));
  this.mark('bridge stopped');
  assert.ok(exit.code !== null && exit.code !== 0, `the bridge exited with ${JSON.stringify(exit)}: systemd restarts only a failure`);
  assert.equal(this.bridge.liveness, 'exited');
});

// The BMS process behind a live pty

When('the BMS process is killed and a new one starts at the same path, the old pty left open', function (this: RigWorld) {
  return this.bmsCommand('respawn');
});

Then('within {int} ms the bridge polls the new BMS process', async function (this: RigWorld, ms: number) {
  const since = this.markOf('event');
  const bms = this.bms;
  assert.ok(bms);
  await this.eventually('a read request on the new pty', () => bms.requests.some((r) => r.atMs >= since && r.outcome === 'read'), this.ms(ms));
});

Then('within {int} ms the bridge is back in bms state {string}', async function (this: RigWorld, ms: number, state: string) {
  const bridge = this.bridge;
  assert.ok(bridge);
  await this.eventually(`bms state ${state} (now ${bridge.bmsState})`, () => bridge.bmsState === state, this.ms(ms));
});

// The CAN adapter

Then('the bridge never reported can {string}', function (this: RigWorld, state: string) {
  assert.ok(this.bridge);
  const states = this.bridge.statusLines().map((line) => stateName(line.state?.can));
  assert.equal(states.includes(state), false, `can states: ${[...new Set(states)].join(', ')}`);
});

// The wall clock (libfaketime in the bridge child only; the machine's clock is never touched)

Given('the bridge runs on a wall clock the scenario can move', function (this: RigWorld) {
  this.bridgeOptions.env = this.fakeWallClock();
});

When(/^the bridge's wall clock jumps (forward|back) by 1 h$/, function (this: RigWorld, direction: string) {
  this.mark('event');
  this.mark('clock jumped');
  this.moveWallClock(direction === 'forward' ? '+1h' : '-1h');
});
