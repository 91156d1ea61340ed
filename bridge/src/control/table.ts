/**
 * Limit tables (field-survey.md §2A): breakpoints [x, fraction] looked up by cell voltage,
 * temperature or SoC. Descending tables are read reversed; below the first and above the last
 * breakpoint the end values hold.
 */
import type { LimitTable } from './settings';

type Point = readonly [number, number];

/**
 * Which way x moves when a breakpoint counts as crossed in step mode: charging raises cell
 * voltage and SoC ('rising'), discharging lowers them ('falling'). The policy passes 'rising' for
 * charge limits and 'falling' for discharge limits, so a table's owner never has to say it.
 */
export type StepCrossing = 'rising' | 'falling';

/**
 * 'linear': piecewise-linear interpolation (§2A calc_linear_relationship).
 *
 * 'step': the value of the last breakpoint crossed (§2A calc_step_relationship); at a breakpoint
 * its own value applies.
 *  - rising: the breakpoint at or below x. Max cell 3.41 V gives 0.25, 3.425 V gives 0.05 (§2A);
 *    chrgraf's "first entry with max_cell >= threshold" (§2C).
 *  - falling: the breakpoint at or above x. chrgraf's discharge table, "0 A at <= 3.15 V" (§2C).
 *    dbus-serialbattery's discharge side needs x strictly below a breakpoint, so at exactly a
 *    breakpoint this gives that breakpoint's (tighter) value where it gives the next one.
 */
export function lookup(table: LimitTable, x: number, crossing: StepCrossing): number {
  const points: readonly Point[] =
    table.points[0][0] > table.points[table.points.length - 1][0]
      ? [...table.points].reverse()
      : table.points;
  const first = points[0];
  const last = points[points.length - 1];
  if (x <= first[0]) return first[1];
  if (x >= last[0]) return last[1];
  const upper = points.findIndex((point) => x < point[0]);
  const [x0, y0] = points[upper - 1];
  const [x1, y1] = points[upper];
  if (table.mode === 'linear') {
    // Bounded to the segment so rounding can never lift a fraction past its breakpoints.
    const y = y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    return Math.min(Math.max(y0, y1), Math.max(Math.min(y0, y1), y));
  }
  return crossing === 'rising' || x === x0 ? y0 : y1;
}
