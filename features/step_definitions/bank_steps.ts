/**
 * Several packs in parallel (issue 12): the bank on one DC bus, events on one pack through the
 * bank's command set (`2 silent`, the same line a person types as `bms 2 silent`), and what the
 * bridge and the sims show per pack.
 */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { chargeMosfetOn } from '../../bridge/src/protocol/jk/snapshot';
import { stateName } from '../../rig/src/bridge-process';
import type { VirtualBank } from '../../sim-bms/src/bank';
import type { RigWorld } from '../support/world';

const DEFAULT_PROFILE = 'jk-16s-280ah';

/** "30, 70" or "30,70,50" → numbers. */
const list = (text: string): number[] => text.split(',').map((t) => Number(t.trim()));

function bank(world: RigWorld): VirtualBank {
  assert.ok(world.bank, 'no bank in this scenario');
  return world.bank;
}

async function onPack(world: RigWorld, pack: number, ...lines: string[]): Promise<void> {
  world.mark('event');
  for (const line of lines) {
    const result = await bank(world).commands.execute(`${pack} ${line}`);
    assert.ok(result.ok, `bms command "${pack} ${line}" failed: ${result.output}`);
  }
}

Given('a bank of {int} packs at {int} % SoC', async function (this: RigWorld, packs: number, soc: number) {
  await this.createBank(DEFAULT_PROFILE, Array(packs).fill(soc));
});

Given('a bank of packs at {string} % SoC', async function (this: RigWorld, socs: string) {
  await this.createBank(DEFAULT_PROFILE, list(socs));
});

Given(
  'a bank of {string} packs of {string} Ah at {int} % SoC, its time running {int} times faster',
  async function (this: RigWorld, profile: string, capacities: string, soc: number, timeScale: number) {
    const ah = list(capacities);
    await this.createBank(profile, Array(ah.length).fill(soc), ah, timeScale);
  },
);

When('pack {int}\'s cell {int} rises to {int} mV', function (this: RigWorld, pack: number, cell: number, mv: number) {
  return onPack(this, pack, `cell ${cell} ${mv}mV`);
});

When('pack {int} goes silent', function (this: RigWorld, pack: number) {
  return onPack(this, pack, 'silent');
});

When('pack {int} answers again', function (this: RigWorld, pack: number) {
  return onPack(this, pack, 'silent off');
});

When(/^pack (\d+)'s BMS switches its (charge|discharge) MOSFET off$/, function (this: RigWorld, pack: string, which: string) {
  return onPack(this, Number(pack), `mosfet ${which} off`);
});

When('pack {int}\'s link drops for {int} ms, {int} times', async function (this: RigWorld, pack: number, ms: number, times: number) {
  for (let i = 0; i < times; i++) {
    await onPack(this, pack, `drop-link ${this.ms(ms)}ms`);
    // Back up for as long as it was down, so the bridge reopens it in between.
    await new Promise((resolve) => setTimeout(resolve, 2 * this.ms(ms)));
  }
});

/** "packs 1 connected, 2 stale" in a status line → { '1': 'connected', '2': 'stale' }. */
function packStates(msg: string): Record<string, string> {
  const part = msg.split(' · ').find((p) => p.startsWith('packs '));
  if (part === undefined) return {};
  return Object.fromEntries(part.slice('packs '.length).split(', ').map((entry) => entry.split(' ') as [string, string]));
}

Then('within {int} ms the bridge reports pack {string} {string}', async function (this: RigWorld, ms: number, pack: string, state: string) {
  assert.ok(this.bridge);
  const since = this.markOf('event');
  await this.eventually(
    () => `pack ${pack} ${state} (last status: ${this.bridge?.statusLines().at(-1)?.msg ?? 'none'})`,
    () => this.bridge!.statusLines().some((line) => line.atMs >= since && packStates(line.msg)[pack] === state),
    this.ms(ms),
  );
});

Then('the bridge never left bms {string}', function (this: RigWorld, state: string) {
  assert.ok(this.bridge);
  const lines = this.bridge.statusLines();
  const first = lines.findIndex((line) => stateName(line.state?.bms) === state);
  assert.ok(first >= 0, `the bridge never reported bms ${state}`);
  const left = lines.slice(first).find((line) => stateName(line.state?.bms) !== state);
  assert.equal(left, undefined, `the bridge left bms ${state}: ${left?.msg}`);
});

Then('the bridge log says {string}', async function (this: RigWorld, text: string) {
  assert.ok(this.bridge);
  await this.eventually(`a log line with "${text}"`, () => this.bridge!.logs.some((line) => line.msg.includes(text)), this.ms(3000));
});

Then('within {int} ms the inverter sees a charge current limit above 0 A again', async function (this: RigWorld, ms: number) {
  const since = this.markOf('event');
  await this.eventually(
    'CCL > 0 again',
    () => this.firstFrame(since, (p) => (p.chargeCurrentLimitA ?? 0) > 0),
    this.ms(ms),
  );
});

Then('pack {int} carries no charge current while the others charge', async function (this: RigWorld, pack: number) {
  const b = bank(this);
  await this.eventually(
    () => `pack ${pack} at 0 A, the others charging (${b.packs.map((p) => p.battery.currentMa / 1000).join(', ')} A)`,
    () =>
      b.packs[pack - 1].battery.currentMa === 0 &&
      !chargeMosfetOn(b.packs[pack - 1].liveSnapshot()) &&
      b.packs.every((p, i) => i === pack - 1 || p.battery.currentMa > 1000),
    this.ms(5000),
  );
});

Then('the packs exchange current: pack {int} charges from pack {int}', async function (this: RigWorld, low: number, high: number) {
  const b = bank(this);
  await this.eventually(
    () => `pack ${low} charging and pack ${high} discharging (${b.packs.map((p) => p.battery.currentMa / 1000).join(', ')} A)`,
    () => b.packs[low - 1].battery.currentMa > 1000 && b.packs[high - 1].battery.currentMa < -1000,
    this.ms(3000),
  );
});

Then('within {int} ms every pack is full: SoC at least {int} % and the bank current below {int} A', async function (this: RigWorld, ms: number, soc: number, amps: number) {
  const b = bank(this);
  await this.eventually(
    () => `every pack SoC >= ${soc} % and bank current < ${amps} A (SoC ${b.packs.map((p) => p.lastServed?.snapshot.socPct).join(', ')} %, ${b.bus.currentA.toFixed(1)} A)`,
    () => b.packs.every((p) => (p.lastServed?.snapshot.socPct ?? 0) >= soc) && b.bus.currentA < amps,
    this.ms(ms),
  );
});

Then('no cell of any pack went above its overvoltage protection', function (this: RigWorld) {
  const { maxCellMv, tripped } = this.cellHistory;
  for (const pack of bank(this).packs) assert.ok(maxCellMv < pack.settings.cellOvpMv, `a cell reached ${maxCellMv} mV (OVP ${pack.settings.cellOvpMv} mV)`);
  assert.equal(tripped.has('cellOvp'), false, 'a virtual BMS tripped its cell OVP');
});

Then('the inverter sees a capacity of {int} Ah', async function (this: RigWorld, ah: number) {
  await this.eventually(`capacity ${ah} Ah (seen ${this.decoded.identity?.capacityAh})`, () => this.decoded.identity?.capacityAh === ah, this.ms(3000));
});
