/**
 * The portable rig outside Cucumber: the virtual BMS on a socat pty, the virtual inverter behind a
 * virtual SLCAN adapter on a second pty, and the unmodified bridge entry point as a child process
 * in between (`--bms <pty> --can slcan:<pty>`), closed loop. The benchmarks run on it; the pieces
 * are exported one by one so the Cucumber World can wire its rig the same way.
 *
 *   const rig = await PtyRig.open({ battery: loadProfile('jk-16s-280ah'), socPct: 50, inverter: 'pylon-lv' });
 *   const bridge = rig.startBridge();
 *   await rig.waitForFrame('CCL > 0', Date.now(), (p) => (p.chargeCurrentLimitA ?? 0) > 0, 10_000);
 *   await rig.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { systemClock } from '../../bridge/src/clock';
import { loadConfig } from '../../bridge/src/config/load';
import type { BridgeConfigInput, BridgeProfileName, RunnableConfig } from '../../bridge/src/config/schema';
import type { BatteryStatePatch } from '../../bridge/src/protocol/can';
import type { CanBus } from '../../bridge/src/transport/types';
import { VirtualBank } from '../../sim-bms/src/bank';
import { PtyLinkSource } from '../../sim-bms/src/links';
import type { BatteryProfile } from '../../sim-bms/src/profile';
import { VirtualBms } from '../../sim-bms/src/virtual-bms';
import { AcceptedReplies } from '../../sim-inverter/src/battery-truth';
import { patchOf, type FrameRecord } from '../../sim-inverter/src/checker';
import { judgeThresholds, type DeclaredBattery, type DeclaredTiming } from '../../sim-inverter/src/judge';
import { INVERTER_PROFILES, type InverterProfile, type InverterProfileName } from '../../sim-inverter/src/profiles';
import { SlcanPtyEndpoint, type TransportFaults } from '../../sim-inverter/src/slcan-pty';
import { VirtualInverter } from '../../sim-inverter/src/virtual-inverter';
import { BridgeProcess } from './bridge-process';

/** The bridge profile that speaks each virtual inverter's protocol. */
export const BRIDGE_PROFILE_FOR: Record<InverterProfileName, BridgeProfileName> = {
  'pylon-lv': 'pylon-lv',
  deye: 'pylon-lv',
  'goodwe-lv': 'goodwe-lv',
  sofar: 'pylon-lv',
  'sma-si': 'sma-si',
  victron: 'victron',
  'pylon-hv': 'pylon-hv',
  'sofar-hv': 'pylon-hv',
  none: 'pylon-lv',
};

/**
 * What a rig declares: the battery (its profile, with the owner's cell limits), the inverter, the
 * BMS timing and the time scale. Both sides get it: the bridge as config (declaredBridgeConfig),
 * the virtual inverter's judge as thresholds (judgeThresholds). The judge never reads the
 * bridge's config loader or policy, so a bridge default that drifts cannot move the judge.
 */
export interface RigDeclaration {
  battery: DeclaredBattery;
  inverter: InverterProfileName;
  timing: DeclaredTiming;
  /** Stretches the protocol-fixed times (frame period, reply time, margin) on slow machines. */
  timeScale: number;
  /** A bank: what a pack whose answers stopped means (bms.onPackLost); default stop. */
  onPackLost?: 'stop' | 'degrade';
}

/** The production timing the rig declares when nothing else is asked for (README configuration reference). */
export const PRODUCTION_TIMING: DeclaredTiming = { pollIntervalMs: 500, replyTimeoutMs: 300, staleAfterMs: 5000 };

/** The bridge config that carries a declaration: the judged keys, from the same numbers the judge uses. */
export function declaredBridgeConfig(d: RigDeclaration): BridgeConfigInput {
  const { limits } = d.battery;
  return {
    bms: { pollIntervalMs: d.timing.pollIntervalMs, replyTimeoutMs: d.timing.replyTimeoutMs, ...(d.onPackLost === undefined ? {} : { onPackLost: d.onPackLost }) },
    can: { periodMs: INVERTER_PROFILES[d.inverter].framePeriodMs * d.timeScale },
    state: { staleAfterMs: d.timing.staleAfterMs },
    control: {
      chargeStopCellMv: limits.chargeStopCellMv,
      dischargeStopCellMv: limits.dischargeStopCellMv,
      voltage: { bulkCellMv: limits.maxChargeCellMv },
    },
  };
}

