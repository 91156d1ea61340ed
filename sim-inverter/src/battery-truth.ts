/**
 * The virtual BMS as the judge's truth (checker.ts BatteryTruth). It follows every reply the BMS
 * serves and keeps the newest one a correct bridge may accept:
 *
 *   intact      a whole frame with a correct checksum (jk-serial-protocol.md §2.1);
 *   in time     complete within the reply timeout the scenario gave the bridge;
 *   plausible   the declared cell count in 0x79, agreeing with 0x8A and 0xA9 (§2.10 cross-check).
 *
 * A corrupted, truncated, late or wrong-cell-count reply is therefore no data, however recent: a
 * bridge that used it would be judged on stale data, and a value it carried is one that must
 * never reach the bus. For a bank (several packs in parallel, issue 12) each pack's accepted
 * replies count as below. Structural types only: sim-inverter does not import sim-bms.
 */
import type { BatteryTruth, MeasuredTruth, ServedTruth } from './checker';

/** What the virtual BMS says about one reply it wrote (sim-bms ServedReply). */
export interface ServedReplyEvent {
  /** When the last byte was written. */
  atMs: number;
  /** When the request it answers arrived. */
  requestedAtMs: number;
  /** false when a wire fault (bad checksum, truncation) spoiled the frame. */
  intact: boolean;
  snapshot: AcceptedSnapshot & { cellCount: number; settings: { cellCountSetting: number } };
}

/** What the judge reads of an accepted reply; status = JK 0x8C (bit 0 charge, bit 1 discharge MOSFET). */
interface AcceptedSnapshot {
  cellsMv: readonly number[];
  packMv: number;
  status?: number;
}

/** How the checker treats a pack of a bank whose answers stopped: as the scenario declares (bms.onPackLost). */
export interface BankTruthOptions {
  onPackLost: 'stop' | 'degrade';
  /** With `degrade`, a pack whose last answer is this much older than the newest one is left out. */
  staleAfterMs: number;
}

/** JK 0x8C bits 0 and 1 (jk-serial-protocol.md §2.9): the served charge / discharge MOSFET state. */
const CHARGE_MOSFET = 1 << 0;
const DISCHARGE_MOSFET = 1 << 1;

/** The part of sim-bms's VirtualBms the truth reads. */
export interface ServedReplySource {
  on(event: 'served', listener: (reply: ServedReplyEvent) => void): unknown;
  measure(): { cellsMv: readonly number[]; packMv: number };
}

export interface AcceptanceRules {
  /** The battery's declared series cell count. */
  cells: number;
  /** The reply timeout the scenario gave the bridge (bms.replyTimeoutMs). */
  replyTimeoutMs: number;
}

/** Why a reply is not acceptable, or null when a correct bridge may use it. */
export function rejection(reply: ServedReplyEvent, rules: AcceptanceRules): string | null {
  if (!reply.intact) return 'not an intact frame';
  const tookMs = reply.atMs - reply.requestedAtMs;
  if (tookMs > rules.replyTimeoutMs) return `late: ${tookMs} ms after its request (timeout ${rules.replyTimeoutMs} ms)`;
  const { cellsMv, cellCount, settings } = reply.snapshot;
  if (cellsMv.length !== rules.cells || cellCount !== rules.cells || settings.cellCountSetting !== rules.cells) {
    return `implausible: ${cellsMv.length} cells in 0x79, 0x8A ${cellCount}, 0xA9 ${settings.cellCountSetting}, the battery has ${rules.cells}`;
  }
  return null;
}

/** One pack's newest acceptable reply. */
class PackReplies {
  accepted: { atMs: number; snapshot: AcceptedSnapshot } | null = null;
  served = 0;
  acceptedCount = 0;

  constructor(
    readonly bms: ServedReplySource,
    rules: AcceptanceRules,
  ) {
    bms.on('served', (reply) => {
      this.served += 1;
      if (rejection(reply, rules) !== null) return;
      this.acceptedCount += 1;
      this.accepted = { atMs: reply.atMs, snapshot: reply.snapshot };
    });
  }
}

/**
 * The truth of one BMS or of a bank. For a bank every pack counts that can take the current: the
 * highest cell of the packs whose charge MOSFET was on (a pack whose BMS opened it takes no
 * charge, so charging the others is right), the lowest of those whose discharge MOSFET was on,
 * each with the time its pack served it. With `stop` the data is as old as the oldest pack's,
 * with `degrade` as the newest's, and packs left out as stale do not count. One pack is a bank of
 * one: its extremes, its time.
 */
export class AcceptedReplies implements BatteryTruth {
  private readonly packs: PackReplies[];

  constructor(
    source: ServedReplySource | readonly ServedReplySource[],
    rules: AcceptanceRules,
    private readonly bank: BankTruthOptions = { onPackLost: 'stop', staleAfterMs: Infinity },
  ) {
    const sources = Array.isArray(source) ? (source as readonly ServedReplySource[]) : [source as ServedReplySource];
    this.packs = sources.map((bms) => new PackReplies(bms, rules));
  }

  /** Replies served and how many of them a correct bridge may accept, over all packs. */
  get counts(): { served: number; accepted: number } {
    return { served: this.packs.reduce((n, p) => n + p.served, 0), accepted: this.packs.reduce((n, p) => n + p.acceptedCount, 0) };
  }

  lastAccepted(): ServedTruth | null {
    const all = this.packs.map((p) => p.accepted);
    if (this.bank.onPackLost === 'stop' && all.some((s) => s === null)) return null;
    const withData = all.filter((s) => s !== null);
    if (withData.length === 0) return null;
    const newest = Math.max(...withData.map((s) => s.atMs));
    const counted = this.bank.onPackLost === 'stop' ? withData : withData.filter((s) => newest - s.atMs <= this.bank.staleAfterMs);
    const extreme = (bit: number, pick: (cells: readonly number[]) => number, better: (a: number, b: number) => boolean) => {
      const able = counted.filter((s) => ((s.snapshot.status ?? bit) & bit) !== 0);
      let best: { mv: number; atMs: number } | null = null;
      for (const s of able.length > 0 ? able : counted) {
        const mv = pick(s.snapshot.cellsMv);
        if (best === null || better(mv, best.mv)) best = { mv, atMs: s.atMs };
      }
      return best!;
    };
    const high = extreme(CHARGE_MOSFET, (c) => Math.max(...c), (a, b) => a > b);
    const low = extreme(DISCHARGE_MOSFET, (c) => Math.min(...c), (a, b) => a < b);
    return {
      atMs: this.bank.onPackLost === 'stop' ? Math.min(...counted.map((s) => s.atMs)) : newest,
      maxCellMv: high.mv,
      maxCellAtMs: high.atMs,
      minCellMv: low.mv,
      minCellAtMs: low.atMs,
      packMv: counted.reduce((sum, s) => sum + s.snapshot.packMv, 0) / counted.length,
    };
  }

  /** The cells every pack measures now; the packs share one DC bus, so the pack voltage is their mean. */
  measured(): MeasuredTruth {
    const now = this.packs.map((p) => p.bms.measure());
    return {
      maxCellMv: Math.max(...now.flatMap((m) => m.cellsMv)),
      minCellMv: Math.min(...now.flatMap((m) => m.cellsMv)),
      packMv: now.reduce((sum, m) => sum + m.packMv, 0) / now.length,
    };
  }
}
