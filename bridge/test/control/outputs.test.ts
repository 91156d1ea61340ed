import { describe, expect, it } from 'vitest';
import { controlSettingsSchema } from '../../src/control';
import { firstOutput, runner } from './runner';
import { CELLS, cellsWithOne, snapshot } from '../support/snapshot-builder';

const settings = (input: unknown) => controlSettingsSchema.parse(input);

describe('stop encoding (inverter-can-protocols.md §10.4, §10.5)', () => {
  const pack = settings({ stop: { chargeVoltage: 'pack' } });

  it("by default keeps the controller's CVL while charging is stopped, never 0", () => {
    const out = firstOutput(snapshot({ chargeMosfet: false }));
    expect(out.chargeCurrentLimitA).toBe(0);
    expect(out.chargeVoltageV).toBe(55.2);
    expect(out.reasons.chargeVoltage).toBe('bulk (3.450 V/cell)');
  });

  it("'pack' sends the present pack voltage while charging is stopped (Deye W31 fix)", () => {
    const out = firstOutput(snapshot({ cellsMv: cellsWithOne(3400, 3500) }), pack);
    expect(out.chargeVoltageV).toBe(54.5);
    expect(out.reasons.chargeVoltage).toBe('charging stopped: present pack voltage (54.50 V)');
    expect(out.dischargeCurrentLimitA).toBe(60);
  });

  it("'pack' keeps to the CVL maximum above and DVL + margin below", () => {
    expect(firstOutput(snapshot({ cellsMv: cellsWithOne(3460, 3500) }), pack).chargeVoltageV).toBe(55.2);
    // DVL (2.8 + 0.2 V) × 16 = 48.0 V, plus 0.1 V per cell.
    expect(firstOutput(snapshot({ chargeMosfet: false, packMv: 40_000 }), pack).chargeVoltageV).toBe(49.6);
  });

  it("'pack' applies only while charging is stopped", () => {
    expect(firstOutput(snapshot({ cellMv: 3300 }), pack).chargeVoltageV).toBe(55.2);
  });

  it('0.1 A stands for a stopped direction when configured (Sofar), with the enable flag cleared', () => {
    const sofar = settings({ stop: { currentA: 0.1 } });
    const charge = firstOutput(snapshot({ chargeMosfet: false }), sofar);
    expect(charge.chargeCurrentLimitA).toBe(0.1);
    expect(charge.requests.chargeEnable).toBe(false);
    expect(charge.dischargeCurrentLimitA).toBe(60);
    const discharge = firstOutput(snapshot({ cellsMv: cellsWithOne(3300, 2800) }), sofar);
    expect(discharge.dischargeCurrentLimitA).toBe(0.1);
    expect(discharge.requests.dischargeEnable).toBe(false);
  });
});

describe('voltages', () => {
  it('DVL = (BMS cell UVP + 0.2 V) per cell, never below the discharge-stop voltage (§2B)', () => {
    expect(firstOutput(snapshot()).dischargeVoltageV).toBe(48);
    expect(firstOutput(snapshot({ settings: { cellUvpMv: 2500 } })).dischargeVoltageV).toBe(44.8);
  });

  it('adds the cable drop offset to the CVL (§2A VOLTAGE_DROP)', () => {
    expect(firstOutput(snapshot(), settings({ voltage: { dropOffsetPackMv: 300 } })).chargeVoltageV).toBe(55.5);
  });

  it('scales with the cell count of the snapshot', () => {
    const out = firstOutput(snapshot({ cellsMv: [3300, 3300, 3300, 3300] }));
    expect(out.chargeVoltageV).toBe(13.8);
    expect(out.dischargeVoltageV).toBe(12);
  });

  it('refuses a snapshot without cells', () => {
    expect(() => firstOutput(snapshot({ cellsMv: [] }))).toThrow(RangeError);
  });
});

