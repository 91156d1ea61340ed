/**
 * The checker's truth for a bank of packs (issue 12): every pack that can take the current counts,
 * with the time its pack served the extreme; stale packs per the bridge's onPackLost.
 */
import { describe, expect, it } from 'vitest';
import { truthFromBms, type ServedSnapshotSource } from '../src/virtual-inverter';

const BOTH = 0b11;
const served = (atMs: number, cellsMv: number[], status = BOTH): ServedSnapshotSource => ({
  lastServed: { atMs, snapshot: { cellsMv, packMv: cellsMv.reduce((a, b) => a + b, 0), status } },
});
const never: ServedSnapshotSource = { lastServed: null };

describe('bank truth', () => {
  it('the highest and lowest cell of any pack, each with the time its pack served it', () => {
    const truth = truthFromBms([served(1000, [3300, 3310]), served(1200, [3520, 3200]), served(1100, [3330, 3290])]);
    expect(truth.lastServed()).toEqual({
      atMs: 1000,
      maxCellMv: 3520,
      maxCellAtMs: 1200,
      minCellMv: 3200,
      minCellAtMs: 1200,
      packMv: (6610 + 6720 + 6620) / 3,
    });
  });

  it('a pack whose BMS opened its charge MOSFET takes no charge, so its high cell does not forbid charging the others', () => {
    const truth = truthFromBms([served(1000, [3300, 3310]), served(1000, [3660, 3300], 0b10)]);
    expect(truth.lastServed()).toMatchObject({ maxCellMv: 3310, minCellMv: 3300 });
  });

  it('with every charge MOSFET open every pack counts again', () => {
    const truth = truthFromBms([served(1000, [3300, 3310], 0b10), served(1000, [3660, 3300], 0b10)]);
    expect(truth.lastServed()).toMatchObject({ maxCellMv: 3660 });
  });

  it('stop: a pack that never answered means no data; the data is as old as the oldest pack’s', () => {
    expect(truthFromBms([served(1000, [3300]), never]).lastServed()).toBeNull();
    expect(truthFromBms([served(1000, [3300]), served(9000, [3300])]).lastServed()?.atMs).toBe(1000);
  });

  it('degrade: a pack that stopped answering is left out once stale; the data is as new as the newest pack’s', () => {
    const truth = truthFromBms([served(9000, [3300]), served(1000, [3600]), never], { onPackLost: 'degrade', staleAfterMs: 5000 });
    expect(truth.lastServed()).toMatchObject({ atMs: 9000, maxCellMv: 3300 });
  });

  it('one BMS: unchanged (MOSFET state not consulted)', () => {
    const truth = truthFromBms(served(1000, [3660, 3300], 0));
    expect(truth.lastServed()).toEqual({ atMs: 1000, maxCellMv: 3660, minCellMv: 3300, packMv: 6960 });
  });
});
