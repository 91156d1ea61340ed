/**
 * The bridge's one configuration schema: a YAML file plus command-line flags, validated here
 * before anything starts. Every timeout, period and limit lives in this file so scenarios and
 * slow machines (the vcan VM) shorten or stretch them without code changes.
 */
import { z } from 'zod';
import { CHEMISTRIES } from '../control/chemistry';
import { controlConfigSchema } from '../control/settings';
import { JkAlarmBit } from '../protocol/jk/snapshot';

export const BRIDGE_PROFILES = ['pylon-lv', 'goodwe-lv', 'sma-si', 'victron', 'pylon-hv'] as const;
export type BridgeProfileName = (typeof BRIDGE_PROFILES)[number];

const ms = (min: number, def: number) => z.number().int().min(min).default(def);
const jkAlarmName = z.enum(Object.keys(JkAlarmBit) as [keyof typeof JkAlarmBit, ...(keyof typeof JkAlarmBit)[]]);

/** The poll and plausibility settings a pack may override (bms.packs[i]); the defaults are in bmsSchema. */
const poll = {
  baudRate: z.number().int().positive(),
  pollIntervalMs: z.number().int().min(100),
  replyTimeoutMs: z.number().int().min(10),
  minGapMs: z.number().int().min(100),
  temperatureCoding: z.enum(['doc', 'esphome']),
  reconnectInitialMs: z.number().int().min(10),
  reconnectMaxMs: z.number().int().min(10),
  reopenAfterMissedPolls: z.number().int().min(1),
};
const plausibility = {
  minCellMv: z.number().int(),
  maxCellMv: z.number().int(),
  packVoltageToleranceMv: z.number().int().min(0),
  maxCurrentA: z.number().positive(),
  minTemperatureC: z.number(),
  maxTemperatureC: z.number(),
};
const request = z
  .object({
    command: z.union([z.literal(0x06), z.literal(0x03)]).default(0x06),
    source: z.enum(['pc', 'gps']).default('pc'),
  })
  .strict();

/** One pack of a parallel bank (issue 12): its own link, and overrides of the bms settings. */
const packSchema = z
  .object({
    /** Names the pack in logs, reasons and status ("A", "north-1"). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$/, 'a short name: letters, digits, _ . - (at most 16)'),
    /** Serial device path or tcp://host:port; one pack per link. */
    link: z.string().min(1),
    /**
     * Whole-pack internal resistance in mΩ, where known (measured, or the cells' datasheet figure
     * × cells + busbars). With every pack's figure known, a pack's share of the bank current is
     * the larger of its capacity share and its conductance share (bank/sharing.ts).
     */
    internalResistanceMohm: z.number().positive().optional(),
    ...Object.fromEntries(Object.entries(poll).map(([k, v]) => [k, v.optional()])),
    request: request.optional(),
    plausibility: z
      .object({ cellCount: z.number().int().min(1).max(32).optional(), ...Object.fromEntries(Object.entries(plausibility).map(([k, v]) => [k, v.optional()])) })
      .strict()
      .optional(),
  })
  .strict() as z.ZodType<PackOverrides>;

type Optional<T> = { [K in keyof T]?: T[K] extends z.ZodType ? z.output<T[K]> : never };
export type PackOverrides = {
  name: string;
  link: string;
  internalResistanceMohm?: number;
  request?: z.output<typeof request>;
  plausibility?: Optional<typeof plausibility> & { cellCount?: number };
} & Optional<typeof poll>;

