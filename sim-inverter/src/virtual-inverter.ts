/**
 * The virtual inverter, in-process: joins a CanBus as a chosen inverter profile, sends that
 * brand's heartbeat, checks every battery frame (checker.ts), keeps the decoded battery as the
 * inverter sees it, and runs the power stage (inverter-model.ts) whose current flows into the
 * virtual battery (closed loop with sim-bms through CurrentSink).
 *
 *   const inverter = new VirtualInverter({ profile: 'pylon-lv', bus, truth, sink });
 *   await inverter.start();
 *   inverter.setDemand({ unit: 'W', watts: 3000 });
 *   inverter.checker.violations            // scenario: expect none
 *   inverter.checker.timeUntil(r => patchOf(r)?.chargeCurrentLimitA === 0, eventAtMs)
 *
 * Time comes from an injectable clock (default: the global timers), so fake timers drive it all.
 */
import { systemClock, type Clock } from '../../bridge/src/clock';
import { encodePylonHvRequest, mergeBatteryState, type BatteryStatePatch, type CanFrame, type PylonHvRequest } from '../../bridge/src/protocol/can';
import type { CanBus, Unsubscribe } from '../../bridge/src/transport/types';
import type { CommandSet } from '../../sim-kit/src/commands';
import { Checker, type BatteryTruth, type CheckerThresholds } from './checker';
import { createInverterCommands } from './inverter-commands';
import { Heartbeat, type SmaReport } from './heartbeat';
import { InverterModel, type BatteryCommands, type Demand, type InverterModelOptions } from './inverter-model';
import { INVERTER_PROFILES, type CodecName, type InverterProfile, type InverterProfileName } from './profiles';
import type { TransportFaults } from './slcan-pty';

/** Where the inverter's current goes: sim-bms's VirtualBms.setCurrentA (+ = charging). */
export interface CurrentSink {
  setCurrentA(amps: number): void;
}

export interface VirtualInverterOptions {
  profile: InverterProfileName | InverterProfile;
  bus: CanBus;
  /** Decode with another codec than the profile's (e.g. the silent profile on a Victron bus). */
  codec?: CodecName;
  /** The virtual battery's truth, for invariants 1-3 and the DC voltage the inverter measures. */
  truth?: BatteryTruth;
  sink?: CurrentSink;
  /** What the checker judges by: judge.ts judgeThresholds() for a declared battery and timing. */
  thresholds: CheckerThresholds;
  model?: Partial<InverterModelOptions>;
  clock?: Clock;
  /** Power stage and checker tick period. */
  stepMs?: number;
  /** Bus-off / junk / unplug towards the bridge, where the transport offers them (slcan-pty). */
  transportFaults?: TransportFaults;
  /** Random source for garbage frames. */
  random?: () => number;
  /** Keep at most this many frame records (long manual runs). */
  maxFrames?: number;
}

export interface InverterFaultState {
  heartbeat: boolean;
  lateMs: number;
  /** Off the bus until this time (null = not off the bus; Infinity = until on-bus). */
  offBusUntilMs: number | null;
  busOff: boolean;
  unplugged: boolean;
  /** SMA quick stop (0x00F) received: standby until the start command (§5.2). */
  quickStopped: boolean;
}

const BUS_REOPEN_MS = 1000;

export type InverterLinkState = 'ok' | 'waiting' | 'timed-out' | 'quick-stop';

export interface SendStats {
  sent: number;
  failed: number;
  lastError: string | null;
}

export class VirtualInverter {
  readonly profile: InverterProfile;
  readonly checker: Checker;
  readonly model: InverterModel;
  readonly heartbeat: Heartbeat;
  readonly thresholds: CheckerThresholds;
  readonly transportFaults: TransportFaults | undefined;
  /** help, status, demand, heartbeat, late, off-bus, inject, garbage, bus-off, ... (inverter-commands.ts). */
  readonly commands: CommandSet;
  private readonly bus: CanBus;
  private readonly clock: Clock;
  private readonly truth: BatteryTruth | undefined;
  private readonly sink: CurrentSink | undefined;
  private readonly stepMs: number;
  private readonly random: () => number;
  private decodedState: BatteryStatePatch = {};
  private readonly received = new Map<number, number>();
  private readonly stats: SendStats = { sent: 0, failed: 0, lastError: null };
  private unsubscribe: Unsubscribe[] = [];
  private stepTimer: unknown;
  private offBusTimer: unknown;
  private reopenTimer: unknown;
  /** Why the bus was lost (interface gone, real adapter unplugged); null while it is up. */
  private busLost: string | null = null;
  private lastStepMs = 0;
  private startedAt = 0;
  private running = false;
  private offBusUntil: number | null = null;
  private quickStop = false;
  /** The inverter could not hear the bus since the last resync of the checker. */
  private deaf = false;

