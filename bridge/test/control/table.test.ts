import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultControlSettings, lookup, type LimitTable, type StepCrossing } from '../../src/control';

const t = defaultControlSettings.tables;
const step = (table: LimitTable): LimitTable => ({ ...table, mode: 'step' });

// dbus-serialbattery default tables (field-survey.md §2A), at and between breakpoints, with the
// step crossing the policy uses for each (charge limits 'rising', discharge limits 'falling').
const cases: [string, LimitTable, StepCrossing, [number, number, number][]][] = [
  // [x, linear, step]
  [
    'charge vs max cell mV',
    t.chargeVsMaxCellMv,
    'rising',
    [
      [3300, 1, 1],
      [3375, 1, 1],
      [3387.5, 0.625, 1],
      [3400, 0.25, 0.25],
      [3410, 0.17, 0.25], // §2A: "max cell 3.41 V → 0.25"
      [3425, 0.05, 0.05], // "... at 3.425 V it drops to 0.05"
      [3437.5, 0.0275, 0.05],
      [3450, 0.005, 0.005],
      [3475, 0.0025, 0.005],
      [3500, 0, 0],
      [3650, 0, 0],
    ],
  ],
  [
    'discharge vs min cell mV',
    t.dischargeVsMinCellMv,
    'falling',
    [
      [2500, 0, 0],
      [2800, 0, 0],
      [2850, 0.0025, 0.005],
      [2900, 0.005, 0.005],
      [2950, 0.0275, 0.05],
      [3000, 0.05, 0.05],
      [3050, 0.15, 0.25],
      [3100, 0.25, 0.25],
      [3145, 0.625, 1],
      [3190, 1, 1],
      [3400, 1, 1],
    ],
  ],
  [
    'charge vs temperature °C',
    t.chargeVsTemperatureC,
    'rising',
    [
      [-20, 0, 0],
      [0, 0, 0],
      [1, 0.125, 0],
      [2, 0.25, 0.25],
      [7.5, 0.75, 0.5],
      [25, 1, 1],
      [42.5, 0.75, 1],
      [45, 0.5, 0.5],
      [52.5, 0.125, 0.25],
      [55, 0, 0],
      [70, 0, 0],
    ],
  ],
  [
    'discharge vs temperature °C',
    t.dischargeVsTemperatureC,
    'falling',
    [
      [-30, 0, 0],
      [-10, 0, 0],
      [-5, 0.125, 0.25],
      [0, 0.25, 0.25],
      [2.5, 0.375, 0.5],
      [10, 1, 1],
      [42.5, 0.75, 0.5],
      [47.5, 0.375, 0.25],
      [55, 0, 0],
    ],
  ],
  [
    'MOSFET temperature °C, charge',
    t.vsMosfetTemperatureC,
    'rising',
    [
      [20, 1, 1],
      [70, 1, 1],
      [75, 0.625, 1],
      [80, 0.25, 0.25],
      [85, 0.125, 0.25],
      [90, 0, 0],
      [120, 0, 0],
    ],
  ],
  [
    'MOSFET temperature °C, discharge',
    t.vsMosfetTemperatureC,
    'falling',
    [
      [70, 1, 1],
      [75, 0.625, 0.25],
      [85, 0.125, 0],
    ],
  ],
  [
    'charge vs SoC %',
    t.chargeVsSocPct,
    'rising',
    [
      [50, 1, 1],
      [85, 1, 1],
      [92.5, 0.35, 0.5],
      [95, 0.2, 0.2],
      [99, 0.1, 0.1],
    ],
  ],
  [
    'discharge vs SoC %',
    t.dischargeVsSocPct,
    'falling',
    [
      [2, 0.1, 0.1],
      [7.5, 0.15, 0.2],
      [10, 0.2, 0.2],
      [17.5, 0.75, 1],
      [50, 1, 1],
    ],
  ],
];

describe('lookup on the dbus-serialbattery default tables', () => {
  for (const [name, table, crossing, rows] of cases) {
    it.each(rows)(`${name}: x=%s → linear %s, step %s`, (x, linear, stepped) => {
      expect(lookup(table, x, crossing)).toBeCloseTo(linear, 10);
      expect(lookup(step(table), x, crossing)).toBeCloseTo(stepped, 10);
    });
  }
});

describe('lookup', () => {
  it('reads a descending table as its ascending mirror', () => {
    const descending: LimitTable = { mode: 'linear', points: [[30, 0], [20, 0.5], [10, 1]] };
    const ascending: LimitTable = { mode: 'linear', points: [[10, 1], [20, 0.5], [30, 0]] };
    for (const x of [0, 10, 15, 20, 25, 30, 40]) {
      for (const crossing of ['rising', 'falling'] as const) {
        expect(lookup(descending, x, crossing)).toBe(lookup(ascending, x, crossing));
        expect(lookup(step(descending), x, crossing)).toBe(lookup(step(ascending), x, crossing));
      }
    }
    expect(lookup(descending, 15, 'rising')).toBe(0.75);
  });

  it('a single breakpoint is a constant', () => {
    expect(lookup({ mode: 'linear', points: [[3400, 0.4]] }, 0, 'rising')).toBe(0.4);
    expect(lookup({ mode: 'step', points: [[3400, 0.4]] }, 9999, 'falling')).toBe(0.4);
  });

  const tableArb = fc
    .uniqueArray(fc.integer({ min: -1000, max: 5000 }), { minLength: 1, maxLength: 8 })
    .chain((xs) =>
      fc.tuple(
        fc.constant([...xs].sort((a, b) => a - b)),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: xs.length, maxLength: xs.length }),
        fc.constantFrom<'linear' | 'step'>('linear', 'step'),
        fc.boolean(),
      ),
    )
    .map(([xs, ys, mode, reversed]): LimitTable => {
      const points = xs.map((x, i): [number, number] => [x, ys[i]]);
      return { mode, points: reversed ? points.reverse() : points };
    });

  it('stays within the fractions of the table; step returns one of them', () => {
    const crossingArb = fc.constantFrom<StepCrossing>('rising', 'falling');
    fc.assert(
      fc.property(tableArb, fc.double({ min: -2000, max: 6000, noNaN: true }), crossingArb, (table, x, crossing) => {
        const ys = table.points.map((p) => p[1]);
        const y = lookup(table, x, crossing);
        expect(y).toBeGreaterThanOrEqual(Math.min(...ys));
        expect(y).toBeLessThanOrEqual(Math.max(...ys));
        if (table.mode === 'step') expect(ys).toContain(y);
      }),
      { numRuns: 2000 },
    );
  });
});