describe('reported SoC (§2B, §10.7)', () => {
  it('passes the BMS SoC through by default, bounded to 0..100', () => {
    expect(firstOutput(snapshot({ socPct: 57 })).socPct).toBe(57);
    expect(firstOutput(snapshot({ socPct: 130 })).socPct).toBe(100);
    expect(firstOutput(snapshot({ socPct: 100, cellsMv: cellsWithOne(3300, 3500) })).socPct).toBe(100);
    expect(firstOutput(snapshot({ socPct: 90, cellsMv: cellsWithOne(3300, 3500) })).socPct).toBe(90);
  });

  it('clamps until float when configured', () => {
    const step = runner(settings({ soc: { clampUntilFloatPct: 99 } }));
    for (let t = 0; t < 900; t += 10) expect(step(t, snapshot({ cellMv: 3450, socPct: 100 })).socPct).toBe(99);
    const float = step(900, snapshot({ cellMv: 3450, socPct: 100 }));
    expect(float.phase).toBe('float');
    expect(float.socPct).toBe(100);
  });

  describe('pushed to 100 / 0 while the cell voltage stops a direction, when configured', () => {
    const push = settings({ soc: { pushAtCellStop: true, clampUntilFloatPct: 98 } });

    it.each([
      ['a cell at the charge-stop voltage', cellsWithOne(3300, 3500), 100],
      ['a cell at the discharge-stop voltage', cellsWithOne(3300, 2800), 0],
      ['both at once (neither is pushed)', [2800, 3500, ...Array<number>(CELLS - 2).fill(3300)], 50],
      ['neither', cellsWithOne(3300, 3300), 50],
    ])('%s', (_name, cellsMv, socPct) => {
      expect(firstOutput(snapshot({ cellsMv, socPct: 50 }), push).socPct).toBe(socPct);
    });

    it('also when a custom cell table reaches 0 below the stop voltage', () => {
      const early = settings({
        soc: { pushAtCellStop: true },
        tables: { chargeVsMaxCellMv: { points: [[3400, 1], [3450, 0]] } },
      });
      const out = firstOutput(snapshot({ cellsMv: cellsWithOne(3300, 3460), socPct: 90 }), early);
      expect(out.chargeCurrentLimitA).toBe(0);
      expect(out.socPct).toBe(100);
    });

    it('not when only the MOSFET or the temperature stops charging', () => {
      expect(firstOutput(snapshot({ chargeMosfet: false, socPct: 60 }), push).socPct).toBe(60);
      expect(firstOutput(snapshot({ tempC: -5, socPct: 60 }), push).socPct).toBe(60);
    });
  });
});

describe('requests', () => {
  it('force charge with hysteresis from 10 % to 15 % (§2B), both Pylon bits, never without charge allowed', () => {
    const step = runner();
    const force = (t: number, socPct: number, chargeMosfet = true) => {
      const { requests } = step(t, snapshot({ socPct, chargeMosfet }));
      expect(requests.forceChargeI).toBe(requests.forceChargeII);
      expect(requests.fullCharge).toBe(false);
      return requests.forceChargeI;
    };
    expect(force(0, 11)).toBe(false);
    expect(force(1, 10)).toBe(true);
    expect(force(2, 14)).toBe(true);
    expect(force(3, 14, false)).toBe(false);
    expect(force(4, 15)).toBe(false);
    expect(force(5, 14)).toBe(false);
  });

  it('force charge on the lowest cell, ending only with the cell recovered', () => {
    const step = runner(settings({ forceCharge: { startCellMv: 2900, stopCellMv: 3100 } }));
    const force = (t: number, minCellMv: number) =>
      step(t, snapshot({ socPct: 50, cellsMv: cellsWithOne(3300, minCellMv) })).requests.forceChargeI;
    expect(force(0, 2950)).toBe(false);
    expect(force(1, 2900)).toBe(true);
    expect(force(2, 3050)).toBe(true);
    expect(force(3, 3100)).toBe(false);
  });

  it('no force charge when disabled', () => {
    expect(firstOutput(snapshot({ socPct: 5 }), settings({ forceCharge: { enabled: false } })).requests.forceChargeI).toBe(
      false,
    );
  });
});
