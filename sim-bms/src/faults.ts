/**
 * Fault injection state of the virtual JK BMS (ARCHITECTURE.md "The rig": go silent, answer
 * late, garbage, bad checksum, truncated frame, wrong cell count, frozen values, cell or
 * temperature overrides, alarm bits, link drop). Pure data plus the pure functions that apply
 * it at its three layers:
 *
 *   measurement  overrides (cell, temp): the BMS *measures* the value, so its protections act on it
 *   snapshot     wrong cell count, forced alarm bits, frozen values: what the BMS *reports*
 *   wire         garbage prefix, bad checksum, truncation: what reaches the bridge's framer
 *
 * Every reply a correct bridge must not use (bad checksum, truncated, wrong cell count, garbage,
 * and late replies when asked) carries the POISON values: a cell at 4.0 V and SoC 3 %, otherwise
 * plausible. A bridge that used such a reply would show them on the bus (SOC 3 %, CCL 0 for the
 * cell), so a scenario proves the reply was ignored, not merely survived.
 *
 * Timing faults (silent, late, link drop) are read by VirtualBms when it schedules a reply.
 */
import { JkAlarmBit, type BmsSnapshot, type JkAlarmName } from '../../bridge/src/protocol/jk/snapshot';
import type { Measurement } from './protection';

export const TEMP_SENSORS = ['mosfet', 't1', 't2'] as const;
export type TempSensor = (typeof TEMP_SENSORS)[number];

export const ALARM_NAMES = Object.keys(JkAlarmBit) as JkAlarmName[];

/** Reply bytes after the wire faults; `intact` = a valid frame is inside; `poisoned` = it carries POISON. */
export interface WireReply {
  bytes: Uint8Array;
  intact: boolean;
  poisoned: boolean;
}

/** The distinctive values of replies that must never be used (a cell, its voltage, the SoC). */
export interface Poison {
  cell: number;
  cellMv: number;
  socPct: number;
}

export const POISON: Poison = { cell: 1, cellMv: 4000, socPct: 3 };

/** The snapshot with the poison values; the pack voltage follows the cell, so Σ cells still matches. */
export function poisoned(snapshot: BmsSnapshot, poison: Poison = POISON): BmsSnapshot {
  const i = Math.min(poison.cell, snapshot.cellsMv.length) - 1;
  const cellsMv = snapshot.cellsMv.map((mv, j) => (j === i ? poison.cellMv : mv));
  return { ...snapshot, cellsMv, packMv: snapshot.packMv + poison.cellMv - snapshot.cellsMv[i], socPct: poison.socPct };
}

/** §2.1: the last two bytes are sum16 (BE) of everything from the STX to the 0x68 end byte. */
const SUM16_BYTES = 2;

export class FaultState {
  /** No replies until this clock time; Infinity = until told ("silent" without a duration). */
  silentUntilMs: number | null = null;
  /** Fixed reply delay replacing the normal 0.2-5 ms (§2.10 allows up to 5 s). */
  lateMs: number | null = null;
  /** Late replies carry POISON (for a delay past the bridge's reply timeout: they must not count). */
  latePoisoned = false;
  /** Junk bytes written right before the next reply (one shot). */
  garbageBytes = 0;
  /** The next N replies carry a wrong sum16. */
  badChecksumReplies = 0;
  /** The next N replies stop halfway. */
  truncatedReplies = 0;
  /** Cells in 0x79 while 0x8A/0xA9 keep the real count (§2.10 cross-check). */
  wrongCellCount: number | null = null;
  /** Reported values stuck at this snapshot (a hung measurement task). */
  frozen: BmsSnapshot | null = null;
  /** 1-based cell → mV. */
  readonly cellOverridesMv = new Map<number, number>();
  readonly tempOverridesC = new Map<TempSensor, number>();
  /** 0x8B bits OR-ed into every reply. */
  forcedAlarms = 0;
  /** The link is down until this clock time (drop-link). */
  linkDownUntilMs: number | null = null;

  isSilent(nowMs: number): boolean {
    if (this.silentUntilMs !== null && nowMs >= this.silentUntilMs) this.silentUntilMs = null;
    return this.silentUntilMs !== null;
  }

  /** The BMS measures the overridden values (so OVP trips on "cell 3 3650mV", as on a real pack). */
  applyToMeasurement(m: Measurement): Measurement {
    if (this.cellOverridesMv.size === 0 && this.tempOverridesC.size === 0) return m;
    const cellsMv = m.cellsMv.map((mv, i) => this.cellOverridesMv.get(i + 1) ?? mv);
    return {
      ...m,
      cellsMv,
      // The pack voltage is measured separately on a JK, but a cell override stands for a real
      // cell at that voltage, so the pack moves with it.
      packMv: m.packMv + cellsMv.reduce((sum, mv, i) => sum + mv - m.cellsMv[i], 0),
      mosfetC: this.tempOverridesC.get('mosfet') ?? m.mosfetC,
      t1C: this.tempOverridesC.get('t1') ?? m.t1C,
      t2C: this.tempOverridesC.get('t2') ?? m.t2C,
    };
  }

