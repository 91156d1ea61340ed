/**
 * The inverter's power stage as the battery sees it: a demand (solar surplus or a load, from a
 * scenario or a person) becomes a battery current that obeys what the bridge last sent, the way
 * the spec describes real inverters (shared/spec/inverter-can-protocols.md):
 *
 * - CCL/DCL are hard limits, applied at once (§3.3 item 4: charging needs the 0x35C charge bit
 *   and CCL > 0; discharging the discharge bit and DCL > 0);
 * - near CVL the charge current tapers (constant-voltage phase; §10.6: Deye regulates ~0.1 V
 *   below CVL), and with the pack above CVL the inverter discharges it down to CVL (§5.2 SMA,
 *   §10.6 Deye, §10.4 Victron with CVL 0 discharges at full power);
 * - force-charge requests make it charge from the grid (§3.2 0x35C bits 4/5, §6.2 0x360);
 * - below DVL it stops discharging (§5.2).
 *
 * Everything that is a regulation (demand, taper, discharge above CVL) moves at a bounded ramp
 * rate, as inverters do, which also keeps the closed loop with the battery's internal resistance
 * stable; everything that is a limit clamps the current in the same step.
 *
 * Pure: no timers, no I/O. The caller steps it with the elapsed time.
 */

/** Positive = surplus to put into the battery; negative = load to take from it. */
export type Demand = { unit: 'W'; watts: number } | { unit: 'A'; amps: number };

/** What the inverter currently believes from the bus; undefined = never received. */
export interface BatteryCommands {
  chargeVoltageV?: number;
  chargeCurrentLimitA?: number;
  dischargeCurrentLimitA?: number;
  dischargeVoltageV?: number;
  /** Absent on profiles without enable flags (SMA, Victron): treated as enabled. */
  chargeEnable?: boolean;
  dischargeEnable?: boolean;
  forceCharge?: boolean;
}

export interface ModelInputs {
  /** null: no usable limits (nothing received yet, or the inverter timed the battery out). */
  commands: BatteryCommands | null;
  /** The DC voltage the inverter measures at its terminals; null = unknown. */
  packVoltageV: number | null;
  /** Standby (SMA F952 / quick stop): no current at all. */
  standby: boolean;
}

export interface InverterModelOptions {
  /** The most the power stage can push or draw (A). */
  ratedCurrentA: number;
  /** Ramp rate of regulated current (A per second). */
  rampAPerS: number;
  /** Width of the constant-voltage taper below the charge set-point, and of the pull-down above CVL. */
  cvTaperV: number;
  /** Grid charge current on a force-charge request (still within CCL). */
  forceChargeA: number;
  aboveCvl: 'within-dcl' | 'ignore-dcl';
  chargeBelowCvlV: number;
  /** A 0 A limit is ignored and the last non-zero one kept (Sofar, §10.5). */
  zeroIgnored: boolean;
}

export const DEFAULT_MODEL_OPTIONS: InverterModelOptions = {
  ratedCurrentA: 100,
  rampAPerS: 50,
  cvTaperV: 1,
  forceChargeA: 10,
  aboveCvl: 'within-dcl',
  chargeBelowCvlV: 0,
  zeroIgnored: false,
};

/** Why the current is what it is; shown in the live view and asserted by tests. */
export type ModelReason =
  | 'demand'
  | 'ramp'
  | 'standby'
  | 'no-limits'
  | 'no-voltage'
  | 'force-charge'
  | 'cv-taper'
  | 'above-cvl'
  | 'ccl'
  | 'dcl'
  | 'charge-disabled'
  | 'discharge-disabled'
  | 'below-dvl'
  | 'rating';

export class InverterModel {
  readonly options: InverterModelOptions;
  private demandValue: Demand = { unit: 'A', amps: 0 };
  private current = 0;
  private why: ModelReason = 'no-limits';
  /** The limits last received above 0 A (zeroIgnored). */
  private lastNonZero = { ccl: 0, dcl: 0 };

  constructor(options: Partial<InverterModelOptions> = {}) {
    this.options = { ...DEFAULT_MODEL_OPTIONS, ...options };
  }