  constructor(options: VirtualInverterOptions) {
    this.profile = typeof options.profile === 'string' ? INVERTER_PROFILES[options.profile] : options.profile;
    this.bus = options.bus;
    this.clock = options.clock ?? systemClock;
    this.truth = options.truth;
    this.sink = options.sink;
    this.stepMs = options.stepMs ?? 100;
    this.random = options.random ?? Math.random;
    this.transportFaults = options.transportFaults;
    this.thresholds = options.thresholds;
    this.checker = new Checker({
      profile: this.profile,
      codec: options.codec,
      thresholds: this.thresholds,
      truth: options.truth,
      maxFrames: options.maxFrames,
    });
    this.model = new InverterModel({
      aboveCvl: this.profile.aboveCvl,
      chargeBelowCvlV: this.profile.chargeBelowCvlV,
      zeroIgnored: this.profile.zeroIgnored,
      ...options.model,
    });
    this.heartbeat = new Heartbeat({
      profile: this.profile,
      clock: this.clock,
      send: (frame) => this.transmit(frame),
      smaReport: () => this.smaReport(),
    });
    this.commands = createInverterCommands(this);
  }

  /** The battery as the inverter has decoded it so far (every patch merged). */
  get decoded(): BatteryStatePatch {
    return this.decodedState;
  }

  /** When each id was last received (any id, battery or foreign). */
  get lastReceived(): ReadonlyMap<number, number> {
    return this.received;
  }

  get sendStats(): Readonly<SendStats> {
    return this.stats;
  }

  get now(): number {
    return this.clock.now();
  }

  /** When start() ran (0 before). */
  get startedAtMs(): number {
    return this.startedAt;
  }

  /** The inverter's own bus failed and is being reopened; null while it is up. */
  get busError(): string | null {
    return this.busLost;
  }

  get faults(): InverterFaultState {
    return {
      heartbeat: this.heartbeat.enabled,
      lateMs: this.heartbeat.lateMs,
      offBusUntilMs: this.offBusUntil,
      busOff: this.transportFaults?.isBusOff ?? false,
      unplugged: this.transportFaults?.isUnplugged ?? false,
      quickStopped: this.quickStop,
    };
  }

  /**
   * Whether the inverter uses the battery: 'ok', 'waiting' (nothing received yet), 'timed-out'
   * (the profile's battery timeout: SMA F952 after 60 s without 0x355, §5.5; Victron 3 s without
   * 0x351, §6.1) or 'quick-stop' (SMA 0x00F, until the start command, §5.2).
   */
  get link(): InverterLinkState {
    if (this.quickStop) return 'quick-stop';
    const timeout = this.profile.batteryTimeout;
    const seen = this.received.get(timeout.id);
    if (this.clock.now() - (seen ?? this.startedAt) > timeout.ms) return 'timed-out';
    return seen === undefined ? 'waiting' : 'ok';
  }

