/**
 * The JK protection model: each protection watches one measurement, trips after its JK delay,
 * turns the charge and/or discharge MOSFET off and raises its 0x8B alarm bit (spec §2.9), and
 * releases at its JK recovery value. Pure state machine advanced by dt, so "trips after 5 s"
 * is tested on a simulated clock.
 *
 * JK semantics followed here:
 * - The trip condition must hold without a break for the delay (0x92/0x95/0x98/0x9A);
 *   a single sample back inside the limit restarts the delay.
 * - Release is by value (0x91/0x94 cell recovery, 0x9F/0xA1/0xA6/0xA8 temperature recovery),
 *   except OCP: once the MOSFET is off the current is zero, so OCP releases after a time
 *   (profile.protection.ocpReleaseS; the PB series exposes the same as "OCP recovery time").
 * - Settings without a JK recovery register use documented derivations (see each rule).
 */
import { JkAlarmBit, type JkAlarmName, type JkSettings } from '../../bridge/src/protocol/jk/snapshot';
import type { BatteryProfile } from './profile';

/** What the BMS measures (after any fault overrides), in the snapshot's units. */
export interface Measurement {
  cellsMv: number[];
  packMv: number;
  /** + = charging. */
  currentMa: number;
  mosfetC: number;
  t1C: number;
  t2C: number;
  socPct: number;
}

export type ProtectionName =
  | 'cellOvp'
  | 'cellUvp'
  | 'packOvp'
  | 'packUvp'
  | 'chargeOcp'
  | 'dischargeOcp'
  | 'mosfetOtp'
  | 'boxOtp'
  | 'chargeOtp'
  | 'dischargeOtp'
  | 'chargeUtp'
  | 'dischargeUtp'
  | 'cellDiff'
  | 'lowCapacity';

type Limits = BatteryProfile['protection'];

interface Rule {
  name: ProtectionName;
  alarm: JkAlarmName;
  /** Which MOSFET the protection opens; neither = alarm/warning only. */
  blocksCharge: boolean;
  blocksDischarge: boolean;
  delayMs(s: JkSettings, limits: Limits): number;
  trips(m: Measurement, s: JkSettings): boolean;
  /** heldMs = time since the trip. */
  releases(m: Measurement, s: JkSettings, heldMs: number, limits: Limits): boolean;
}

const maxCell = (m: Measurement): number => Math.max(...m.cellsMv);
const minCell = (m: Measurement): number => Math.min(...m.cellsMv);
const hottest = (m: Measurement): number => Math.max(m.t1C, m.t2C);
const coldest = (m: Measurement): number => Math.min(m.t1C, m.t2C);
const seconds = (s: number): number => s * 1000;

