/**
 * How a Pylon HV inverter judges the battery's answers (inverter-can-protocols.md §7): every
 * 0x4200 it sends opens a request; the battery must answer it with the whole reply set
 * (0x4210-0x4290 for the ensemble, 0x7310-0x7340 for the equipment, + its address) within the
 * inverter's reply timeout, never on its own; and what one set says must hang together and match
 * the battery.
 *
 * A request that gets no answer at all is the battery being silent (idle, fault silence): counted,
 * and the inverter's own link timeout reacts to it; it is not a protocol violation. A partial, late
 * or unsolicited answer is.
 *
 * Pure: the checker feeds it requests, decoded replies and time.
 */
import {
  PYLON_HV_ENSEMBLE_IDS,
  PYLON_HV_EQUIPMENT_IDS,
  decodePylonHvRequest,
  mergeBatteryState,
  type BatteryStatePatch,
  type CanFrame,
  type PylonHvVariant,
} from '../../bridge/src/protocol/can';
import { formatCanId } from '../../bridge/src/protocol/can/frame';

export type HvReplyRule = 'missing-reply' | 'late-reply' | 'unsolicited-reply' | 'cell-range' | 'inconsistent-frames' | 'truth-mismatch';

export interface HvTruthSample {
  atMs: number;
  maxCellMv: number;
  minCellMv: number;
}

export interface HvReplyOptions {
  variant: PylonHvVariant;
  /** A request must be fully answered within this time. */
  replyTimeoutMs: number;
  report(atMs: number, rule: HvReplyRule, detail: string, id?: number): void;
}

type SetKind = 'ensemble' | 'equipment';

/** An answer set on its way: the request it answers (the oldest one waiting when it began) and what came. */
interface AnswerSet {
  requestAtMs: number;
  seen: Set<number>;
  state: BatteryStatePatch;
  lastFrameAtMs: number;
}

interface KindState {
  /** Requests sent and not yet answered (a set that begins answers all of them: the bridge may coalesce). */
  waiting: number[];
  /** The oldest request of a batch that went unanswered past the timeout: an answer now is late, not unsolicited. */
  lapsedAtMs: number | null;
  /**
   * The newest request, and whether a set already began without a waiting request on its account:
   * a request can cross the start of a set on the wire (the set began before the battery saw it,
   * and the next set answers it), so one more set per request is an answer, a second one is not.
   */
  lastRequestAtMs: number | null;
  lastRequestReused: boolean;
  current: AnswerSet | null;
}

/** A cell outside 1-5 V is no lithium cell (the bridge's plausibility bounds are its own; these are physics). */
const CELL_RANGE_MV = [1000, 5000] as const;
/**
 * Σ cells vs the pack voltage in one reply set: the JK measures both, at different points, from
 * the same sample (jk-serial-protocol.md: cable drop and shunt); 2 V covers 24 cells' rounding and
 * the drop, and a byte-order mistake is off by orders of magnitude.
 */
const PACK_TOLERANCE_V = 2;
/** Cell readings travel in mV; the battery moves a few mV between two BMS polls. */
const TRUTH_TOLERANCE_MV = 20;
/**
 * How far back a reply may reach into the battery's history: the bridge answers from its newest
 * valid snapshot, which in stale and fault is older than the battery's last answer (it keeps the
 * last known measurements, ARCHITECTURE.md bus table). The newest sample is always kept.
 */
const TRUTH_HISTORY_MS = 120_000;

export class HvReplyTracker {
  private readonly options: HvReplyOptions;
  private readonly kinds = new Map<SetKind, KindState>([
    ['ensemble', { waiting: [], lapsedAtMs: null, lastRequestAtMs: null, lastRequestReused: false, current: null }],
    ['equipment', { waiting: [], lapsedAtMs: null, lastRequestAtMs: null, lastRequestReused: false, current: null }],
  ]);
  private readonly ids: ReadonlyMap<number, SetKind>;
  /** The newest complete set's 0x7320 cell count (equipment), for the pack-voltage check. */
  private cellCount: number | null = null;
  private unansweredCount = 0;
  private answeredCount = 0;
  private readonly latencies: number[] = [];
  private readonly truth: HvTruthSample[] = [];