  get demand(): Demand {
    return this.demandValue;
  }

  setDemand(demand: Demand): void {
    this.demandValue = demand;
  }

  /** Battery current, + = charging (the rig's convention, same as 0x356). */
  get currentA(): number {
    return this.current;
  }

  get reason(): ModelReason {
    return this.why;
  }

  /** Advances the power stage by dtMs and returns the new battery current. */
  step(dtMs: number, inputs: ModelInputs): number {
    const { commands, packVoltageV: v, standby } = inputs;
    if (standby || commands === null) {
      this.current = 0;
      this.why = standby ? 'standby' : 'no-limits';
      return this.current;
    }
    const o = this.options;
    const cvl = commands.chargeVoltageV;
    const aboveCvl = v !== null && cvl !== undefined && v > cvl;

    // Soft target: what the inverter tries to reach by regulation.
    let target: number;
    let softReason: ModelReason = 'demand';
    if (this.demandValue.unit === 'A') target = this.demandValue.amps;
    else if (v !== null && v > 0) target = this.demandValue.watts / v;
    else {
      target = 0;
      softReason = 'no-voltage';
    }
    if (commands.forceCharge === true && target < o.forceChargeA) {
      target = o.forceChargeA;
      softReason = 'force-charge';
    }
    if (aboveCvl) {
      const pullDownA = -Math.min(o.ratedCurrentA, ((v - cvl) / o.cvTaperV) * o.ratedCurrentA);
      if (pullDownA < target) {
        target = pullDownA;
        softReason = 'above-cvl';
      }
    } else if (v !== null && cvl !== undefined && target > 0) {
      const setPoint = cvl - o.chargeBelowCvlV;
      const taperA = o.ratedCurrentA * clamp((setPoint - v) / o.cvTaperV, 0, 1);
      if (taperA < target) {
        target = taperA;
        softReason = 'cv-taper';
      }
    }

    // Hard limits: [low, high] with the reason each bound stands for.
    let high = o.ratedCurrentA;
    let highReason: ModelReason = 'rating';
    const cclA = this.obeyed('ccl', commands.chargeCurrentLimitA ?? 0);
    if (commands.chargeEnable === false) [high, highReason] = [0, 'charge-disabled'];
    else if (aboveCvl) [high, highReason] = [0, 'above-cvl'];
    else if (cclA < high) [high, highReason] = [Math.max(0, cclA), 'ccl'];

    let low = -o.ratedCurrentA;
    let lowReason: ModelReason = 'rating';
    const dvl = commands.dischargeVoltageV;
    const smaPullDown = aboveCvl && o.aboveCvl === 'ignore-dcl';
    if (!smaPullDown) {
      const dclA = this.obeyed('dcl', commands.dischargeCurrentLimitA ?? 0);
      if (commands.dischargeEnable === false) [low, lowReason] = [0, 'discharge-disabled'];
      else if (v !== null && dvl !== undefined && dvl > 0 && v <= dvl) [low, lowReason] = [0, 'below-dvl'];
      else if (-dclA > low) [low, lowReason] = [-Math.max(0, dclA), 'dcl'];
    }

    const maxStep = (o.rampAPerS * Math.max(0, dtMs)) / 1000;
    const ramped = this.current + clamp(target - this.current, -maxStep, maxStep);
    this.current = clamp(ramped, low, high);
    if (this.current === high && ramped >= high && high < target) this.why = highReason;
    else if (this.current === low && ramped <= low && low > target) this.why = lowReason;
    else this.why = ramped === target ? softReason : 'ramp';
    // -0 would print as "-0.0 A" and compare oddly in tests.
    if (this.current === 0) this.current = 0;
    return this.current;
  }

  /** The limit the power stage obeys: with zeroIgnored, a 0 A limit leaves the last non-zero one standing. */
  private obeyed(which: 'ccl' | 'dcl', amps: number): number {
    if (!this.options.zeroIgnored) return amps;
    if (amps > 0) this.lastNonZero[which] = amps;
    return amps === 0 ? this.lastNonZero[which] : amps;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
