/**
 * Battery profiles: the data that makes one virtual JK BMS differ from another (cell count,
 * capacity, chemistry, spreads, thermal behaviour and the JK settings it reports in 0x8E-0xBA).
 * Profiles live as YAML in scenarios/profiles/ (ARCHITECTURE.md: "scenarios/ data: battery
 * profiles and fault timelines"); every key is optional except name and cells, the rest
 * defaults to a typical JK-B2A24S15P on 11.x firmware (values from the OpenDTU 16S capture,
 * vectors/jk-frames.json `4e57-resp-16s-opendtu-0`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { JkSettings } from '../../bridge/src/protocol/jk/snapshot';

export type Chemistry = 'lifepo4' | 'nmc' | 'lto';

/** 0xAF battery type (§2.5). */
export const BATTERY_TYPE: Record<Chemistry, number> = { lifepo4: 0, nmc: 1, lto: 2 };

export interface BatteryProfile {
  name: string;
  description: string;
  chemistry: Chemistry;
  /** 4..32: JK boards take 3..32 (0xA9), the issue asks for 4..32. */
  cells: number;
  /** Nominal capacity of every cell (the pack is a series string). */
  capacityAh: number;
  /** Each cell's real capacity is nominal × (1 ± up to this %), drawn from `seed`. */
  capacitySpreadPct: number;
  internalResistanceMohm: number;
  initialSocPct: number;
  /** Each cell's initial SoC is initialSocPct ± up to this many points. */
  socSpreadPct: number;
  /** Seed of the deterministic spread, so a profile always builds the same pack. */
  seed: number;
  thermal: {
    ambientC: number;
    /** Steady-state rise above ambient at a constant 100 A (I² heating). */
    mosfetRiseCAt100A: number;
    cellRiseCAt100A: number;
    /** First-order time constant of every sensor. */
    timeConstantS: number;
  };
  /** Bleed current of the passive balancer while a cell is above the others. */
  balanceCurrentMa: number;
  /** JK behaviour that has no 4E57 setting (§2.5 lists none for these). */
  protection: {
    /** Charge/discharge OCP auto-release: the current is 0 once the MOSFET is off, so it is time-based. */
    ocpReleaseS: number;
    /** Delay of the temperature protections (no JK register). */
    temperatureDelayS: number;
    /** Charge/discharge over-temperature (0xA3/0xA4) have no recovery register: release this far below. */
    otpHysteresisC: number;
  };
  settings: JkSettings;
  /**
   * The owner's cell limits for this pack: what the charge controller is set to, and what the
   * virtual inverter's judge holds the bridge to (invariants 1, 3, 4). A scenario declares them
   * here and gives the same numbers to the bridge; the judge never reads them from the bridge.
   */
  limits: CellLimits;
}

export interface CellLimits {
  /** No charging at or above this cell voltage (invariant 1). */
  chargeStopCellMv: number;
  /** No discharging at or below this cell voltage (invariant 3). */
  dischargeStopCellMv: number;
  /** The highest charge voltage per cell the inverter may be asked for (CVL maximum = cells ×, invariant 4). */
  maxChargeCellMv: number;
}

/**
 * Per chemistry, the limits most owners set: LiFePO4 as dbus-serialbattery ships them
 * (field-survey.md §2A: 3.45 V bulk, charge stop 3.5 V, discharge stop 2.8 V); NMC and LTO from
 * the usual cell datasheets (4.2 V / 2.8 V max, 2.7 V / 1.8 V), with the same margins.
 */
export const DEFAULT_CELL_LIMITS: Record<Chemistry, CellLimits> = {
  lifepo4: { chargeStopCellMv: 3500, dischargeStopCellMv: 2800, maxChargeCellMv: 3450 },
  nmc: { chargeStopCellMv: 4150, dischargeStopCellMv: 3200, maxChargeCellMv: 4100 },
  lto: { chargeStopCellMv: 2750, dischargeStopCellMv: 1900, maxChargeCellMv: 2700 },
};

const DEFAULT_SETTINGS_16S: JkSettings = {
  packOvpMv: 57_600,
  packUvpMv: 48_000,
  cellOvpMv: 3650,
  cellOvpRecoveryMv: 3400,
  cellOvpDelayS: 5,
  cellUvpMv: 2800,
  cellUvpRecoveryMv: 3000,
  cellUvpDelayS: 5,
  cellDiffProtectionMv: 300,
  dischargeOcpA: 200,
  dischargeOcpDelayS: 300,
  chargeOcpA: 150,
  chargeOcpDelayS: 30,
  balanceStartMv: 3400,
  balanceTriggerMv: 10,
  balancerEnabled: true,
  mosfetOtpC: 100,
  mosfetOtpRecoveryC: 80,
  boxOtpC: 70,
  boxOtpRecoveryC: 60,
  tempDiffProtectionC: 20,
  chargeOtpC: 55,
  dischargeOtpC: 65,
  chargeUtpC: 0,
  chargeUtpRecoveryC: 2,
  dischargeUtpC: -20,
  dischargeUtpRecoveryC: -10,
  cellCountSetting: 16,
  capacityAh: 280,
  chargeMosfetSwitch: true,
  dischargeMosfetSwitch: true,
  currentCalibrationMa: 1000,
  boardAddress: 1,
  batteryType: 0,
  sleepWaitS: 10,
  lowCapacityAlarmPct: 20,
  password: '123456',
  dedicatedCharger: false,
  deviceId: 'Input Us',
  manufactureDate: '2306',
  runtimeMinutes: 0,
  softwareVersion: '11.XW_S11.262H_',
  startCurrentCalibration: false,
  actualCapacityAh: 280,
  manufacturerId: 'Input UserdaJK_B2A24S15P',
};

