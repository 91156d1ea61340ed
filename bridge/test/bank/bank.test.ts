/**
 * The bank rules of bridge/src/bank (issue 12), pack by pack: sharing, MOSFET-open packs out of
 * the sharing, a pack at its charge stop stopping the bank, CVL from the packs that can charge,
 * the stale-pack policy, cross-pack disagreements, measurements with the pack they come from.
 */
import { describe, expect, it } from 'vitest';
import {
  combineBank,
  snapshotAtBankScale,
  stepPack,
  type BankOptions,
  type PackState,
  type PackView,
} from '../../src/bank/bank';
import { currentShares } from '../../src/bank/sharing';
import { createControlState, defaultControlSettings, stepControl, type ControlSettings } from '../../src/control';
import type { BmsSnapshot } from '../../src/protocol/jk/snapshot';
import { cellsWithOne, snapshot, type SnapshotOptions } from '../support/snapshot-builder';

const settings: ControlSettings = {
  ...defaultControlSettings,
  current: { ...defaultControlSettings.current, maxChargeA: 400, maxDischargeA: 400 },
};

const options = (o: Partial<BankOptions> = {}): BankOptions => ({
  onPackLost: 'stop',
  copies: 1,
  maxPackVoltageSpreadMv: 1000,
  ocpCapFraction: settings.current.bmsOcpCapFraction,
  stopCurrentA: settings.stop.currentA,
  ...o,
});

interface PackSpec extends SnapshotOptions {
  name: string;
  state?: PackState;
  faultCause?: 'data' | 'lost';
  faultReason?: string;
  resistanceMohm?: number;
}

/** Pack views whose outputs come from the real policy, stepped as the chart steps them. */
function bank(specs: PackSpec[], copies = 1, s: ControlSettings = settings): PackView[] {
  const views: PackView[] = specs.map((p) => ({
    name: p.name,
    state: p.state ?? 'connected',
    faultCause: p.faultCause ?? null,
    faultReason: p.faultReason ?? null,
    snapshot: p.state === 'idle' ? null : snapshot(p),
    snapshotAtMs: p.state === 'idle' ? null : 0,
    output: null,
    internalResistanceMohm: p.resistanceMohm ?? null,
  }));
  return views.map((v) =>
    v.snapshot === null
      ? v
      : { ...v, output: stepPack(createControlState(), v.name, v.snapshot, views, copies, 0, s).output },
  );
}

describe('current shares', () => {
  it('divide by capacity', () => {
    const shares = currentShares([
      { capacityAh: 280, internalResistanceMohm: null },
      { capacityAh: 140, internalResistanceMohm: null },
    ]);
    expect(shares[0]).toBeCloseTo(2 / 3, 12);
    expect(shares[1]).toBeCloseTo(1 / 3, 12);
  });

  it('take the larger of capacity and conductance share when every resistance is known', () => {
    // Equal capacity, but pack A has half the resistance: it takes 2/3 of the current at equal OCV.
    const shares = currentShares([
      { capacityAh: 280, internalResistanceMohm: 10 },
      { capacityAh: 280, internalResistanceMohm: 20 },
    ]);
    expect(shares[0]).toBeCloseTo(2 / 3, 12);
    expect(shares[1]).toBeCloseTo(1 / 2, 12);
  });

  it('ignore resistance when one pack has none configured', () => {
    expect(
      currentShares([
        { capacityAh: 100, internalResistanceMohm: 10 },
        { capacityAh: 100, internalResistanceMohm: null },
      ]),
    ).toEqual([0.5, 0.5]);
  });

  it('are 1/copies for a mirrored pack and 1 for a single pack', () => {
    expect(currentShares([{ capacityAh: 280, internalResistanceMohm: null }], 4)).toEqual([0.25]);
    expect(currentShares([{ capacityAh: 280, internalResistanceMohm: null }])).toEqual([1]);
  });
});

