/**
 * Cell chemistries: the voltage points of the charge policy for each one, and how the chemistry is
 * read from the JK's own protection settings.
 *
 * Presets. LiFePO4 is dbus-serialbattery's default set (field-survey.md §2A). NMC and LTO keep the
 * same shape (bulk, float, stop points and a cell-voltage table ending at the stop point) around
 * the "full at rest" and maximum cell voltages YamBMS uses for each chemistry (§2B: Li-ion 3.90 /
 * 4.20 V, LTO 2.55 / 2.85 V); fittedPreset moves them inside the BMS's own OVP/UVP (real NMC
 * captures set OVP 4.05, 4.15 and 4.20 V), so a stock BMS setting never contradicts a preset.
 *
 * Inference. The JK 0xAF battery type is unreliable on real units (issue 11), so the chemistry is
 * read from the cell OVP (0x90) and UVP (0x93) a user has set: each chemistry's usable window is far
 * from the others' (LTO tops out near 2.85 V, LiFePO4 near 3.65 V, NMC near 4.2 V), and a BMS whose
 * settings fit none of them is refused rather than guessed.
 */
import type { JkSettings } from '../protocol/jk/snapshot';

export const CHEMISTRIES = ['lifepo4', 'nmc', 'lto'] as const;
export type Chemistry = (typeof CHEMISTRIES)[number];

export type TablePoint = [number, number];

/** The chemistry-dependent points of the policy, per cell. */
export interface ChemistryPoints {
  chargeStopCellMv: number;
  dischargeStopCellMv: number;
  bulkCellMv: number;
  floatCellMv: number;
  cvlFloorCellMv: number;
  socResetCellMv: number;
  chargeVsMaxCellMv: TablePoint[];
  dischargeVsMinCellMv: TablePoint[];
}

export interface ChemistryPreset extends ChemistryPoints {
  name: Chemistry;
  /** Nominal cell voltage (YamBMS §2B), for energy (Goodwe module count). */
  nominalCellMv: number;
  /** JK cell OVP / UVP settings that identify this chemistry (inclusive). */
  ovpRangeMv: readonly [number, number];
  uvpRangeMv: readonly [number, number];
}

/**
 * A preset charge stop sits at least this far below the BMS cell OVP, and a preset discharge stop
 * at least UVP_MARGIN_MV above its UVP, so the bridge stops the inverter before the BMS opens a
 * MOSFET. dbus-serialbattery advises 0.05-0.10 V between the top charge voltage and OVP (§2A);
 * with bulk 50 mV below the charge stop, bulk ends up 100 mV below OVP.
 */
export const OVP_MARGIN_MV = 50;
export const UVP_MARGIN_MV = 100;

export const CHEMISTRY_PRESETS: Readonly<Record<Chemistry, ChemistryPreset>> = {
  lifepo4: {
    name: 'lifepo4',
    nominalCellMv: 3200,
    ovpRangeMv: [3400, 3800],
    uvpRangeMv: [2000, 3200],
    chargeStopCellMv: 3500,
    dischargeStopCellMv: 2800,
    bulkCellMv: 3450,
    floatCellMv: 3375,
    cvlFloorCellMv: 2900,
    socResetCellMv: 3650,
    chargeVsMaxCellMv: [[3500, 0], [3450, 0.005], [3425, 0.05], [3400, 0.25], [3375, 1]],
    dischargeVsMinCellMv: [[2800, 0], [2900, 0.005], [3000, 0.05], [3100, 0.25], [3190, 1]],
  },
  nmc: {
    name: 'nmc',
    nominalCellMv: 3600,
    ovpRangeMv: [3950, 4350],
    uvpRangeMv: [2500, 3600],
    chargeStopCellMv: 4150,
    dischargeStopCellMv: 3200,
    bulkCellMv: 4100,
    floatCellMv: 4000,
    cvlFloorCellMv: 3500,
    socResetCellMv: 4120,
    chargeVsMaxCellMv: [[4150, 0], [4100, 0.005], [4075, 0.05], [4050, 0.25], [4000, 1]],
    dischargeVsMinCellMv: [[3200, 0], [3250, 0.005], [3300, 0.05], [3350, 0.25], [3450, 1]],
  },
  lto: {
    name: 'lto',
    nominalCellMv: 2400,
    ovpRangeMv: [2500, 3000],
    uvpRangeMv: [1200, 2200],
    chargeStopCellMv: 2750,
    dischargeStopCellMv: 1900,
    bulkCellMv: 2700,
    floatCellMv: 2600,
    cvlFloorCellMv: 2300,
    socResetCellMv: 2720,
    chargeVsMaxCellMv: [[2750, 0], [2700, 0.005], [2675, 0.05], [2650, 0.25], [2600, 1]],
    dischargeVsMinCellMv: [[1900, 0], [1950, 0.005], [2000, 0.05], [2100, 0.25], [2200, 1]],
  },
};