/** The same as --set overrides, for a rig that passes its config on the command line. */
export function declaredSettings(d: RigDeclaration): string[] {
  const flatten = (value: unknown, prefix: string): string[] =>
    typeof value === 'object' && value !== null
      ? Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix === '' ? key : `${prefix}.${key}`))
      : [`${prefix}=${String(value)}`];
  return flatten(declaredBridgeConfig(d), '');
}

export interface VirtualBmsOnPty {
  profile: BatteryProfile;
  socPct: number;
  /** Where the bridge opens the BMS (`--bms <link>`). */
  link: string;
  /** Model seconds per clock second. */
  timeScale?: number;
}

/** A virtual BMS answering on a fresh socat pty linked at options.link. */
export async function serveVirtualBms(options: VirtualBmsOnPty): Promise<VirtualBms> {
  const bms = new VirtualBms({ profile: options.profile, initialSocPct: options.socPct, timeScale: options.timeScale });
  await bms.serve(new PtyLinkSource(options.link));
  return bms;
}

/** Config keys the judge reads: a rig declares them (timing, battery limits, inverter profile), never passes them raw. */
const TIMING_KEYS: Record<string, keyof DeclaredTiming> = {
  'bms.pollIntervalMs': 'pollIntervalMs',
  'bms.replyTimeoutMs': 'replyTimeoutMs',
  'state.staleAfterMs': 'staleAfterMs',
};
const ANY_BATTERY: DeclaredBattery = { cells: 16, limits: { chargeStopCellMv: 0, dischargeStopCellMv: 0, maxChargeCellMv: 0 } };
const DECLARED_KEYS = new Set(declaredSettings({ battery: ANY_BATTERY, inverter: 'pylon-lv', timing: PRODUCTION_TIMING, timeScale: 1 }).map((s) => s.split('=')[0]));

/** The declared part a `key=value` setting may change. */
export type DeclaredSettings = Pick<RigDeclaration, 'timing' | 'onPackLost'>;

/**
 * `key=value` overrides of the timing keys and bms.onPackLost become part of the declaration (so
 * the judge and the bridge agree); the other judged keys are refused (they belong to the battery
 * or inverter profile); the rest pass through to the bridge.
 */
export function splitDeclaredSettings(settings: readonly string[], base: DeclaredSettings): DeclaredSettings & { others: string[] } {
  const timing = { ...base.timing };
  let onPackLost = base.onPackLost;
  const others: string[] = [];
  for (const setting of settings) {
    const [key, value] = setting.split('=', 2);
    const field = TIMING_KEYS[key];
    if (field !== undefined) {
      const ms = Number(value);
      if (!Number.isFinite(ms) || ms <= 0) throw new Error(`rig: ${setting}: expected a positive number of milliseconds`);
      timing[field] = ms;
    } else if (key === 'bms.onPackLost') {
      if (value !== 'stop' && value !== 'degrade') throw new Error(`rig: ${setting}: expected stop or degrade`);
      onPackLost = value;
    } else if (DECLARED_KEYS.has(key)) {
      throw new Error(`rig: ${key} is judged: declare it in the battery profile's limits or the inverter profile, not as a setting`);
    } else {
      others.push(setting);
    }
  }
  return { timing, onPackLost, others };
}

export interface VirtualBankOnPtys {
  /** One entry per pack: its profile (capacities may differ) and initial SoC. */
  packs: ReadonlyArray<{ profile: BatteryProfile; socPct: number }>;
  /** Where the bridge opens each pack (`--bms <link>` once per pack), in pack order. */
  links: readonly string[];
  timeScale?: number;
}

/** Packs in parallel on one DC bus, each answering on its own fresh socat pty. */
export async function serveVirtualBank(options: VirtualBankOnPtys): Promise<VirtualBank> {
  const bank = new VirtualBank(
    options.packs.map((p) => ({ profile: p.profile, initialSocPct: p.socPct })),
    { timeScale: options.timeScale },
  );
  await bank.serve(options.links.map((link) => new PtyLinkSource(link)));
  return bank;
}

export interface InverterOnBus {
  bus: CanBus;
  /** The battery's truth for the checker and the sink of the inverter's current (closed loop). */
  bms: VirtualBms | VirtualBank;
  /** What the judge holds the bridge to (the bridge gets the same through declaredBridgeConfig). */
  declaration: RigDeclaration;
  transportFaults?: TransportFaults;
}

/** The profile with its Pylon HV reply timeout stretched by the scenario's time scale. */
function scaledProfile(name: InverterProfileName, timeScale: number): InverterProfile {
  const profile = INVERTER_PROFILES[name];
  if (profile.pylonHv === null || timeScale === 1) return profile;
  return { ...profile, pylonHv: { ...profile.pylonHv, replyTimeoutMs: profile.pylonHv.replyTimeoutMs * timeScale } };
}

