import { describe, expect, it } from 'vitest';
import { controlSettingsSchema, maxChargeVoltageV, type ControlOutput } from '../../src/control';
import { runner } from './runner';
import { CELLS, cellsWithOne, snapshot } from '../support/snapshot-builder';

const V = (out: ControlOutput) => Number(out.chargeVoltageV.toFixed(3));

describe('charge phases (field-survey.md §2A CVL state machine)', () => {
  it('bulk → absorption → float after 900 s balanced, float transition ramp, back to bulk at SoC < 80', () => {
    const step = runner();
    const bulk = step(0, snapshot({ cellMv: 3400, socPct: 90 }));
    expect(bulk).toMatchObject({ phase: 'bulk', chargeVoltageV: 55.2 });
    expect(bulk.reasons.chargeVoltage).toBe('bulk (3.450 V/cell)');

    // Pack reaches 16 × 3.45 V with all cells within 10 mV: the absorption timer starts at t = 1 s.
    for (let t = 1; t <= 900; t++) {
      const out = step(t, snapshot({ cellMv: 3450, socPct: 95 }));
      expect(out.phase).toBe('absorption');
      expect(out.chargeVoltageV).toBe(55.2);
      expect(out.reasons.chargeVoltage).toBe('absorption (3.450 V/cell)');
    }
    const float = step(901, snapshot({ cellMv: 3450, socPct: 98 }));
    expect(float.phase).toBe('float');
    expect(float.reasons.chargeVoltage).toBe('float transition');

    // 1 mV/s down from 55.2 V to 16 × 3.375 = 54.0 V, taking 1200 s.
    expect(V(step(1001, snapshot({ cellMv: 3400, socPct: 98 })))).toBe(55.1);
    expect(V(step(1501, snapshot({ cellMv: 3380, socPct: 98 })))).toBe(54.6);
    const settled = step(2101, snapshot({ cellMv: 3370, socPct: 98 }));
    expect(V(settled)).toBe(54);
    expect(settled.reasons.chargeVoltage).toBe('float (3.375 V/cell)');
    expect(step(3000, snapshot({ cellMv: 3340, socPct: 80 })).phase).toBe('float');

    // SoC below 80 %: bulk again; the higher CVL is held 60 s, then ramps at 1 mV/s.
    const rebulk = step(3001, snapshot({ cellMv: 3320, socPct: 79 }));
    expect(rebulk.phase).toBe('bulk');
    expect(rebulk.chargeVoltageV).toBe(54);
    expect(step(3031, snapshot({ cellMv: 3320, socPct: 79 })).reasons.chargeVoltage).toBe(
      'recovery hold, 30 s left (target 55.20 V: bulk (3.450 V/cell))',
    );
    expect(V(step(3061, snapshot({ cellMv: 3320, socPct: 79 })))).toBe(54);
    expect(V(step(3161, snapshot({ cellMv: 3320, socPct: 79 })))).toBe(54.1);
    expect(step(3162, snapshot({ cellMv: 3320, socPct: 79 })).reasons.chargeVoltage).toBe(
      'ramp (target 55.20 V: bulk (3.450 V/cell))',
    );
  });

  /** Absorption from 0 s, float at 900 s. */
  const toFloat = (step: ReturnType<typeof runner>) => {
    for (let t = 0; t < 900; t += 10) expect(step(t, snapshot({ cellMv: 3450, socPct: 95 })).phase).toBe('absorption');
    expect(step(900, snapshot({ cellMv: 3450, socPct: 95 })).phase).toBe('float');
  };

  it('returns to bulk when the cell spread reaches 80 mV', () => {
    const step = runner();
    toFloat(step);
    expect(step(920, snapshot({ cellsMv: cellsWithOne(3350, 3429), socPct: 95 })).phase).toBe('float');
    expect(step(930, snapshot({ cellsMv: cellsWithOne(3350, 3430), socPct: 95 })).phase).toBe('bulk');
  });

  it('restarts the absorption timer while the cells drift more than 13 mV apart', () => {
    const step = runner();
    for (let t = 0; t < 500; t += 10) expect(step(t, snapshot({ cellMv: 3450 })).phase).toBe('absorption');
    // One cell 14 mV above the rest, pack still at 55.2 V: the 900 s count starts again at 500 s.
    expect(step(500, snapshot({ cellsMv: cellsWithOne(3449, 3465) })).phase).toBe('absorption');
    for (let t = 510; t < 1400; t += 10) expect(step(t, snapshot({ cellMv: 3450 })).phase).toBe('absorption');
    expect(step(1400, snapshot({ cellMv: 3450 })).phase).toBe('float');
  });

  it('drops a started absorption when the pack falls 0.5 V below bulk', () => {
    const step = runner();
    expect(step(0, snapshot({ cellMv: 3450 })).phase).toBe('absorption');
    expect(step(10, snapshot({ cellMv: 3420 })).phase).toBe('absorption'); // 54.72 V
    expect(step(20, snapshot({ cellMv: 3418 })).phase).toBe('bulk'); // 54.688 V
  });

  it('a due SoC reset raises the target to the SoC-reset voltage and ends float', () => {
    const s = controlSettingsSchema.parse({
      chargeStopCellMv: 3700,
      tables: { chargeVsMaxCellMv: { points: [[3700, 0], [3650, 0.05], [3400, 1]] } },
      voltage: { socReset: { afterDays: 1 } },
    });
    const step = runner(s);
    toFloat(step);
    expect(step(86_000, snapshot({ cellMv: 3375, socPct: 95 })).phase).toBe('float');
    // Float was reached at 900 s, so the reset is due one day later.
    expect(step(86_400 + 899, snapshot({ cellMv: 3375, socPct: 95 })).phase).toBe('float');
    const due = step(86_400 + 900, snapshot({ cellMv: 3375, socPct: 95 }));
    expect(due.phase).toBe('bulk');
    expect(due.reasons.chargeVoltage).toBe('recovery hold, 60 s left (target 58.40 V: SoC reset (3.650 V/cell))');
    expect(maxChargeVoltageV(s, CELLS)).toBe(58.4);
  });
});

