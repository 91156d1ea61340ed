/**
 * The power stage on a simulated clock (step(dtMs)): the current obeys CCL/DCL, the enable
 * flags, CVL (taper below, discharge above), DVL and force-charge requests, and ramps only where
 * it regulates.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MODEL_OPTIONS, InverterModel, type BatteryCommands, type Demand, type ModelInputs } from '../src/inverter-model';

const LIMITS: BatteryCommands = {
  chargeVoltageV: 55.2,
  chargeCurrentLimitA: 50,
  dischargeCurrentLimitA: 60,
  dischargeVoltageV: 48,
  chargeEnable: true,
  dischargeEnable: true,
  forceCharge: false,
};

function inputs(commands: Partial<BatteryCommands> | null, packVoltageV: number | null = 52, standby = false): ModelInputs {
  return { commands: commands === null ? null : { ...LIMITS, ...commands }, packVoltageV, standby };
}

/** Steps the model for durationMs in 100 ms steps and returns the last current. */
function settle(model: InverterModel, input: ModelInputs, durationMs = 10_000): number {
  let current = model.currentA;
  for (let t = 0; t < durationMs; t += 100) current = model.step(100, input);
  return current;
}

function modelWith(demand: Demand, options: ConstructorParameters<typeof InverterModel>[0] = {}): InverterModel {
  const model = new InverterModel(options);
  model.setDemand(demand);
  return model;
}

describe('limits', () => {
  test('a charge demand above CCL settles at CCL', () => {
    const model = modelWith({ unit: 'A', amps: 80 });
    expect(settle(model, inputs({}))).toBe(50);
    expect(model.reason).toBe('ccl');
  });

  test('a load above DCL settles at -DCL', () => {
    const model = modelWith({ unit: 'A', amps: -90 });
    expect(settle(model, inputs({}))).toBe(-60);
    expect(model.reason).toBe('dcl');
  });

  test('watts become amps at the measured DC voltage', () => {
    const model = modelWith({ unit: 'W', watts: 2000 });
    expect(settle(model, inputs({}, 50))).toBeCloseTo(40, 9);
    expect(model.reason).toBe('demand');
    model.setDemand({ unit: 'W', watts: -1500 });
    expect(settle(model, inputs({}, 50))).toBeCloseTo(-30, 9);
  });

  test('a watt demand without a known voltage moves nothing', () => {
    const model = modelWith({ unit: 'W', watts: 2000 });
    expect(settle(model, inputs({}, null))).toBe(0);
    expect(model.reason).toBe('no-voltage');
  });

  test('a CCL decrease applies in the same step; an increase is ramped', () => {
    const model = modelWith({ unit: 'A', amps: 50 });
    settle(model, inputs({}));
    expect(model.step(100, inputs({ chargeCurrentLimitA: 10 }))).toBe(10);
    expect(model.step(100, inputs({ chargeCurrentLimitA: 0 }))).toBe(0);
    expect(model.reason).toBe('ccl');
    const rampStep = (DEFAULT_MODEL_OPTIONS.rampAPerS * 100) / 1000;
    expect(model.step(100, inputs({}))).toBeCloseTo(rampStep, 9);
    expect(model.reason).toBe('ramp');
  });

  test('cleared enable flags stop each direction at once', () => {
    const model = modelWith({ unit: 'A', amps: 30 });
    settle(model, inputs({}));
    expect(model.step(100, inputs({ chargeEnable: false }))).toBe(0);
    expect(model.reason).toBe('charge-disabled');
    model.setDemand({ unit: 'A', amps: -30 });
    settle(model, inputs({}));
    expect(model.step(100, inputs({ dischargeEnable: false }))).toBe(0);
    expect(model.reason).toBe('discharge-disabled');
  });

  test('no limits (nothing received, or timed out) and standby mean no current', () => {
    const model = modelWith({ unit: 'A', amps: 30 });
    settle(model, inputs({}));
    expect(model.step(100, inputs(null))).toBe(0);
    expect(model.reason).toBe('no-limits');
    settle(model, inputs({}));
    expect(model.step(100, inputs({}, 52, true))).toBe(0);
    expect(model.reason).toBe('standby');
  });

  test('below DVL the inverter stops discharging', () => {
    const model = modelWith({ unit: 'A', amps: -30 });
    expect(settle(model, inputs({}, 47.9))).toBe(0);
    expect(model.reason).toBe('below-dvl');
  });
});

describe('Sofar: 0 A ignored (spec §10.5)', () => {
  test('told 0 A, it keeps charging at its last non-zero limit; 0.1 A stops it', () => {
    const model = modelWith({ unit: 'A', amps: 80 }, { zeroIgnored: true });
    expect(settle(model, inputs({ chargeCurrentLimitA: 30, chargeEnable: undefined }))).toBe(30);
    expect(settle(model, inputs({ chargeCurrentLimitA: 0, chargeEnable: undefined }))).toBe(30);
    expect(settle(model, inputs({ chargeCurrentLimitA: 0.1, chargeEnable: undefined }))).toBeCloseTo(0.1, 9);
  });

  test('without the quirk, 0 A stops it', () => {
    const model = modelWith({ unit: 'A', amps: 80 });
    settle(model, inputs({ chargeCurrentLimitA: 30 }));
    expect(settle(model, inputs({ chargeCurrentLimitA: 0 }))).toBe(0);
  });
});

