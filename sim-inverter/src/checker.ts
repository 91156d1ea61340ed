/**
 * The virtual inverter's judge: decodes every frame the bridge sends with the bridge's own
 * codecs (pinned by the golden vectors), checks it against the spec and the profile, checks the
 * five safety invariants of ARCHITECTURE.md against the true state of the virtual battery, and
 * records every frame and every violation with its time, so a scenario can assert "no
 * violation" and "CCL reached 0 within N ms of event X" (MODELS.md §7 lesson 12: a recording
 * tester with expect-style queries, like cantools' Tester).
 *
 * Pure: the caller feeds frames and ticks time (atMs on the same clock as BatteryTruth.atMs).
 */
import { formatCanId, type CanFrame } from '../../bridge/src/protocol/can/frame';
import { PROFILES, createPylonHvCodec, type BatteryStatePatch, type CanDecodeResult, type ProfileCodec } from '../../bridge/src/protocol/can';
import { ListenerSet } from '../../bridge/src/transport/listeners';
import type { Unsubscribe } from '../../bridge/src/transport/types';
import { HvReplyTracker } from './hv-replies';
import { PLAUSIBLE_PACK_VOLTAGE_V, PLAUSIBLE_TEMPERATURE_C, type CodecName, type InverterProfile } from './profiles';

/** One reply of the virtual BMS: when it was served and what it showed. */
export interface ServedTruth {
  atMs: number;
  maxCellMv: number;
  minCellMv: number;
  packMv: number;
  /** When the pack holding each extreme served it (a bank's packs answer at different times). */
  maxCellAtMs?: number;
  minCellAtMs?: number;
}

/** What the virtual battery measures at this moment. */
export interface MeasuredTruth {
  maxCellMv: number;
  minCellMv: number;
  packMv: number;
}

/**
 * The virtual battery as the judge sees it. Freshness is not "the BMS said something": it is the
 * newest reply a correct bridge may accept (intact, within the reply timeout, plausible); a
 * corrupted, truncated, late or wrong-cell-count reply is no data, however recent.
 */
export interface BatteryTruth {
  lastAccepted(): ServedTruth | null;
  measured(): MeasuredTruth | null;
}

/**
 * What the bridge is judged by. Every value comes from what the scenario declares (the battery
 * profile's cell limits, the inverter profile's frame period, the poll interval and stale timeout
 * it gives the bridge) and from the protocol documents (the JK reply time), never from the
 * bridge's own config loader or policy: the judge is independent of the judged.
 */
export interface CheckerThresholds {
  /** The inverter profile's frame-set period; invariant 5 allows 1.5 ×. */
  framePeriodMs: number;
  /** The battery's highest charge voltage (cells × per-cell maximum, invariant 4). */
  maxChargeVoltageV: number;
  /** Invariant 1: a cell at or above this must bring CCL to 0 within the reaction bound. */
  chargeStopCellMv: number;
  /** Invariant 3: a cell at or below this must bring DCL to 0 within the reaction bound. */
  dischargeStopCellMv: number;
  /**
   * The reaction bound of invariants 1 and 3 is pollIntervalMs + replyTimeMs + processingMarginMs
   * from the moment the BMS measures the cell: the next poll, the BMS's answer, then the decrease
   * goes out at once (ARCHITECTURE.md bus table), no frame period in between.
   */
  pollIntervalMs: number;
  /** A JK's reply time (jk-serial-protocol.md §2.10: latency plus the frame's wire time). */
  replyTimeMs: number;
  processingMarginMs: number;
  /** Invariant 2: limits must be 0 once the newest acceptable data is older than staleAfterMs + one period. */
  staleAfterMs: number;
}

/** The reaction bound of invariants 1 and 3 (see CheckerThresholds). */
export function reactionBoundMs(t: CheckerThresholds): number {
  return t.pollIntervalMs + t.replyTimeMs + t.processingMarginMs;
}

export interface CheckerOptions {
  profile: InverterProfile;
  /** Decode with another codec than the profile's (e.g. the silent profile on a Victron bus). */
  codec?: CodecName;
  thresholds: CheckerThresholds;
  /** Without it, invariants 1-3 are not checked (there is nothing to check them against). */
  truth?: BatteryTruth;
  /** Keep at most this many frame records (oldest dropped); default: all. */
  maxFrames?: number;
}