const settingsSchema = z.strictObject({
  packOvpMv: z.int().min(1000).max(150_000),
  packUvpMv: z.int().min(1000).max(150_000),
  cellOvpMv: z.int().min(1000).max(4500),
  cellOvpRecoveryMv: z.int().min(1000).max(4500),
  cellOvpDelayS: z.int().min(1).max(60),
  cellUvpMv: z.int().min(1000).max(4500),
  cellUvpRecoveryMv: z.int().min(1000).max(4500),
  cellUvpDelayS: z.int().min(1).max(60),
  cellDiffProtectionMv: z.int().min(0).max(1000),
  dischargeOcpA: z.int().min(1).max(1000),
  dischargeOcpDelayS: z.int().min(1).max(3600),
  chargeOcpA: z.int().min(1).max(1000),
  chargeOcpDelayS: z.int().min(1).max(3600),
  balanceStartMv: z.int().min(2000).max(4500),
  balanceTriggerMv: z.int().min(10).max(1000),
  balancerEnabled: z.boolean(),
  mosfetOtpC: z.int().min(0).max(100),
  mosfetOtpRecoveryC: z.int().min(0).max(100),
  boxOtpC: z.int().min(40).max(100),
  boxOtpRecoveryC: z.int().min(40).max(100),
  tempDiffProtectionC: z.int().min(5).max(20),
  chargeOtpC: z.int().min(0).max(100),
  dischargeOtpC: z.int().min(0).max(100),
  chargeUtpC: z.int().min(-45).max(25),
  chargeUtpRecoveryC: z.int().min(-45).max(25),
  dischargeUtpC: z.int().min(-45).max(25),
  dischargeUtpRecoveryC: z.int().min(-45).max(25),
  chargeMosfetSwitch: z.boolean(),
  dischargeMosfetSwitch: z.boolean(),
  currentCalibrationMa: z.int().min(100).max(20_000),
  boardAddress: z.int().min(0).max(255),
  sleepWaitS: z.int().min(0).max(65_535),
  lowCapacityAlarmPct: z.int().min(0).max(80),
  password: z.string().max(10),
  dedicatedCharger: z.boolean(),
  deviceId: z.string().max(8),
  manufactureDate: z.string().regex(/^\d{4}$/, 'expected "YYMM"'),
  runtimeMinutes: z.int().min(0),
  softwareVersion: z.string().max(15),
  startCurrentCalibration: z.boolean(),
  manufacturerId: z.string().max(24),
});

// cellCountSetting (0xA9), capacityAh (0xAA), actualCapacityAh (0xB9) and batteryType (0xAF)
// follow from cells/capacityAh/chemistry so a profile cannot contradict itself.
const profileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  chemistry: z.enum(['lifepo4', 'nmc', 'lto']).default('lifepo4'),
  cells: z.int().min(4).max(32),
  capacityAh: z.number().positive().max(100_000).default(280),
  capacitySpreadPct: z.number().min(0).max(20).default(1),
  internalResistanceMohm: z.number().min(0).max(1000).default(0.25),
  initialSocPct: z.number().min(0).max(100).default(50),
  socSpreadPct: z.number().min(0).max(20).default(0.5),
  seed: z.int().default(1),
  thermal: z
    .strictObject({
      ambientC: z.number().min(-40).max(80).default(25),
      mosfetRiseCAt100A: z.number().min(0).max(200).default(15),
      cellRiseCAt100A: z.number().min(0).max(100).default(5),
      timeConstantS: z.number().positive().default(300),
    })
    .prefault({}),
  balanceCurrentMa: z.int().min(0).max(10_000).default(60),
  protection: z
    .strictObject({
      ocpReleaseS: z.number().positive().default(60),
      temperatureDelayS: z.number().min(0).default(5),
      otpHysteresisC: z.number().positive().default(5),
    })
    .prefault({}),
  settings: settingsSchema.partial().default({}),
  limits: z
    .strictObject({
      chargeStopCellMv: z.int().min(1000).max(5000),
      dischargeStopCellMv: z.int().min(1000).max(5000),
      maxChargeCellMv: z.int().min(1000).max(5000),
    })
    .partial()
    .default({}),
});

export type ProfileInput = z.input<typeof profileSchema>;

