/**
 * The battery behind the virtual JK BMS: a series string of cells, each with its own capacity
 * and state of charge, an open-circuit-voltage curve for its chemistry and an internal
 * resistance; temperatures that follow I² heating; a passive balancer; and the BMS's own
 * coulomb counter (what 0x85 SoC reports, which drifts from the cells' real charge as on a JK).
 *
 * Pure: no timers and no I/O. The current comes from outside (+ = charging) and time advances
 * only through step(dtMs), so tests run it on a simulated clock.
 */
import type { BatteryProfile, Chemistry } from './profile';

/** [SoC %, open-circuit mV]. Outside 0..100 % the cell is over-charged or over-discharged and the
 * voltage runs away, which is what makes a JK cell OVP/UVP trip on a real pack. */
type OcvTable = ReadonlyArray<readonly [number, number]>;

export const OCV_TABLES: Record<Chemistry, OcvTable> = {
  // Rested LiFePO4: steep below 10 %, the long 3.25-3.35 V plateau, the knee above 95 %.
  lifepo4: [
    [-2, 2000], [0, 2500], [1, 2750], [3, 2950], [5, 3050], [10, 3180], [20, 3240], [30, 3270],
    [40, 3290], [50, 3300], [60, 3310], [70, 3330], [80, 3340], [90, 3350], [95, 3370], [98, 3400],
    [100, 3450], [101, 3650], [102, 4000],
  ],
  nmc: [
    [-2, 2700], [0, 3000], [5, 3300], [10, 3450], [20, 3550], [30, 3620], [40, 3680], [50, 3740],
    [60, 3820], [70, 3900], [80, 3990], [90, 4080], [100, 4180], [101, 4300], [102, 4450],
  ],
  lto: [
    [-2, 1500], [0, 1800], [10, 2150], [20, 2220], [50, 2300], [80, 2380], [90, 2450], [100, 2650],
    [101, 2800], [102, 3000],
  ],
};

/** Cells stop changing charge this far outside 0..100 % (the end of the OCV tables). */
const SOC_LIMIT_LOW = -2;
const SOC_LIMIT_HIGH = 102;

export function ocvMv(chemistry: Chemistry, socPct: number): number {
  const table = OCV_TABLES[chemistry];
  if (socPct <= table[0][0]) return table[0][1];
  for (let i = 1; i < table.length; i++) {
    const [s1, v1] = table[i];
    if (socPct <= s1) {
      const [s0, v0] = table[i - 1];
      return v0 + ((v1 - v0) * (socPct - s0)) / (s1 - s0);
    }
  }
  return table[table.length - 1][1];
}

/** Deterministic PRNG (mulberry32), so one profile seed always builds the same pack. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Cell {
  capacityAh: number;
  chargeAh: number;
  resistanceMohm: number;
  /** The balancer is bleeding this cell. */
  balancing: boolean;
}

export interface Temperatures {
  mosfetC: number;
  /** Sensor T1, "battery box" (0x81). */
  t1C: number;
  /** Sensor T2, "battery" (0x82). */
  t2C: number;
}

export interface BalancerSettings {
  enabled: boolean;
  startMv: number;
  triggerMv: number;
}

const MS_PER_HOUR = 3_600_000;

export class BatteryModel {
  readonly chemistry: Chemistry;
  readonly nominalAh: number;
  readonly cells: Cell[];
  /** Current through the pack during the last step, mA, + = charging. */
  currentMa = 0;
  temperatures: Temperatures;
  /** The BMS's coulomb counter (Ah left), the source of the reported SoC. */
  counterAh: number;
  /** Ah ever discharged: 0x89 total cycle capacity; 0x87 cycles = this / nominal. */
  dischargedAh = 0;
  /** Model time, for 0xB6 running time. */
  elapsedMs = 0;

  constructor(private readonly profile: BatteryProfile, initialSocPct = profile.initialSocPct) {
    this.chemistry = profile.chemistry;
    this.nominalAh = profile.capacityAh;
    const random = seededRandom(profile.seed);
    const spread = (): number => random() * 2 - 1;
    this.cells = Array.from({ length: profile.cells }, () => {
      const capacityAh = profile.capacityAh * (1 + (profile.capacitySpreadPct / 100) * spread());
      const socPct = clamp(initialSocPct + profile.socSpreadPct * spread(), 0, 100);
      return { capacityAh, chargeAh: (capacityAh * socPct) / 100, resistanceMohm: profile.internalResistanceMohm, balancing: false };
    });
    this.counterAh = (this.nominalAh * initialSocPct) / 100;
    const { ambientC } = profile.thermal;
    this.temperatures = { mosfetC: ambientC, t1C: ambientC, t2C: ambientC };
  }

