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
 * never reach the bus. Structural types only: sim-inverter does not import sim-bms.
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
  snapshot: { cellsMv: readonly number[]; packMv: number; cellCount: number; settings: { cellCountSetting: number } };
}

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

export class AcceptedReplies implements BatteryTruth {
  private accepted: ServedTruth | null = null;
  /** Replies served and how many of them a correct bridge may accept. */
  readonly counts = { served: 0, accepted: 0 };

  constructor(
    private readonly bms: ServedReplySource,
    private readonly rules: AcceptanceRules,
  ) {
    bms.on('served', (reply) => this.onServed(reply));
  }

  lastAccepted(): ServedTruth | null {
    return this.accepted;
  }

  measured(): MeasuredTruth {
    const { cellsMv, packMv } = this.bms.measure();
    return { maxCellMv: Math.max(...cellsMv), minCellMv: Math.min(...cellsMv), packMv };
  }

  private onServed(reply: ServedReplyEvent): void {
    this.counts.served += 1;
    if (rejection(reply, this.rules) !== null) return;
    this.counts.accepted += 1;
    const cells = reply.snapshot.cellsMv;
    this.accepted = { atMs: reply.atMs, maxCellMv: Math.max(...cells), minCellMv: Math.min(...cells), packMv: reply.snapshot.packMv };
  }
}