  constructor(options: HvReplyOptions) {
    this.options = options;
    const a = options.variant.address;
    this.ids = new Map<number, SetKind>([
      ...PYLON_HV_ENSEMBLE_IDS.map((id) => [id + a, 'ensemble'] as const),
      ...PYLON_HV_EQUIPMENT_IDS.map((id) => [id + a, 'equipment'] as const),
    ]);
  }

  /** Requests that got no answer at all (the battery was silent); a batch answered by one set counts once. */
  get unanswered(): number {
    return this.unansweredCount;
  }

  /** Complete answer sets. */
  get answered(): number {
    return this.answeredCount;
  }

  /** Request → last frame of its complete answer, ms, newest last (at most 10 000). */
  get replyLatenciesMs(): readonly number[] {
    return this.latencies;
  }

  /** What the virtual battery served (each distinct answer once). */
  noteTruth(sample: HvTruthSample): void {
    const newest = this.truth[this.truth.length - 1];
    if (newest !== undefined && newest.atMs === sample.atMs) return;
    this.truth.push(sample);
    while (this.truth.length > 1 && sample.atMs - this.truth[0].atMs > TRUTH_HISTORY_MS) this.truth.shift();
  }

  /** A frame the inverter sent: a 0x4200 ensemble or equipment request waits for its answer. */
  noteSent(frame: CanFrame, atMs: number): void {
    const decoded = decodePylonHvRequest(frame, this.options.variant.address);
    if (!decoded.ok || decoded.request.kind !== 'info' || decoded.request.info === 'cells') return;
    const k = this.kind(decoded.request.info);
    k.waiting.push(atMs);
    k.lapsedAtMs = null;
    k.lastRequestAtMs = atMs;
    k.lastRequestReused = false;
  }

  /** A battery frame the codec decoded. */
  onReply(frame: CanFrame, patch: BatteryStatePatch | undefined, atMs: number): void {
    const kind = this.ids.get(frame.id);
    if (kind === undefined) return;
    const k = this.kind(kind);
    if (k.current !== null && k.current.seen.has(frame.id)) {
      // The same id again: a new set began before the last one was complete.
      this.reportMissing(kind, k.current, atMs);
      k.current = null;
    }
    if (k.current === null) {
      let requestAtMs: number;
      if (k.waiting.length > 0) {
        requestAtMs = k.waiting[0];
      } else if (k.lapsedAtMs !== null) {
        requestAtMs = k.lapsedAtMs;
        this.unansweredCount -= 1; // the lapsed batch is answered after all, late
      } else if (k.lastRequestAtMs !== null && !k.lastRequestReused && atMs - k.lastRequestAtMs <= this.options.replyTimeoutMs) {
        requestAtMs = k.lastRequestAtMs;
        k.lastRequestReused = true;
      } else {
        this.options.report(atMs, 'unsolicited-reply', `0x${formatCanId(frame)} without a ${kind} request waiting: a Pylon HV battery only answers 0x4200 (spec §7)`, frame.id);
        return;
      }
      k.waiting = [];
      k.lapsedAtMs = null;
      k.current = { requestAtMs, seen: new Set(), state: {}, lastFrameAtMs: atMs };
    }
    const set = k.current;
    set.seen.add(frame.id);
    set.lastFrameAtMs = atMs;
    if (patch !== undefined) set.state = mergeBatteryState(set.state, patch);
    if (set.seen.size < this.expected(kind).length) return;
    k.current = null;
    this.answeredCount += 1;
    const latency = atMs - set.requestAtMs;
    this.latencies.push(latency);
    if (this.latencies.length > 10_000) this.latencies.shift();
    if (latency > this.options.replyTimeoutMs) {
      this.options.report(atMs, 'late-reply', `${kind} answer complete ${latency} ms after the request (timeout ${this.options.replyTimeoutMs} ms)`, frame.id);
    }
    if (kind === 'equipment') this.cellCount = set.state.pack?.cellCount ?? null;
    else this.checkSet(set.state, atMs);
  }

