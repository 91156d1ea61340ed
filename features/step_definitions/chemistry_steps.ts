/** Chemistry-aware limits and each inverter's own rules (issue 11). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Then, When } from '@cucumber/cucumber';
import { BRIDGE_ENTRY } from '../../rig/src/bridge-process';
import { patchOf } from '../../sim-inverter/src/checker';
import type { RigWorld } from '../support/world';

When('the bridge is started', function (this: RigWorld) {
  this.mark('event');
  this.startBridgeProcess();
});

Then('the bridge refuses its configuration with the line {string}', function (this: RigWorld, expected: string) {
  const run = spawnSync(process.execPath, [BRIDGE_ENTRY, ...this.bridgeArgs(), '--check'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 2, `exit code ${run.status}; stderr:\n${run.stderr}`);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.ok(
    lines.some((l) => l.endsWith(expected)),
    `no line ending with "${expected}" in:\n${lines.join('\n')}`,
  );
});

Then('within {int} ms the bridge log says {string}', async function (this: RigWorld, ms: number, text: string) {
  assert.ok(this.bridge);
  await this.bridge.waitFor(text, (line) => line.msg.includes(text), this.ms(ms));
});

When(/^(?:the|pack (\d+)'s) BMS cell OVP setting is changed to (\d+) mV$/, function (this: RigWorld, pack: string | null, mv: string) {
  // As a user does in the JK app: the next reply carries the new 0x90 (and the pack OVP with it).
  // (Cucumber passes an optional group that did not match as null.)
  const bms = pack === null ? this.bms : this.bank?.packs[Number(pack) - 1];
  assert.ok(bms, pack === null ? 'no single BMS in this scenario' : `no pack ${pack} in this scenario`);
  this.mark('event');
  bms.settings.cellOvpMv = Number(mv);
});

Then('since the fault the inverter saw no charge or discharge current limit above {float} A', function (this: RigWorld, amps: number) {
  // The fault's log line and the frames reach the rig on different channels: frames from 200 ms
  // after the line on are all the bridge sent in fault.
  const faultAt = this.markOf('event') + this.ms(200);
  const limits = this.frames.filter((r) => r.atMs >= faultAt).map(patchOf).filter((p) => p?.chargeCurrentLimitA !== undefined);
  assert.ok(limits.length > 0, 'no 0x351 was heard');
  const above = limits.filter((p) => (p?.chargeCurrentLimitA ?? 0) > amps || (p?.dischargeCurrentLimitA ?? 0) > amps);
  assert.deepEqual(above, [], `limits above ${amps} A reached the bus`);
});

Then(
  'within {int} ms the battery is full: the highest cell at least {int} mV and the charge current below {int} A',
  async function (this: RigWorld, ms: number, cellMv: number, amps: number) {
    const bms = this.bms;
    assert.ok(bms);
    await this.eventually(
      () => `highest cell >= ${cellMv} mV and charge current < ${amps} A (now ${Math.max(...(bms.lastServed?.snapshot.cellsMv ?? [0]))} mV, ${bms.demandA.toFixed(1)} A)`,
      () => Math.max(...(bms.lastServed?.snapshot.cellsMv ?? [0])) >= cellMv && bms.demandA < amps,
      this.ms(ms),
    );
  },
);

Then('every DVL the inverter saw was between {float} V and {float} V', function (this: RigWorld, low: number, high: number) {
  const dvls = this.frames.map((r) => patchOf(r)?.dischargeVoltageV).filter((v): v is number => v !== undefined);
  assert.ok(dvls.length > 0, 'no DVL was heard');
  assert.deepEqual(dvls.filter((v) => v < low || v > high), [], `DVL outside ${low}-${high} V`);
});

Then('the inverter uses a discharge voltage limit of {float} V', async function (this: RigWorld, volts: number) {
  await this.eventually(`DVL ${volts} V`, () => this.decoded.dischargeVoltageV === volts, this.ms(3000));
});

When('cell {int} rises to {int} mV right after a frame set', async function (this: RigWorld, cell: number, mv: number) {
  // The bridge polls every 200 ms: a change right after a set reaches it well inside SMA's 200 ms
  // inhibit time about half the time, so a decrease has to wait for the end of it.
  const since = Date.now();
  await this.eventually('a 0x351', () => this.frames.some((r) => r.atMs >= since && r.frame.id === 0x351), this.ms(3000));
  const commands = this.bms?.commands;
  assert.ok(commands);
  this.mark('event');
  const result = await commands.execute(`cell ${cell} ${mv}mV`);
  assert.ok(result.ok, result.output);
});

Then('the battery keeps charging for {int} ms', async function (this: RigWorld, ms: number) {
  const bms = this.bms;
  assert.ok(bms);
  const until = Date.now() + this.ms(ms);
  while (Date.now() < until) {
    assert.ok(bms.demandA > 1, `the inverter stopped charging (${bms.demandA.toFixed(2)} A)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

Then('within {int} ms the battery current is at most {float} A', async function (this: RigWorld, ms: number, amps: number) {
  const bms = this.bms;
  assert.ok(bms);
  await this.eventually(() => `battery current <= ${amps} A (now ${bms.demandA.toFixed(2)} A)`, () => bms.demandA <= amps + 1e-9, this.ms(ms));
});

Then('the checker flagged {string} and nothing else', function (this: RigWorld, rule: string) {
  assert.ok(this.inverter);
  const rules = this.inverter.checker.violations.map((v) => v.rule);
  assert.ok(rules.includes(rule as (typeof rules)[number]), `no ${rule} violation; saw ${JSON.stringify(rules)}`);
  assert.deepEqual([...new Set(rules)], [rule]);
});
