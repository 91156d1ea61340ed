/**
 * Charge-control settings: one zod schema, every key defaulted, unknown keys rejected.
 *
 * Defaults are dbus-serialbattery's (field-survey.md §2A, "the sound default"); YamBMS (§2B)
 * supplies the BMS over-current cap and the discharge voltage limit. Units are in the key names:
 * CellMv = per cell, PackMv = whole pack, A, S (seconds), Pct.
 * Contradictions between keys (float above bulk, a reset voltage the charge table never reaches)
 * are the loader's cross-checks (config/cross-checks.ts), one line each.
 */
import { z } from 'zod';
import { CHEMISTRY_PRESETS, type ChemistryPoints, type TablePoint } from './chemistry';

/** Per-cell millivolts. Integer and bounded so that a value written in volts (3.45) is refused. */
const cellMv = z.number().int().min(1000).max(5000);
const seconds = z.number().min(0);
const amps = z.number().min(0);
const pct = z.number().min(0).max(100);
const positiveRate = z.number().positive();

const tablePoint = z.tuple([z.number(), z.number().min(0).max(1)]);

/** x must be strictly monotonic (either direction) so every x maps to exactly one segment. */
function checkMonotonic(points: readonly TablePoint[], ctx: z.RefinementCtx): void {
  if (points.length < 2) return;
  const direction = Math.sign(points[1][0] - points[0][0]);
  points.forEach((point, i) => {
    if (i > 0 && (direction === 0 || Math.sign(point[0] - points[i - 1][0]) !== direction)) {
      ctx.addIssue({
        code: 'custom',
        path: ['points', i, 0],
        message: 'table breakpoints must be strictly ascending or strictly descending',
      });
    }
  });
}

/**
 * A limit table whose points default to the given ones, so `{ mode: step }` alone switches a
 * default table to step mode, and `{ enabled: true }` alone turns on a default SoC table.
 */
function limitTable(defaultPoints: TablePoint[]) {
  return z
    .object({
      /** 'linear' interpolates between breakpoints; 'step' holds breakpoint values (see table.ts). */
      mode: z.enum(['linear', 'step']).default('linear'),
      /** [x, fraction of the configured maximum current]. */
      points: z
        .array(tablePoint)
        .min(1)
        .default(() => defaultPoints.map(([x, y]): TablePoint => [x, y])),
    })
    .strict()
    .superRefine((table, ctx) => checkMonotonic(table.points, ctx));
}

/** A cell-voltage table whose points, when not given, come from the chemistry preset. */
function cellVoltageTable() {
  return z
    .object({
      mode: z.enum(['linear', 'step']).default('linear'),
      points: z.array(tablePoint).min(1).optional(),
    })
    .strict()
    .superRefine((table, ctx) => {
      if (table.points !== undefined) checkMonotonic(table.points, ctx);
    });
}

/** The SoC tables are off by default (§2A CCCM_SOC_ENABLE), so they carry a switch. */
function optionalLimitTable(defaultPoints: TablePoint[]) {
  return limitTable(defaultPoints).safeExtend({ enabled: z.boolean().default(false) });
}

export interface LimitTable {
  mode: 'linear' | 'step';
  points: TablePoint[];
}

const recoverySchema = z
  .object({
    /** The target must stay above the applied limit this long before it may rise (§2A: 30 s). */
    holdS: seconds.default(30),
    /** Then the limit rises at this rate (§2A: 5 A/s). */
    rateAPerS: positiveRate.default(5),
    /** From 0 A, stay at 0 until the target reaches this fraction of the maximum (§2A: 1.5 %). */
    restartFraction: z.number().min(0).max(1).default(0.015),
  })
  .strict();