export const VIOLATION_RULES = [
  // Invariant 1-3 (ARCHITECTURE.md "Safety invariants").
  'charge-at-charge-stop',
  'limits-with-stale-data',
  'discharge-at-discharge-stop',
  // Invariant 4.
  'cvl-zero',
  'cvl-above-max',
  'ccl-negative',
  'dcl-negative',
  'soc-range',
  // SMA uses HiResSOC instead of SOC when present (§5.2): the two must agree.
  'soc-mismatch',
  // Invariant 5, and an id of the frame set that never came.
  'period',
  'missing-id',
  // Frame format (spec §1: 11-bit ids, DLC ≥ last used byte) and codec verdicts.
  'extended-id',
  'dlc',
  'bad-value',
  // Profile rules.
  'forbidden-id',
  'unexpected-id',
  'min-interval',
  'cvl-window',
  'dvl-window',
  // Sofar ignores a 0 A limit and keeps its last non-zero one (spec §10.5).
  'zero-ignored',
  // Plausibility (spec §3.3 item 2).
  'soh-range',
  'voltage-range',
  'temperature-range',
  // Pylon HV request/response (spec §7, hv-replies.ts).
  'missing-reply',
  'late-reply',
  'unsolicited-reply',
  'cell-range',
  'inconsistent-frames',
  'truth-mismatch',
] as const;
export type ViolationRule = (typeof VIOLATION_RULES)[number];

export interface Violation {
  atMs: number;
  rule: ViolationRule;
  id?: number;
  detail: string;
}

export interface FrameRecord {
  atMs: number;
  frame: CanFrame;
  /** The codec's verdict; null for frames the codec is not asked about (extended or forbidden ids). */
  decoded: CanDecodeResult | null;
}

/** The patch of a record that decoded cleanly, for predicates ("CCL reached 0"). */
export function patchOf(record: FrameRecord): BatteryStatePatch | undefined {
  return record.decoded?.ok === true ? record.decoded.patch : undefined;
}

/** SOC travels in whole percent; a HiResSOC within 1 % of it is the same reading. */
const SOC_RESOLUTION_PCT = 1;

/** CVL travels in 0.1 V steps; a configured maximum that is not a multiple rounds either way. */
const CVL_RESOLUTION_V = 0.05;

export class Checker {
  readonly codec: ProfileCodec;
  private readonly profile: InverterProfile;
  private readonly thresholds: CheckerThresholds;
  private readonly truth: BatteryTruth | undefined;
  private readonly maxFrames: number;
  private readonly frameIds: ReadonlySet<number>;
  private readonly records: FrameRecord[] = [];
  private readonly found: Violation[] = [];
  private readonly listeners = new ListenerSet<[Violation]>();
  /** Pylon HV only: answers judged per request instead of a period. */
  readonly replies: HvReplyTracker | null;

  // Invariant 5 bookkeeping: when each id of the frame set was last seen, when the current
  // stretch of uninterrupted transmission began, and which overdue ids were already reported.
  private readonly lastSeen = new Map<number, number>();
  private lastAnyMs: number | null = null;
  /** When the newest burst of frames (one frame set, its frames a few ms apart) began. */
  private burstStartMs = 0;
  private activeSinceMs = 0;
  private readonly reportedOverdue = new Set<number>();
  /** The scenario stopped the bridge on purpose: no timing judgement until resync(). */
  private timingSuspended = false;
  // What the newest frames declare: a system error (the fault state) and zero limits. Only then
  // may the whole set pause (fault silence, ARCHITECTURE.md bus table).
  private systemErrorDeclared = false;
  private limitsZero = false;

  // A limit the inverter keeps when told 0 A (Sofar): the last non-zero one, per direction.
  private readonly lastNonZeroA = { CCL: 0, DCL: 0 };

  // Invariants 1 and 3: since when the cell is past a stop threshold.
  private readonly highCell = new ReactionClock();
  private readonly lowCell = new ReactionClock();

  constructor(options: CheckerOptions) {
    this.profile = options.profile;
    const hv = options.profile.pylonHv;
    const codecName = options.codec ?? options.profile.codec;
    // The inverter reads HV with its own variant setting, not the bridge's (a mis-set bridge must show).
    this.codec = codecName === 'pylon-hv' && hv !== null ? createPylonHvCodec(hv.variant) : PROFILES[codecName];
    this.thresholds = options.thresholds;
    this.truth = options.truth;
    this.maxFrames = options.maxFrames ?? Number.POSITIVE_INFINITY;
    // A request/response codec has no period: its answers are judged against the requests.
    this.frameIds = new Set(this.codec.requestResponse ? [] : this.codec.frameIds);
    this.replies =
      this.codec.requestResponse && hv !== null
        ? new HvReplyTracker({ variant: hv.variant, replyTimeoutMs: hv.replyTimeoutMs, report: (atMs, rule, detail, id) => this.report(atMs, rule, detail, id) })
        : null;
  }

