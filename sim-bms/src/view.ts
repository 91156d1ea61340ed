/**
 * The compact live view of `npm run sim-bms` and the "status" command: what the virtual BMS
 * measures (after overrides), the current asked for and the current flowing, MOSFETs, alarms,
 * tripped protections and active faults. Plain lines, at most ~100 columns.
 */
import { chargeMosfetOn, dischargeMosfetOn } from '../../bridge/src/protocol/jk/snapshot';
import { alarmNames } from './faults';
import type { VirtualBms } from './virtual-bms';

/** 8 cells of 5 columns fit an 80-column terminal next to the label. */
const CELLS_PER_LINE = 8;

export function renderStatus(bms: VirtualBms): string[] {
  const s = bms.liveSnapshot();
  const p = bms.profile;
  const now = bms.now();
  const cells = s.cellsMv;
  const min = Math.min(...cells);
  const max = Math.max(...cells);
  const balancing = bms.battery.cells.flatMap((c, i) => (c.balancing ? [i + 1] : []));
  const alarms = alarmNames(s.alarms | bms.faults.forcedAlarms);
  const faults = bms.faults.describe(now);
  const served = bms.lastServed ? `last reply ${((now - bms.lastServed.atMs) / 1000).toFixed(1)} s ago` : 'no reply yet';

  const lines = [
    `${p.name}  ${p.cells}S ${p.chemistry} ${p.capacityAh} Ah  ${bms.linkDescription ?? 'no link'}`,
    `pack ${(s.packMv / 1000).toFixed(2)} V  ${signed(s.currentMa / 1000)} A (asked ${signed(bms.demandA)} A)  SoC ${s.socPct} %  ` +
      `mos ${s.mosfetTempC} C  t1 ${s.t1TempC} C  t2 ${s.t2TempC} C`,
  ];
  for (let i = 0; i < cells.length; i += CELLS_PER_LINE) {
    const slice = cells.slice(i, i + CELLS_PER_LINE);
    lines.push(`${`c${i + 1}-${i + slice.length}`.padEnd(8)}${slice.map((mv) => String(mv).padStart(5)).join('')}`);
  }
  lines.push(
    `min ${min} #${cells.indexOf(min) + 1}  max ${max} #${cells.indexOf(max) + 1}  delta ${max - min} mV  balancing ${balancing.length ? balancing.join(',') : '-'}`,
    `MOSFET charge ${chargeMosfetOn(s) ? 'ON ' : 'OFF'}  discharge ${dischargeMosfetOn(s) ? 'ON ' : 'OFF'}  ` +
      `alarms ${alarms.length ? alarms.join(',') : '-'}  protections ${bms.protection.active.join(',') || '-'}`,
    `faults ${faults.length ? faults.join(', ') : 'none'}  |  ${bms.requests.length} requests, ${served}`,
  );
  return lines;
}

/** +1.50 / -2.00: the sign always shown, as a current direction. */
export function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
}

/** One line per second when stdout is not a terminal (logs, CI); the live rig's log shows it too. */
export function bmsStatusLine(bms: VirtualBms): string {
  const s = bms.liveSnapshot();
  const faults = bms.faults.describe(bms.now());
  return (
    `pack ${(s.packMv / 1000).toFixed(2)}V ${signed(s.currentMa / 1000)}A SoC ${s.socPct}% ` +
    `cells ${Math.min(...s.cellsMv)}..${Math.max(...s.cellsMv)}mV chg ${chargeMosfetOn(s) ? 'on' : 'off'} dis ${dischargeMosfetOn(s) ? 'on' : 'off'} ` +
    `protections ${bms.protection.active.join(',') || '-'} faults ${faults.join(', ') || '-'}`
  );
}
