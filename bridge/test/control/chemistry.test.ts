/**
 * Chemistry from the BMS (issue 11): inference from the JK's own OVP/UVP on real captures, presets
 * fitted to the BMS window, and the contradiction lines the bridge faults with.
 */
import { describe, expect, it } from 'vitest';
import {
  CHEMISTRY_PRESETS,
  controlConfigSchema,
  inferChemistry,
  resolveBatteryPolicy,
  type ChemistrySetting,
} from '../../src/control';
import { fittedPreset } from '../../src/control/chemistry';
import { decodeResponse, type JkSettings } from '../../src/protocol/jk';
import { bytesOf } from '../protocol/jk/helpers';
import { snapshot } from '../support/snapshot-builder';

function capture(id: string) {
  const decoded = decodeResponse(bytesOf(id));
  if (!decoded.ok) throw new Error(`${id}: ${decoded.error.detail}`);
  return decoded.snapshot;
}

/** A 16S JK with pack limits well outside the cell-based points unless a test sets them. */
const bms = (settings: Partial<JkSettings>): JkSettings => ({ ...snapshot().settings, packOvpMv: 62_000, packUvpMv: 38_000, ...settings });
const policy = (control: unknown, settings: Partial<JkSettings>, cells = 16, chemistry: ChemistrySetting = 'auto') =>
  resolveBatteryPolicy({ chemistry, control: controlConfigSchema.parse(control) }, bms(settings), cells);

describe('inferChemistry: from the JK cell OVP/UVP, never from 0xAF alone', () => {
  it.each([
    ['4e57-resp-16s-opendtu-0', 'lifepo4'],
    ['4e57-resp-14s-esphome-doc', 'nmc'],
    ['4e57-resp-13s-b2a24s15p-capture', 'nmc'],
    ['4e57-resp-7s-kenura', 'nmc'],
  ] as const)('real capture %s is %s', (id, chemistry) => {
    const inferred = inferChemistry(capture(id).settings);
    expect(inferred).toMatchObject({ ok: true, chemistry });
  });

  it('says why, and names a 0xAF battery type that disagrees as ignored', () => {
    expect(inferChemistry(bms({ cellOvpMv: 4200, cellUvpMv: 3000, batteryType: 0 }))).toEqual({
      ok: true,
      chemistry: 'nmc',
      reason: "bms.cellOvp 4200 mV, bms.cellUvp 3000 mV are nmc's (the BMS battery type 0xAF says lifepo4; it is unreliable and ignored)",
    });
    expect(inferChemistry(bms({ cellOvpMv: 2850, cellUvpMv: 1800, batteryType: 2 }))).toMatchObject({ ok: true, chemistry: 'lto' });
  });

  it('refuses to guess when the settings fit no chemistry', () => {
    const inferred = inferChemistry(bms({ cellOvpMv: 3900, cellUvpMv: 2800 }));
    expect(inferred.ok).toBe(false);
    expect(!inferred.ok && inferred.problem).toMatch(/^battery\.chemistry auto: bms\.cellOvp 3900 mV, bms\.cellUvp 2800 mV fit no chemistry .*; set battery\.chemistry$/);
  });
});

describe('fittedPreset: the preset inside the BMS window', () => {
  it('keeps a preset that already fits', () => {
    expect(fittedPreset(CHEMISTRY_PRESETS.lifepo4, { cellOvpMv: 3650, cellUvpMv: 2500 })).toEqual(CHEMISTRY_PRESETS.lifepo4);
  });

  it('moves the whole charge side under a low OVP: NMC with OVP 4.05 V (esphome 14S capture)', () => {
    const fitted = fittedPreset(CHEMISTRY_PRESETS.nmc, capture('4e57-resp-14s-esphome-doc').settings);
    expect(fitted).toMatchObject({ chargeStopCellMv: 4000, bulkCellMv: 3950, floatCellMv: 3850, socResetCellMv: 3970 });
    expect(fitted.chargeVsMaxCellMv).toEqual([[4000, 0], [3950, 0.005], [3925, 0.05], [3900, 0.25], [3850, 1]]);
  });

  it('raises the discharge stop above a high UVP and starts the table there: LiFePO4 with UVP 3.0 V', () => {
    const fitted = fittedPreset(CHEMISTRY_PRESETS.lifepo4, { cellOvpMv: 3650, cellUvpMv: 3000 });
    expect(fitted.dischargeStopCellMv).toBe(3100);
    expect(fitted.dischargeVsMinCellMv).toEqual([[3100, 0], [3190, 1]]);
  });
});