  /** The link state in words, with the profile's code for a timeout. */
  describeLink(): string {
    const t = this.profile.batteryTimeout;
    switch (this.link) {
      case 'ok':
        return 'using the battery';
      case 'waiting':
        return 'waiting for the battery';
      case 'timed-out':
        return `${t.code}: no 0x${t.id.toString(16).toUpperCase()} for over ${t.ms / 1000} s`;
      case 'quick-stop':
        return 'quick stop (0x00F): standby until start';
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (!this.bus.isOpen) await this.bus.open();
    this.running = true;
    this.startedAt = this.clock.now();
    this.lastStepMs = this.startedAt;
    this.unsubscribe = [this.bus.onFrame((frame, waitedMs) => this.onFrame(frame, waitedMs)), this.bus.onDisconnect((error) => this.onBusLost(error.message))];
    this.heartbeat.start();
    this.scheduleStep();
  }

  /** Stops everything and closes the bus. The current into the battery drops to 0. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.heartbeat.stop();
    for (const timer of [this.stepTimer, this.offBusTimer, this.reopenTimer]) if (timer !== undefined) this.clock.clearTimeout(timer);
    this.stepTimer = undefined;
    this.offBusTimer = undefined;
    this.reopenTimer = undefined;
    this.sink?.setCurrentA(0);
    await this.bus.close();
  }

  setDemand(demand: Demand): void {
    this.model.setDemand(demand);
  }

  /** The "off-bus" fault: hears and sends nothing for durationMs, or until onBus() with null. */
  goOffBus(durationMs: number | null): void {
    if (this.offBusTimer !== undefined) this.clock.clearTimeout(this.offBusTimer);
    this.offBusTimer = undefined;
    this.offBusUntil = durationMs === null ? Number.POSITIVE_INFINITY : this.clock.now() + durationMs;
    this.deaf = true;
    if (durationMs !== null) this.offBusTimer = this.clock.setTimeout(() => this.onBus(), durationMs);
  }

  onBus(): void {
    if (this.offBusTimer !== undefined) this.clock.clearTimeout(this.offBusTimer);
    this.offBusTimer = undefined;
    this.offBusUntil = null;
  }

  /** SMA: leave the quick-stop standby, as the manual start on the SI does (§5.2). */
  restart(): void {
    this.quickStop = false;
  }

  /** Sends a frame of someone else's choosing (a foreign node on the bus). */
  inject(frame: CanFrame): void {
    this.transmit(frame, true);
  }

  /**
   * Pylon HV: a request or command by hand or from a scenario (sleep/wake 0x8200, charge/discharge
   * 0x8210, mask 0x8240, 0x4200 of any kind), at the inverter's own address (§7).
   */
  sendHvRequest(request: PylonHvRequest): void {
    this.transmit(encodePylonHvRequest(request, this.profile.pylonHv?.variant.address ?? 0), true);
  }

  /** Pylon HV: count 0x4200 ensemble requests spread evenly over durationMs (a request storm). */
  requestStorm(count: number, durationMs: number): void {
    const gap = count > 1 ? durationMs / (count - 1) : 0;
    for (let i = 0; i < count; i++) this.clock.setTimeout(() => this.sendHvRequest({ kind: 'info', info: 'ensemble' }), Math.round(i * gap));
  }

  /** Sends count frames with random 11-bit ids and random data (a noisy or misconfigured node). */
  injectGarbage(count: number): void {
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(Math.floor(this.random() * 9));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(this.random() * 256);
      this.transmit({ id: Math.floor(this.random() * 0x800), data }, true);
    }
  }

  private get isOffBus(): boolean {
    return this.offBusUntil !== null;
  }

  /** Off the bus, or the adapter cannot pass the bridge's frames (bus-off, unplugged). */
  private get hearing(): boolean {
    return !this.isOffBus && !(this.transportFaults?.isBusOff ?? false) && !(this.transportFaults?.isUnplugged ?? false);
  }

  /** After a deaf stretch the checker must not blame the gap on the bridge (Checker.resync). */
  private listen(): boolean {
    if (!this.hearing) {
      this.deaf = true;
      return false;
    }
    if (this.deaf) {
      this.checker.resync();
      this.deaf = false;
    }
    return true;
  }

  /** A real interface or adapter went away: reopen it every second, as a person would replug it. */
  private onBusLost(message: string): void {
    this.busLost = message;
    this.deaf = true;
    const retry = (): void => {
      this.reopenTimer = this.clock.setTimeout(() => {
        this.reopenTimer = undefined;
        if (!this.running) return;
        this.bus.open().then(
          () => {
            this.busLost = null;
          },
          (error: unknown) => {
            this.busLost = error instanceof Error ? error.message : String(error);
            retry();
          },
        );
      }, BUS_REOPEN_MS);
    };
    retry();
  }

  private transmit(frame: CanFrame, evenOffBus = false): void {
    if (!this.running || (this.isOffBus && !evenOffBus)) return;
    this.checker.noteSent(frame, this.clock.now());
    this.bus.send(frame).then(
      () => {
        this.stats.sent += 1;
      },
      (error: unknown) => {
        this.stats.failed += 1;
        this.stats.lastError = error instanceof Error ? error.message : String(error);
      },
    );
  }

