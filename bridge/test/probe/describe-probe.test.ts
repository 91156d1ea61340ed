/**
 * The lines of `check --probe` for what a pack can answer (the real probe over ptys runs in
 * features/bank.feature): an implausible answer, silence with and without a reason, an active
 * protection the config faults on.
 */
import { describe, expect, it } from 'vitest';
import { describeProbe, type PackProbe } from '../../src/probe';
import { testConfig } from '../machine/harness';
import { snapshot } from '../support/snapshot-builder';

const config = testConfig();
const pack = config.bms.packs[0];
const line = (result: PackProbe['result']) => describeProbe(config, { pack, result });

describe('describeProbe', () => {
  it('says why a pack gave nothing usable, and that it is not ok', () => {
    expect(line({ kind: 'silent', waitedMs: 2000, lastProblem: null })).toEqual({ lines: [`pack 1 (${pack.link}): no valid answer in 2000 ms`], ok: false });
    expect(line({ kind: 'silent', waitedMs: 2000, lastProblem: 'open failed: ENOENT' }).lines).toEqual([`pack 1 (${pack.link}): no valid answer in 2000 ms (open failed: ENOENT)`]);
    expect(line({ kind: 'implausible', problems: ['15 cells, expected 16'] })).toEqual({
      lines: [`pack 1 (${pack.link}): answered, but implausibly: 15 cells, expected 16`],
      ok: false,
    });
  });

  it('an answer: the pack in one line, its chemistry, and a protection that would stop the bridge', () => {
    const healthy = line({ kind: 'answered', snapshot: snapshot({ cellMv: 3300, socPct: 55 }), afterMs: 41.6 });
    expect(healthy.ok).toBe(true);
    expect(healthy.lines[0]).toBe(
      `pack 1 (${pack.link}): answered in 42 ms: 16 cells 3.300-3.300 V, 52.80 V, +0.00 A, SoC 55 %, charge MOSFET on, discharge MOSFET on, alarms none`,
    );
    expect(healthy.lines[1]).toMatch(/^ {2}battery chemistry lifepo4 \(auto: /);
    const hot = line({ kind: 'answered', snapshot: snapshot({ alarms: ['batteryOverTemperature'] }), afterMs: 40 });
    expect(hot.ok).toBe(false);
    expect(hot.lines[0]).toContain('alarms batteryOverTemperature');
    expect(hot.lines.at(-1)).toBe('  the bridge would send zero limits: BMS protection: batteryOverTemperature');
  });
});
