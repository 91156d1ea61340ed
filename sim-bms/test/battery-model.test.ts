import { describe, expect, it } from 'vitest';
import { BatteryModel, OCV_TABLES, ocvMv } from '../src/battery-model';
import type { Chemistry } from '../src/profile';
import { testProfile } from './helpers';

const OFF = { enabled: false, startMv: 3400, triggerMv: 10 };
const HOUR = 3_600_000;

/** Runs `ms` in 1 s steps with a constant current. */
function run(model: BatteryModel, ms: number, currentMa: number, balancer = OFF): void {
  for (let t = 0; t < ms; t += 1000) model.step(1000, currentMa, balancer);
}

describe('open-circuit voltage curves', () => {
  it('LiFePO4: 2.5 V empty, the 3.3 V plateau, 3.45 V full, steep outside 0..100 %', () => {
    expect(ocvMv('lifepo4', 0)).toBe(2500);
    expect(ocvMv('lifepo4', 50)).toBe(3300);
    expect(ocvMv('lifepo4', 100)).toBe(3450);
    expect(ocvMv('lifepo4', 45)).toBeCloseTo(3295, 6); // linear between table points
    expect(ocvMv('lifepo4', 80) - ocvMv('lifepo4', 20)).toBeLessThan(120); // the plateau
    expect(ocvMv('lifepo4', 101)).toBeGreaterThanOrEqual(3650); // over-charge reaches cell OVP
    expect(ocvMv('lifepo4', -50)).toBe(2000); // clamped to the table ends
    expect(ocvMv('lifepo4', 150)).toBe(4000);
  });

  it.each(Object.keys(OCV_TABLES) as Chemistry[])('%s rises strictly with SoC', (chemistry) => {
    const table = OCV_TABLES[chemistry];
    for (let i = 1; i < table.length; i++) {
      expect(table[i][0]).toBeGreaterThan(table[i - 1][0]);
      expect(table[i][1]).toBeGreaterThan(table[i - 1][1]);
    }
    expect(ocvMv(chemistry, 10)).toBeLessThan(ocvMv(chemistry, 90));
  });
});