  /**
   * A real inverter's controller times a frame when it comes off the wire. Where the transport
   * knows how long the frame waited for this event loop (SocketCAN's kernel stamp), that wait is
   * not counted: a busy loop that reads two frames 205 ms apart as 199 ms apart would otherwise
   * blame the bridge for its own delay (the SMA inhibit time, every reaction bound).
   */
  private onFrame(frame: CanFrame, waitedMs = 0): void {
    if (!this.running || !this.listen()) return;
    const atMs = this.clock.now() - waitedMs;
    this.received.set(frame.id, atMs);
    const record = this.checker.feed(frame, atMs);
    if (record.decoded?.ok === true) {
      this.decodedState = mergeBatteryState(this.decodedState, this.accepted(record.decoded.patch));
      if (record.decoded.message.kind === 'quick-stop') this.quickStop = true;
    }
    this.heartbeat.onBatteryFrame(frame);
  }

  /**
   * The part of a patch the inverter takes: with outOfWindow 'ignored', a CVL or DVL outside its
   * window is dropped and the last accepted value stays (SMA §5.1); the checker reports it.
   */
  private accepted(patch: BatteryStatePatch): BatteryStatePatch {
    const p = this.profile;
    if (p.outOfWindow === 'used') return patch;
    const outside = (v: number | undefined, w: readonly [number, number] | null) => v !== undefined && w !== null && (v < w[0] || v > w[1]);
    const kept = { ...patch };
    if (outside(kept.chargeVoltageV, p.cvlWindowV)) delete kept.chargeVoltageV;
    if (outside(kept.dischargeVoltageV, p.dvlWindowV)) delete kept.dischargeVoltageV;
    return kept;
  }

  private scheduleStep(): void {
    this.stepTimer = this.clock.setTimeout(() => {
      this.stepTimer = undefined;
      if (!this.running) return;
      this.step();
      this.scheduleStep();
    }, this.stepMs);
  }

  private step(): void {
    const now = this.clock.now();
    const dt = now - this.lastStepMs;
    this.lastStepMs = now;
    // Judge frame timing one loop turn later: if this process stalled (GC, a slow VM), frames that
    // reached the socket on time are delivered first, so the observer's lag is not blamed on the bridge.
    this.clock.setTimeout(() => {
      if (this.running && this.listen()) this.checker.tick(this.clock.now());
    }, 0);
    const link = this.link;
    const standby = link === 'timed-out' || link === 'quick-stop';
    const commands = link === 'ok' ? this.batteryCommands() : null;
    const current = this.model.step(dt, { commands, packVoltageV: this.packVoltageV(), standby });
    this.sink?.setCurrentA(current);
  }

  /** What the power stage obeys; null before the first 0x351. */
  private batteryCommands(): BatteryCommands | null {
    const d = this.decodedState;
    if (d.chargeVoltageV === undefined) return null;
    const r = this.profile.usesRequestFlags ? d.requests : undefined;
    return {
      chargeVoltageV: d.chargeVoltageV,
      chargeCurrentLimitA: d.chargeCurrentLimitA,
      dischargeCurrentLimitA: d.dischargeCurrentLimitA,
      dischargeVoltageV: d.dischargeVoltageV,
      chargeEnable: r?.chargeEnable,
      dischargeEnable: r?.dischargeEnable,
      forceCharge: r === undefined ? undefined : r.forceChargeI === true || r.forceChargeII === true,
    };
  }

  /** The inverter measures the DC voltage itself: the battery's truth when known, else 0x356. */
  private packVoltageV(): number | null {
    const measured = this.truth?.measured();
    if (measured != null) return measured.packMv / 1000;
    return this.decodedState.voltageV ?? null;
  }

  private smaReport(): SmaReport {
    const d = this.decodedState;
    const timedOut = this.link === 'timed-out';
    return {
      voltageV: this.packVoltageV() ?? 0,
      currentA: this.model.currentA,
      temperatureC: d.temperatureC ?? 25,
      socPct: (this.profile.usesHiResSoc ? d.socHiResPct : null) ?? d.socPct ?? 0,
      sohPct: d.sohPct ?? 100,
      // §5.4 0x306 byte 3: 1 Operating, 4 Failure; F952 is the SI's error number for the timeout (§5.5).
      operatingState: timedOut || this.quickStop ? 4 : 1,
      activeErrorNumber: timedOut ? 952 : 0,
      chargeVoltageSetpointV: d.chargeVoltageV ?? 0,
    };
  }
}