const bmsSchema = z
  .object({
    /** Serial device path (/dev/ttyUSB0) or tcp://host:port for RS485-to-Ethernet converters. */
    link: z.string().min(1).optional(),
    /**
     * Several packs in parallel, each with its own BMS and link (instead of `link`). Every pack
     * takes the settings below unless it overrides them.
     */
    packs: z.array(packSchema).min(1).optional(),
    /**
     * A pack without fresh data (issue 12): `stop` puts the whole bank to CCL = DCL = 0 (an unknown
     * pack may be at its limits); `degrade` leaves it out once stale, scales the limits to the
     * packs left and raises a communication warning.
     */
    onPackLost: z.enum(['stop', 'degrade']).default('stop'),
    /**
     * Mirror mode: only one of this many identical parallel packs is wired; its current and
     * capacity are multiplied and its limits stand for every pack. The others are NOT watched.
     */
    mirrorPacks: z.number().int().min(1).max(64).default(1),
    /** Packs on one bus whose voltages differ by more than this are a fault (cable drop allowed). */
    maxPackVoltageSpreadMv: z.number().int().min(0).default(1000),
    baudRate: poll.baudRate.default(115200),
    /**
     * Relaxed pace: time between the start of two polls while nothing is near a limit (fastPoll).
     * JK answers a read-all in ~26 ms at 115200 baud (spec §2.10).
     */
    pollIntervalMs: poll.pollIntervalMs.default(500),
    /**
     * Back-to-back polls (minGapMs after the last reply byte) while the data is near a limit or
     * has just changed state; see bridge/src/bms/poll-schedule.ts.
     */
    fastPoll: z
      .object({
        enabled: z.boolean().default(true),
        /** Any cell within this of control.chargeStopCellMv or control.dischargeStopCellMv. */
        cellMarginMv: z.number().int().min(0).max(1000).default(50),
        /** |current| above this fraction of control.current.maxChargeA / maxDischargeA. */
        currentFraction: z.number().min(0).max(10).default(0.9),
        /** Fast polls after the alarms or a MOSFET changed, or the first reply after a gap. */
        afterChangePolls: z.number().int().min(0).max(1000).default(10),
      })
      .strict()
      .prefault({}),
    /**
     * No reply within this time: the pending bytes are dropped and the poll counts as missed.
     * Must stay below pollIntervalMs; 300 ms is ten times the real reply time (spec §2.10).
     */
    replyTimeoutMs: poll.replyTimeoutMs.default(300),
    /** Vendor rule: packets at least 100 ms apart (spec §2.10). */
    minGapMs: poll.minGapMs.default(100),
    /** The read-all variant to send (spec §2.3). */
    request: request.prefault({}),
    /** Sub-zero coding of 0x80-0x82 (spec §2.6, unresolved by captures): doc = 101 → -1 °C. */
    temperatureCoding: poll.temperatureCoding.default('doc'),
    /** Reopen a lost serial/TCP link after this back-off (doubling up to the maximum). */
    reconnectInitialMs: poll.reconnectInitialMs.default(1000),
    reconnectMaxMs: poll.reconnectMaxMs.default(30000),
    /**
     * Close and reopen the link after this many polls in a row without a reply: a half-open TCP
     * session, a hung USB adapter or a BMS restarted behind a live pty report no disconnect, but
     * a fresh open reaches the device again. 10 × 500 ms: reopened as the data goes stale.
     */
    reopenAfterMissedPolls: poll.reopenAfterMissedPolls.default(10),
    plausibility: z
      .object({
        /** Expected series cell count; omitted = learned from the first valid reply, then enforced. */
        cellCount: z.number().int().min(1).max(32).optional(),
        minCellMv: plausibility.minCellMv.default(1000),
        maxCellMv: plausibility.maxCellMv.default(5000),
        /** Allowed |Σ cells − pack voltage| (measurement points differ by cable drop and shunt). */
        packVoltageToleranceMv: plausibility.packVoltageToleranceMv.default(1500),
        maxCurrentA: plausibility.maxCurrentA.default(1000),
        minTemperatureC: plausibility.minTemperatureC.default(-40),
        maxTemperatureC: plausibility.maxTemperatureC.default(100),
      })
      .strict()
      .prefault({}),
    /**
     * JK 0x8B alarms that put the bridge in fault (CCL = DCL = 0, protection + system error).
     * Directional protections (cell over/under voltage, over-current, low temperature) are not
     * here by default: the BMS switches the matching MOSFET off and the control policy zeroes
     * that one direction, so a full pack can still discharge and an empty one still charge.
     */
    faultOnAlarms: z
      .array(jkAlarmName)
      .default(['mosfetOverTemperature', 'batteryOverTemperature', 'boxOverTemperature', 'protection309A', 'protection309B']),
  })
  .strict()
  .prefault({});