describe('battery model', () => {
  it('counts coulombs: 10 A for one hour moves a 100 Ah pack by 10 %', () => {
    const model = new BatteryModel(testProfile({ capacityAh: 100, capacitySpreadPct: 0, socSpreadPct: 0 }), 40);
    expect(model.socPct).toBeCloseTo(40, 9);
    run(model, HOUR, 10_000);
    expect(model.socPct).toBeCloseTo(50, 6);
    expect(model.counterAh).toBeCloseTo(50, 6);
    for (let i = 0; i < model.cells.length; i++) expect(model.cellSocPct(i)).toBeCloseTo(50, 6);
    run(model, 2 * HOUR, -20_000);
    expect(model.socPct).toBeCloseTo(10, 6);
    expect(model.dischargedAh).toBeCloseTo(40, 6);
    expect(model.elapsedMs).toBe(3 * HOUR);
  });

  it('keeps the counter in 0..100 % while cells run past their ends into the steep OCV', () => {
    const model = new BatteryModel(testProfile({ capacityAh: 100, capacitySpreadPct: 0, socSpreadPct: 0 }), 99);
    run(model, HOUR / 10, 20_000); // +2 Ah
    expect(model.socPct).toBe(100);
    expect(model.cellSocPct(0)).toBeCloseTo(101, 6);
    model.step(1, 0, OFF);
    expect(model.cellVoltagesMv()[0]).toBeCloseTo(3650, 0);
  });

  it('applies I·R: terminal voltage = OCV + current × internal resistance', () => {
    const model = new BatteryModel(testProfile({ internalResistanceMohm: 0.5, capacitySpreadPct: 0, socSpreadPct: 0 }), 50);
    model.step(1, 100_000, OFF);
    const ocv = ocvMv('lifepo4', model.cellSocPct(0));
    expect(model.cellVoltagesMv()[0]).toBeCloseTo(ocv + 50, 6); // 100 A × 0.5 mΩ = 50 mV
    model.step(1, -100_000, OFF);
    expect(model.cellVoltagesMv()[0]).toBeCloseTo(ocvMv('lifepo4', model.cellSocPct(0)) - 50, 6);
  });

  it('spreads capacity and SoC per cell, deterministically from the seed', () => {
    const profile = testProfile({ capacityAh: 200, capacitySpreadPct: 2, socSpreadPct: 1, seed: 42 });
    const a = new BatteryModel(profile, 50);
    const b = new BatteryModel(profile, 50);
    const c = new BatteryModel({ ...profile, seed: 43 }, 50);
    expect(a.cells.map((x) => x.capacityAh)).toEqual(b.cells.map((x) => x.capacityAh));
    expect(a.cells.map((x) => x.capacityAh)).not.toEqual(c.cells.map((x) => x.capacityAh));
    for (const [i, cell] of a.cells.entries()) {
      expect(Math.abs(cell.capacityAh - 200)).toBeLessThanOrEqual(4);
      expect(Math.abs(a.cellSocPct(i) - 50)).toBeLessThanOrEqual(1);
    }
    expect(new Set(a.cells.map((x) => x.capacityAh)).size).toBe(16);
    // the same 100 Ah moves a smaller cell further
    const before = a.cells.map((_, i) => a.cellSocPct(i));
    run(a, 2 * HOUR, 50_000);
    for (const [i, cell] of a.cells.entries()) expect(a.cellSocPct(i) - before[i]).toBeCloseTo((100 * 100) / cell.capacityAh, 6);
  });

  it('setSocPct sets every cell and the counter', () => {
    const model = new BatteryModel(testProfile({ capacitySpreadPct: 5, socSpreadPct: 5 }), 30);
    model.setSocPct(80);
    expect(model.socPct).toBeCloseTo(80, 9);
    for (let i = 0; i < 16; i++) expect(model.cellSocPct(i)).toBeCloseTo(80, 9);
  });

  it('heats with I² toward ambient + the profile rise, and cools back', () => {
    const profile = testProfile({ thermal: { ambientC: 20, mosfetRiseCAt100A: 16, cellRiseCAt100A: 8, timeConstantS: 60 } });
    const model = new BatteryModel(profile, 50);
    run(model, 20 * 60_000, 50_000); // 20 time constants at 50 A: rise × (50/100)²
    expect(model.temperatures.mosfetC).toBeCloseTo(24, 3);
    expect(model.temperatures.t2C).toBeCloseTo(22, 3);
    expect(model.temperatures.t1C).toBeCloseTo(21, 3);
    run(model, 60_000, 0); // one time constant: 63 % of the way back
    expect(model.temperatures.mosfetC).toBeCloseTo(20 + 4 * Math.exp(-1), 2);
  });

  it('balances passively: above the start voltage it bleeds the cells that are trigger mV above the lowest', () => {
    const model = new BatteryModel(testProfile({ capacitySpreadPct: 0, socSpreadPct: 0, balanceCurrentMa: 1000 }), 97);
    model.cells[4].chargeAh += 2; // cell 5 at 99 % against 97 %: 35 mV higher near the knee
    const balancer = { enabled: true, startMv: 3350, triggerMv: 10 };
    model.step(1000, 0, balancer);
    expect(model.cells.map((c) => c.balancing)).toEqual(model.cells.map((_, i) => i === 4));
    expect(model.balancing).toBe(true);
    const before = model.cells[4].chargeAh;
    run(model, 60_000, 0, balancer);
    expect(before - model.cells[4].chargeAh).toBeCloseTo(1000 / 60 / 1000, 3); // 1 A for one minute
    // below the start voltage, or switched off: no balancing
    model.step(1000, 0, { ...balancer, startMv: 4000 });
    expect(model.balancing).toBe(false);
    model.step(1000, 0, { ...balancer, enabled: false });
    expect(model.balancing).toBe(false);
  });
});