describe('bank limits', () => {
  const four = (overrides: Record<string, Partial<PackSpec>> = {}) =>
    ['A', 'B', 'C', 'D'].map((name) => ({ name, ...overrides[name] }));

  it('four equal packs carry four times one pack’s OCP cap, capped by the configured maximum', () => {
    const result = combineBank(bank(four()), options());
    expect(result.mode).toBe('normal');
    // 0.9 × 100 A per pack at a 25 % share = 360 A (below the 400 A maximum).
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(360, 9);
    expect(result.output!.dischargeCurrentLimitA).toBe(400);
    expect(result.output!.reasons.chargeCurrent).toMatch(/^pack A: BMS over-current setting/);
  });

  it('a pack at its charge-stop voltage with its charge MOSFET on stops the whole bank', () => {
    const result = combineBank(bank(four({ C: { cellsMv: cellsWithOne(3350, 3510) } })), options());
    expect(result.output!.chargeCurrentLimitA).toBe(settings.stop.currentA);
    expect(result.output!.requests.chargeEnable).toBe(false);
    expect(result.output!.reasons.chargeCurrent).toBe('pack C: charge-stop cell voltage (max cell 3.510 V)');
    // Discharge goes on: the full pack is what discharging relieves.
    expect(result.output!.requests.dischargeEnable).toBe(true);
  });

  it('a pack whose BMS opened its charge MOSFET is out of the charge sharing; the others go on with larger shares', () => {
    const result = combineBank(bank(four({ C: { cellsMv: cellsWithOne(3350, 3660), chargeMosfet: false } })), options());
    expect(result.output!.requests.chargeEnable).toBe(true);
    // Three packs share: 0.9 × 100 A / (1/3) = 270 A.
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(270, 9);
    expect(result.output!.reasons.chargeCurrent).toContain('at a 33 % share');
    // Pack C still discharges through its closed discharge MOSFET, so discharge keeps four shares.
    expect(result.output!.dischargeCurrentLimitA).toBe(400);
  });

  it('shares are re-decided when the bank is combined, not only when a pack was stepped', () => {
    // Every pack stepped while all four shared; then D's BMS opens its charge MOSFET before A, B
    // and C are stepped again: the three must not keep the 25 % caps of that older step.
    const views = bank(four());
    views[3] = { ...views[3], snapshot: snapshot({ chargeMosfet: false }) };
    const result = combineBank(views, options());
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(270, 9);
    expect(result.output!.reasons.chargeCurrent).toBe('pack A: BMS over-current setting (0.9 × 100 A) at a 33 % share');
  });

  it('a pack whose BMS opened its discharge MOSFET is out of the discharge sharing only', () => {
    const result = combineBank(bank(four({ B: { dischargeMosfet: false }, A: { settings: { dischargeOcpA: 100 } } })), options());
    // A, C, D share discharge: A's 0.9 × 100 A at 1/3 = 270 A binds.
    expect(result.output!.dischargeCurrentLimitA).toBeCloseTo(270, 9);
    expect(result.output!.reasons.dischargeCurrent).toMatch(/^pack A: /);
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(360, 9);
  });

  it('with every charge MOSFET open the bank does not charge, and says so', () => {
    const result = combineBank(bank(four(Object.fromEntries(['A', 'B', 'C', 'D'].map((n) => [n, { chargeMosfet: false }])))), options());
    expect(result.output!.requests.chargeEnable).toBe(false);
    expect(result.output!.reasons.chargeCurrent).toBe("every pack's charge MOSFET is open");
  });

  it('a smaller pack takes a smaller share, so the bank limit is bound by the pack nearest its own limit', () => {
    // A 280 Ah (share 2/3) and B 140 Ah (share 1/3), both 100 A OCP: A reaches 90 A first, at 135 A.
    const result = combineBank(bank([{ name: 'A' }, { name: 'B', settings: { capacityAh: 140 } }]), options());
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(135, 9);
    expect(result.output!.reasons.chargeCurrent).toMatch(/^pack A: /);
  });

  it('a known lower internal resistance gives a pack a larger, conservative share', () => {
    const result = combineBank(
      bank([
        { name: 'A', resistanceMohm: 5 },
        { name: 'B', resistanceMohm: 20 },
      ]),
      options(),
    );
    // A's conductance share is 0.8 > its capacity share 0.5: 90 A / 0.8 = 112.5 A.
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(112.5, 9);
  });

  it('a pack’s hot sensor limits the bank by the temperature table', () => {
    const result = combineBank(bank(four({ D: { tempC: 50 } })), options());
    // 50 °C → 0.25 of the maximum (settings.ts chargeVsTemperatureC).
    expect(result.output!.chargeCurrentLimitA).toBe(100);
    expect(result.output!.reasons.chargeCurrent).toBe('pack D: temperature table (T 50 °C)');
  });

  it('CVL is the lowest CVL of the packs that can charge; a pack with its charge MOSFET open does not set it', () => {
    const s: ControlSettings = { ...settings, stop: { ...settings.stop, chargeVoltage: 'pack' } };
    const views = bank(
      [
        { name: 'A', cellMv: 3340 },
        { name: 'B', cellMv: 3300 },
        // Stopped by its own BMS: its 'pack' stop encoding (its own voltage) must not pull the bank's CVL.
        { name: 'C', cellMv: 3200, chargeMosfet: false },
      ],
      1,
      s,
    );
    const result = combineBank(views, options());
    const cvls = Object.fromEntries(views.map((v) => [v.name, v.output!.chargeVoltageV]));
    expect(cvls.C).toBeLessThan(Math.min(cvls.A, cvls.B));
    expect(result.output!.chargeVoltageV).toBe(Math.min(cvls.A, cvls.B));
    expect(result.output!.reasons.chargeVoltage).toMatch(/^pack [AB]: /);
  });

  it('DVL is the highest of the packs', () => {
    const result = combineBank(bank([{ name: 'A' }, { name: 'B', settings: { cellUvpMv: 3000 } }]), options());
    expect(result.output!.dischargeVoltageV).toBe(bank([{ name: 'B', settings: { cellUvpMv: 3000 } }])[0].output!.dischargeVoltageV);
  });

  it('any pack’s alarm or warning is the bank’s', () => {
    const result = combineBank(bank([{ name: 'A', alarms: ['batteryOverTemperature'] }, { name: 'B', alarms: ['cellUnderVoltage'] }]), options());
    expect(result.output!.alarms).toEqual({ highTemperature: true });
    expect(result.output!.warnings).toEqual({ lowVoltage: true });
  });

  it('mirror mode: one watched pack stands for n packs in limits and measurements', () => {
    const views = bank([{ name: 'A' }], 4);
    views[0] = { ...views[0], snapshot: { ...views[0].snapshot!, currentMa: 12_000 } };
    const result = combineBank(views, options({ copies: 4 }));
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(360, 9);
    expect(result.measurements!.currentMa).toBe(48_000);
    expect(result.measurements!.capacityAh).toBe(4 * 280);
  });
});