  /** Every recorded frame, oldest first. */
  get frames(): readonly FrameRecord[] {
    return this.records;
  }

  /** Every violation, oldest first. */
  get violations(): readonly Violation[] {
    return this.found;
  }

  onViolation(listener: (violation: Violation) => void): Unsubscribe {
    return this.listeners.add(listener);
  }

  /** When an id of the frame set was last received. */
  lastSeenMs(id: number): number | undefined {
    return this.lastSeen.get(id);
  }

  /** Forgets recorded frames and violations; timing state is kept so checks stay honest. */
  clear(): void {
    this.records.length = 0;
    this.found.length = 0;
  }

  /** The first recorded frame at or after sinceMs that matches. */
  firstFrameAfter(sinceMs: number, predicate: (record: FrameRecord) => boolean): FrameRecord | undefined {
    return this.records.find((r) => r.atMs >= sinceMs && predicate(r));
  }

  /** Milliseconds from sinceMs to the first matching frame at or after it; undefined = none yet. */
  timeUntil(predicate: (record: FrameRecord) => boolean, sinceMs: number): number | undefined {
    const record = this.firstFrameAfter(sinceMs, predicate);
    return record === undefined ? undefined : record.atMs - sinceMs;
  }

  /** Checks a received frame and records it. */
  feed(frame: CanFrame, atMs: number): FrameRecord {
    this.sampleTruth(atMs);
    this.checkTiming(atMs);
    const decoded = this.classify(frame, atMs);
    const record: FrameRecord = { atMs, frame, decoded };
    this.records.push(record);
    if (this.records.length > this.maxFrames) this.records.shift();
    if (decoded?.ok === true) this.checkPatch(decoded.patch, frame, atMs);
    this.replies?.onReply(frame, decoded?.ok === true ? decoded.patch : undefined, atMs);
    return record;
  }

  /** A frame the inverter itself sent (Pylon HV: a request opens the wait for its answer). */
  noteSent(frame: CanFrame, atMs: number): void {
    this.replies?.noteSent(frame, atMs);
  }

  /** Lets time pass without a frame: periods and missing ids are judged here too. */
  tick(atMs: number): void {
    this.sampleTruth(atMs);
    this.checkTiming(atMs);
    this.replies?.tick(atMs);
  }

  /**
   * The inverter could not hear the bus until now (off the bus, adapter bus-off or unplugged), or
   * the scenario stopped the bridge on purpose and starts it again: the gap is not the bridge's,
   * so timing starts afresh with the next frame.
   */
  resync(): void {
    this.lastAnyMs = null;
    this.timingSuspended = false;
    this.reportedOverdue.clear();
    this.replies?.resync();
  }

  /**
   * The scenario is about to stop, kill or freeze the bridge: the pause that follows is its
   * doing, not the bridge's. Frames are still recorded and checked; timing resumes at resync().
   */
  suspendTiming(): void {
    this.timingSuspended = true;
  }

  /** Whether the newest frames declare the fault state: system error alarm and CCL = DCL = 0. */
  get faultDeclared(): boolean {
    return this.systemErrorDeclared && this.limitsZero;
  }

  private report(atMs: number, rule: ViolationRule, detail: string, id?: number): void {
    const violation: Violation = id === undefined ? { atMs, rule, detail } : { atMs, rule, id, detail };
    this.found.push(violation);
    this.listeners.emit(violation);
  }