describe('CVL controllers (§2A "CVL while in bulk/absorption")', () => {
  it('the penalty sum lowers the CVL at once when a cell exceeds the bulk voltage, then recovers held and ramped', () => {
    const step = runner();
    expect(step(0, snapshot({ cellMv: 3400 })).chargeVoltageV).toBe(55.2);
    // 15 × 3.40 + 3.47 = 54.47 V, minus the 20 mV overshoot.
    const penalised = step(1, snapshot({ cellsMv: cellsWithOne(3400, 3470) }));
    expect(V(penalised)).toBe(54.45);
    expect(penalised.reasons.chargeVoltage).toBe('cell over-voltage penalty (max cell 3.470 V)');
    for (let t = 2; t <= 62; t++) expect(V(step(t, snapshot({ cellMv: 3440 })))).toBe(54.45);
    expect(V(step(63, snapshot({ cellMv: 3440 })))).toBe(54.451);
    expect(V(step(72, snapshot({ cellMv: 3440 })))).toBe(54.46);
  });

  it('the penalty counts the overshoot of every cell above the bulk voltage', () => {
    // 14 × 3.40 + 2 × 3.46 = 54.52 V, minus 2 × 10 mV.
    const two = Array.from({ length: CELLS }, (_, i) => (i < 2 ? 3460 : 3400));
    expect(V(runner()(0, snapshot({ cellsMv: two })))).toBe(54.5);
  });

  it('the I-controller walks the CVL down by 0.2 × (max cell − (bulk + 10 mV)) per second', () => {
    const s = controlSettingsSchema.parse({ voltage: { controller: { mode: 'integral' } } });
    const step = runner(s);
    const high = snapshot({ cellsMv: cellsWithOne(3440, 3480) }); // 20 mV above 3.46 V → 4 mV/s
    expect(step(0, high).chargeVoltageV).toBe(55.2);
    const first = step(1, high);
    expect(V(first)).toBe(55.196);
    expect(first.reasons.chargeVoltage).toBe('I-controller (max cell 3.480 V)');
    expect(V(step(2, high))).toBe(55.192);
    expect(V(step(4, high))).toBe(55.184); // 2 s step: twice the change
    // Below target: the rise waits for the CVL recovery hold (60 s), then at most 1 mV/s.
    const low = snapshot({ cellMv: 3440 });
    for (let t = 5; t <= 64; t++) expect(V(step(t, low))).toBe(55.184);
    expect(V(step(74, low))).toBe(55.193); // ramping since the hold ended at 65 s
  });

  it('never sets a CVL below the floor of 2.9 V per cell', () => {
    const s = controlSettingsSchema.parse({ voltage: { controller: { mode: 'integral' } } });
    const step = runner(s);
    step(0, snapshot({ cellMv: 3400 }));
    expect(V(step(10_000, snapshot({ cellsMv: cellsWithOne(3400, 3650) })))).toBe(46.4);
  });
});