  /** Past the timeout: a set stuck half way is a violation; requests nobody answered are counted. */
  tick(atMs: number): void {
    const timeout = this.options.replyTimeoutMs;
    for (const [kind, k] of this.kinds) {
      if (k.current !== null && atMs - Math.max(k.current.requestAtMs, k.current.lastFrameAtMs) > timeout) {
        this.reportMissing(kind, k.current, atMs);
        k.current = null;
      }
      if (k.current === null && k.waiting.length > 0 && atMs - k.waiting[0] > timeout) {
        this.unansweredCount += 1;
        k.lapsedAtMs = k.waiting[0];
        k.waiting = [];
      }
    }
  }

  /** The inverter was deaf (off the bus, adapter down): what was open is nobody's fault. */
  resync(): void {
    for (const k of this.kinds.values()) {
      k.waiting = [];
      k.lapsedAtMs = null;
      k.lastRequestAtMs = null;
      k.lastRequestReused = false;
      k.current = null;
    }
  }

  private kind(kind: SetKind): KindState {
    const k = this.kinds.get(kind);
    if (k === undefined) throw new Error(`no ${kind} state`);
    return k;
  }

  private expected(kind: SetKind): number[] {
    const a = this.options.variant.address;
    return (kind === 'ensemble' ? PYLON_HV_ENSEMBLE_IDS : PYLON_HV_EQUIPMENT_IDS).map((id) => id + a);
  }

  private reportMissing(kind: SetKind, set: AnswerSet, atMs: number): void {
    const missing = this.expected(kind).filter((id) => !set.seen.has(id));
    this.options.report(
      atMs,
      'missing-reply',
      `${kind} answer incomplete: ${missing.map((id) => `0x${formatCanId({ id, ext: true })}`).join(' ')} missing`,
    );
  }

  /** One complete ensemble set: ranges, frames against each other, and against the battery. */
  private checkSet(s: BatteryStatePatch, atMs: number): void {
    const report = this.options.report;
    const max = s.cells?.maxCellMv;
    const min = s.cells?.minCellMv;
    if (max === undefined || min === undefined) return;
    for (const [what, mv] of [
      ['max', max],
      ['min', min],
    ] as const) {
      if (mv < CELL_RANGE_MV[0] || mv > CELL_RANGE_MV[1]) report(atMs, 'cell-range', `${what} cell ${mv} mV is no lithium cell (0x4230; byte order or offset mis-set?)`, 0x4230);
    }
    if (min > max) report(atMs, 'inconsistent-frames', `0x4230 min cell ${min} mV above max cell ${max} mV`, 0x4230);
    const v = s.voltageV;
    if (v !== undefined && this.cellCount !== null && this.cellCount > 0) {
      const low = (min * this.cellCount) / 1000 - PACK_TOLERANCE_V;
      const high = (max * this.cellCount) / 1000 + PACK_TOLERANCE_V;
      if (v < low || v > high) {
        report(atMs, 'inconsistent-frames', `0x4210 pack ${v} V but ${this.cellCount} cells of ${min}-${max} mV (0x7320, 0x4230) allow ${low.toFixed(1)}-${high.toFixed(1)} V`, 0x4210);
      }
    }
    const samples = this.truth;
    if (samples.length > 0 && !samples.some((t) => Math.abs(t.maxCellMv - max) <= TRUTH_TOLERANCE_MV && Math.abs(t.minCellMv - min) <= TRUTH_TOLERANCE_MV)) {
      const newest = samples[samples.length - 1];
      report(atMs, 'truth-mismatch', `0x4230 cells ${min}-${max} mV, but the battery showed ${newest.minCellMv}-${newest.maxCellMv} mV (and nothing close recently)`, 0x4230);
    }
  }
}
