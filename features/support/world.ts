/**
 * The rig one scenario runs on (MODELS.md §5, §7 lesson 13): the virtual BMS on a real socat pty,
 * the virtual inverter on SLCAN-over-pty (portable) or real SocketCAN vcan, closed loop between
 * them, and the unmodified bridge entry point as a child process in between.
 *
 * Timing: every bridge delay comes from a per-scenario YAML config, scaled by the world parameter
 * `timeScale` (1 natively; larger inside the vcan VM, where JavaScript runs far slower).
 *
 * The judge: the scenario declares the battery (its profile, with the owner's cell limits), the
 * inverter and the BMS timing; the bridge gets them as config and the virtual inverter's checker
 * as thresholds (rig-setup.ts RigDeclaration). Nothing here reads the bridge's config loader.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { stringify } from 'yaml';
import { systemClock } from '../../bridge/src/clock';
import type { BridgeConfigInput } from '../../bridge/src/config/schema';
import type { BatteryStatePatch } from '../../bridge/src/protocol/can';
import { createCanBus } from '../../bridge/src/transport/spec';
import type { CanBus } from '../../bridge/src/transport/types';
import type { VirtualBank } from '../../sim-bms/src/bank';
import { loadProfile, withCapacity, withCellCount, type BatteryProfile } from '../../sim-bms/src/profile';
import type { VirtualBms } from '../../sim-bms/src/virtual-bms';
import { patchOf, type FrameRecord } from '../../sim-inverter/src/checker';
import type { InverterProfileName } from '../../sim-inverter/src/profiles';
import { SlcanPtyEndpoint } from '../../sim-inverter/src/slcan-pty';
import type { VirtualInverter } from '../../sim-inverter/src/virtual-inverter';
import type { DeclaredTiming } from '../../sim-inverter/src/judge';
import { BridgeProcess, type BridgeProcessOptions } from '../../rig/src/bridge-process';
import { BRIDGE_PROFILE_FOR, declaredBridgeConfig, serveVirtualBank, serveVirtualBms, startVirtualInverter, type RigDeclaration } from '../../rig/src/rig-setup';

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
  battery?: BatteryProfile;
  /** The BMS timing the scenario declares (scaled): short, so fault scenarios run in seconds. */
  readonly timing: DeclaredTiming;
  /** A bank: what a pack whose answers stopped means (declared, like the timing). */
  onPackLost?: 'stop' | 'degrade';
  /** Extremes of every cell voltage the BMS measured while serving, and the protections it tripped. */
  readonly cellHistory = { maxCellMv: -Infinity, minCellMv: Infinity, tripped: new Set<string>() };
  private slcan?: SlcanPtyEndpoint;
  private inverterBus?: CanBus;

  constructor(options: IWorldOptions<RigParameters>) {
    super(options);
    this.scale = this.parameters.timeScale ?? 1;
    this.timing = { pollIntervalMs: this.ms(200), replyTimeoutMs: this.ms(150), staleAfterMs: this.ms(2500) };
  }

  /** What the bridge and the judge both get; fixed once the inverter (and its judge) joined. */
  get declaration(): RigDeclaration {
    if (this.battery === undefined) throw new Error('declare the battery first');
    return { battery: this.battery, inverter: this.inverterProfile, timing: this.timing, timeScale: this.scale, onPackLost: this.onPackLost };
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

  /**
   * The bridge config every scenario starts from: the declaration (timing, the inverter
   * profile's frame period, the battery's cell limits), short scaled delays otherwise, the
   * policy's defaults for the rest.
   */
  bridgeConfig(): BridgeConfigInput {
    const s = (ms: number) => this.ms(ms);
    const declared = declaredBridgeConfig(this.declaration);
    return {
      bms: { ...declared.bms, reconnectInitialMs: s(200), reconnectMaxMs: s(1000) },
      // The production frame period (the inverter profile's): invariant 5 allows 1.5 × it, as a real inverter would.
      can: { ...declared.can, reconnectInitialMs: s(300), reconnectMaxMs: s(1500) },
      state: { ...declared.state, faultAfterMs: s(1500), silenceAfterMs: s(2500), recoverAfter: 3, inverterTimeoutMs: s(2500) },
      control: {
        ...declared.control,
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
    this.battery = profile;
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
    // The judge holds the bank to the profile's cell limits (the packs share them).
    this.battery = base;
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
    this.inverter = await startVirtualInverter({ bus: this.inverterBus, bms: battery, declaration: this.declaration, transportFaults: this.slcan });
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

  /** Starts the real bridge entry point without waiting for anything. */
  startBridgeProcess(options: BridgeProcessOptions = {}): BridgeProcess {
    if (this.bridge) this.previousBridges.push(this.bridge);
    this.bridge = new BridgeProcess(this.bridgeArgs(), { ...this.bridgeOptions, ...options });
    return this.bridge;
  }

  /** Starts the real bridge entry point and waits until it reports fresh BMS data. */
  async startBridge(options: BridgeProcessOptions = {}): Promise<void> {
    const bridge = this.startBridgeProcess(options);
    const connected = await bridge.waitForState('bms', 'connected', this.ms(10_000));
    this.marks.set('event', connected.atMs);
    if (!this.marks.has('bridge up')) this.marks.set('bridge up', connected.atMs);
  }

  /** Options for every bridge process of this scenario (e.g. the chart fault preload). */
  bridgeOptions: BridgeProcessOptions = {};

  /** Runs a sim-bms command (as typed at its prompt) and marks the moment as "event". */
  async bmsCommand(line: string): Promise<void> {
    if (!this.bms) throw new Error('no BMS in this scenario');
    this.mark('event');
    const result = await this.bms.commands.execute(line);
    if (!result.ok) throw new Error(`bms command "${line}" failed: ${result.output}`);
  }

  /**
   * The environment that runs a bridge child on a movable wall clock: libfaketime (Debian
   * package libfaketime) reads its offset from a file on every call, and leaves the monotonic
   * clock alone (DONT_FAKE_MONOTONIC), so only Date and the realtime clock jump.
   */
  fakeWallClock(): NodeJS.ProcessEnv {
    const lib = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu']
      .map((triplet) => `/usr/lib/${triplet}/faketime/libfaketime.so.1`)
      .find((candidate) => existsSync(candidate));
    if (lib === undefined) throw new Error('libfaketime is missing: npm run setup (apt-get install libfaketime)');
    writeFileSync(this.wallClockFile, '+0\n');
    return { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: this.wallClockFile, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' };
  }

  /** Moves the fake wall clock of the bridge child ("+1h", "-1h"). */
  moveWallClock(offset: string): void {
    writeFileSync(this.wallClockFile, `${offset}\n`);
  }

  private get wallClockFile(): string {
    return path.join(this.dir, 'faketime');
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
    lines.push(`marks: ${JSON.stringify(Object.fromEntries(this.marks))}`);
    lines.push(`bridge status lines: ${JSON.stringify(this.bridge?.statusLines().map((l) => [l.atMs, l.msg.slice(0, 40)]).slice(-12))}`);
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
