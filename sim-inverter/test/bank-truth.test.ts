/**
 * The checker's truth for a bank of packs (issue 12): every pack that can take the current counts,
 * with the time its pack served the extreme; stale packs per the declared onPackLost.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AcceptedReplies, type BankTruthOptions, type ServedReplyEvent } from '../src/battery-truth';

const BOTH = 0b11;
type Served = { atMs: number; cellsMv: number[]; status: number } | null;
const served = (atMs: number, cellsMv: number[], status = BOTH): Served => ({ atMs, cellsMv, status });
const never: Served = null;

class Pack extends EventEmitter<{ served: [ServedReplyEvent] }> {
  constructor(readonly reply: Served) {
    super();
  }
  measure() {
    return { cellsMv: this.reply?.cellsMv ?? [3300], packMv: 3300 };
  }
}

/** Each pack answers once (or never), in time and plausibly. */
function bankTruth(source: Served | Served[], bank?: BankTruthOptions): AcceptedReplies {
  const replies = Array.isArray(source) ? source : [source];
  const packs = replies.map((reply) => new Pack(reply));
  const cells = replies.find((r) => r !== null)?.cellsMv.length ?? 1;
  const truth = new AcceptedReplies(Array.isArray(source) ? packs : packs[0], { cells, replyTimeoutMs: 150 }, bank);
  for (const pack of packs) {
    const r = pack.reply;
    if (r === null) continue;
    const snapshot = { cellsMv: r.cellsMv, packMv: r.cellsMv.reduce((a, b) => a + b, 0), status: r.status, cellCount: cells, settings: { cellCountSetting: cells } };
    pack.emit('served', { atMs: r.atMs, requestedAtMs: r.atMs - 5, intact: true, snapshot });
  }
  return truth;
}

describe('bank truth', () => {
  it('the highest and lowest cell of any pack, each with the time its pack served it', () => {
    const truth = bankTruth([served(1000, [3300, 3310]), served(1200, [3520, 3200]), served(1100, [3330, 3290])]);
    expect(truth.lastAccepted()).toEqual({
      atMs: 1000,
      maxCellMv: 3520,
      maxCellAtMs: 1200,
      minCellMv: 3200,
      minCellAtMs: 1200,
      packMv: (6610 + 6720 + 6620) / 3,
    });
  });

  it('a pack whose BMS opened its charge MOSFET takes no charge, so its high cell does not forbid charging the others', () => {
    const truth = bankTruth([served(1000, [3300, 3310]), served(1000, [3660, 3300], 0b10)]);
    expect(truth.lastAccepted()).toMatchObject({ maxCellMv: 3310, minCellMv: 3300 });
  });

  it('with every charge MOSFET open every pack counts again', () => {
    const truth = bankTruth([served(1000, [3300, 3310], 0b10), served(1000, [3660, 3300], 0b10)]);
    expect(truth.lastAccepted()).toMatchObject({ maxCellMv: 3660 });
  });

  it('stop: a pack that never answered means no data; the data is as old as the oldest pack’s', () => {
    expect(bankTruth([served(1000, [3300]), never]).lastAccepted()).toBeNull();
    expect(bankTruth([served(1000, [3300]), served(9000, [3300])]).lastAccepted()?.atMs).toBe(1000);
  });

  it('degrade: a pack that stopped answering is left out once stale; the data is as new as the newest pack’s', () => {
    const truth = bankTruth([served(9000, [3300]), served(1000, [3600]), never], { onPackLost: 'degrade', staleAfterMs: 5000 });
    expect(truth.lastAccepted()).toMatchObject({ atMs: 9000, maxCellMv: 3300 });
  });

  it('one BMS: unchanged (MOSFET state not consulted)', () => {
    const truth = bankTruth(served(1000, [3660, 3300], 0));
    expect(truth.lastAccepted()).toEqual({ atMs: 1000, maxCellMv: 3660, maxCellAtMs: 1000, minCellMv: 3300, minCellAtMs: 1000, packMv: 6960 });
  });
});