  /** What the BMS reports: the frozen snapshot (with the request's command echoed) or the live one. */
  applyToSnapshot(live: BmsSnapshot): BmsSnapshot {
    const base = this.frozen ? { ...this.frozen, command: live.command } : live;
    let out = base;
    if (this.forcedAlarms !== 0) out = { ...out, alarms: out.alarms | this.forcedAlarms };
    if (this.wrongCellCount !== null) {
      const cells = base.cellsMv;
      // Extra cells repeat the last one: plausible voltages, only the count is wrong, and the
      // reply carries the poison values (it must not be used).
      const cellsMv = Array.from({ length: this.wrongCellCount }, (_, i) => cells[Math.min(i, cells.length - 1)]);
      const packMv = cellsMv.reduce((sum, mv) => sum + mv, 0);
      out = poisoned({ ...out, cellsMv, packMv });
    }
    return out;
  }

  /**
   * Applies (and uses up) the one-shot wire faults to an encoded reply. poisonFrame is the same
   * reply encoded with the POISON values, which the spoiled replies carry:
   *   bad checksum  the poisoned payload under the checksum of the true one (line noise hit the
   *                 data, not just the checksum byte);
   *   truncated     the poisoned frame, cut halfway (cells and SoC are in the first half);
   *   garbage       junk, then the poisoned frame with its start hit ("4E 00"), then the reply.
   */
  applyToWire(frame: Uint8Array, poisonFrame: () => Uint8Array, random: () => number): WireReply {
    let bytes = frame;
    let intact = true;
    if (this.badChecksumReplies > 0) {
      this.badChecksumReplies -= 1;
      bytes = underTrueChecksum(poisonFrame(), frame);
      intact = false;
    }
    if (this.truncatedReplies > 0) {
      this.truncatedReplies -= 1;
      const whole = intact ? poisonFrame() : bytes;
      bytes = whole.slice(0, Math.floor(whole.length / 2));
      intact = false;
    }
    if (this.garbageBytes > 0) {
      const junk = garbage(this.garbageBytes, random);
      this.garbageBytes = 0;
      const hit = Uint8Array.from(poisonFrame());
      hit[1] = 0x00;
      bytes = concat(junk, hit, bytes);
    }
    return { bytes, intact, poisoned: !intact };
  }

  clearAll(): void {
    this.silentUntilMs = null;
    this.lateMs = null;
    this.latePoisoned = false;
    this.garbageBytes = 0;
    this.badChecksumReplies = 0;
    this.truncatedReplies = 0;
    this.wrongCellCount = null;
    this.frozen = null;
    this.cellOverridesMv.clear();
    this.tempOverridesC.clear();
    this.forcedAlarms = 0;
  }

  /** Short human descriptions of the active faults, for the live view and "status". */
  describe(nowMs: number): string[] {
    const out: string[] = [];
    if (this.linkDownUntilMs !== null && nowMs < this.linkDownUntilMs) out.push(`link down (${seconds(this.linkDownUntilMs - nowMs)} left)`);
    if (this.isSilent(nowMs)) out.push(this.silentUntilMs === Infinity ? 'silent' : `silent (${seconds(this.silentUntilMs! - nowMs)} left)`);
    if (this.lateMs !== null) out.push(`late ${this.lateMs} ms${this.latePoisoned ? ' (poisoned)' : ''}`);
    if (this.garbageBytes > 0) out.push(`garbage ${this.garbageBytes} B next`);
    if (this.badChecksumReplies > 0) out.push(`bad-checksum x${this.badChecksumReplies}`);
    if (this.truncatedReplies > 0) out.push(`truncate x${this.truncatedReplies}`);
    if (this.wrongCellCount !== null) out.push(`wrong-cells ${this.wrongCellCount}`);
    if (this.frozen) out.push('frozen');
    for (const [cell, mv] of this.cellOverridesMv) out.push(`cell ${cell}=${mv} mV`);
    for (const [sensor, c] of this.tempOverridesC) out.push(`${sensor}=${c} C`);
    if (this.forcedAlarms !== 0) out.push(`alarm ${alarmNames(this.forcedAlarms).join('+')}`);
    return out;
  }
}

/** The poisoned bytes with the true frame's sum16, which then cannot match them. */
function underTrueChecksum(poison: Uint8Array, truth: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(poison);
  if (bytes.length === truth.length) bytes.set(truth.subarray(truth.length - SUM16_BYTES), bytes.length - SUM16_BYTES);
  // Same sum by chance (or another length): spoil the low sum byte as well.
  if (bytes.length !== truth.length || sameSum(bytes, poison)) bytes[bytes.length - 1] ^= 0x5a;
  return bytes;
}

function sameSum(a: Uint8Array, b: Uint8Array): boolean {
  return a[a.length - 2] === b[b.length - 2] && a[a.length - 1] === b[b.length - 1];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Random junk without 0x4E, so the junk itself never looks like a 4E 57 start of frame. */
export function garbage(length: number, random: () => number): Uint8Array {
  return Uint8Array.from({ length }, () => {
    const byte = Math.floor(random() * 255);
    return byte >= 0x4e ? byte + 1 : byte;
  });
}

export function alarmNames(bits: number): JkAlarmName[] {
  return ALARM_NAMES.filter((name) => (bits & (1 << JkAlarmBit[name])) !== 0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