  /** Id-level rules, timing bookkeeping, then the codec; returns the codec's verdict. */
  private classify(frame: CanFrame, atMs: number): CanDecodeResult | null {
    const name = formatCanId(frame);
    if (frame.ext === true && this.codec.requestResponse !== true) {
      // §1: the whole family is 11-bit; §6.1: "Extended frames (29-bit) seem to get ignored by Venus OS".
      this.report(atMs, 'extended-id', `29-bit id ${name}: the 0x35x family uses 11-bit ids (spec §1)`, frame.id);
      return null;
    }
    if (this.profile.forbiddenIds.includes(frame.id)) {
      this.report(atMs, 'forbidden-id', `0x${name} must not be sent to a ${this.profile.name} inverter`, frame.id);
      return null;
    }
    if (this.profile.allowedIds !== null && !this.profile.allowedIds.includes(frame.id)) {
      this.report(atMs, 'unexpected-id', `0x${name} is not an id a ${this.profile.name} inverter allows (spec §5.1)`, frame.id);
    }
    if (this.frameIds.has(frame.id)) this.noteSeen(frame.id, atMs);

    const decoded = this.codec.decode(frame);
    if (!decoded.ok && decoded.code === 'UNKNOWN_ID' && this.codec.requestResponse === true) {
      this.report(atMs, 'unexpected-id', `${frame.ext === true ? '' : '11-bit '}0x${name}: ${decoded.detail}`, frame.id);
    }
    if (!decoded.ok && decoded.code === 'BAD_DLC') this.report(atMs, 'dlc', `0x${name}: ${decoded.detail}`, frame.id);
    if (!decoded.ok && decoded.code === 'BAD_VALUE') this.report(atMs, 'bad-value', `0x${name}: ${decoded.detail}`, frame.id);
    return decoded;
  }

  private noteSeen(id: number, atMs: number): void {
    if (this.lastAnyMs === null || this.timingSuspended || this.inFaultSilence(atMs)) {
      // The first frame, the first after a pause the scenario caused, or the first after fault
      // silence: a new stretch of transmission starts.
      this.activeSinceMs = atMs;
      this.reportedOverdue.clear();
    } else {
      // A pause of the whole set in any other state (connected, stale, fault still transmitting)
      // is a period violation of every id, reported by checkTiming or here when it ends.
      this.reportOverdue(atMs);
    }
    if (this.lastAnyMs === null || atMs - this.lastAnyMs > this.thresholds.framePeriodMs / 2) this.burstStartMs = atMs;
    this.lastAnyMs = atMs;
    const previous = this.lastSeen.get(id);
    const minInterval = this.profile.minIntervalMs;
    if (minInterval !== null && previous !== undefined && atMs - previous < minInterval) {
      this.report(
        atMs,
        'min-interval',
        `0x${formatCanId({ id })} again after ${atMs - previous} ms (inhibit time ${minInterval} ms, spec §5.1)`,
        id,
      );
    }
    this.lastSeen.set(id, atMs);
    this.reportedOverdue.delete(id);
  }

  private periodBoundMs(): number {
    return 1.5 * this.thresholds.framePeriodMs;
  }

  /**
   * Invariant 5: from the first frame on, each id of the set repeats within 1.5 periods, in
   * every state (connected, stale, fault: the full set, not one frame). The only pause allowed is
   * fault silence: the newest frames declared the fault (system error, zero limits).
   */
  private checkTiming(atMs: number): void {
    if (this.lastAnyMs === null || this.timingSuspended || this.inFaultSilence(atMs)) return;
    this.reportOverdue(atMs);
  }

  /**
   * The newest frame set declared the fault and the bound has passed since it began: the bridge
   * may have gone silent right after it. Measured from the start of that set, not its last
   * frame, so a set whose frames trickled out over a loaded pty does not make its first ids late.
   */
  private inFaultSilence(atMs: number): boolean {
    return this.faultDeclared && atMs - this.burstStartMs > this.periodBoundMs();
  }

  /** Reports each id of the set not seen within the bound, once per overdue stretch. */
  private reportOverdue(atMs: number): void {
    const bound = this.periodBoundMs();
    for (const id of this.frameIds) {
      if (this.reportedOverdue.has(id)) continue;
      const seen = this.lastSeen.get(id);
      const since = Math.max(seen ?? Number.NEGATIVE_INFINITY, this.activeSinceMs);
      if (atMs - since <= bound) continue;
      this.reportedOverdue.add(id);
      const name = `0x${formatCanId({ id })}`;
      if (seen !== undefined && seen >= this.activeSinceMs) {
        this.report(atMs, 'period', `${name} not seen for ${atMs - seen} ms (bound ${bound} ms = 1.5 × ${this.thresholds.framePeriodMs})`, id);
      } else {
        this.report(atMs, 'missing-id', `${name} of the ${this.codec.name} frame set not sent in ${atMs - this.activeSinceMs} ms of transmission`, id);
      }
    }
  }

