/**
 * Plausibility checks a decoded snapshot must pass before it counts as valid (issue 3, poller;
 * field-survey §4a.2 "validate every frame"). A frame can be perfectly framed and checksummed and
 * still describe an impossible battery: a wrong cell count after a firmware glitch, a 0 mV cell
 * from a broken sense wire (vector 4e57-resp-13s-esphome-faker2), a pack voltage that does not
 * match its cells. Pure; returns one human-readable problem per failed check.
 */
import type { BmsSnapshot } from '../protocol/jk/snapshot';

export interface PlausibilityLimits {
  /** Expected series cell count; undefined = accept whatever is consistent inside the frame. */
  cellCount?: number;
  minCellMv: number;
  maxCellMv: number;
  packVoltageToleranceMv: number;
  maxCurrentA: number;
  minTemperatureC: number;
  maxTemperatureC: number;
}

export function checkPlausibility(snapshot: BmsSnapshot, limits: PlausibilityLimits): string[] {
  const problems: string[] = [];
  const n = snapshot.cellsMv.length;
  // Spec §2.10: cross-check the 0x79 length with 0x8A and 0xA9; dbus-serialbattery discards on mismatch.
  if (n !== snapshot.cellCount) problems.push(`cell count mismatch: 0x79 has ${n} cells, 0x8A says ${snapshot.cellCount}`);
  if (n !== snapshot.settings.cellCountSetting)
    problems.push(`cell count mismatch: 0x79 has ${n} cells, setting 0xA9 says ${snapshot.settings.cellCountSetting}`);
  if (limits.cellCount !== undefined && n !== limits.cellCount) problems.push(`expected ${limits.cellCount} cells, BMS reports ${n}`);
  if (n === 0) problems.push('no cell voltages');

  snapshot.cellsMv.forEach((mv, i) => {
    if (mv < limits.minCellMv || mv > limits.maxCellMv)
      problems.push(`cell ${i + 1} at ${mv} mV is outside ${limits.minCellMv}..${limits.maxCellMv} mV`);
  });

  const sumMv = snapshot.cellsMv.reduce((a, b) => a + b, 0);
  if (n > 0 && Math.abs(sumMv - snapshot.packMv) > limits.packVoltageToleranceMv)
    problems.push(`pack voltage ${snapshot.packMv} mV differs from the cell sum ${sumMv} mV by more than ${limits.packVoltageToleranceMv} mV`);

  if (snapshot.socPct < 0 || snapshot.socPct > 100) problems.push(`SoC ${snapshot.socPct} % is outside 0..100`);
  if (Math.abs(snapshot.currentMa) > limits.maxCurrentA * 1000)
    problems.push(`current ${snapshot.currentMa / 1000} A exceeds ±${limits.maxCurrentA} A`);

  for (const [name, value] of [
    ['MOSFET temperature', snapshot.mosfetTempC],
    ['temperature T1', snapshot.t1TempC],
    ['temperature T2', snapshot.t2TempC],
  ] as const) {
    if (value < limits.minTemperatureC || value > limits.maxTemperatureC)
      problems.push(`${name} ${value} °C is outside ${limits.minTemperatureC}..${limits.maxTemperatureC} °C`);
  }
  return problems;
}
