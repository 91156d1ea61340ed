import { describe, expect, it } from 'vitest';
import { controlSettingsSchema, defaultControlSettings } from '../../src/control';
import { firstOutput, runner } from './runner';
import { cellsWithOne, snapshot, type SnapshotOptions } from '../support/snapshot-builder';

const socTables = controlSettingsSchema.parse({
  tables: { chargeVsSocPct: { enabled: true }, dischargeVsSocPct: { enabled: true } },
});

describe('each charge limiter wins in turn, with its reason (field-survey.md §2A)', () => {
  const cases: [string, SnapshotOptions, number, string][] = [
    ['configured maximum', {}, 50, 'configured maximum'],
    ['BMS OCP cap', { settings: { chargeOcpA: 40 } }, 36, 'BMS over-current setting (0.9 × 40 A)'],
    ['cell voltage table', { cellsMv: cellsWithOne(3300, 3400) }, 12.5, 'cell voltage table (max cell 3.400 V)'],
    ['lowest battery temperature', { t1TempC: 1, t2TempC: 25 }, 6.25, 'temperature table (T 1 °C)'],
    ['highest battery temperature', { t1TempC: 25, t2TempC: 50 }, 12.5, 'temperature table (T 50 °C)'],
    ['MOSFET temperature', { mosfetTempC: 85 }, 6.25, 'MOSFET temperature table (T 85 °C)'],
    ['charge MOSFET off', { chargeMosfet: false }, 0, 'BMS charge MOSFET off'],
    [
      'charge-stop cell voltage',
      { cellsMv: cellsWithOne(3300, 3500) },
      0,
      'charge-stop cell voltage (max cell 3.500 V)',
    ],
  ];
  it.each(cases)('%s', (_name, options, cclA, reason) => {
    const out = firstOutput(snapshot(options));
    expect(out.chargeCurrentLimitA).toBeCloseTo(cclA, 9);
    expect(out.reasons.chargeCurrent).toBe(reason);
    expect(out.requests.chargeEnable).toBe(cclA > 0);
  });

  it('SoC table, when enabled', () => {
    const out = firstOutput(snapshot({ socPct: 95 }), socTables);
    expect(out.chargeCurrentLimitA).toBeCloseTo(10, 9);
    expect(out.reasons.chargeCurrent).toBe('SoC table (SoC 95 %)');
    expect(firstOutput(snapshot({ socPct: 95 })).chargeCurrentLimitA).toBe(50);
  });

  it('the MOSFET-off reason wins a tie with the other zero limits', () => {
    const out = firstOutput(snapshot({ chargeMosfet: false, cellsMv: cellsWithOne(3300, 3600), tempC: -5 }));
    expect(out.reasons.chargeCurrent).toBe('BMS charge MOSFET off');
  });
});

describe('each discharge limiter wins in turn, with its reason', () => {
  const cases: [string, SnapshotOptions, number, string][] = [
    ['configured maximum', {}, 60, 'configured maximum'],
    ['BMS OCP cap', { settings: { dischargeOcpA: 50 } }, 45, 'BMS over-current setting (0.9 × 50 A)'],
    ['cell voltage table', { cellsMv: cellsWithOne(3300, 3100) }, 15, 'cell voltage table (min cell 3.100 V)'],
    ['lowest battery temperature', { t1TempC: -5, t2TempC: 20 }, 7.5, 'temperature table (T -5 °C)'],
    ['highest battery temperature', { t1TempC: 20, t2TempC: 45 }, 30, 'temperature table (T 45 °C)'],
    ['MOSFET temperature', { mosfetTempC: 80 }, 15, 'MOSFET temperature table (T 80 °C)'],
    ['discharge MOSFET off', { dischargeMosfet: false }, 0, 'BMS discharge MOSFET off'],
    [
      'discharge-stop cell voltage',
      { cellsMv: cellsWithOne(3300, 2800) },
      0,
      'discharge-stop cell voltage (min cell 2.800 V)',
    ],
  ];
  it.each(cases)('%s', (_name, options, dclA, reason) => {
    const out = firstOutput(snapshot(options));
    expect(out.dischargeCurrentLimitA).toBeCloseTo(dclA, 9);
    expect(out.reasons.dischargeCurrent).toBe(reason);
    expect(out.requests.dischargeEnable).toBe(dclA > 0);
  });

  it('SoC table, when enabled', () => {
    const out = firstOutput(snapshot({ socPct: 10 }), socTables);
    expect(out.dischargeCurrentLimitA).toBeCloseTo(12, 9);
    expect(out.reasons.dischargeCurrent).toBe('SoC table (SoC 10 %)');
  });

  it('a MOSFET off stops only its own direction', () => {
    const out = firstOutput(snapshot({ dischargeMosfet: false }));
    expect(out.chargeCurrentLimitA).toBe(50);
    expect(out.requests).toMatchObject({ chargeEnable: true, dischargeEnable: false });
  });

  it('the OCP cap can be switched off', () => {
    const s = controlSettingsSchema.parse({ current: { bmsOcpCapFraction: null } });
    expect(firstOutput(snapshot({ settings: { dischargeOcpA: 10 } }), s).dischargeCurrentLimitA).toBe(60);
  });
});

