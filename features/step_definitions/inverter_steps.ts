/** What the virtual inverter heard, judged by its checker. */
import assert from 'node:assert/strict';
import { Then } from '@cucumber/cucumber';
import type { AlarmKind, BatteryStatePatch } from '../../bridge/src/protocol/can';
import { POISON } from '../../sim-bms/src/faults';
import { patchOf, type FrameRecord } from '../../sim-inverter/src/checker';
import type { RigWorld } from '../support/world';

type Limit = 'charge current limit' | 'discharge current limit';
const LIMIT_KEY = { 'charge current limit': 'chargeCurrentLimitA', 'discharge current limit': 'dischargeCurrentLimitA' } as const;

function served(world: RigWorld) {
  const last = world.bms?.lastServed;
  assert.ok(last, 'the BMS never answered the bridge');
  return last.snapshot;
}

/** Latest value as decoded by the inverter, waiting up to three periods for it to appear. */
async function seen<T>(world: RigWorld, what: string, pick: (d: BatteryStatePatch) => T | undefined, ok: (v: T) => boolean): Promise<T> {
  const hit = await world.eventually(
    `the inverter sees ${what}`,
    () => {
      const value = pick(world.decoded);
      return value !== undefined && ok(value) ? { value } : undefined;
    },
    world.ms(1500),
  );
  return hit.value;
}

Then('the inverter sees the pack voltage of the battery within {float} V', async function (this: RigWorld, tolerance: number) {
  await seen(this, 'the pack voltage', (d) => d.voltageV, (v) => Math.abs(v - served(this).packMv / 1000) <= tolerance);
});

Then('the inverter sees the SoC of the battery', async function (this: RigWorld) {
  await seen(this, 'the SoC', (d) => d.socPct, (soc) => soc === served(this).socPct);
});

Then(/^the inverter sees (charging|discharging) (enabled|disabled)$/, async function (this: RigWorld, which: string, state: string) {
  const key = which === 'charging' ? 'chargeEnable' : 'dischargeEnable';
  await seen(this, `${which} ${state}`, (d) => d.requests?.[key], (v) => v === (state === 'enabled'));
});

Then('the inverter sees charging and discharging enabled', async function (this: RigWorld) {
  await seen(this, 'both enabled', (d) => d.requests, (r) => r.chargeEnable === true && r.dischargeEnable === true);
});

Then('the inverter sees a charge voltage limit between {float} V and {float} V', async function (this: RigWorld, low: number, high: number) {
  await seen(this, `CVL in ${low}..${high} V`, (d) => d.chargeVoltageV, (v) => v >= low && v <= high);
});

Then('the inverter sees a force-charge request', async function (this: RigWorld) {
  await seen(this, 'a force-charge request', (d) => d.requests, (r) => r.forceChargeI === true || r.forceChargeII === true);
});

Then('within {int} ms the inverter sees a force-charge request', async function (this: RigWorld, ms: number) {
  const since = this.markOf('event');
  await this.eventually('a force-charge request', () => this.firstFrame(since, (p) => p.requests?.forceChargeI === true), this.ms(ms));
});

Then('the inverter sees the {string} alarm', async function (this: RigWorld, alarm: string) {
  await seen(this, `the ${alarm} alarm`, (d) => d.alarms?.[alarm as AlarmKind], (v) => v === true);
});

Then(/^the inverter sees a (charge current limit|discharge current limit) of (\d+(?:\.\d+)?) A$/, async function (this: RigWorld, limit: Limit, amps: string) {
  await seen(this, `${limit} ${amps} A`, (d) => d[LIMIT_KEY[limit]], (v) => v === Number(amps));
});

Then(
  /^within (\d+) ms the inverter sees a (charge current limit|discharge current limit) of (\d+(?:\.\d+)?) A$/,
  async function (this: RigWorld, ms: string, limit: Limit, amps: string) {
    const since = this.markOf('event');
    const bound = this.ms(Number(ms));
    const record = await this.eventually(
      `${limit} ${amps} A`,
      () => this.firstFrame(since, (p) => p[LIMIT_KEY[limit]] === Number(amps)),
      bound,
    );
    assert.ok(record.atMs - since <= bound, `${limit} reached ${amps} A after ${record.atMs - since} ms (bound ${bound} ms)`);
    this.marks.set('event', record.atMs);
  },
);

Then(/^the inverter sees a (charge current limit|discharge current limit) of 0 A for at least (\d+) ms$/, async function (this: RigWorld, limit: Limit, ms: string) {
  const since = this.markOf('event');
  await new Promise((resolve) => setTimeout(resolve, this.ms(Number(ms))));
  const window = this.frames.filter((r) => r.atMs >= since && r.atMs <= since + this.ms(Number(ms)));
  const values = window.map((r) => patchOf(r)?.[LIMIT_KEY[limit]]).filter((v) => v !== undefined);
  assert.ok(values.length > 0, 'no limit frames in the window');
  assert.deepEqual([...new Set(values)], [0], `${limit} during the hold: ${values.join(', ')}`);
});