describe('packs without fresh data', () => {
  const specs = (bState: PackState, extra: Partial<PackSpec> = {}): PackSpec[] => [
    { name: 'A' },
    { name: 'B', state: bState, ...extra },
    { name: 'C' },
  ];

  it('stop (default): one stale pack puts the whole bank to stale, naming the pack', () => {
    const result = combineBank(bank(specs('stale')), options());
    expect(result.mode).toBe('stale');
    expect(result.reason).toBe('pack B: no fresh data');
    // The last known output stays (CVL, SoC, alarms for the stopped frames); the bus zeroes the currents.
    expect(result.output).not.toBeNull();
  });

  it('degrade: a stale pack is left out, the limits scale to the packs left, with a communication warning', () => {
    const result = combineBank(bank(specs('stale')), options({ onPackLost: 'degrade' }));
    expect(result.mode).toBe('normal');
    expect(result.members).toEqual(['A', 'C']);
    expect(result.excluded).toEqual([{ name: 'B', why: 'no fresh data' }]);
    // Two packs share: 0.9 × 100 A / 0.5 = 180 A (three would have given 270 A).
    expect(result.output!.chargeCurrentLimitA).toBeCloseTo(180, 9);
    expect(result.output!.warnings.communication).toBe(true);
    expect(result.reason).toBe('degraded: pack B left out (no fresh data)');
  });

  it('degrade: a pack lost long enough to fault stays left out; every pack lost stops the bank', () => {
    const lostFault = combineBank(bank(specs('fault', { faultCause: 'lost', faultReason: 'no valid BMS data for 35000 ms' })), options({ onPackLost: 'degrade' }));
    expect(lostFault.mode).toBe('normal');
    expect(lostFault.excluded[0].name).toBe('B');
    const allLost = combineBank(
      bank([
        { name: 'A', state: 'stale' },
        { name: 'B', state: 'stale' },
      ]),
      options({ onPackLost: 'degrade' }),
    );
    expect(allLost.mode).toBe('stale');
  });

  it('a pack with bad data faults the bank in either mode', () => {
    for (const onPackLost of ['stop', 'degrade'] as const) {
      const result = combineBank(bank(specs('fault', { faultCause: 'data', faultReason: 'implausible BMS data: cell 5 at 0 mV' })), options({ onPackLost }));
      expect(result.mode).toBe('fault');
      expect(result.reason).toBe('pack B: implausible BMS data: cell 5 at 0 mV');
    }
  });

  it('sends nothing until every pack has answered once', () => {
    const result = combineBank(bank(specs('idle')), options({ onPackLost: 'degrade' }));
    expect(result.mode).toBe('none');
    expect(result.reason).toBe('waiting for the first data of B');
  });
});