const currentSchema = z
  .object({
    /** §2A MAX_BATTERY_CHARGE_CURRENT. */
    maxChargeA: amps.default(50),
    /** §2A MAX_BATTERY_DISCHARGE_CURRENT. */
    maxDischargeA: amps.default(60),
    /**
     * Cap both limits at this fraction of the BMS over-current settings (JK 0x99 charge, 0x97
     * discharge), so the inverter never trips the BMS OCP. YamBMS uses 0.9 (§2B); null = off.
     */
    bmsOcpCapFraction: z.number().positive().max(1).nullable().default(0.9),
    chargeRecovery: recoverySchema.prefault({}),
    dischargeRecovery: recoverySchema.prefault({}),
  })
  .strict();

const tablesSchema = z
  .object({
    /** x = highest cell mV; points from the chemistry preset unless given (chemistry.ts). */
    chargeVsMaxCellMv: cellVoltageTable().prefault({}),
    /** x = lowest cell mV; points from the chemistry preset unless given. */
    dischargeVsMinCellMv: cellVoltageTable().prefault({}),
    /** x = °C; looked up with the lowest and the highest battery temperature separately. */
    chargeVsTemperatureC: limitTable([
      [0, 0], [2, 0.25], [5, 0.5], [10, 1], [40, 1], [45, 0.5], [50, 0.25], [55, 0],
    ]).prefault({}),
    dischargeVsTemperatureC: limitTable([
      [-10, 0], [0, 0.25], [5, 0.5], [10, 1], [40, 1], [45, 0.5], [50, 0.25], [55, 0],
    ]).prefault({}),
    /** x = MOSFET °C; limits charge and discharge alike. */
    vsMosfetTemperatureC: limitTable([[70, 1], [80, 0.25], [90, 0]]).prefault({}),
    chargeVsSocPct: optionalLimitTable([[98, 0.1], [95, 0.2], [90, 0.5], [85, 1]]).prefault({}),
    dischargeVsSocPct: optionalLimitTable([[5, 0.1], [10, 0.2], [15, 0.5], [20, 1]]).prefault({}),
  })
  .strict();

const voltageSchema = z
  .object({
    /** Bulk/absorption target (§2A MAX_CELL_VOLTAGE); chemistry preset unless given. */
    bulkCellMv: cellMv.optional(),
    /** §2A FLOAT_CELL_VOLTAGE; chemistry preset unless given. */
    floatCellMv: cellMv.optional(),
    /** Lowest CVL the controllers may set; not a cut-off (§2A MIN_CELL_VOLTAGE); preset unless given. */
    cvlFloorCellMv: cellMv.optional(),
    /** Added to the published CVL to make up for cable drop (§2A VOLTAGE_DROP). */
    dropOffsetPackMv: z.number().min(0).max(2000).default(0),
    socReset: z
      .object({
        /** Raised target that makes the JK resync its SoC (§2A SOC_RESET_CELL_VOLTAGE); preset unless given. */
        cellMv: cellMv.optional(),
        /** Due this many days after float was last reached; null = off (§2A default). */
        afterDays: z.number().positive().nullable().default(null),
      })
      .strict()
      .prefault({}),
    controller: z
      .object({
        /** §2A CVL_CONTROLLER_MODE: 1 penalty sum (default) or 2 I-controller. */
        mode: z.enum(['penalty', 'integral']).default('penalty'),
        /** I-controller gain, V of CVL per V of cell error per second (§2A: 0.2). */
        integralGainPerS: positiveRate.default(0.2),
        /** The I-controller holds the highest cell this far above the target (§2A: 10 mV). */
        integralTargetAboveMv: z.number().min(0).default(10),
      })
      .strict()
      .prefault({}),
    recovery: z
      .object({
        /** A higher CVL is held this long (§2A CVL_RECOVERY_HOLD_SEC). */
        holdS: seconds.default(60),
        /** Then rises at this rate; pack mV, as §2A applies 0.001 V/s to the pack CVL. */
        ratePackMvPerS: positiveRate.default(1),
      })
      .strict()
      .prefault({}),
    /** On entering float the CVL falls at this rate (§2A VOLTAGE_STEP_PER_SECOND, pack). */
    floatTransitionPackMvPerS: positiveRate.default(1),
  })
  .strict();