Then(/^the (charge current limit|discharge current limit) rose through at least (\d+) intermediate values$/, function (this: RigWorld, limit: Limit, n: string) {
  const since = this.markOf('event');
  const values = this.frames
    .filter((r) => r.atMs >= since - this.ms(10_000))
    .map((r) => patchOf(r)?.[LIMIT_KEY[limit]])
    .filter((v): v is number => v !== undefined);
  const top = Math.max(...values);
  const between = new Set(values.filter((v) => v > 0 && v < top));
  assert.ok(between.size >= Number(n), `${limit} jumped: values ${[...new Set(values)].join(', ')}`);
});

/**
 * The bridge stopped sending on purpose: no frame for two periods. The checker allows that pause
 * only after frames that declared the fault (system error, zero limits); anywhere else it is a
 * period violation of every id.
 */
Then('within {int} ms the bus goes silent', async function (this: RigWorld, ms: number) {
  assert.ok(this.inverter);
  const quietFor = 2 * this.inverter.thresholds.framePeriodMs;
  await this.eventually(
    `no frame for ${quietFor} ms`,
    () => Date.now() - (this.frames.at(-1)?.atMs ?? 0) >= quietFor,
    this.ms(ms) + quietFor,
  );
});

Then('within {int} ms the inverter hears frame sets again', async function (this: RigWorld, ms: number) {
  const since = this.markOf('event');
  await this.eventually('a 0x351 after the event', () => this.frames.some((r) => r.atMs > since && r.frame.id === 0x351), this.ms(ms));
});

Then('the checker saw no invariant violation', function (this: RigWorld) {
  assert.ok(this.inverter);
  const violations = this.inverter.checker.violations;
  assert.equal(violations.length, 0, `the virtual inverter flagged violations:\n${violations.slice(0, 8).map((v) => `  ${v.rule}: ${v.detail}`).join('\n')}`);
});

// Restart

Then('the last frame set before the stop had a charge current limit of 0 A', function (this: RigWorld) {
  const stoppedAt = this.markOf('bridge stopped');
  const limits = this.frames.filter((r) => r.atMs <= stoppedAt && r.frame.id === 0x351);
  assert.ok(limits.length > 0);
  const last = patchOf(limits[limits.length - 1]);
  assert.equal(last?.chargeCurrentLimitA, 0, 'the bridge left its last limits standing');
  assert.equal(last?.dischargeCurrentLimitA, 0);
});

Then('the first frame set from the new bridge reflects fresh BMS data', async function (this: RigWorld) {
  const restartAt = this.markOf('bridge restarting');
  const first = await this.eventually('a frame from the new bridge', () => this.frames.find((r) => r.atMs >= restartAt), this.ms(3000));
  const bms = this.bms;
  assert.ok(bms);
  // Nothing before the new bridge had polled the BMS: a read-all request precedes the first frame.
  const firstPoll = bms.requests.find((r) => r.atMs >= restartAt && r.outcome === 'read');
  assert.ok(firstPoll && firstPoll.atMs <= first.atMs, 'a frame went out before the new bridge had read the BMS');
});

// Closed loop

Then('within {int} ms the battery is charging', async function (this: RigWorld, ms: number) {
  await this.eventually('battery current > 1 A', () => (this.bms?.demandA ?? 0) > 1, this.ms(ms));
});

Then('within {int} ms the battery is full: SoC at least {int} % and the charge current below {int} A', async function (this: RigWorld, ms: number, soc: number, amps: number) {
  const bms = this.bms;
  assert.ok(bms);
  await this.eventually(
    `SoC >= ${soc} % and charge current < ${amps} A`,
    () => (bms.lastServed?.snapshot.socPct ?? 0) >= soc && bms.demandA < amps,
    this.ms(ms),
  );
});

Then('within {int} ms the pack is nearly empty: SoC at most {int} %', async function (this: RigWorld, ms: number, soc: number) {
  await this.eventually(() => `SoC <= ${soc} % (now ${this.decoded.socPct} %)`, () => (this.decoded.socPct ?? 100) <= soc, this.ms(ms));
});

Then(/^no cell went (above|below) its (?:overvoltage|undervoltage) protection$/, function (this: RigWorld, side: string) {
  const bms = this.bms;
  assert.ok(bms);
  const { maxCellMv, minCellMv, tripped } = this.cellHistory;
  if (side === 'above') {
    assert.ok(maxCellMv < bms.settings.cellOvpMv, `a cell reached ${maxCellMv} mV (OVP ${bms.settings.cellOvpMv} mV)`);
    assert.equal(tripped.has('cellOvp'), false, 'the virtual BMS tripped its cell OVP');
  } else {
    assert.ok(minCellMv > bms.settings.cellUvpMv, `a cell fell to ${minCellMv} mV (UVP ${bms.settings.cellUvpMv} mV)`);
    assert.equal(tripped.has('cellUvp'), false, 'the virtual BMS tripped its cell UVP');
  }
});

