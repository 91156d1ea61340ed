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
import type { BridgeConfig, BridgeProfileName, RunnableConfig } from '../../bridge/src/config/schema';
import { maxChargeVoltageV, resolveBatteryPolicy, type ControlSettings } from '../../bridge/src/control';
import type { BatteryStatePatch } from '../../bridge/src/protocol/can';
import type { CanBus } from '../../bridge/src/transport/types';
import { VirtualBank } from '../../sim-bms/src/bank';
import { PtyLinkSource } from '../../sim-bms/src/links';
import type { BatteryProfile } from '../../sim-bms/src/profile';
import { VirtualBms } from '../../sim-bms/src/virtual-bms';
import { patchOf, type CheckerThresholds, type FrameRecord } from '../../sim-inverter/src/checker';
import { INVERTER_PROFILES, type InverterProfile, type InverterProfileName } from '../../sim-inverter/src/profiles';
import { SlcanPtyEndpoint, type TransportFaults } from '../../sim-inverter/src/slcan-pty';
import { truthFromBms, VirtualInverter } from '../../sim-inverter/src/virtual-inverter';
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
  none: 'pylon-lv',
};

/** The policy settings the bridge resolves for this battery (its chemistry preset and BMS settings). */
export function bridgeSettingsFor(config: BridgeConfig, battery: BatteryProfile): ControlSettings {
  return resolveBatteryPolicy({ chemistry: config.battery.chemistry, control: config.control }, battery.settings, battery.cells).settings;
}

/** The inverter's checker judges the bridge by the config the bridge runs with. */
export function checkerThresholds(config: BridgeConfig, battery: BatteryProfile): CheckerThresholds {
  const settings = bridgeSettingsFor(config, battery);
  return {
    canPeriodMs: config.can.periodMs,
    staleAfterMs: config.state.staleAfterMs,
    chargeStopCellMv: settings.chargeStopCellMv,
    dischargeStopCellMv: settings.dischargeStopCellMv,
    // A decrease goes out at once: one poll, its reply and a period bound the reaction.
    reactionBoundMs: config.bms.pollIntervalMs + config.bms.replyTimeoutMs + config.can.periodMs,
    maxChargeVoltageV: maxChargeVoltageV(settings, battery.cells),
  };
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
  profile: InverterProfileName;
  bus: CanBus;
  /** The battery's truth for the checker and the sink of the inverter's current (closed loop). */
  bms: VirtualBms | VirtualBank;
  /** The config the bridge runs with, which the checker judges it by. */
  config: BridgeConfig;
  transportFaults?: TransportFaults;
  /** The scenario's time scale (the vcan VM): stretches the inverter's own reply timeout as the bridge's delays are. */
  timeScale?: number;
}

/** The profile with its Pylon HV reply timeout stretched by the scenario's time scale. */
function scaledProfile(name: InverterProfileName, timeScale: number): InverterProfile {
  const profile = INVERTER_PROFILES[name];
  if (profile.pylonHv === null || timeScale === 1) return profile;
  return { ...profile, pylonHv: { ...profile.pylonHv, replyTimeoutMs: profile.pylonHv.replyTimeoutMs * timeScale } };
}

/** A virtual inverter on the bus, closed loop with the virtual BMS. */
export async function startVirtualInverter(options: InverterOnBus): Promise<VirtualInverter> {
  const inverter = new VirtualInverter({
    profile: scaledProfile(options.profile, options.timeScale ?? 1),
    bus: options.bus,
    // A bank is judged pack by pack, with the stale-pack rule the bridge is configured with.
    truth:
      options.bms instanceof VirtualBank
        ? truthFromBms(options.bms.packs, { onPackLost: options.config.bms.onPackLost, staleAfterMs: options.config.state.staleAfterMs })
        : truthFromBms(options.bms),
    sink: options.bms,
    transportFaults: options.transportFaults,
    thresholds: checkerThresholds(options.config, (options.bms instanceof VirtualBank ? options.bms.packs[0] : options.bms).profile),
  });
  await inverter.start();
  return inverter;
}

export interface PtyRigOptions {
  battery: BatteryProfile;
  socPct: number;
  inverter: InverterProfileName;
  /** Bridge config overrides as `key=value` (`--set`); the bridge's defaults otherwise. */
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
    /** The config that command line gives, read by the bridge's own loader. */
    readonly config: RunnableConfig,
  ) {}

  static async open(options: PtyRigOptions): Promise<PtyRig> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'jk-rig-'));
    const canLink = path.join(dir, 'can');
    const args = ['--bms', path.join(dir, 'bms'), '--can', `slcan:${canLink}`, '--profile', BRIDGE_PROFILE_FOR[options.inverter]];
    for (const setting of options.settings ?? []) args.push('--set', setting);
    const loaded = loadConfig(args);
    if (!loaded.ok) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`rig: the bridge would refuse its config:\n${loaded.problems.join('\n')}`);
    }
    const bms = await serveVirtualBms({ profile: options.battery, socPct: options.socPct, link: path.join(dir, 'bms') });
    const slcan = await SlcanPtyEndpoint.open({ link: canLink, clock: systemClock });
    const inverter = await startVirtualInverter({ profile: options.inverter, bus: slcan.bus, bms, config: loaded.config, transportFaults: slcan });
    return new PtyRig(dir, bms, slcan, inverter, args, loaded.config);
  }

  /** Spawns the real bridge (or `command`, an installed one) on this rig; close() stops whatever is still running. */
  startBridge(command?: string): BridgeProcess {
    const bridge = new BridgeProcess([...this.bridgeArgs], command);
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
