/** The figures the policy needs from one BMS snapshot. */
import type { BmsSnapshot } from '../protocol/jk/snapshot';

export interface Readings {
  cellCount: number;
  minCellMv: number;
  maxCellMv: number;
  sumCellMv: number;
  /** max - min cell, the balance measure of §2A. */
  cellDiffMv: number;
  minBatteryTempC: number;
  maxBatteryTempC: number;
  mosfetTempC: number;
}

/**
 * Throws on a snapshot without cell voltages: no limit can be derived from it, and the machine
 * validates snapshots (cell count, plausibility; field-survey.md §4a.2) before control sees them.
 * A cell reading 0 mV is kept: it drives the lowest cell down, which stops discharge (fail safe).
 * Both battery sensors (T1 box, T2 battery) count, so the tables see the coldest and the hottest.
 */
export function readingsOf(snapshot: BmsSnapshot): Readings {
  const cells = snapshot.cellsMv;
  if (cells.length === 0) throw new RangeError('BMS snapshot has no cell voltages');
  const minCellMv = Math.min(...cells);
  const maxCellMv = Math.max(...cells);
  return {
    cellCount: cells.length,
    minCellMv,
    maxCellMv,
    sumCellMv: cells.reduce((sum, mv) => sum + mv, 0),
    cellDiffMv: maxCellMv - minCellMv,
    minBatteryTempC: Math.min(snapshot.t1TempC, snapshot.t2TempC),
    maxBatteryTempC: Math.max(snapshot.t1TempC, snapshot.t2TempC),
    mosfetTempC: snapshot.mosfetTempC,
  };
}