/** Builds a complete profile from partial data; pack limits default to cells × cell limits. */
export function makeProfile(input: ProfileInput, source = 'profile'): BatteryProfile {
  const result = profileSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new Error(`${source}: invalid battery profile\n${lines.join('\n')}`);
  }
  const p = result.data;
  const given = p.settings;
  const cellOvpMv = given.cellOvpMv ?? DEFAULT_SETTINGS_16S.cellOvpMv;
  const cellUvpMv = given.cellUvpMv ?? DEFAULT_SETTINGS_16S.cellUvpMv;
  const settings: JkSettings = {
    ...DEFAULT_SETTINGS_16S,
    // Just above the cell limit, so the cell protection (the one a JK user tunes) acts first.
    packOvpMv: roundTo10(p.cells * (cellOvpMv + 10)),
    packUvpMv: roundTo10(p.cells * (cellUvpMv - 10)),
    ...given,
    cellCountSetting: p.cells,
    capacityAh: Math.round(p.capacityAh),
    actualCapacityAh: Math.round(p.capacityAh),
    batteryType: BATTERY_TYPE[p.chemistry],
  };
  const check = (ok: boolean, message: string): void => {
    if (!ok) throw new Error(`${source}: invalid battery profile\n  settings: ${message}`);
  };
  check(settings.cellOvpRecoveryMv < settings.cellOvpMv, 'cellOvpRecoveryMv must be below cellOvpMv');
  check(settings.cellUvpRecoveryMv > settings.cellUvpMv, 'cellUvpRecoveryMv must be above cellUvpMv');
  check(settings.mosfetOtpRecoveryC <= settings.mosfetOtpC, 'mosfetOtpRecoveryC must not be above mosfetOtpC');
  check(settings.boxOtpRecoveryC <= settings.boxOtpC, 'boxOtpRecoveryC must not be above boxOtpC');
  check(settings.chargeUtpRecoveryC >= settings.chargeUtpC, 'chargeUtpRecoveryC must not be below chargeUtpC');
  check(settings.dischargeUtpRecoveryC >= settings.dischargeUtpC, 'dischargeUtpRecoveryC must not be below dischargeUtpC');
  const limits: CellLimits = { ...DEFAULT_CELL_LIMITS[p.chemistry], ...p.limits };
  if (!(limits.dischargeStopCellMv < limits.maxChargeCellMv && limits.maxChargeCellMv < limits.chargeStopCellMv)) {
    throw new Error(`${source}: invalid battery profile\n  limits: expected dischargeStopCellMv < maxChargeCellMv < chargeStopCellMv`);
  }
  check(settings.packOvpMv % 10 === 0 && settings.packUvpMv % 10 === 0, 'packOvpMv/packUvpMv are sent in 10 mV steps (§2.5 0x8E/0x8F)');
  return { ...p, settings, limits };
}

function roundTo10(mv: number): number {
  return Math.round(mv / 10) * 10;
}

/** The same profile with another cell count; pack limits scale with it. */
export function withCellCount(profile: BatteryProfile, cells: number): BatteryProfile {
  if (!Number.isInteger(cells) || cells < 4 || cells > 32) throw new Error(`cell count ${cells} is out of range (4 to 32)`);
  const scale = (mv: number): number => roundTo10((mv * cells) / profile.cells);
  return {
    ...profile,
    cells,
    settings: { ...profile.settings, cellCountSetting: cells, packOvpMv: scale(profile.settings.packOvpMv), packUvpMv: scale(profile.settings.packUvpMv) },
  };
}

/** scenarios/profiles, found from both the sources (sim-bms/src) and the build (dist/sim-bms/src). */
const ROOT = path.resolve(__dirname, '../..');
export const PROFILE_DIR = path.join(path.basename(ROOT) === 'dist' ? path.dirname(ROOT) : ROOT, 'scenarios', 'profiles');

/** Loads a profile by name (scenarios/profiles/<name>.yaml) or by file path. */
export function loadProfile(nameOrPath: string): BatteryProfile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml');
  const file = isPath ? nameOrPath : path.join(PROFILE_DIR, `${nameOrPath}.yaml`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const known = isPath ? '' : ` (known profiles: ${listProfiles().join(', ')})`;
    throw new Error(`${file}: cannot read battery profile: ${(err as Error).message}${known}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  return makeProfile(doc as ProfileInput, file);
}

export function listProfiles(): string[] {
  try {
    return fs
      .readdirSync(PROFILE_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''))
      .sort();
  } catch {
    return [];
  }
}

/** The same profile with another capacity (0xAA and 0xB9 follow), e.g. one pack of a mixed bank. */
export function withCapacity(profile: BatteryProfile, capacityAh: number): BatteryProfile {
  if (!(capacityAh > 0)) throw new Error(`capacity ${capacityAh} Ah must be positive`);
  return { ...profile, capacityAh, settings: { ...profile.settings, capacityAh: Math.round(capacityAh), actualCapacityAh: Math.round(capacityAh) } };
}
