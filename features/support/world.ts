/**
 * The rig one scenario runs on (MODELS.md §5, §7 lesson 13): the virtual BMS on a real socat pty,
 * the virtual inverter on SLCAN-over-pty (portable) or real SocketCAN vcan, closed loop between
 * them, and the unmodified bridge entry point as a child process in between.
 *
 * Timing: every bridge delay comes from a per-scenario YAML config, scaled by the world parameter
 * `timeScale` (1 natively; larger inside the vcan VM, where JavaScript runs far slower).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { stringify } from 'yaml';
import { systemClock } from '../../bridge/src/clock';
import { loadConfig } from '../../bridge/src/config/load';
import type { BridgeConfigInput, RunnableConfig } from '../../bridge/src/config/schema';
import type { BatteryStatePatch } from '../../bridge/src/protocol/can';
import { createCanBus } from '../../bridge/src/transport/spec';
import type { CanBus } from '../../bridge/src/transport/types';
import type { VirtualBank } from '../../sim-bms/src/bank';
import { loadProfile, withCapacity, withCellCount } from '../../sim-bms/src/profile';
import type { VirtualBms } from '../../sim-bms/src/virtual-bms';
import { patchOf, type FrameRecord } from '../../sim-inverter/src/checker';
import type { InverterProfileName } from '../../sim-inverter/src/profiles';
import { SlcanPtyEndpoint } from '../../sim-inverter/src/slcan-pty';
import type { VirtualInverter } from '../../sim-inverter/src/virtual-inverter';
import { BridgeProcess } from '../../rig/src/bridge-process';
import { BRIDGE_PROFILE_FOR, serveVirtualBank, serveVirtualBms, startVirtualInverter } from '../../rig/src/rig-setup';

export interface RigParameters {
  /** 'slcan-pty': SLCAN framing over a socat pty (no privileges); 'vcan': real SocketCAN. */
  transport: 'slcan-pty' | 'vcan';
  /** Multiplies every delay and timeout (the vcan VM runs JavaScript 20-40× slower). */
  timeScale: number;
  /** vcan interface; "{worker}" is replaced by the Cucumber worker id. */
  vcanInterface: string;
}