  private sampleTruth(atMs: number): void {
    if (this.truth === undefined) return;
    const measured = this.truth.measured();
    const accepted = this.truth.lastAccepted();
    if (accepted !== null) this.replies?.noteTruth(accepted);
    const t = this.thresholds;
    const high = accepted !== null && accepted.maxCellMv >= t.chargeStopCellMv;
    const low = accepted !== null && accepted.minCellMv <= t.dischargeStopCellMv;
    // A bank's packs answer at different times: the extreme's own pack's time counts.
    this.highCell.sample(atMs, measured !== null && measured.maxCellMv >= t.chargeStopCellMv, high ? (accepted.maxCellAtMs ?? accepted.atMs) : null);
    this.lowCell.sample(atMs, measured !== null && measured.minCellMv <= t.dischargeStopCellMv, low ? (accepted.minCellAtMs ?? accepted.atMs) : null);
  }

  private checkPatch(patch: BatteryStatePatch, frame: CanFrame, atMs: number): void {
    const id = frame.id;
    const t = this.thresholds;
    const p = this.profile;
    const cvl = patch.chargeVoltageV;
    if (cvl !== undefined) {
      if (cvl === 0) {
        this.report(atMs, 'cvl-zero', 'CVL 0 V: Victron discharges at full power, Deye raises W31 (spec §10.4)', id);
      } else {
        if (cvl > t.maxChargeVoltageV + CVL_RESOLUTION_V) {
          this.report(atMs, 'cvl-above-max', `CVL ${fmt(cvl)} V above the battery's maximum ${fmt(t.maxChargeVoltageV)} V`, id);
        }
        if (cvl < p.cvlWindowV[0] || cvl > p.cvlWindowV[1]) {
          this.report(atMs, 'cvl-window', `CVL ${fmt(cvl)} V outside ${p.name}'s ${p.cvlWindowV[0]}-${p.cvlWindowV[1]} V`, id);
        }
      }
    }
    const dvl = patch.dischargeVoltageV;
    if (dvl !== undefined && p.dvlWindowV !== null && (dvl < p.dvlWindowV[0] || dvl > p.dvlWindowV[1])) {
      this.report(atMs, 'dvl-window', `DVL ${fmt(dvl)} V outside ${p.name}'s ${p.dvlWindowV[0]}-${p.dvlWindowV[1]} V`, id);
    }
    const ccl = patch.chargeCurrentLimitA;
    const dcl = patch.dischargeCurrentLimitA;
    for (const [name, value] of [['CCL', ccl], ['DCL', dcl]] as const) {
      if (value === undefined || !p.zeroIgnored) continue;
      // Kept at a stop value (0.1 A), it stays stopped: only a real limit kept is a hazard.
      if (value === 0 && this.lastNonZeroA[name] > p.stopCurrentA) {
        this.report(atMs, 'zero-ignored', `${name} 0 A: a ${p.name} inverter ignores 0 A and keeps ${fmt(this.lastNonZeroA[name])} A (spec §10.5: send ${p.stopCurrentA} A)`, id);
      }
      if (value > 0) this.lastNonZeroA[name] = value;
    }
    // A limit at or below the profile's stop current is a stop (Sofar: 0.1 A, §10.5).
    if (ccl !== undefined || dcl !== undefined) this.limitsZero = (ccl ?? 0) <= p.stopCurrentA && (dcl ?? 0) <= p.stopCurrentA;
    // Pylon byte 1 bit 3 decodes as systemError; SMA and Victron carry it in the General pair.
    if (patch.alarms !== undefined) this.systemErrorDeclared = patch.alarms.systemError === true || patch.alarms.general === true;
    if (ccl !== undefined && ccl < 0) this.report(atMs, 'ccl-negative', `CCL ${fmt(ccl)} A`, id);
    if (dcl !== undefined && dcl < 0) this.report(atMs, 'dcl-negative', `DCL ${fmt(dcl)} A: inverters ignore or misread it (spec §10.8)`, id);
    for (const [what, value] of [
      ['SOC', patch.socPct],
      ['hi-res SOC', patch.socHiResPct ?? undefined],
    ] as const) {
      if (value !== undefined && (value < 0 || value > 100)) this.report(atMs, 'soc-range', `${what} ${value} % outside 0-100`, id);
    }
    const hiRes = patch.socHiResPct;
    if (p.usesHiResSoc && hiRes != null && patch.socPct !== undefined && Math.abs(hiRes - patch.socPct) >= SOC_RESOLUTION_PCT) {
      this.report(atMs, 'soc-mismatch', `HiResSOC ${hiRes} % but SOC ${patch.socPct} %: ${p.name} uses HiResSOC when present (spec §5.2)`, id);
    }
    if (patch.sohPct !== undefined && (patch.sohPct < 0 || patch.sohPct > 100)) {
      this.report(atMs, 'soh-range', `SOH ${patch.sohPct} % outside 0-100`, id);
    }
    const v = patch.voltageV;
    const window = p.packVoltageWindowV ?? PLAUSIBLE_PACK_VOLTAGE_V;
    if (v !== undefined && (v < window[0] || v > window[1])) {
      this.report(atMs, 'voltage-range', `pack voltage ${fmt(v)} V outside ${p.name}'s ${window[0]}-${window[1]} V (spec §3.3, §7, §10.3)`, id);
    }
    const temp = patch.temperatureC;
    if (temp !== undefined && (temp < PLAUSIBLE_TEMPERATURE_C[0] || temp > PLAUSIBLE_TEMPERATURE_C[1])) {
      this.report(atMs, 'temperature-range', `temperature ${fmt(temp)} °C is implausible`, id);
    }
    this.checkInvariants(ccl, dcl, id, atMs);
  }

