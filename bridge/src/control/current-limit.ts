/**
 * Target charge and discharge current limits before rate limiting: the minimum over every limiter,
 * each with its reason (field-survey.md §2A "CCL and DCL"; §4a.5 MOSFET off → 0; YamBMS OCP cap §2B).
 */
import { chargeMosfetOn, dischargeMosfetOn, type BmsSnapshot } from '../protocol/jk/snapshot';
import { formatA, formatCellV } from './format';
import type { Readings } from './readings';
import type { ControlSettings, LimitTable } from './settings';
import { lookup, type StepCrossing } from './table';

export interface CurrentTarget {
  limitA: number;
  reason: string;
  /** The cell voltage alone forbids this direction (stop voltage, or the cell table at 0). */
  stoppedByCell: boolean;
}

interface Candidate {
  limitA: number;
  reason: string;
}

/** Ties go to the earlier candidate, so hard stops are listed first and name the reason. */
function lowest(candidates: Candidate[]): Candidate {
  return candidates.reduce((low, c) => (c.limitA < low.limitA ? c : low));
}

interface Direction {
  /** Step tables count a breakpoint as crossed in the direction this current moves the pack. */
  crossing: StepCrossing;
  mosfetOn: boolean;
  mosfetName: string;
  maxA: number;
  ocpA: number;
  cellStopped: boolean;
  cellStopReason: string;
  cellTable: LimitTable;
  cellMv: number;
  cellName: string;
  temperatureTable: LimitTable;
  socTable: ControlSettings['tables']['chargeVsSocPct'];
}

function target(d: Direction, snapshot: BmsSnapshot, r: Readings, s: ControlSettings): CurrentTarget {
  const fromTable = (table: LimitTable, x: number) => lookup(table, x, d.crossing) * d.maxA;
  const cellFraction = lookup(d.cellTable, d.cellMv, d.crossing);
  const candidates: Candidate[] = [];
  if (!d.mosfetOn) candidates.push({ limitA: 0, reason: `BMS ${d.mosfetName} MOSFET off` });
  if (d.cellStopped) candidates.push({ limitA: 0, reason: d.cellStopReason });
  candidates.push({ limitA: d.maxA, reason: 'configured maximum' });
  const capFraction = s.current.bmsOcpCapFraction;
  if (capFraction !== null) {
    candidates.push({
      limitA: capFraction * d.ocpA,
      reason: `BMS over-current setting (${capFraction} × ${formatA(d.ocpA)})`,
    });
  }
  candidates.push({
    limitA: cellFraction * d.maxA,
    reason: `cell voltage table (${d.cellName} ${formatCellV(d.cellMv)})`,
  });
  for (const t of [r.minBatteryTempC, r.maxBatteryTempC]) {
    candidates.push({ limitA: fromTable(d.temperatureTable, t), reason: `temperature table (T ${t} °C)` });
  }
  candidates.push({
    limitA: fromTable(s.tables.vsMosfetTemperatureC, r.mosfetTempC),
    reason: `MOSFET temperature table (T ${r.mosfetTempC} °C)`,
  });
  if (d.socTable.enabled) {
    candidates.push({
      limitA: fromTable(d.socTable, snapshot.socPct),
      reason: `SoC table (SoC ${snapshot.socPct} %)`,
    });
  }
  const low = lowest(candidates);
  return { ...low, stoppedByCell: d.cellStopped || cellFraction === 0 };
}

export function chargeCurrentTarget(snapshot: BmsSnapshot, r: Readings, s: ControlSettings): CurrentTarget {
  return target(
    {
      crossing: 'rising',
      mosfetOn: chargeMosfetOn(snapshot),
      mosfetName: 'charge',
      maxA: s.current.maxChargeA,
      ocpA: snapshot.settings.chargeOcpA,
      cellStopped: r.maxCellMv >= s.chargeStopCellMv,
      cellStopReason: `charge-stop cell voltage (max cell ${formatCellV(r.maxCellMv)})`,
      cellTable: s.tables.chargeVsMaxCellMv,
      cellMv: r.maxCellMv,
      cellName: 'max cell',
      temperatureTable: s.tables.chargeVsTemperatureC,
      socTable: s.tables.chargeVsSocPct,
    },
    snapshot,
    r,
    s,
  );
}

export function dischargeCurrentTarget(snapshot: BmsSnapshot, r: Readings, s: ControlSettings): CurrentTarget {
  return target(
    {
      crossing: 'falling',
      mosfetOn: dischargeMosfetOn(snapshot),
      mosfetName: 'discharge',
      maxA: s.current.maxDischargeA,
      ocpA: snapshot.settings.dischargeOcpA,
      cellStopped: r.minCellMv <= s.dischargeStopCellMv,
      cellStopReason: `discharge-stop cell voltage (min cell ${formatCellV(r.minCellMv)})`,
      cellTable: s.tables.dischargeVsMinCellMv,
      cellMv: r.minCellMv,
      cellName: 'min cell',
      temperatureTable: s.tables.dischargeVsTemperatureC,
      socTable: s.tables.dischargeVsSocPct,
    },
    snapshot,
    r,
    s,
  );
}
