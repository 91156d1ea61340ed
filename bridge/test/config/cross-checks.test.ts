/**
 * Contradictions between keys (issue 10, bug 9): each is refused through the loader with one line
 * naming the file or flag, the key to change and the key it contradicts. The voltage cases name
 * their chemistry (issue 11): its preset fills the points they leave out.
 */
import { describe, expect, it } from 'vitest';
import { findContradictions, type CrossCheck } from '../../src/config/cross-checks';
import { loadConfig } from '../../src/config/load';
import { bridgeConfigSchema } from '../../src/config/schema';

const LINKS = ['--bms', '/dev/ttyUSB0', '--can', 'stdout'];

function problems(file: string, argv: string[] = []): string[] {
  const result = loadConfig(['--config', 'f.yaml', ...LINKS, ...argv], () => file);
  return result.ok ? [] : result.problems;
}

describe('config cross-checks: one line per contradiction', () => {
  it.each([
    {
      name: 'bulk above the charge stop',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  chargeStopCellMv: 3500\n  voltage: { bulkCellMv: 3550 }\n',
      expected: 'f.yaml: control.voltage.bulkCellMv: 3550 must be below control.chargeStopCellMv (3500): charging stops before the pack reaches bulk, so it never gets to absorption and float',
    },
    {
      name: 'bulk at the charge stop',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  voltage: { bulkCellMv: 3500 }\n',
      expected: /^f\.yaml: control\.voltage\.bulkCellMv: 3500 must be below control\.chargeStopCellMv \(3500\)/,
    },
    {
      name: 'a bulk voltage the charge table gives no current below',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  tables: { chargeVsMaxCellMv: { points: [[3400, 1], [3420, 0]] } }\n',
      expected: 'f.yaml: control.tables.chargeVsMaxCellMv: allows no charge current below control.voltage.bulkCellMv (3450), so the pack never reaches bulk',
    },
    {
      name: 'float above bulk',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  voltage: { floatCellMv: 3460 }\n',
      expected: 'f.yaml: control.voltage.floatCellMv: 3460 must not exceed control.voltage.bulkCellMv (3450)',
    },
    {
      name: 'discharge stop above charge stop',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  dischargeStopCellMv: 3600\n',
      expected: 'f.yaml: control.dischargeStopCellMv: 3600 must be below control.chargeStopCellMv (3500)',
    },
    {
      name: 'the CVL floor at float',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  voltage: { cvlFloorCellMv: 3375 }\n',
      expected: 'f.yaml: control.voltage.cvlFloorCellMv: 3375 must be below control.voltage.floatCellMv (3375)',
    },
    {
      name: 'SoC reset not above bulk',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  voltage: { socReset: { cellMv: 3400 } }\n',
      expected: 'f.yaml: control.voltage.socReset.cellMv: 3400 must be above control.voltage.bulkCellMv (3450) (§2A)',
    },
    {
      name: 'SoC reset at or above the charge stop',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  voltage: { socReset: { afterDays: 14 } }\n',
      expected: 'f.yaml: control.voltage.socReset.cellMv: 3650 must be below control.chargeStopCellMv (3500) when the SoC reset is on',
    },
    {
      name: 'SoC reset the charge table never reaches',
      file: 'battery: { chemistry: lifepo4 }\ncontrol:\n  chargeStopCellMv: 3700\n  voltage: { socReset: { afterDays: 14 } }\n',
      expected: 'f.yaml: control.tables.chargeVsMaxCellMv: must allow charge current below control.voltage.socReset.cellMv (3650)',
    },
    {
      name: 'force charge without hysteresis',
      file: 'control:\n  forceCharge: { startSocPct: 20, stopSocPct: 20 }\n',
      expected: 'f.yaml: control.forceCharge.stopSocPct: 20 must be above control.forceCharge.startSocPct (20) (hysteresis)',
    },
    {
      name: 'force charge cell trigger without hysteresis',
      file: 'control:\n  forceCharge: { startCellMv: 3000, stopCellMv: 2900 }\n',
      expected: 'f.yaml: control.forceCharge.stopCellMv: 2900 must be above control.forceCharge.startCellMv (3000) (hysteresis)',
    },
    {
      name: 'a charge current the bridge would call implausible',
      file: 'control:\n  current: { maxChargeA: 1200 }\n',
      expected: 'f.yaml: control.current.maxChargeA: 1200 A is above bms.plausibility.maxCurrentA (1000 A), a current the bridge rejects as implausible when the BMS reports it',
    },
    {
      name: 'a discharge current no protocol carries',
      file: 'bms:\n  plausibility: { maxCurrentA: 100000 }\ncontrol:\n  current: { maxDischargeA: 50000 }\n',
      expected: 'f.yaml: control.current.maxDischargeA: 50000 A is more than any inverter protocol can carry (3276.7 A)',
    },
  ])('$name', ({ file, expected }) => {
    const lines = problems(file);
    expect(lines).toHaveLength(1);
    if (typeof expected === 'string') expect(lines[0]).toBe(expected);
    else expect(lines[0]).toMatch(expected);
  });

  it('several contradictions: every one, one line each, a --set one naming its flag', () => {
    const lines = problems('battery: { chemistry: lifepo4 }\ncontrol:\n  voltage: { bulkCellMv: 3600, floatCellMv: 3650 }\n', ['--set', 'control.current.maxChargeA=5000']);
    expect(lines).toEqual([
      'f.yaml: control.voltage.bulkCellMv: 3600 must be below control.chargeStopCellMv (3500): charging stops before the pack reaches bulk, so it never gets to absorption and float',
      'f.yaml: control.voltage.floatCellMv: 3650 must not exceed control.voltage.bulkCellMv (3600)',
      '--set control.current.maxChargeA=5000: control.current.maxChargeA: 5000 A is more than any inverter protocol can carry (3276.7 A)',
    ]);
  });

  it('chemistry auto: refused at start only what no chemistry makes right; the rest waits for the BMS', () => {
    // Float above bulk is wrong whatever the chemistry: refused now (LiFePO4's lines).
    expect(problems('control:\n  voltage: { bulkCellMv: 3600, floatCellMv: 3650 }\n')).toContain(
      'f.yaml: control.voltage.floatCellMv: 3650 must not exceed control.voltage.bulkCellMv (3600)',
    );
    // Bulk 4.1 V contradicts LiFePO4's charge stop, not NMC's: judged at the first snapshot.
    expect(problems('control:\n  voltage: { bulkCellMv: 4100 }\n')).toEqual([]);
  });

  it('the defaults contradict nothing, and a check added to the list is run', () => {
    const config = bridgeConfigSchema.parse({});
    expect(findContradictions(config)).toEqual([]);
    const extra: CrossCheck = (c) => [{ key: 'state.recoverAfter', message: `saw ${c.state.recoverAfter}` }];
    expect(findContradictions(config, [extra])).toEqual([{ key: 'state.recoverAfter', message: 'saw 3' }]);
  });
});