// Bad data that must not be used (the fault injectors' POISON values)

/**
 * Not one frame the inverter heard carried a value of the poisoned replies: SOC 3 % (0x355), a
 * cell at 4.0 V (Victron 0x373), or the pack voltage those replies report. The battery sits well
 * away from them, so any of them on the bus means a rejected reply was used.
 */
Then('no value of the poisoned replies reached the bus', function (this: RigWorld) {
  const used = this.frames.filter((record) => {
    const p = patchOf(record);
    if (p === undefined) return false;
    return p.socPct === POISON.socPct || p.socHiResPct === POISON.socPct || p.cells?.maxCellMv === POISON.cellMv;
  });
  assert.deepEqual(
    used.map((r) => `0x${r.frame.id.toString(16)} at +${r.atMs - this.markOf('bridge up')} ms: ${JSON.stringify(patchOf(r))}`),
    [],
    'a value of a reply the bridge must reject reached the bus',
  );
  const bms = this.bms;
  assert.ok(bms);
  assert.notEqual(bms.lastServed?.snapshot.socPct, POISON.socPct, 'the scenario must leave the battery away from the poison SoC');
});

Then('within {int} ms the inverter sees a charge voltage limit of at most {float} V', async function (this: RigWorld, ms: number, volts: number) {
  const since = this.markOf('event');
  const record = await this.eventually(`CVL <= ${volts} V`, () => this.firstFrame(since, (p) => p.chargeVoltageV !== undefined && p.chargeVoltageV <= volts), this.ms(ms));
  this.marks.set('event', record.atMs);
});

/** What the CVL was at a named moment: the last value heard before it. */
function cvlBefore(world: RigWorld, atMs: number): number {
  const values = world.frames.filter((r) => r.atMs < atMs).map((r) => patchOf(r)?.chargeVoltageV).filter((v): v is number => v !== undefined);
  assert.ok(values.length > 0, 'no CVL heard before');
  return values[values.length - 1];
}

Then('the charge voltage limit is noted as {string}', function (this: RigWorld, name: string) {
  this.mark(name);
});

Then('the charge voltage limit never rose above its value at {string}', function (this: RigWorld, name: string) {
  const at = this.markOf(name);
  const before = cvlBefore(this, at);
  const above = this.frames.filter((r) => r.atMs >= at && (patchOf(r)?.chargeVoltageV ?? 0) > before);
  assert.deepEqual(above.map((r) => `+${r.atMs - at} ms: CVL ${patchOf(r)?.chargeVoltageV} V`), [], `CVL rose above ${before} V (the charge phase restarted)`);
});

/**
 * The same, with one allowance (issue 11): a zero-limit set (stale, fault) carries CVL at the last
 * known pack voltage when the pack is above the charge voltage, so no inverter discharges it.
 */
Then('the charge voltage limit never rose above its value at {string}, but to the pack voltage in a zero-limit set', function (this: RigWorld, name: string) {
  const at = this.markOf(name);
  const before = cvlBefore(this, at);
  const packV = (this.bms?.lastServed?.snapshot.packMv ?? 0) / 1000;
  const above = this.frames.filter((r) => {
    const p = patchOf(r);
    if (r.atMs < at || (p?.chargeVoltageV ?? 0) <= before) return false;
    const zeroSet = p?.chargeCurrentLimitA === 0 && p?.dischargeCurrentLimitA === 0;
    return !(zeroSet && (p?.chargeVoltageV ?? 0) <= Math.ceil(packV * 10) / 10);
  });
  assert.deepEqual(above.map((r) => `+${r.atMs - at} ms: CVL ${patchOf(r)?.chargeVoltageV} V`), [], `CVL rose above ${before} V (the charge phase restarted)`);
});

/** Every limit the inverter heard since a named moment equals the last one before it. */
Then('no limit moved since {string}', function (this: RigWorld, name: string) {
  const at = this.markOf(name);
  const limits = (r: FrameRecord) => {
    const p = patchOf(r);
    return p?.chargeCurrentLimitA === undefined ? undefined : `CVL ${p.chargeVoltageV} V CCL ${p.chargeCurrentLimitA} A DCL ${p.dischargeCurrentLimitA} A`;
  };
  const before = this.frames.filter((r) => r.atMs < at).map(limits).filter((l) => l !== undefined).at(-1);
  assert.ok(before, `no limits before "${name}"`);
  const after = [...new Set(this.frames.filter((r) => r.atMs >= at).map(limits).filter((l) => l !== undefined))];
  assert.ok(after.length > 0, `no limits heard since "${name}"`);
  assert.deepEqual(after, [before], `limits moved since "${name}" (before: ${before})`);
});
