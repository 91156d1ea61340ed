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
 * Timing faults (silent, late, link drop) are read by VirtualBms when it schedules a reply.
 */
import { JkAlarmBit, type BmsSnapshot, type JkAlarmName } from '../../bridge/src/protocol/jk/snapshot';
import type { Measurement } from './protection';

export const TEMP_SENSORS = ['mosfet', 't1', 't2'] as const;
export type TempSensor = (typeof TEMP_SENSORS)[number];

export const ALARM_NAMES = Object.keys(JkAlarmBit) as JkAlarmName[];

/** Reply bytes after the wire faults; `intact` = a valid frame is inside. */
export interface WireReply {
  bytes: Uint8Array;
  intact: boolean;
}

export class FaultState {
  /** No replies until this clock time; Infinity = until told ("silent" without a duration). */
  silentUntilMs: number | null = null;
  /** Fixed reply delay replacing the normal 0.2-5 ms (§2.10 allows up to 5 s). */
  lateMs: number | null = null;
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
      // Extra cells repeat the last one: plausible voltages, only the count is wrong.
      const cellsMv = Array.from({ length: this.wrongCellCount }, (_, i) => cells[Math.min(i, cells.length - 1)]);
      out = { ...out, cellsMv };
    }
    return out;
  }

  /** Applies (and uses up) the one-shot wire faults to an encoded reply. */
  applyToWire(frame: Uint8Array, random: () => number): WireReply {
    let bytes = frame;
    let intact = true;
    if (this.badChecksumReplies > 0) {
      this.badChecksumReplies -= 1;
      bytes = Uint8Array.from(bytes);
      bytes[bytes.length - 1] ^= 0x5a; // low byte of sum16 (§2.1)
      intact = false;
    }
    if (this.truncatedReplies > 0) {
      this.truncatedReplies -= 1;
      bytes = bytes.slice(0, Math.floor(bytes.length / 2));
      intact = false;
    }
    if (this.garbageBytes > 0) {
      const junk = garbage(this.garbageBytes, random);
      this.garbageBytes = 0;
      const joined = new Uint8Array(junk.length + bytes.length);
      joined.set(junk, 0);
      joined.set(bytes, junk.length);
      bytes = joined;
    }
    return { bytes, intact };
  }

  clearAll(): void {
    this.silentUntilMs = null;
    this.lateMs = null;
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
    if (this.lateMs !== null) out.push(`late ${this.lateMs} ms`);
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