/**
 * The preset fitted to the BMS's own window, so a stock JK setting never contradicts it:
 * - charge side: when the preset charge stop is not OVP_MARGIN_MV below the cell OVP, the charge
 *   stop, bulk, float, SoC-reset voltage and the charge table move down together by the shortfall
 *   (the taper keeps its shape under the top; a 14 S NMC pack with OVP 4.05 V charges to 3.95 V);
 * - discharge side: when the preset discharge stop is not UVP_MARGIN_MV above the cell UVP, the
 *   stop rises to it and the table starts there at 0, keeping its points above (the LiFePO4 knee
 *   stays where the cells have it: a JK with UVP 3.0 V stops discharge at 3.1 V, full current
 *   from 3.19 V, instead of 2.8 V where the BMS would already have cut off).
 */
export function fittedPreset(preset: ChemistryPoints, bms: Pick<JkSettings, 'cellOvpMv' | 'cellUvpMv'>): ChemistryPoints {
  const down = Math.min(0, bms.cellOvpMv - OVP_MARGIN_MV - preset.chargeStopCellMv);
  const dischargeStop = Math.max(preset.dischargeStopCellMv, bms.cellUvpMv + UVP_MARGIN_MV);
  const above = preset.dischargeVsMinCellMv.filter(([mv]) => mv > dischargeStop);
  return {
    ...preset,
    chargeStopCellMv: preset.chargeStopCellMv + down,
    bulkCellMv: preset.bulkCellMv + down,
    floatCellMv: preset.floatCellMv + down,
    socResetCellMv: preset.socResetCellMv + down,
    chargeVsMaxCellMv: preset.chargeVsMaxCellMv.map(([mv, f]): TablePoint => [mv + down, f]),
    dischargeStopCellMv: dischargeStop,
    dischargeVsMinCellMv:
      dischargeStop === preset.dischargeStopCellMv ? preset.dischargeVsMinCellMv : [[dischargeStop, 0], ...above],
  };
}

const BATTERY_TYPE_NAMES: Record<number, Chemistry> = { 0: 'lifepo4', 1: 'nmc', 2: 'lto' };

function fits(preset: ChemistryPreset, bms: Pick<JkSettings, 'cellOvpMv' | 'cellUvpMv'>): boolean {
  const [ovpLo, ovpHi] = preset.ovpRangeMv;
  const [uvpLo, uvpHi] = preset.uvpRangeMv;
  return bms.cellOvpMv >= ovpLo && bms.cellOvpMv <= ovpHi && bms.cellUvpMv >= uvpLo && bms.cellUvpMv <= uvpHi;
}

export type ChemistryInference = { ok: true; chemistry: Chemistry; reason: string } | { ok: false; problem: string };

function ranges(): string {
  return CHEMISTRIES.map((c) => {
    const p = CHEMISTRY_PRESETS[c];
    return `${c} OVP ${p.ovpRangeMv[0]}-${p.ovpRangeMv[1]} / UVP ${p.uvpRangeMv[0]}-${p.uvpRangeMv[1]}`;
  }).join(', ');
}

/**
 * The chemistry whose OVP/UVP window holds the BMS's settings, with the reason in words; the 0xAF
 * battery type is named when it disagrees, never trusted.
 */
export function inferChemistry(bms: Pick<JkSettings, 'cellOvpMv' | 'cellUvpMv' | 'batteryType'>): ChemistryInference {
  const settings = `bms.cellOvp ${bms.cellOvpMv} mV, bms.cellUvp ${bms.cellUvpMv} mV`;
  const match = CHEMISTRIES.find((c) => fits(CHEMISTRY_PRESETS[c], bms));
  if (match === undefined) {
    return { ok: false, problem: `battery.chemistry auto: ${settings} fit no chemistry (${ranges()} mV); set battery.chemistry` };
  }
  const typed = BATTERY_TYPE_NAMES[bms.batteryType];
  const note = typed === undefined || typed === match ? '' : ` (the BMS battery type 0xAF says ${typed}; it is unreliable and ignored)`;
  return { ok: true, chemistry: match, reason: `${settings} are ${match}'s${note}` };
}

/**
 * An explicit chemistry whose OVP/UVP window excludes the BMS settings while another chemistry's
 * holds them: the config and the BMS disagree about the cells. Settings that fit no chemistry are
 * not a contradiction (a user with unusual limits sets the chemistry for exactly that reason).
 */
export function chemistryMismatch(chemistry: Chemistry, bms: Pick<JkSettings, 'cellOvpMv' | 'cellUvpMv' | 'batteryType'>): string | null {
  if (fits(CHEMISTRY_PRESETS[chemistry], bms)) return null;
  const inferred = inferChemistry(bms);
  if (!inferred.ok) return null;
  return `battery.chemistry ${chemistry}, but bms.cellOvp ${bms.cellOvpMv} mV and bms.cellUvp ${bms.cellUvpMv} mV are ${inferred.chemistry}'s`;
}