const phaseSchema = z
  .object({
    /** Absorption starts at pack >= bulk with the cell spread within this (§2A: 10 mV). */
    balancedCellDiffMv: z.number().min(0).default(10),
    /** The absorption timer restarts when the spread exceeds balanced + this (§2A: 3 mV). */
    balancedDeviationMv: z.number().min(0).default(3),
    /** Absorption lasts this long before float (§2A SWITCH_TO_FLOAT_WAIT_FOR_SEC). */
    absorptionS: seconds.default(900),
    /** A started absorption is cancelled when the pack falls this far below bulk (§2A: 0.5 V). */
    absorptionCancelPackMv: z.number().min(0).default(500),
    /** Float returns to bulk below this SoC (§2A SWITCH_TO_BULK_SOC_THRESHOLD). */
    rebulkBelowSocPct: pct.default(80),
    /** ... or when the cell spread reaches this (§2A SWITCH_TO_BULK_CELL_VOLTAGE_DIFF). */
    rebulkCellDiffMv: z.number().min(0).default(80),
  })
  .strict();

const forceChargeSchema = z
  .object({
    /** YamBMS requests a force charge from 10 % by default (§2B). */
    enabled: z.boolean().default(true),
    startSocPct: pct.default(10),
    stopSocPct: pct.default(15),
    /** Optional second trigger on the lowest cell, as the JK SoC drifts (§2A SoC reset). */
    startCellMv: cellMv.nullable().default(null),
    /** With a cell trigger, the request also needs the lowest cell back at this to end. */
    stopCellMv: cellMv.nullable().default(null),
  })
  .strict();

const stopSchema = z
  .object({
    /**
     * CVL while charging is stopped (inverter-can-protocols.md §10.4): 'cvl' keeps the controller's
     * value; 'pack' sends the present pack voltage (the Deye W31 fix), never below DVL + margin
     * and never above the CVL maximum. Never 0 either way (Victron reads 0 as over-voltage).
     */
    chargeVoltage: z.enum(['cvl', 'pack']).default('cvl'),
    /** Current sent for a stopped direction: Sofar ignores 0 A and needs 0.1 A (§10.5). */
    currentA: z.union([z.literal(0), z.literal(0.1)]).default(0),
    /** 'pack' mode keeps the CVL at least this far above the DVL (per cell). */
    cvlAboveDvlCellMv: z.number().min(0).default(100),
  })
  .strict();

const socSchema = z
  .object({
    /** Report at most this until float, like YamBMS (98 %) or BE Sofar (99 %) (§2B, §10.7). */
    clampUntilFloatPct: pct.nullable().default(null),
    /**
     * For inverters that only stop on SoC (Deye, §10.7): report 100 % while charging is stopped
     * by the cell voltage and 0 % while discharging is stopped by the cell voltage.
     */
    pushAtCellStop: z.boolean().default(false),
  })
  .strict();

/** The policy's settings as configured: the chemistry-dependent points may be absent (preset). */
export const controlConfigSchema = z
  .object({
    /** No charge current while any cell is at or above this (ARCHITECTURE invariant 1); preset unless given. */
    chargeStopCellMv: cellMv.optional(),
    /** No discharge current while any cell is at or below this (invariant 3); preset unless given. */
    dischargeStopCellMv: cellMv.optional(),
    current: currentSchema.prefault({}),
    tables: tablesSchema.prefault({}),
    voltage: voltageSchema.prefault({}),
    phase: phaseSchema.prefault({}),
    /** DVL = (BMS cell UVP + this) per cell, as YamBMS (§2B), and never below dischargeStopCellMv. */
    dvlAboveUvpCellMv: z.number().min(0).default(200),
    forceCharge: forceChargeSchema.prefault({}),
    stop: stopSchema.prefault({}),
    soc: socSchema.prefault({}),
  })
  .strict();

export type ControlConfig = z.output<typeof controlConfigSchema>;

