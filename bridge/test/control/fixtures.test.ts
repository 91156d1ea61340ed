/**
 * The seed projects' tables (field-survey.md §2C) written as YAML settings files: they parse through
 * the one schema and give the anchors' limits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { controlSettingsSchema, type ControlSettings } from '../../src/control';
import { firstOutput, runner } from './runner';
import { cellsWithOne, snapshot, type SnapshotOptions } from '../support/snapshot-builder';

const load = (name: string): ControlSettings =>
  controlSettingsSchema.parse(parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')));

const limits = (settings: ControlSettings, o: SnapshotOptions) => firstOutput(snapshot(o), settings);

describe('chrgraf step tables (chrgraf.yaml)', () => {
  const s = load('chrgraf.yaml');

  it.each([
    [2600, 20],
    [2700, 20],
    [3300, 60],
    [3419, 60],
    [3420, 30],
    [3439, 30],
    [3440, 0],
    [3500, 0],
  ])('max cell %d mV → CCL %d A', (maxCellMv, cclA) => {
    const out = limits(s, { cellsMv: cellsWithOne(2600, maxCellMv) });
    expect(out.chargeCurrentLimitA).toBeCloseTo(cclA, 9);
  });

  it('names the step table as the limiting reason', () => {
    expect(limits(s, { cellsMv: cellsWithOne(3300, 3430) }).reasons.chargeCurrent).toBe(
      'cell voltage table (max cell 3.430 V)',
    );
  });

  it.each([
    [3000, 0],
    [3150, 0],
    [3151, 60],
    [3400, 60],
  ])('min cell %d mV → DCL %d A', (minCellMv, dclA) => {
    expect(limits(s, { cellsMv: cellsWithOne(3400, minCellMv) }).dischargeCurrentLimitA).toBe(dclA);
  });

  it('raises a reduced charge limit only after 2700 s, in one jump', () => {
    const step = runner(s);
    const at = (t: number, maxCellMv: number) =>
      step(t, snapshot({ cellsMv: cellsWithOne(3300, maxCellMv) })).chargeCurrentLimitA;
    expect(at(0, 3300)).toBe(60);
    expect(at(1, 3430)).toBe(30);
    expect(at(2, 3300)).toBe(30);
    expect(at(2701, 3300)).toBe(30);
    // The hold ends at 2702 s; the ramp (1000 A/s here) starts there, so one step later it is done.
    expect(at(2702, 3300)).toBe(30);
    expect(at(2703, 3300)).toBe(60);
  });
});

describe('botaneta SoC ramps (botaneta-soc.yaml)', () => {
  const s = load('botaneta-soc.yaml');

  it.each([
    [50, 70],
    [90, 70],
    [92.5, 45],
    [95, 20],
    [96.5, 12.5],
    [98, 5],
    [100, 5],
  ])('SoC %s → CCL %s A', (socPct, cclA) => {
    const out = limits(s, { socPct });
    expect(out.chargeCurrentLimitA).toBeCloseTo(cclA, 9);
  });

  it.each([
    [50, 70],
    [20, 70],
    [17.5, 52.5],
    [12.5, 22.5],
    [5, 4],
    [2, 0],
  ])('SoC %s → DCL %s A', (socPct, dclA) => {
    expect(limits(s, { socPct }).dischargeCurrentLimitA).toBeCloseTo(dclA, 9);
  });

  it('names the SoC table as the limiting reason', () => {
    expect(limits(s, { socPct: 95 }).reasons.chargeCurrent).toBe('SoC table (SoC 95 %)');
    expect(limits(s, { socPct: 5 }).reasons.dischargeCurrent).toBe('SoC table (SoC 5 %)');
  });
});

describe('botaneta cell-voltage ramps (botaneta-mv.yaml)', () => {
  const s = load('botaneta-mv.yaml');

  it.each([
    [3390, 70],
    [3395, 45],
    [3425, 12.5],
    [3450, 5],
    [3500, 0],
  ])('max cell %d mV → CCL %d A', (maxCellMv, cclA) => {
    expect(limits(s, { cellsMv: cellsWithOne(3300, maxCellMv) }).chargeCurrentLimitA).toBeCloseTo(cclA, 9);
  });

  it.each([
    [3100, 70],
    [3025, 22.5],
    [2900, 7],
    [2740, 2],
    [2680, 0],
  ])('min cell %d mV → DCL %d A', (minCellMv, dclA) => {
    expect(limits(s, { cellsMv: cellsWithOne(3300, minCellMv) }).dischargeCurrentLimitA).toBeCloseTo(dclA, 9);
  });
});