describe('rate limiting of the current limits (§2A: decreases at once, 30 s hold, 5 A/s, 1.5 % restart)', () => {
  it('a cell reaching chargeStopCellMv stops charge in the same step', () => {
    const step = runner();
    for (let t = 0; t < 5; t++) expect(step(t, snapshot()).chargeCurrentLimitA).toBe(50);
    const out = step(5, snapshot({ cellsMv: cellsWithOne(3300, defaultControlSettings.chargeStopCellMv) }));
    expect(out.chargeCurrentLimitA).toBe(0);
    expect(out.requests.chargeEnable).toBe(false);
  });

  it('a cell reaching dischargeStopCellMv stops discharge in the same step', () => {
    const step = runner();
    expect(step(0, snapshot()).dischargeCurrentLimitA).toBe(60);
    const out = step(1, snapshot({ cellsMv: cellsWithOne(3300, defaultControlSettings.dischargeStopCellMv) }));
    expect(out.dischargeCurrentLimitA).toBe(0);
    expect(out.requests.dischargeEnable).toBe(false);
  });

  it('holds an increase 30 s, then ramps at 5 A/s (1 s steps)', () => {
    const step = runner();
    expect(step(0, snapshot()).chargeCurrentLimitA).toBe(50);
    expect(step(1, snapshot({ chargeMosfet: false })).chargeCurrentLimitA).toBe(0);
    const series: number[] = [];
    for (let t = 2; t <= 45; t++) {
      const out = step(t, snapshot());
      series.push(out.chargeCurrentLimitA);
      const hold = /^recovery hold, \d+ s left \(target 50 A: configured maximum\)$/;
      if (t < 32) expect(out.reasons.chargeCurrent).toMatch(hold);
      if (t >= 33 && t < 42) expect(out.reasons.chargeCurrent).toBe('ramp (target 50 A: configured maximum)');
      if (t >= 42) expect(out.reasons.chargeCurrent).toBe('configured maximum');
      expect(out.requests.chargeEnable).toBe(out.chargeCurrentLimitA > 0);
    }
    // Target back above 0 from t = 2 s: held until 32 s, then 5 A per second to 50 A.
    expect(series).toEqual([
      ...Array<number>(31).fill(0), // t = 2 … 32
      5, 10, 15, 20, 25, 30, 35, 40, 45, 50, // t = 33 … 42
      50, 50, 50, // t = 43 … 45
    ]);
  });

  it('ramps the discharge limit the same way, and a decrease during the ramp applies at once', () => {
    const step = runner();
    step(0, snapshot());
    step(1, snapshot({ dischargeMosfet: false }));
    for (let t = 2; t < 32; t++) expect(step(t, snapshot()).dischargeCurrentLimitA).toBe(0);
    expect(step(32, snapshot()).dischargeCurrentLimitA).toBe(0);
    expect(step(33, snapshot()).dischargeCurrentLimitA).toBe(5);
    expect(step(34, snapshot()).dischargeCurrentLimitA).toBe(10);
    // Min cell 3.1 V → 15 A target: above the applied 10 A, so the ramp goes on ...
    expect(step(35, snapshot({ cellsMv: cellsWithOne(3300, 3100) })).dischargeCurrentLimitA).toBe(15);
    // ... min cell 3.0 V → 3 A target: below, applied in the same step.
    const out = step(36, snapshot({ cellsMv: cellsWithOne(3300, 3000) }));
    expect(out.dischargeCurrentLimitA).toBe(3);
    expect(out.reasons.dischargeCurrent).toBe('cell voltage table (min cell 3.000 V)');
  });

  it('a target that drops back during the hold restarts the hold', () => {
    const step = runner();
    step(0, snapshot());
    step(1, snapshot({ chargeMosfet: false }));
    for (let t = 2; t < 20; t++) step(t, snapshot());
    step(20, snapshot({ chargeMosfet: false }));
    for (let t = 21; t <= 51; t++) expect(step(t, snapshot()).chargeCurrentLimitA).toBe(0);
    expect(step(52, snapshot()).chargeCurrentLimitA).toBe(5);
  });

  it('from 0 A stays at 0 while the target is below 1.5 % of the maximum', () => {
    const step = runner();
    step(0, snapshot({ cellsMv: cellsWithOne(3300, 3500) }));
    // Max cell 3.45 V: 0.005 × 50 A = 0.25 A < 0.75 A.
    for (let t = 1; t < 100; t++) {
      const out = step(t, snapshot({ cellsMv: cellsWithOne(3300, 3450) }));
      expect(out.chargeCurrentLimitA).toBe(0);
      expect(out.reasons.chargeCurrent).toBe(
        'below restart threshold (target 0.25 A: cell voltage table (max cell 3.450 V))',
      );
    }
    // 3.44 V: 0.023 × 50 A = 1.15 A clears the threshold; the hold starts.
    expect(step(100, snapshot({ cellsMv: cellsWithOne(3300, 3440) })).reasons.chargeCurrent).toMatch(/^recovery hold/);
  });

  it('a bridge start applies the targets at once', () => {
    const out = runner()(1_000_000, snapshot({ cellsMv: cellsWithOne(3300, 3400) }));
    expect(out.chargeCurrentLimitA).toBe(12.5);
    expect(out.dischargeCurrentLimitA).toBe(60);
  });
});
