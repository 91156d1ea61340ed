/**
 * Several virtual JK packs in parallel on one DC bus (issue 12): the inverter's current splits
 * between them as it does between real packs, each pack behind its own BMS and its own link.
 *
 * Each pack is a voltage source (its open-circuit voltage) behind a resistance (its cells plus its
 * cable): I_i = (V − OCV_i) / R_i on the common bus voltage V. An open charge MOSFET blocks current
 * into its pack (its body diode still lets discharge through), an open discharge MOSFET blocks
 * current out of it, both open disconnect it. So packs at different SoC exchange current with no
 * inverter current at all, a stiffer pack takes more of a step, and a pack whose BMS opened its
 * MOSFET carries none while the others take the whole current.
 */
import { systemClock, type Clock } from '../../bridge/src/clock';
import type { VirtualBms } from './virtual-bms';

export interface BusPack {
  ocvMv: number;
  /** Pack plus cable, mΩ (> 0). */
  resistanceMohm: number;
  chargeMosfetOn: boolean;
  dischargeMosfetOn: boolean;
}

export interface BusSplit {
  busMv: number;
  /** Per pack, + = charging that pack. */
  currentsMa: number[];
}

/** Current of one pack at bus voltage busMv, gated by its MOSFETs. mV / mΩ = A; × 1000 = mA. */
function packCurrentMa(p: BusPack, busMv: number): number {
  const ma = ((busMv - p.ocvMv) / p.resistanceMohm) * 1000;
  if (ma > 0 && !p.chargeMosfetOn) return 0;
  if (ma < 0 && !p.dischargeMosfetOn) return 0;
  return ma;
}

/**
 * The bus voltage at which the packs together take totalMa (+ = the inverter charges), and each
 * pack's current. The sum is monotonic in the bus voltage, so bisection finds it; when no pack can
 * take the current (every MOSFET of that direction open) the packs carry what they can: nothing.
 */
export function splitCurrent(packs: readonly BusPack[], totalMa: number): BusSplit {
  if (packs.length === 0) return { busMv: 0, currentsMa: [] };
  const ocvs = packs.map((p) => p.ocvMv);
  const maxR = Math.max(...packs.map((p) => p.resistanceMohm));
  // Wide enough that one pack alone could carry the whole current plus any exchange.
  const reach = (Math.abs(totalMa) / 1000) * maxR + (Math.max(...ocvs) - Math.min(...ocvs)) + 1;
  let low = Math.min(...ocvs) - reach;
  let high = Math.max(...ocvs) + reach;
  const sum = (v: number): number => packs.reduce((s, p) => s + packCurrentMa(p, v), 0);
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (sum(mid) < totalMa) low = mid;
    else high = mid;
  }
  const busMv = (low + high) / 2;
  return { busMv, currentsMa: packs.map((p) => packCurrentMa(p, busMv)) };
}

export interface DcBusOptions {
  clock?: Clock;
  /** How often the split is computed anew (the packs' SoC and MOSFETs move). Default 100 ms. */
  stepMs?: number;
  /** Each pack's cable and busbar resistance, mΩ. Default 3. */
  cableMohm?: number;
}

/** The bus: the inverter's current sink for a bank of virtual packs. */
export class DcBus {
  readonly cableMohm: number;
  private totalMa = 0;
  private timer: unknown = null;
  private readonly clock: Clock;
  private readonly stepMs: number;
  /** The last split, for the views. */
  last: BusSplit = { busMv: 0, currentsMa: [] };

  constructor(
    readonly packs: readonly VirtualBms[],
    opts: DcBusOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.stepMs = opts.stepMs ?? 100;
    this.cableMohm = opts.cableMohm ?? 3;
    this.split();
  }

  /** The inverter's current into the bus, + = charging (the virtual inverter's CurrentSink). */
  setCurrentA(amps: number): void {
    if (!Number.isFinite(amps)) throw new RangeError(`current ${amps} A is not a number`);
    this.totalMa = amps * 1000;
    this.split();
  }

  get currentA(): number {
    return this.totalMa / 1000;
  }

  start(): void {
    if (this.timer !== null) return;
    const tick = (): void => {
      this.split();
      this.timer = this.clock.setTimeout(tick, this.stepMs);
    };
    this.timer = this.clock.setTimeout(tick, this.stepMs);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Brings every pack up to now with its old current, then gives each its new share. */
  split(): void {
    for (const pack of this.packs) pack.catchUp();
    this.last = splitCurrent(
      this.packs.map((pack) => ({
        ocvMv: pack.battery.openCircuitMv(),
        resistanceMohm: pack.battery.resistanceMohm + this.cableMohm,
        chargeMosfetOn: pack.chargeMosfetOn,
        dischargeMosfetOn: pack.dischargeMosfetOn,
      })),
      this.totalMa,
    );
    this.packs.forEach((pack, i) => pack.setCurrentA(this.last.currentsMa[i] / 1000));
  }
}