  cellSocPct(index: number): number {
    const cell = this.cells[index];
    return (100 * cell.chargeAh) / cell.capacityAh;
  }

  /** Terminal voltage: OCV + I·R (charging lifts it, discharging sags it). mA × mΩ / 1000 = mV. */
  cellVoltagesMv(): number[] {
    return this.cells.map((cell, i) => ocvMv(this.chemistry, this.cellSocPct(i)) + (this.currentMa * cell.resistanceMohm) / 1000);
  }

  /** The pack's rested voltage: what it would show with no current (the DC bus splits by it). */
  openCircuitMv(): number {
    return this.cells.reduce((sum, _, i) => sum + ocvMv(this.chemistry, this.cellSocPct(i)), 0);
  }

  /** The series string's resistance, mΩ. */
  get resistanceMohm(): number {
    return this.cells.reduce((sum, cell) => sum + cell.resistanceMohm, 0);
  }

  /** SoC by coulomb counting against the nominal capacity, as the JK reports it. */
  get socPct(): number {
    return clamp((100 * this.counterAh) / this.nominalAh, 0, 100);
  }

  /** Sets every cell and the counter to one SoC (the "soc" command; a fresh, balanced pack). */
  setSocPct(socPct: number): void {
    for (const cell of this.cells) cell.chargeAh = (cell.capacityAh * socPct) / 100;
    this.counterAh = (this.nominalAh * socPct) / 100;
  }

  /**
   * Advances dtMs with `currentMa` flowing (already gated by the MOSFETs). The cells move by
   * coulomb counting, the sensors follow I² heating, and the balancer bleeds the high cells.
   */
  step(dtMs: number, currentMa: number, balancer: BalancerSettings): void {
    if (dtMs <= 0) return;
    this.currentMa = currentMa;
    this.elapsedMs += dtMs;
    const deltaAh = (currentMa * dtMs) / MS_PER_HOUR / 1000;
    for (const cell of this.cells) {
      const bleedAh = cell.balancing ? (this.profile.balanceCurrentMa * dtMs) / MS_PER_HOUR / 1000 : 0;
      cell.chargeAh = clamp(cell.chargeAh + deltaAh - bleedAh, (cell.capacityAh * SOC_LIMIT_LOW) / 100, (cell.capacityAh * SOC_LIMIT_HIGH) / 100);
    }
    this.counterAh = clamp(this.counterAh + deltaAh, 0, this.nominalAh);
    if (currentMa < 0) this.dischargedAh += -deltaAh;
    this.stepTemperatures(dtMs);
    this.updateBalancer(balancer);
  }

  private stepTemperatures(dtMs: number): void {
    const { ambientC, mosfetRiseCAt100A, cellRiseCAt100A, timeConstantS } = this.profile.thermal;
    const load = (this.currentMa / 100_000) ** 2;
    const follow = 1 - Math.exp(-dtMs / 1000 / timeConstantS);
    const t = this.temperatures;
    t.mosfetC += (ambientC + mosfetRiseCAt100A * load - t.mosfetC) * follow;
    t.t2C += (ambientC + cellRiseCAt100A * load - t.t2C) * follow;
    // The box sensor sits beside the cells, not on them: it sees half their rise.
    t.t1C += (ambientC + (cellRiseCAt100A / 2) * load - t.t1C) * follow;
  }

  /** Passive balancing: above the start voltage, bleed every cell that is `trigger` above the lowest. */
  private updateBalancer({ enabled, startMv, triggerMv }: BalancerSettings): void {
    const volts = this.cellVoltagesMv();
    const max = Math.max(...volts);
    const min = Math.min(...volts);
    const active = enabled && max >= startMv && max - min >= triggerMv;
    this.cells.forEach((cell, i) => (cell.balancing = active && volts[i] - min >= triggerMv));
  }

  get balancing(): boolean {
    return this.cells.some((cell) => cell.balancing);
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
