/**
 * checkPlausibility, table-driven: the captured replies pass with the shipped limits, and each
 * impossible battery yields exactly its own problem sentence.
 */
import { describe, expect, it } from 'vitest';
import { checkPlausibility } from '../../src/bms/plausibility';
import { decodeResponse, type BmsSnapshot } from '../../src/protocol/jk';
import { bytesOf, MODERN_RESPONSE_VECTORS } from '../protocol/jk/helpers';
import { CAPTURE, pollerOptions } from './support';

const LIMITS = pollerOptions().plausibility;

function snapshotOf(id: string): BmsSnapshot {
  const decoded = decodeResponse(bytesOf(id));
  if (!decoded.ok) throw new Error(`${id}: ${decoded.error.detail}`);
  return decoded.snapshot;
}

/** The 16S capture (cells sum to 53163 mV, pack 53150 mV) with `edit` applied. */
function s16(edit: (s: BmsSnapshot) => void): BmsSnapshot {
  const s = snapshotOf(CAPTURE.s16a);
  edit(s);
  return s;
}

describe('checkPlausibility', () => {
  it.each(MODERN_RESPONSE_VECTORS.map((v) => v.id))('the capture %s is plausible with the default limits', (id) => {
    expect(checkPlausibility(snapshotOf(id), LIMITS)).toEqual([]);
  });

  it.each([
    { name: '0x8A disagrees with 0x79', edit: (s: BmsSnapshot) => (s.cellCount = 15), problems: ['cell count mismatch: 0x79 has 16 cells, 0x8A says 15'] },
    {
      name: 'the 0xA9 setting disagrees with 0x79',
      edit: (s: BmsSnapshot) => (s.settings.cellCountSetting = 17),
      problems: ['cell count mismatch: 0x79 has 16 cells, setting 0xA9 says 17'],
    },
    {
      name: 'no cells at all',
      edit: (s: BmsSnapshot) => {
        s.cellsMv = [];
        s.cellCount = 0;
        s.settings.cellCountSetting = 0;
      },
      problems: ['no cell voltages'],
    },
    {
      name: 'a cell above the maximum',
      edit: (s: BmsSnapshot) => {
        s.cellsMv[1] = 5200;
        s.packMv += 5200 - 3323;
      },
      problems: ['cell 2 at 5200 mV is outside 1000..5000 mV'],
    },
    {
      name: 'a 0 mV cell',
      edit: (s: BmsSnapshot) => {
        s.cellsMv[15] = 0;
        s.packMv -= 3323;
      },
      problems: ['cell 16 at 0 mV is outside 1000..5000 mV'],
    },
    { name: 'pack exactly at the tolerance', edit: (s: BmsSnapshot) => (s.packMv = 53163 + 1500), problems: [] },
    {
      name: 'pack 1 mV beyond the tolerance',
      edit: (s: BmsSnapshot) => (s.packMv = 53163 - 1501),
      problems: ['pack voltage 51662 mV differs from the cell sum 53163 mV by more than 1500 mV'],
    },
    { name: 'SoC above 100 %', edit: (s: BmsSnapshot) => (s.socPct = 101), problems: ['SoC 101 % is outside 0..100'] },
    { name: 'a discharge current beyond the maximum', edit: (s: BmsSnapshot) => (s.currentMa = -1_200_000), problems: ['current -1200 A exceeds ±1000 A'] },
    {
      name: 'a MOSFET and a T1 temperature out of range',
      edit: (s: BmsSnapshot) => {
        s.mosfetTempC = 120;
        s.t1TempC = -45;
      },
      problems: ['MOSFET temperature 120 °C is outside -40..100 °C', 'temperature T1 -45 °C is outside -40..100 °C'],
    },
  ])('$name', ({ edit, problems }) => {
    expect(checkPlausibility(s16(edit), LIMITS)).toEqual(problems);
  });

  it('an expected cell count is enforced on top of the frame-internal checks', () => {
    expect(checkPlausibility(snapshotOf(CAPTURE.s16a), { ...LIMITS, cellCount: 15 })).toEqual(['expected 15 cells, BMS reports 16']);
    expect(checkPlausibility(snapshotOf(CAPTURE.s16a), { ...LIMITS, cellCount: 16 })).toEqual([]);
  });
});
