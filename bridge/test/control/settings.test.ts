import { describe, expect, it } from 'vitest';
import { controlSettingsSchema, defaultControlSettings } from '../../src/control';

describe('controlSettingsSchema defaults (field-survey.md §2A)', () => {
  it('fills every key from an empty object', () => {
    expect(controlSettingsSchema.parse({})).toEqual(defaultControlSettings);
    expect(defaultControlSettings).toMatchObject({
      chargeStopCellMv: 3500,
      dischargeStopCellMv: 2800,
      current: {
        maxChargeA: 50,
        maxDischargeA: 60,
        bmsOcpCapFraction: 0.9,
        chargeRecovery: { holdS: 30, rateAPerS: 5, restartFraction: 0.015 },
      },
      voltage: {
        bulkCellMv: 3450,
        floatCellMv: 3375,
        cvlFloorCellMv: 2900,
        socReset: { cellMv: 3650, afterDays: null },
        controller: { mode: 'penalty' },
        recovery: { holdS: 60, ratePackMvPerS: 1 },
      },
      phase: { balancedCellDiffMv: 10, absorptionS: 900, rebulkBelowSocPct: 80, rebulkCellDiffMv: 80 },
      stop: { chargeVoltage: 'cvl', currentA: 0 },
      soc: { clampUntilFloatPct: null, pushAtCellStop: false },
    });
    expect(defaultControlSettings.tables.chargeVsSocPct.enabled).toBe(false);
  });

  it('merges a partial group with the defaults of its siblings', () => {
    const s = controlSettingsSchema.parse({
      voltage: { bulkCellMv: 3500 },
      current: { chargeRecovery: { holdS: 5 } },
    });
    expect(s.voltage.bulkCellMv).toBe(3500);
    expect(s.voltage.floatCellMv).toBe(3375);
    expect(s.current.chargeRecovery).toEqual({ holdS: 5, rateAPerS: 5, restartFraction: 0.015 });
    expect(s.current.dischargeRecovery.holdS).toBe(30);
  });

  it('keeps the default breakpoints when a table only changes its mode or switch', () => {
    const s = controlSettingsSchema.parse({
      tables: { chargeVsMaxCellMv: { mode: 'step' }, chargeVsSocPct: { enabled: true } },
    });
    expect(s.tables.chargeVsMaxCellMv).toEqual({
      ...defaultControlSettings.tables.chargeVsMaxCellMv,
      mode: 'step',
    });
    expect(s.tables.chargeVsSocPct).toEqual({ ...defaultControlSettings.tables.chargeVsSocPct, enabled: true });
  });

  it('keeps the shared defaults frozen', () => {
    expect(() => {
      (defaultControlSettings.tables.chargeVsMaxCellMv.points[0] as number[])[1] = 1;
    }).toThrow(TypeError);
    expect(controlSettingsSchema.parse({}).tables.chargeVsMaxCellMv.points[0]).toEqual([3500, 0]);
  });
});

describe('controlSettingsSchema rejects wrong settings with the key path', () => {
  const cases: [string, unknown, (string | number)[]][] = [
    ['unknown top-level key', { chargeStopMv: 3500 }, []],
    ['unknown nested key', { current: { maxChargeAmps: 50 } }, ['current']],
    ['volts instead of millivolts', { voltage: { bulkCellMv: 3.45 } }, ['voltage', 'bulkCellMv']],
    ['negative current', { current: { maxDischargeA: -1 } }, ['current', 'maxDischargeA']],
    [
      'unknown table mode',
      { tables: { chargeVsTemperatureC: { mode: 'cubic' } } },
      ['tables', 'chargeVsTemperatureC', 'mode'],
    ],
    [
      'fraction above 1',
      { tables: { vsMosfetTemperatureC: { points: [[70, 1], [80, 25]] } } },
      ['tables', 'vsMosfetTemperatureC', 'points', 1, 1],
    ],
    ['empty table', { tables: { dischargeVsMinCellMv: { points: [] } } }, ['tables', 'dischargeVsMinCellMv', 'points']],
    [
      'breakpoints not monotonic',
      { tables: { chargeVsMaxCellMv: { points: [[3500, 0], [3450, 0.1], [3460, 1]] } } },
      ['tables', 'chargeVsMaxCellMv', 'points', 2, 0],
    ],
    [
      'SoC breakpoints not monotonic',
      { tables: { dischargeVsSocPct: { enabled: true, points: [[5, 0], [5, 1]] } } },
      ['tables', 'dischargeVsSocPct', 'points', 1, 0],
    ],
    ['stop current other than 0 or 0.1', { stop: { currentA: 1 } }, ['stop', 'currentA']],
  ];

  it.each(cases)('%s', (_name, input, path) => {
    const result = controlSettingsSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path)).toContainEqual(path);
  });
});