export const RULES: readonly Rule[] = [
  {
    name: 'cellOvp', alarm: 'cellOverVoltage', blocksCharge: true, blocksDischarge: false,
    delayMs: (s) => seconds(s.cellOvpDelayS),
    trips: (m, s) => maxCell(m) >= s.cellOvpMv,
    releases: (m, s) => maxCell(m) <= s.cellOvpRecoveryMv,
  },
  {
    name: 'cellUvp', alarm: 'cellUnderVoltage', blocksCharge: false, blocksDischarge: true,
    delayMs: (s) => seconds(s.cellUvpDelayS),
    trips: (m, s) => minCell(m) <= s.cellUvpMv,
    releases: (m, s) => minCell(m) >= s.cellUvpRecoveryMv,
  },
  // Pack OVP/UVP (0x8E/0x8F) have no delay or recovery register: they use the cell delays and
  // release after the cell hysteresis times the cell count.
  {
    name: 'packOvp', alarm: 'chargeOverVoltage', blocksCharge: true, blocksDischarge: false,
    delayMs: (s) => seconds(s.cellOvpDelayS),
    trips: (m, s) => m.packMv >= s.packOvpMv,
    releases: (m, s) => m.packMv <= s.packOvpMv - m.cellsMv.length * (s.cellOvpMv - s.cellOvpRecoveryMv),
  },
  {
    name: 'packUvp', alarm: 'dischargeUnderVoltage', blocksCharge: false, blocksDischarge: true,
    delayMs: (s) => seconds(s.cellUvpDelayS),
    trips: (m, s) => m.packMv <= s.packUvpMv,
    releases: (m, s) => m.packMv >= s.packUvpMv + m.cellsMv.length * (s.cellUvpRecoveryMv - s.cellUvpMv),
  },
  {
    name: 'chargeOcp', alarm: 'chargeOverCurrent', blocksCharge: true, blocksDischarge: false,
    delayMs: (s) => seconds(s.chargeOcpDelayS),
    trips: (m, s) => m.currentMa > s.chargeOcpA * 1000,
    releases: (_m, _s, heldMs, limits) => heldMs >= seconds(limits.ocpReleaseS),
  },
  {
    name: 'dischargeOcp', alarm: 'dischargeOverCurrent', blocksCharge: false, blocksDischarge: true,
    delayMs: (s) => seconds(s.dischargeOcpDelayS),
    trips: (m, s) => -m.currentMa > s.dischargeOcpA * 1000,
    releases: (_m, _s, heldMs, limits) => heldMs >= seconds(limits.ocpReleaseS),
  },
  {
    name: 'mosfetOtp', alarm: 'mosfetOverTemperature', blocksCharge: true, blocksDischarge: true,
    delayMs: (_s, limits) => seconds(limits.temperatureDelayS),
    trips: (m, s) => m.mosfetC >= s.mosfetOtpC,
    releases: (m, s) => m.mosfetC <= s.mosfetOtpRecoveryC,
  },
  {
    name: 'boxOtp', alarm: 'boxOverTemperature', blocksCharge: true, blocksDischarge: true,
    delayMs: (_s, limits) => seconds(limits.temperatureDelayS),
    trips: (m, s) => m.t1C >= s.boxOtpC,
    releases: (m, s) => m.t1C <= s.boxOtpRecoveryC,
  },
  {
    name: 'chargeOtp', alarm: 'batteryOverTemperature', blocksCharge: true, blocksDischarge: false,
    delayMs: (_s, limits) => seconds(limits.temperatureDelayS),
    trips: (m, s) => hottest(m) >= s.chargeOtpC,
    releases: (m, s, _h, limits) => hottest(m) <= s.chargeOtpC - limits.otpHysteresisC,
  },
  {
    name: 'dischargeOtp', alarm: 'batteryOverTemperature', blocksCharge: false, blocksDischarge: true,
    delayMs: (_s, limits) => seconds(limits.temperatureDelayS),
    trips: (m, s) => hottest(m) >= s.dischargeOtpC,
    releases: (m, s, _h, limits) => hottest(m) <= s.dischargeOtpC - limits.otpHysteresisC,
  },
  {
    name: 'chargeUtp', alarm: 'batteryLowTemperature', blocksCharge: true, blocksDischarge: false,
    delayMs: (_s, limits) => seconds(limits.temperatureDelayS),
    trips: (m, s) => coldest(m) <= s.chargeUtpC,
    releases: (m, s) => coldest(m) >= s.chargeUtpRecoveryC,
  },
  {
    name: 'dischargeUtp', alarm: 'batteryLowTemperature', blocksCharge: false, blocksDischarge: true,
    delayMs: (_s, limits) => seconds(limits.temperatureDelayS),
    trips: (m, s) => coldest(m) <= s.dischargeUtpC,
    releases: (m, s) => coldest(m) >= s.dischargeUtpRecoveryC,
  },
  // 0x96 "cell voltage-difference protection" raises bit 7; a JK-B keeps both MOSFETs on for it
  // (the balancer is the remedy). 0 disables it.
  {
    name: 'cellDiff', alarm: 'cellVoltageDifference', blocksCharge: false, blocksDischarge: false,
    delayMs: () => 0,
    trips: (m, s) => s.cellDiffProtectionMv > 0 && maxCell(m) - minCell(m) >= s.cellDiffProtectionMv,
    releases: (m, s) => maxCell(m) - minCell(m) < s.cellDiffProtectionMv,
  },
  // Bit 0 is a warning only (§2.9): SoC below 0xB1.
  {
    name: 'lowCapacity', alarm: 'lowCapacity', blocksCharge: false, blocksDischarge: false,
    delayMs: () => 0,
    trips: (m, s) => m.socPct < s.lowCapacityAlarmPct,
    releases: (m, s) => m.socPct >= s.lowCapacityAlarmPct,
  },
];

interface RuleState {
  /** Time the trip condition has held without a break; null = not holding. */
  pendingMs: number | null;
  /** Time since the trip; null = not tripped. */
  trippedMs: number | null;
}

export class ProtectionModel {
  private readonly states = new Map<ProtectionName, RuleState>(RULES.map((r) => [r.name, { pendingMs: null, trippedMs: null }]));

  constructor(private readonly limits: Limits) {}

  /** Feeds one measurement taken dtMs after the previous one. */
  step(dtMs: number, m: Measurement, settings: JkSettings): void {
    for (const rule of RULES) {
      const state = this.states.get(rule.name)!;
      if (state.trippedMs !== null) {
        state.trippedMs += dtMs;
        if (rule.releases(m, settings, state.trippedMs, this.limits)) state.trippedMs = null;
        continue;
      }
      if (!rule.trips(m, settings)) {
        state.pendingMs = null;
        continue;
      }
      // The first sample that shows the condition starts the delay.
      state.pendingMs = state.pendingMs === null ? 0 : state.pendingMs + dtMs;
      if (state.pendingMs >= rule.delayMs(settings, this.limits)) {
        state.pendingMs = null;
        state.trippedMs = 0;
      }
    }
  }

  /** Tripped protections, in rule order. */
  get active(): ProtectionName[] {
    return RULES.filter((r) => this.states.get(r.name)!.trippedMs !== null).map((r) => r.name);
  }

  isActive(name: ProtectionName): boolean {
    return this.states.get(name)!.trippedMs !== null;
  }

  get chargeAllowed(): boolean {
    return !RULES.some((r) => r.blocksCharge && this.isActive(r.name));
  }

  get dischargeAllowed(): boolean {
    return !RULES.some((r) => r.blocksDischarge && this.isActive(r.name));
  }

  /** The 0x8B bits raised by tripped protections. */
  get alarmBits(): number {
    return RULES.reduce((bits, r) => (this.isActive(r.name) ? bits | (1 << JkAlarmBit[r.alarm]) : bits), 0);
  }
}