describe('packs that disagree are a fault naming the pack, never averaged', () => {
  it('a pack whose cell count differs from the others', () => {
    const result = combineBank(bank([{ name: 'A' }, { name: 'B', cellsMv: Array(15).fill(3300) }, { name: 'C' }]), options());
    expect(result.mode).toBe('fault');
    expect(result.reason).toBe("pack B: 15 cells, the bank's other packs have 16");
    expect(result.disagreeing).toEqual(['B']);
  });

  it('a pack whose BMS is set for another chemistry than the others', () => {
    const nmc = { settings: { cellOvpMv: 4200, cellUvpMv: 3000 } };
    const result = combineBank(bank([{ name: 'A' }, { name: 'B', ...nmc }, { name: 'C' }]), options());
    expect(result.mode).toBe('fault');
    expect(result.reason).toBe(
      "pack B: its BMS is set for nmc (bms.cellOvp 4200 mV, bms.cellUvp 3000 mV), the bank's other packs for lifepo4: one bank holds one chemistry, check this JK's cell OVP and UVP",
    );
    expect(result.disagreeing).toEqual(['B']);
    // Two against two: the first pack's chemistry is the bank's.
    expect(combineBank(bank([{ name: 'A', ...nmc }, { name: 'B' }, { name: 'C' }, { name: 'D', ...nmc }]), options()).disagreeing).toEqual(['B', 'C']);
    // OVPs that differ within one chemistry, and settings that fit none, are each pack's own matter.
    const own = bank([{ name: 'A' }, { name: 'B', settings: { cellOvpMv: 3600 } }, { name: 'C', settings: { cellOvpMv: 3900 } }]);
    expect(combineBank(own, options()).disagreeing).toEqual([]);
  });

  it('pack voltages further apart than a cable drop', () => {
    const result = combineBank(bank([{ name: 'A', cellMv: 3300 }, { name: 'B', cellMv: 3300, packMv: 51_200 }]), options());
    expect(result.mode).toBe('fault');
    expect(result.reason).toBe(
      'pack voltages disagree on one bus: pack A 52.80 V, pack B 51.20 V (1600 mV apart, at most 1000 mV believable)',
    );
    expect(result.disagreeing).toEqual(['A', 'B']);
  });

  it('but a pack with an open MOSFET may sit at its own voltage', () => {
    const result = combineBank(bank([{ name: 'A', cellMv: 3400 }, { name: 'B', cellMv: 3250, chargeMosfet: false }]), options());
    expect(result.mode).toBe('normal');
  });
});

describe('bank measurements', () => {
  it('sum the current, weight SoC by capacity and name the pack and cell of each extreme', () => {
    const views = bank([
      { name: 'A', socPct: 30, settings: { capacityAh: 100 }, cellsMv: cellsWithOne(3300, 3420), tempC: 20 },
      { name: 'B', socPct: 70, settings: { capacityAh: 300 }, cellsMv: cellsWithOne(3310, 3250), t1TempC: 31, t2TempC: 8 },
    ]);
    views[0] = { ...views[0], snapshot: { ...views[0].snapshot!, currentMa: 10_000 } };
    views[1] = { ...views[1], snapshot: { ...views[1].snapshot!, currentMa: -4_000 } };
    const m = combineBank(views, options()).measurements!;
    expect(m.currentMa).toBe(6_000);
    expect(m.capacityAh).toBe(400);
    expect(m.socPct).toBeCloseTo(60, 12);
    expect(m.maxCellMv).toEqual({ value: 3420, pack: 'A', cell: 6, number: 6 });
    // Pack B's cells are numbered after pack A's 16.
    expect(m.minCellMv).toEqual({ value: 3250, pack: 'B', cell: 6, number: 22 });
    expect(m.maxTemperatureC).toEqual({ value: 31, pack: 'B' });
    expect(m.minTemperatureC).toEqual({ value: 8, pack: 'B' });
    expect(m.voltageMv).toBe((views[0].snapshot!.packMv + views[1].snapshot!.packMv) / 2);
  });

  it('stay available while the bank is stale (the bus sends the last known ones)', () => {
    const result = combineBank(bank([{ name: 'A' }, { name: 'B', state: 'stale' }]), options());
    expect(result.mode).toBe('stale');
    expect(result.measurements?.capacityAh).toBe(560);
  });
});

describe('stepPack', () => {
  it('scales the OCP settings to the bank current at which the pack reaches them', () => {
    const s: BmsSnapshot = snapshot();
    expect(snapshotAtBankScale(s, 1, 1)).toBe(s);
    expect(snapshotAtBankScale(s, 0.25, 0.5).settings).toMatchObject({ chargeOcpA: 400, dischargeOcpA: 300 });
  });

  it('is stepControl itself for a single pack', () => {
    const s = snapshot({ cellMv: 3420 });
    const views = bank([{ name: 'A', cellMv: 3420 }]);
    expect(stepPack(createControlState(), 'A', s, views, 1, 5, settings)).toEqual(stepControl(createControlState(), s, 5, settings));
  });
});