/** A virtual inverter on the bus, closed loop with the virtual BMS, judging by the declaration. */
export async function startVirtualInverter(options: InverterOnBus): Promise<VirtualInverter> {
  const d = options.declaration;
  const inverter = new VirtualInverter({
    profile: scaledProfile(d.inverter, d.timeScale),
    bus: options.bus,
    // A bank is judged pack by pack, with the stale-pack rule the scenario declares.
    truth: new AcceptedReplies(
      options.bms instanceof VirtualBank ? options.bms.packs : options.bms,
      { cells: d.battery.cells, replyTimeoutMs: d.timing.replyTimeoutMs },
      { onPackLost: d.onPackLost ?? 'stop', staleAfterMs: d.timing.staleAfterMs },
    ),
    sink: options.bms,
    transportFaults: options.transportFaults,
    thresholds: judgeThresholds(d.battery, INVERTER_PROFILES[d.inverter], d.timing, d.timeScale),
  });
  await inverter.start();
  return inverter;
}

export interface PtyRigOptions {
  battery: BatteryProfile;
  socPct: number;
  inverter: InverterProfileName;
  /** The BMS timing the rig declares to the bridge and the judge; default PRODUCTION_TIMING. */
  timing?: DeclaredTiming;
  /** More bridge config overrides as `key=value` (`--set`), for keys the judge does not read. */
  settings?: readonly string[];
}

export class PtyRig {
  private readonly bridges: BridgeProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly bms: VirtualBms,
    readonly slcan: SlcanPtyEndpoint,
    readonly inverter: VirtualInverter,
    /** The bridge's command line (without the entry point and the log format BridgeProcess adds). */
    readonly bridgeArgs: readonly string[],
    /** The config that command line gives, read by the bridge's own loader (for the bench's reports; the judge never reads it). */
    readonly config: RunnableConfig,
  ) {}

  static async open(options: PtyRigOptions): Promise<PtyRig> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'jk-rig-'));
    const canLink = path.join(dir, 'can');
    const { timing, others } = splitDeclaredSettings(options.settings ?? [], { timing: options.timing ?? PRODUCTION_TIMING });
    const declaration: RigDeclaration = { battery: options.battery, inverter: options.inverter, timing, timeScale: 1 };
    const args = ['--bms', path.join(dir, 'bms'), '--can', `slcan:${canLink}`, '--profile', BRIDGE_PROFILE_FOR[options.inverter]];
    for (const setting of [...declaredSettings(declaration), ...others]) args.push('--set', setting);
    const loaded = loadConfig(args);
    if (!loaded.ok) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`rig: the bridge would refuse its config:\n${loaded.problems.join('\n')}`);
    }
    const bms = await serveVirtualBms({ profile: options.battery, socPct: options.socPct, link: path.join(dir, 'bms') });
    const slcan = await SlcanPtyEndpoint.open({ link: canLink, clock: systemClock });
    const inverter = await startVirtualInverter({ bus: slcan.bus, bms, declaration, transportFaults: slcan });
    return new PtyRig(dir, bms, slcan, inverter, args, loaded.config);
  }

  /** Spawns the real bridge (or `command`, an installed one) on this rig; close() stops whatever is still running. */
  startBridge(command?: string): BridgeProcess {
    const bridge = new BridgeProcess([...this.bridgeArgs], { command });
    this.bridges.push(bridge);
    return bridge;
  }

  /**
   * The first frame received at or after sinceMs whose decoded patch matches, waiting for it up to
   * timeoutMs. Its atMs is when the inverter received it (Date.now(), like sinceMs).
   */
  async waitForFrame(
    description: string,
    sinceMs: number,
    predicate: (patch: BatteryStatePatch) => boolean,
    timeoutMs: number,
  ): Promise<FrameRecord> {
    const frames = this.inverter.checker.frames;
    const deadline = Date.now() + timeoutMs;
    let next = 0;
    for (;;) {
      for (; next < frames.length; next++) {
        const record = frames[next];
        const patch = record.atMs >= sinceMs ? patchOf(record) : undefined;
        if (patch !== undefined && predicate(patch)) return record;
      }
      if (Date.now() > deadline) throw new Error(`rig: no frame with ${description} within ${timeoutMs} ms`);
      // The frame's own receive time is the measurement; this only bounds how soon we notice it.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    for (const bridge of this.bridges) await bridge.stop();
    await this.inverter.stop();
    await this.slcan.close();
    await this.bms.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