describe('resolveBatteryPolicy: presets unless set, checked against the BMS window', () => {
  it('an NMC 14S pack gets NMC voltages, not LiFePO4 ones (issue 11: CVL 48.3 V, CCL 0 before)', () => {
    const p = policy({}, { cellOvpMv: 4150, cellUvpMv: 3000, packOvpMv: 58_800, packUvpMv: 41_300, batteryType: 1 }, 14);
    expect(p.problems).toEqual([]);
    expect(p.chemistry).toBe('nmc');
    expect(p.description).toBe("battery chemistry nmc (auto: bms.cellOvp 4150 mV, bms.cellUvp 3000 mV are nmc's)");
    expect(p.settings).toMatchObject({ chargeStopCellMv: 4100, dischargeStopCellMv: 3200, voltage: { bulkCellMv: 4050, floatCellMv: 3950 } });
  });

  it('explicit points are kept as given, presets fill the rest', () => {
    const p = policy({ voltage: { bulkCellMv: 3400 } }, { cellOvpMv: 3650, cellUvpMv: 2500 });
    expect(p.settings.voltage.bulkCellMv).toBe(3400);
    expect(p.settings.voltage.floatCellMv).toBe(3375);
    expect(p.problems).toEqual([]);
  });

  it('a charge stop at or above the BMS OVP is one line naming the key and the BMS value', () => {
    expect(policy({ chargeStopCellMv: 3700 }, { cellOvpMv: 3650, cellUvpMv: 2500 }).problems).toEqual([
      'bms.cellOvp 3650 mV <= control.chargeStopCellMv 3700 mV',
    ]);
    expect(policy({ chargeStopCellMv: 3640 }, { cellOvpMv: 3650, cellUvpMv: 2500, packOvpMv: 58_200 }).problems).toEqual([
      'bms.packOvp 58.20 V <= 16 × control.chargeStopCellMv 3640 mV = 58.24 V',
    ]);
  });

  it('every link of UVP < discharge stop < float <= bulk < charge stop < OVP is checked, presets named as such (bulk and float by the loader\'s own rules)', () => {
    expect(policy({ dischargeStopCellMv: 2700 }, { cellOvpMv: 3650, cellUvpMv: 2800 }).problems).toEqual([
      'bms.cellUvp 2800 mV >= control.dischargeStopCellMv 2700 mV',
    ]);
    expect(policy({ dischargeStopCellMv: 3400 }, { cellOvpMv: 3650, cellUvpMv: 2500 }).problems).toEqual([
      'control.dischargeStopCellMv 3400 mV >= control.voltage.floatCellMv 3375 mV (lifepo4 preset)',
    ]);
    expect(policy({ voltage: { bulkCellMv: 3500 } }, { cellOvpMv: 3650, cellUvpMv: 2500 }).problems).toEqual([
      'control.voltage.bulkCellMv: 3500 must be below control.chargeStopCellMv (3500): charging stops before the pack reaches bulk, so it never gets to absorption and float',
    ]);
    expect(policy({ voltage: { floatCellMv: 3460 } }, { cellOvpMv: 3650, cellUvpMv: 2500 }).problems).toEqual([
      'control.voltage.floatCellMv: 3460 must not exceed control.voltage.bulkCellMv (3450)',
    ]);
    // A JK set for NMC under a config written for LiFePO4 (charge stop 3500 mV): the bulk that
    // clashes is the NMC preset's, and the line says so.
    expect(policy({ chargeStopCellMv: 3500 }, { cellOvpMv: 4200, cellUvpMv: 2600 }).problems).toEqual([
      'control.voltage.bulkCellMv (nmc preset): 4100 must be below control.chargeStopCellMv (3500): charging stops before the pack reaches bulk, so it never gets to absorption and float',
    ]);
    expect(policy({}, { cellOvpMv: 3650, cellUvpMv: 2500, packUvpMv: 44_800 }).problems).toEqual([
      'bms.packUvp 44.80 V >= 16 × control.dischargeStopCellMv 2800 mV (lifepo4 preset) = 44.80 V',
    ]);
  });

  it('a configured chemistry the BMS settings contradict is a problem; auto that cannot tell is one', () => {
    expect(policy({}, { cellOvpMv: 4200, cellUvpMv: 3000 }, 14, 'lifepo4').problems).toEqual([
      "battery.chemistry lifepo4, but bms.cellOvp 4200 mV and bms.cellUvp 3000 mV are nmc's",
    ]);
    const unknown = policy({}, { cellOvpMv: 3900, cellUvpMv: 2800 });
    expect(unknown.chemistry).toBeNull();
    expect(unknown.problems).toHaveLength(1);
    // Complete settings all the same, so the zero-limit frames can be built.
    expect(unknown.settings.chargeStopCellMv).toBe(3500);
  });

  it('SMA: a CVL the SI would drop is a problem; a DVL above 48 V is sent at 48 V, with a note', () => {
    const sma = { profile: 'sma-si', chargeVoltageV: [41, 63], dischargeVoltageV: [41, 48] } as const;
    const uvp3 = resolveBatteryPolicy({ chemistry: 'auto', control: controlConfigSchema.parse({}), inverter: sma }, bms({ cellOvpMv: 3650, cellUvpMv: 3000 }), 16);
    expect(uvp3.problems).toEqual([]);
    expect(uvp3.notes).toEqual(["DVL 51.2 V is above sma-si's 41-48 V: sending 48.0 V"]);
    const eightCells = resolveBatteryPolicy(
      { chemistry: 'auto', control: controlConfigSchema.parse({}), inverter: sma },
      bms({ cellOvpMv: 3650, cellUvpMv: 2500, packOvpMv: 29_200, packUvpMv: 20_000 }),
      8,
    );
    expect(eightCells.problems).toEqual([
      'can.profile sma-si accepts CVL 41-63 V, but 8 × control.voltage.cvlFloorCellMv 2900 mV = 23.20 V',
    ]);
  });
});