export class RigWorld extends World<RigParameters> {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'jk-rig-'));
  readonly scale: number;
  bms?: VirtualBms;
  /** Several packs in parallel (issue 12), instead of `bms`. */
  bank?: VirtualBank;
  inverter?: VirtualInverter;
  bridge?: BridgeProcess;
  /** Earlier bridge processes of this scenario (restarts), kept for their logs. */
  readonly previousBridges: BridgeProcess[] = [];
  /** Named moments ("the cell rose") for "within N ms of …" assertions. */
  readonly marks = new Map<string, number>();
  /** Bridge config overrides from the scenario ("Given the bridge setting …"). */
  readonly settings: Array<[string, string]> = [];
  inverterProfile: InverterProfileName = 'pylon-lv';
  /** Extremes of every cell voltage the BMS measured while serving, and the protections it tripped. */
  readonly cellHistory = { maxCellMv: -Infinity, minCellMv: Infinity, tripped: new Set<string>() };
  private slcan?: SlcanPtyEndpoint;
  private inverterBus?: CanBus;

  constructor(options: IWorldOptions<RigParameters>) {
    super(options);
    this.scale = this.parameters.timeScale ?? 1;
  }

  /** A delay of the scenario's base timing, scaled for this machine. */
  ms(base: number): number {
    return Math.round(base * this.scale);
  }

  get bmsLink(): string {
    return path.join(this.dir, 'bms');
  }

  /** Every BMS link the bridge opens: the one pack's, or each pack's of a bank (bms-1, bms-2, ...). */
  get bmsLinks(): string[] {
    return this.bank === undefined ? [this.bmsLink] : this.bank.packs.map((_, i) => path.join(this.dir, `bms-${i + 1}`));
  }

  /** Every virtual BMS of the scenario. */
  get allBms(): VirtualBms[] {
    return this.bank?.packs ?? (this.bms === undefined ? [] : [this.bms]);
  }

  get canSpec(): string {
    return this.parameters.transport === 'vcan' ? `socketcan:${this.vcanInterface}` : `slcan:${path.join(this.dir, 'can')}`;
  }

  get vcanInterface(): string {
    return (this.parameters.vcanInterface ?? 'vcan0').replace('{worker}', process.env.CUCUMBER_WORKER_ID ?? '0');
  }

  /** The bridge config every scenario starts from: short, scaled delays; the policy's defaults. */
  bridgeConfig(): BridgeConfigInput {
    const s = (ms: number) => this.ms(ms);
    return {
      bms: { pollIntervalMs: s(200), replyTimeoutMs: s(150), reconnectInitialMs: s(200), reconnectMaxMs: s(1000) },
      // The production frame period: invariant 5 allows 1.5 × it, as a real inverter would.
      can: { periodMs: s(1000), reconnectInitialMs: s(300), reconnectMaxMs: s(1500) },
      state: { staleAfterMs: s(2500), faultAfterMs: s(1500), silenceAfterMs: s(2500), recoverAfter: 3, inverterTimeoutMs: s(2500) },
      control: {
        current: {
          chargeRecovery: { holdS: 2 * this.scale, rateAPerS: 20 / this.scale },
          dischargeRecovery: { holdS: 2 * this.scale, rateAPerS: 20 / this.scale },
        },
        voltage: { recovery: { holdS: 2 * this.scale } },
        phase: { absorptionS: 5 * this.scale },
      },
      log: { level: 'info' },
      // Scenarios run bridges side by side: no page on the default port unless a scenario asks.
      web: { listen: 'off' },
    };
  }

  async createBattery(profileName: string, cells: number | undefined, socPct: number, timeScale = 1): Promise<void> {
    const base = loadProfile(profileName);
    const profile = cells === undefined ? base : withCellCount(base, cells);
    const bms = await serveVirtualBms({ profile, socPct, link: this.bmsLink, timeScale });
    this.bms = bms;
    this.recordCells(bms);
  }

  /**
   * A bank of packs in parallel on one DC bus: pack i at socPcts[i] with capacities[i] Ah (the
   * profile's capacity when not given), each its own seed so their cells differ.
   */
  async createBank(profileName: string, socPcts: number[], capacities: number[] = [], timeScale = 1): Promise<void> {
    const base = loadProfile(profileName);
    const packs = socPcts.map((socPct, i) => {
      const profile = capacities[i] === undefined ? base : withCapacity(base, capacities[i]);
      return { profile: { ...profile, seed: base.seed + i }, socPct };
    });
    const links = packs.map((_, i) => path.join(this.dir, `bms-${i + 1}`));
    this.bank = await serveVirtualBank({ packs, links, timeScale });
    for (const pack of this.bank.packs) this.recordCells(pack);
  }

  private recordCells(bms: VirtualBms): void {
    bms.on('served', () => {
      const cells = bms.measure().cellsMv;
      this.cellHistory.maxCellMv = Math.max(this.cellHistory.maxCellMv, ...cells);
      this.cellHistory.minCellMv = Math.min(this.cellHistory.minCellMv, ...cells);
      for (const name of bms.protection.active) this.cellHistory.tripped.add(name);
    });
  }

  async createInverter(profile: InverterProfileName): Promise<void> {
    const battery = this.bank ?? this.bms;
    if (battery === undefined) throw new Error('create the battery before the inverter');
    this.inverterProfile = profile;
    if (this.parameters.transport === 'vcan') {
      this.inverterBus = createCanBus(`socketcan:${this.vcanInterface}`);
    } else {
      this.slcan = await SlcanPtyEndpoint.open({ link: path.join(this.dir, 'can'), clock: systemClock });
      this.inverterBus = this.slcan.bus;
    }
    this.inverter = await startVirtualInverter({
      profile,
      bus: this.inverterBus,
      bms: battery,
      config: this.loadedBridgeConfig(),
      transportFaults: this.slcan,
      timeScale: this.scale,
    });
  }

  /** The bridge's command line: the scenario's YAML config file, the links and the --set overrides. */
  bridgeArgs(): string[] {
    const configPath = path.join(this.dir, 'bridge.yaml');
    writeFileSync(configPath, stringify(this.bridgeConfig()));
    const links = this.bmsLinks.flatMap((link) => ['--bms', link]);
    const args = ['--config', configPath, ...links, '--can', this.canSpec, '--profile', BRIDGE_PROFILE_FOR[this.inverterProfile]];
    for (const [key, value] of this.settings) args.push('--set', `${key}=${value}`);
    return args;
  }

  /** The config that command line gives, read by the bridge's own loader (the checker judges by it). */
  loadedBridgeConfig(): RunnableConfig {
    const loaded = loadConfig(this.bridgeArgs());
    if (!loaded.ok) throw new Error(`the bridge would refuse this scenario's config:\n${loaded.problems.join('\n')}`);
    return loaded.config;
  }

  /** Starts the real bridge entry point without waiting for anything. */
  startBridgeProcess(): BridgeProcess {
    if (this.bridge) this.previousBridges.push(this.bridge);
    this.bridge = new BridgeProcess(this.bridgeArgs());
    return this.bridge;
  }

  /** Starts the real bridge entry point and waits for the inverter to hear its first frame set. */
  async startBridge(): Promise<void> {
    const bridge = this.startBridgeProcess();
    const connected = await bridge.waitForState('bms', 'connected', this.ms(10_000));
    this.marks.set('event', connected.atMs);
  }

  /** Takes the CAN transport away for ms: the SLCAN adapter is unplugged, or vcan goes down. */
  async loseCanTransport(ms: number): Promise<void> {
    if (this.slcan) {
      await this.slcan.unplug(ms);
      return;
    }
    const iface = this.vcanInterface;
    execFileSync('ip', ['link', 'set', iface, 'down']);
    setTimeout(() => execFileSync('ip', ['link', 'set', iface, 'up']), ms);
  }

  get frames(): readonly FrameRecord[] {
    if (!this.inverter) throw new Error('no inverter');
    return this.inverter.checker.frames;
  }

  /** The battery as the inverter decoded it. */
  get decoded(): BatteryStatePatch {
    if (!this.inverter) throw new Error('no inverter');
    return this.inverter.decoded;
  }

  mark(name: string): number {
    const at = Date.now();
    this.marks.set(name, at);
    return at;
  }

  markOf(name: string): number {
    const at = this.marks.get(name);
    if (at === undefined) throw new Error(`no event "${name}" happened in this scenario`);
    return at;
  }

  /** Polls the condition every 20 ms until it holds or timeoutMs passes. */
  async eventually<T>(description: string | (() => string), probe: () => T | undefined | false, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) {
        const what = typeof description === 'string' ? description : description();
        throw new Error(`not within ${timeoutMs} ms: ${what}\n${this.diagnostics()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** First frame at or after sinceMs whose decoded patch matches. */
  firstFrame(sinceMs: number, predicate: (patch: BatteryStatePatch, record: FrameRecord) => boolean): FrameRecord | undefined {
    return this.frames.find((record) => {
      if (record.atMs < sinceMs) return false;
      const patch = patchOf(record);
      return patch !== undefined && predicate(patch, record);
    });
  }

  diagnostics(): string {
    const lines = [`bridge log tail:\n${this.bridge?.tail(10) ?? '  (no bridge)'}`];
    if (this.inverter) lines.push(`violations: ${JSON.stringify(this.inverter.checker.violations.slice(0, 5))}`);
    return lines.join('\n');
  }

  async teardown(): Promise<void> {
    await this.bridge?.stop();
    await this.inverter?.stop();
    await this.slcan?.close();
    if (this.parameters.transport === 'vcan') await this.inverterBus?.close();
    await this.bms?.stop();
    await this.bank?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

setWorldConstructor(RigWorld);