describe('charge voltage', () => {
  test('the charge current tapers to 0 as the pack approaches CVL', () => {
    const model = modelWith({ unit: 'A', amps: 100 }, { ratedCurrentA: 100, cvTaperV: 1 });
    const at = (v: number) => settle(model, inputs({ chargeCurrentLimitA: 100 }, v));
    expect(at(53)).toBe(100);
    expect(at(54.7)).toBeCloseTo(50, 6);
    expect(model.reason).toBe('cv-taper');
    expect(at(55.1)).toBeCloseTo(10, 6);
    expect(at(55.2)).toBe(0);
  });

  test('Deye-style regulation sits chargeBelowCvlV under CVL', () => {
    const model = modelWith({ unit: 'A', amps: 100 }, { chargeBelowCvlV: 0.1 });
    expect(settle(model, inputs({}, 55.1))).toBe(0);
  });

  test('above CVL the inverter discharges the pack towards CVL, even with surplus, within DCL', () => {
    const model = modelWith({ unit: 'A', amps: 40 }, { ratedCurrentA: 100, cvTaperV: 1 });
    expect(settle(model, inputs({}, 55.5))).toBeCloseTo(-30, 6);
    expect(model.reason).toBe('above-cvl');
    expect(settle(model, inputs({ dischargeCurrentLimitA: 10 }, 55.5))).toBe(-10);
    expect(settle(model, inputs({ dischargeCurrentLimitA: 0 }, 55.5))).toBe(0);
  });

  test('CVL 0 on a Victron-style inverter means a full-power discharge (§10.4), bounded by DCL', () => {
    const model = modelWith({ unit: 'A', amps: 0 });
    expect(settle(model, inputs({ chargeVoltageV: 0 }, 52))).toBe(-60);
  });

  test('a Sunny Island pulls the pack down to CVL ignoring DCL (§5.2)', () => {
    const model = modelWith({ unit: 'A', amps: 0 }, { aboveCvl: 'ignore-dcl', ratedCurrentA: 100, cvTaperV: 1 });
    expect(settle(model, inputs({ dischargeCurrentLimitA: 0 }, 55.7))).toBeCloseTo(-50, 6);
    expect(model.reason).toBe('above-cvl');
  });
});

describe('force charge', () => {
  test('a force-charge request charges from the grid at forceChargeA, within CCL', () => {
    const model = modelWith({ unit: 'A', amps: -20 }, { forceChargeA: 15 });
    expect(settle(model, inputs({ forceCharge: true }))).toBe(15);
    expect(model.reason).toBe('force-charge');
    expect(settle(model, inputs({ forceCharge: true, chargeCurrentLimitA: 5 }))).toBe(5);
    expect(settle(model, inputs({ forceCharge: true, chargeEnable: false }))).toBe(0);
  });
});

describe('properties on random command sequences', () => {
  const commandsArb = fc.record({
    chargeVoltageV: fc.double({ min: 0, max: 63, noNaN: true }),
    chargeCurrentLimitA: fc.double({ min: -50, max: 300, noNaN: true }),
    dischargeCurrentLimitA: fc.double({ min: -50, max: 300, noNaN: true }),
    dischargeVoltageV: fc.double({ min: 0, max: 50, noNaN: true }),
    chargeEnable: fc.option(fc.boolean(), { nil: undefined }),
    dischargeEnable: fc.option(fc.boolean(), { nil: undefined }),
    forceCharge: fc.option(fc.boolean(), { nil: undefined }),
  });
  const stepArb = fc.record({
    dtMs: fc.integer({ min: 0, max: 2000 }),
    commands: fc.option(commandsArb, { nil: null, freq: 8 }),
    packVoltageV: fc.option(fc.double({ min: 40, max: 60, noNaN: true }), { nil: null, freq: 8 }),
    demand: fc.oneof(
      fc.double({ min: -300, max: 300, noNaN: true }).map((amps): Demand => ({ unit: 'A', amps })),
      fc.double({ min: -15000, max: 15000, noNaN: true }).map((watts): Demand => ({ unit: 'W', watts })),
    ),
  });

  test.each(['within-dcl', 'ignore-dcl'] as const)('%s: every step obeys the limits in force at that step', (aboveCvl) => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => {
        const model = new InverterModel({ aboveCvl });
        for (const s of steps) {
          model.setDemand(s.demand);
          const i = model.step(s.dtMs, { commands: s.commands, packVoltageV: s.packVoltageV, standby: false });
          const c = s.commands;
          expect(Math.abs(i)).toBeLessThanOrEqual(model.options.ratedCurrentA);
          if (c === null) {
            expect(i).toBe(0);
            continue;
          }
          const aboveCvl_ = s.packVoltageV !== null && s.packVoltageV > c.chargeVoltageV;
          if (i > 0) {
            expect(c.chargeEnable).not.toBe(false);
            expect(aboveCvl_).toBe(false);
            expect(i).toBeLessThanOrEqual(c.chargeCurrentLimitA);
          }
          if (i < 0 && !(aboveCvl_ && aboveCvl === 'ignore-dcl')) {
            expect(c.dischargeEnable).not.toBe(false);
            expect(-i).toBeLessThanOrEqual(c.dischargeCurrentLimitA);
          }
        }
      }),
    );
  });

  test('standby always means 0 A', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        const model = new InverterModel();
        for (const s of steps) {
          model.setDemand(s.demand);
          expect(model.step(s.dtMs, { commands: s.commands, packVoltageV: s.packVoltageV, standby: true })).toBe(0);
        }
      }),
    );
  });
});