const canSchema = z
  .object({
    /** socketcan:<iface> | slcan:<serial path>[@bitrate] | stdout (dry run). */
    bus: z.string().min(1).optional(),
    profile: z.enum(BRIDGE_PROFILES).default('pylon-lv'),
    /**
     * Level of a tripped one-direction BMS protection (cell over/under voltage, over-current, cold):
     * 'alarm' (Pylon 0x359 bytes 0-1, SMA/Victron alarm pairs) or 'warning' (0x359 bytes 2-3,
     * warning pairs). Default per profile: pylon-lv and goodwe-lv 'alarm' (Pylon V1.2 document,
     * inverter-can-protocols.md §3.2), sma-si and victron 'warning' (an alarm stops them, §10.13).
     * Some Solis show "BMS error" on protection bits (§10.9): 'warning' for them.
     */
    bmsProtections: z.enum(['alarm', 'warning']).optional(),
    /** Full frame set period (spec §8: 1 s for every profile). */
    periodMs: ms(50, 1000),
    /**
     * Reopen a lost bus after this back-off, doubling up to the maximum; once the bus has stayed up
     * for reconnectMaxMs, the next loss starts from reconnectInitialMs again.
     */
    reconnectInitialMs: ms(10, 1000),
    reconnectMaxMs: ms(10, 30000),
    /**
     * Failed sends in a row (ENOBUFS, an adapter refusing a frame) before the bus counts as lost.
     * One failure is often transient (a full queue, junk read as a refusal) and loses one frame;
     * a bus with nobody to ACK fails every frame and is given up within one frame set.
     */
    downAfterFailedSends: z.number().int().min(1).default(3),
    /**
     * Pylon HV variant (spec §7): a preset for the inverter, and single settings that override it.
     * deye = little-endian, 30000 current and 1000 temperature offsets, send group 0 (also Solis,
     * GoodWe, Sungrow, Ingeteam HV); sofar = the same with send group 1.
     */
    pylonHv: z
      .object({
        preset: z.enum(['deye', 'sofar']).default('deye'),
        byteOrder: z.enum(['le', 'be']).optional(),
        currentOffset: z.boolean().optional(),
        temperatureOffset: z.boolean().optional(),
        /** Max discharge current as 30000 − I (V1.26) or 30000 + I (GCE). */
        dischargeLimitSign: z.enum(['minus', 'plus']).optional(),
        /** Send group: reply ids are base + address. */
        address: z.number().int().min(0).max(15).optional(),
      })
      .strict()
      .prefault({}),
    identity: z
      .object({
        /** 0x35E text; default per profile ("PYLON   ", "GOODWE  ", "SMA", neutral for Victron). */
        manufacturer: z.string().max(8).optional(),
        /** Pylon 0x359 byte 4; never 0 (spec §10.2). */
        moduleCount: z.number().int().min(1).max(255).default(1),
        /** Installed capacity; default = the BMS capacity setting (0xAA). */
        capacityAh: z.number().int().positive().optional(),
        firmwareMajor: z.number().int().min(0).max(255).default(1),
        firmwareMinor: z.number().int().min(0).max(255).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const stateSchema = z
  .object({
    /** No valid snapshot for this long: CCL = DCL = 0, flags cleared (ARCHITECTURE.md bus table). */
    staleAfterMs: ms(100, 5000),
    /** Stale for this long: fault. */
    faultAfterMs: ms(0, 30000),
    /** In fault, keep sending the safe frame set this long, then go silent (0 = never silent). */
    silenceAfterMs: ms(0, 60000),
    /** Consecutive valid snapshots without active protection needed to leave fault. */
    recoverAfter: z.number().int().min(1).default(3),
    /** No inverter frame (0x305-0x307) for this long: inverter link silent. */
    inverterTimeoutMs: ms(100, 10000),
  })
  .strict()
  .prefault({});

const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** pretty: one human line per event; json: pino JSON lines for log shippers. */
    format: z.enum(['pretty', 'json']).default('pretty'),
  })
  .strict()
  .prefault({});

const batterySchema = z
  .object({
    /**
     * Cell chemistry: its preset fills every voltage point of control not given explicitly.
     * auto = read from the JK's own cell OVP/UVP settings (0x90/0x93) at the first snapshot
     * (control/chemistry.ts); the 0xAF battery type is unreliable on real units.
     */
    chemistry: z.enum(['auto', ...CHEMISTRIES]).default('auto'),
  })
  .strict()
  .prefault({});

/** Names a bridge in MQTT topics, Home Assistant and the web page: letters, digits, - and _. */
const bridgeName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, - or _ (it becomes an MQTT topic level)');

const mqttSchema = z
  .object({
    /** mqtt://host[:port] or mqtts://host[:port]; absent = no MQTT. */
    url: z
      .string()
      .regex(/^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/, 'expected mqtt://host[:port] or mqtts://host[:port]')
      .optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /**
     * PEM file of the CA that signed an mqtts:// broker's certificate (a private CA, or the
     * broker's own self-signed certificate); default: the system's CAs.
     */
    caFile: z.string().min(1).optional(),
    /** Default jk-can-bridge-<name>. */
    clientId: z.string().min(1).optional(),
    /** Default jk-can-bridge/<name>. */
    baseTopic: z.string().regex(/^[^#+\s]+[^/#+\s]$/, 'expected a topic without wildcards or a trailing /').optional(),
    /** State is published on change, at most once per period (retained). */
    periodMs: ms(100, 5000),
    /** Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery). */
    discovery: z
      .object({ enabled: z.boolean().default(true), prefix: z.string().min(1).default('homeassistant') })
      .strict()
      .prefault({}),
    /** Accept commands on <base>/command (off by default: MQTT can then steer the battery). */
    commands: z.boolean().default(false),
    reconnectInitialMs: ms(100, 1000),
    reconnectMaxMs: ms(100, 60000),
  })
  .strict()
  .prefault({});

const webSchema = z
  .object({
    /** host:port of the status page and /metrics; "off" = no web server. */
    listen: z
      .string()
      .regex(/^(off|(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5})$/, 'expected host:port (e.g. 127.0.0.1:8080) or off')
      .default('127.0.0.1:8080'),
    /** Bearer token for anything that changes state; required when listening beyond loopback. */
    token: z.string().min(16, 'a token needs at least 16 characters').optional(),
    /** Listen beyond loopback without a token (read-only page and /metrics open to the network). */
    allowUnauthenticated: z.boolean().default(false),
    /** Accept commands from the page (needs web.token). */
    commands: z.boolean().default(false),
    /** Charts keep this much history in memory. */
    historyHours: z.number().positive().max(48).default(6),
    historySampleS: z.number().int().min(1).max(600).default(10),
  })
  .strict()
  .prefault({});

/** Commands from MQTT or the web page: the longest expiry a command may ask for. */
const commandsSchema = z
  .object({ maxExpiryS: z.number().int().min(60).max(7 * 86_400).default(86_400) })
  .strict()
  .prefault({});

export const bridgeConfigSchema = z
  .object({
    name: bridgeName.default('bridge'),
    battery: batterySchema,
    bms: bmsSchema,
    can: canSchema,
    state: stateSchema,
    control: controlConfigSchema.prefault({}),
    log: logSchema,
    mqtt: mqttSchema,
    web: webSchema,
    commands: commandsSchema,
  })
  .strict();

export type BridgeConfigInput = z.input<typeof bridgeConfigSchema>;
export type BridgeConfig = z.output<typeof bridgeConfigSchema>;
/** One pack with every setting resolved (its overrides over the bms section). */
export type PackConfig = Pick<
  BridgeConfig['bms'],
  | 'baudRate'
  | 'pollIntervalMs'
  | 'replyTimeoutMs'
  | 'minGapMs'
  | 'request'
  | 'temperatureCoding'
  | 'reconnectInitialMs'
  | 'reconnectMaxMs'
  | 'reopenAfterMissedPolls'
  | 'plausibility'
> & { name: string; link: string; internalResistanceMohm?: number };

/** A validated config whose links are known: what the runtime needs to start. */
export type RunnableConfig = Omit<BridgeConfig, 'bms' | 'can'> & {
  bms: Omit<BridgeConfig['bms'], 'packs'> & {
    /** The single pack's link; absent with several packs. */
    link?: string;
    /** Every pack, resolved: one entry (named "1") for a single `link`. */
    packs: PackConfig[];
  };
  can: BridgeConfig['can'] & { bus: string };
};