  /** Invariants 1-3 against the virtual battery's truth. */
  private checkInvariants(ccl: number | undefined, dcl: number | undefined, id: number, atMs: number): void {
    if (this.truth === undefined || (ccl === undefined && dcl === undefined)) return;
    const t = this.thresholds;
    // A limit at or below the profile's stop current stops that direction (Sofar: 0.1 A, §10.5).
    const stopA = this.profile.stopCurrentA;
    const chargeAllowed = ccl !== undefined && ccl > stopA;
    const dischargeAllowed = dcl !== undefined && dcl > stopA;
    if (!chargeAllowed && !dischargeAllowed) return;

    const accepted = this.truth.lastAccepted();
    const ageMs = accepted === null ? null : atMs - accepted.atMs;
    if (ageMs === null || ageMs > t.staleAfterMs + t.framePeriodMs) {
      const age = ageMs === null ? 'the BMS has given no acceptable reply' : `the newest acceptable BMS reply is ${ageMs} ms old`;
      this.report(atMs, 'limits-with-stale-data', `CCL ${fmt(ccl ?? 0)} A / DCL ${fmt(dcl ?? 0)} A while ${age} (bound ${t.staleAfterMs} + ${t.framePeriodMs} ms)`, id);
    }
    const bound = reactionBoundMs(t);
    const lagMs = t.pollIntervalMs + t.replyTimeMs;
    const highSince = this.highCell.since(lagMs);
    if (chargeAllowed && highSince !== null && atMs - highSince > bound) {
      this.report(
        atMs,
        'charge-at-charge-stop',
        `CCL ${fmt(ccl)} A ${atMs - highSince} ms after a cell reached ${accepted?.maxCellMv} mV ≥ ${t.chargeStopCellMv} mV (bound ${bound} ms)`,
        id,
      );
    }
    // ARCHITECTURE.md states invariant 3 without a bound; the bridge learns of the cell by the
    // same poll as for invariant 1, so the same reaction bound applies.
    const lowSince = this.lowCell.since(lagMs);
    if (dischargeAllowed && lowSince !== null && atMs - lowSince > bound) {
      this.report(
        atMs,
        'discharge-at-discharge-stop',
        `DCL ${fmt(dcl)} A ${atMs - lowSince} ms after a cell fell to ${accepted?.minCellMv} mV ≤ ${t.dischargeStopCellMv} mV (bound ${bound} ms)`,
        id,
      );
    }
  }
}

/**
 * When the reaction clock of invariant 1 or 3 started. It runs only while the newest acceptable
 * reply shows the cell past the threshold ("the newest BMS data shows", ARCHITECTURE.md), and it
 * starts when the BMS first measured it, but never earlier than one poll and one reply before
 * that acceptable reply was served: if the replies in between were bad, a correct bridge could
 * not have known sooner.
 */
class ReactionClock {
  private measuredSinceMs: number | null = null;
  private acceptedSinceMs: number | null = null;

  /** acceptedAtMs: when the newest acceptable reply showing the cell past the threshold was served; null = it does not. */
  sample(atMs: number, measuredPast: boolean, acceptedAtMs: number | null): void {
    this.measuredSinceMs = measuredPast ? (this.measuredSinceMs ?? atMs) : null;
    this.acceptedSinceMs = acceptedAtMs === null ? null : (this.acceptedSinceMs ?? acceptedAtMs);
  }

  since(lagMs: number): number | null {
    if (this.acceptedSinceMs === null) return null;
    return Math.max(this.measuredSinceMs ?? Number.NEGATIVE_INFINITY, this.acceptedSinceMs - lagMs);
  }
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0$/, '');
}