/** The policy's settings with every point resolved (chemistry preset or explicit). */
export type ControlSettings = ControlConfig & {
  chargeStopCellMv: number;
  dischargeStopCellMv: number;
  voltage: ControlConfig['voltage'] & {
    bulkCellMv: number;
    floatCellMv: number;
    cvlFloorCellMv: number;
    socReset: ControlConfig['voltage']['socReset'] & { cellMv: number };
  };
  tables: ControlConfig['tables'] & { chargeVsMaxCellMv: LimitTable; dischargeVsMinCellMv: LimitTable };
};

/** The keys a chemistry preset fills, with where each lives in the settings. */
export const PRESET_KEYS = [
  'chargeStopCellMv',
  'dischargeStopCellMv',
  'voltage.bulkCellMv',
  'voltage.floatCellMv',
  'voltage.cvlFloorCellMv',
  'voltage.socReset.cellMv',
  'tables.chargeVsMaxCellMv.points',
  'tables.dischargeVsMinCellMv.points',
] as const;
export type PresetKey = (typeof PRESET_KEYS)[number];

/** Which preset keys the config leaves to the chemistry. */
export function presetKeysUsed(c: ControlConfig): PresetKey[] {
  const given: Record<PresetKey, unknown> = {
    chargeStopCellMv: c.chargeStopCellMv,
    dischargeStopCellMv: c.dischargeStopCellMv,
    'voltage.bulkCellMv': c.voltage.bulkCellMv,
    'voltage.floatCellMv': c.voltage.floatCellMv,
    'voltage.cvlFloorCellMv': c.voltage.cvlFloorCellMv,
    'voltage.socReset.cellMv': c.voltage.socReset.cellMv,
    'tables.chargeVsMaxCellMv.points': c.tables.chargeVsMaxCellMv.points,
    'tables.dischargeVsMinCellMv.points': c.tables.dischargeVsMinCellMv.points,
  };
  return PRESET_KEYS.filter((key) => given[key] === undefined);
}

/** Fills every point the config leaves open from the preset; an explicit point is never changed. */
export function resolveControlSettings(c: ControlConfig, preset: ChemistryPoints): ControlSettings {
  const copy = (points: readonly TablePoint[]): TablePoint[] => points.map(([x, y]): TablePoint => [x, y]);
  return {
    ...c,
    chargeStopCellMv: c.chargeStopCellMv ?? preset.chargeStopCellMv,
    dischargeStopCellMv: c.dischargeStopCellMv ?? preset.dischargeStopCellMv,
    voltage: {
      ...c.voltage,
      bulkCellMv: c.voltage.bulkCellMv ?? preset.bulkCellMv,
      floatCellMv: c.voltage.floatCellMv ?? preset.floatCellMv,
      cvlFloorCellMv: c.voltage.cvlFloorCellMv ?? preset.cvlFloorCellMv,
      socReset: { ...c.voltage.socReset, cellMv: c.voltage.socReset.cellMv ?? preset.socResetCellMv },
    },
    tables: {
      ...c.tables,
      chargeVsMaxCellMv: { ...c.tables.chargeVsMaxCellMv, points: c.tables.chargeVsMaxCellMv.points ?? copy(preset.chargeVsMaxCellMv) },
      dischargeVsMinCellMv: {
        ...c.tables.dischargeVsMinCellMv,
        points: c.tables.dischargeVsMinCellMv.points ?? copy(preset.dischargeVsMinCellMv),
      },
    },
  };
}

/**
 * The settings of a LiFePO4 pack with no BMS settings known: the schema tests and the pure policy
 * tests use it; the bridge resolves its settings per BMS (battery-policy.ts).
 */
export const controlSettingsSchema = controlConfigSchema.transform((c): ControlSettings => resolveControlSettings(c, CHEMISTRY_PRESETS.lifepo4));


function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** Frozen, so no caller can change the defaults another caller sees. */
export const defaultControlSettings: ControlSettings = deepFreeze(controlSettingsSchema.parse({}));
