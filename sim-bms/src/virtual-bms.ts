/**
 * The virtual JK BMS, in-process: battery model + JK protection model + fault injection behind
 * the real 4E57 wire protocol (spec §2.11 checklist). The Cucumber World and the standalone CLI
 * (main.ts) both drive this class; a person reaches the same behaviour through `commands`.
 *
 *   const bms = new VirtualBms({ profile: loadProfile('jk-16s-280ah'), initialSocPct: 50 });
 *   await bms.serve(new PtyLinkSource('/tmp/rig/bms'));   // or a ByteLink, or TcpLinkSource
 *   bms.setCurrentA(+40);                                 // the virtual inverter charges
 *   bms.lastServed                                        // what the bridge was last told
 *
 * Every request is recorded (MODELS.md §7 lesson 12) so a test can assert what the bridge sent.
 */
import { EventEmitter } from 'node:events';
import {
  buildFrame,
  encodeResponse,
  JkCommand,
  JkFrameSource,
  JkTransmissionType,
  parseRequest,
  isJkError,
  type BmsSnapshot,
  type JkFramerOutput,
  type JkRequest,
  type JkSettings,
} from '../../bridge/src/protocol/jk';
import type { ByteLink } from '../../bridge/src/transport/types';
import type { CommandSet } from '../../sim-kit/src/commands';
import { BatteryModel } from './battery-model';
import { createBmsCommands } from './bms-commands';
import { systemClock, type Clock } from '../../bridge/src/clock';
import { FaultState, poisoned } from './faults';
import { PtyLinkSource, SingleLinkSource, type LinkSource } from './links';
import type { BatteryProfile } from './profile';
import { ProtectionModel, type Measurement } from './protection';
import { Responder, type ReplyPlan } from './responder';
import { buildSnapshot } from './snapshot';

export interface VirtualBmsOptions {
  profile: BatteryProfile;
  /** Overrides profile.initialSocPct. */
  initialSocPct?: number;
  clock?: Clock;
  /** Model step while serving; protection delays resolve to this. Default 100 ms. */
  tickMs?: number;
  /** Reply latency range (§2.10/§2.11: 0.2-5 ms). */
  replyDelayMs?: { min: number; max: number };
  /** Write replies in 2-6 chunks (§2.11 point 1). Default true. */
  chunked?: boolean;
  /** Model seconds per clock second (e.g. 60 runs a charge cycle in minutes). Default 1. */
  timeScale?: number;
  /** Replaces Math.random for latency, chunking and garbage (deterministic tests). */
  random?: () => number;
  /** Overrides of the profile's JK settings, e.g. each pack of a bank its own 0xBA manufacturer id. */
  settings?: Partial<JkSettings>;
}

export type RequestOutcome = 'read' | 'pair' | 'write' | 'ignored';

/** One thing the BMS received: a request frame, or bytes the framer discarded. */
export interface ReceivedRequest {
  atMs: number;
  bytes: Uint8Array;
  /** null when the bytes are not a valid request (bad checksum, junk, wrong size). */
  request: JkRequest | null;
  outcome: RequestOutcome;
  /** Why it was ignored, or what a write did. */
  detail: string;
}

export interface ServedReply {
  /** When the last byte was written. */
  atMs: number;
  /** When the request it answers arrived. */
  requestedAtMs: number;
  /** What the bytes carry (the POISON values when a fault spoiled or poisoned the reply). */
  snapshot: BmsSnapshot;
  bytes: Uint8Array;
  /** false when a wire fault (bad checksum, truncation) spoiled the frame. */
  intact: boolean;
}

/** After 0x05 "pair" the BMS accepts writes for a while (§2.8, §2.11 point 4: "some seconds"). */
export const PAIR_WINDOW_MS = 10_000;
/** Recording bound, so a long manual session does not grow without limit. */
const MAX_RECORDED_REQUESTS = 1000;

export interface VirtualBmsEvents {
  served: [ServedReply];
  request: [ReceivedRequest];
  link: ['up' | 'down', string];
}

export class VirtualBms extends EventEmitter<VirtualBmsEvents> {
  readonly profile: BatteryProfile;
  readonly battery: BatteryModel;
  readonly protection: ProtectionModel;
  readonly faults = new FaultState();
  /** The live JK settings (0x8E-0xBA); writes to 0xAB/0xAC change them. */
  readonly settings: JkSettings;
  readonly commands: CommandSet;
  /** What the bridge was last told: the last intact read-all reply. */
  lastServed: { atMs: number; snapshot: BmsSnapshot } | null = null;
  /** Every request and discarded byte run, oldest first (bounded). */
  readonly requests: ReceivedRequest[] = [];

  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly replyDelayMs: { min: number; max: number };
  private readonly chunked: boolean;
  private readonly timeScale: number;
  private readonly random: () => number;
  private demandMa = 0;
  private lastStepAtMs: number;
  private pairedUntilMs = -Infinity;
  private tickTimer: unknown = null;
  private restoreTimer: unknown = null;
  private source: LinkSource | null = null;
  /** Sources a "respawn" left behind: alive and silent until stop(). */
  private readonly abandoned: LinkSource[] = [];
  private responders = new Map<ByteLink, Responder>();

  constructor(opts: VirtualBmsOptions) {
    super();
    this.profile = opts.profile;
    this.clock = opts.clock ?? systemClock;
    this.tickMs = opts.tickMs ?? 100;
    this.replyDelayMs = opts.replyDelayMs ?? { min: 0.2, max: 5 };
    this.chunked = opts.chunked ?? true;
    this.timeScale = opts.timeScale ?? 1;
    this.random = opts.random ?? Math.random;
    this.battery = new BatteryModel(opts.profile, opts.initialSocPct);
    this.protection = new ProtectionModel(opts.profile.protection);
    this.settings = { ...opts.profile.settings, ...opts.settings };
    this.lastStepAtMs = this.clock.now();
    this.commands = createBmsCommands(this);
  }

  now(): number {
    return this.clock.now();
  }

  // ---- the model ------------------------------------------------------------------------------

  /** Closed-loop input from outside (virtual inverter, scenario, person): + = charging. */
  setCurrentA(amps: number): void {
    if (!Number.isFinite(amps)) throw new RangeError(`current ${amps} A is not a number`);
    this.demandMa = amps * 1000;
  }

  /** The current asked for, before the MOSFETs gate it. */
  get demandA(): number {
    return this.demandMa / 1000;
  }

  get chargeMosfetOn(): boolean {
    return this.settings.chargeMosfetSwitch && this.protection.chargeAllowed;
  }

  get dischargeMosfetOn(): boolean {
    return this.settings.dischargeMosfetSwitch && this.protection.dischargeAllowed;
  }

  /** What the BMS measures now, after cell/temperature overrides. */
  measure(): Measurement {
    const cellsMv = this.battery.cellVoltagesMv();
    const t = this.battery.temperatures;
    return this.faults.applyToMeasurement({
      cellsMv,
      packMv: cellsMv.reduce((a, b) => a + b, 0),
      currentMa: this.battery.currentMa,
      mosfetC: t.mosfetC,
      t1C: t.t1C,
      t2C: t.t2C,
      socPct: this.battery.socPct,
    });
  }

  /**
   * Advances the model by ms in steps no longer than tickMs: the step API for tests and the World
   * without fake timers. The model then runs ahead of the clock until the clock catches up.
   */
  advance(ms: number): void {
    let left = ms;
    while (left > 0) {
      const dt = Math.min(this.tickMs, left);
      this.step(dt);
      left -= dt;
    }
    this.lastStepAtMs += ms;
  }

  /** Runs the model up to the clock (the DC bus does so before it splits the current anew). */
  catchUp(): void {
    const elapsed = this.clock.now() - this.lastStepAtMs;
    if (elapsed > 0) this.advance(elapsed);
  }

  private step(clockMs: number): void {
    const dt = clockMs * this.timeScale;
    // A MOSFET that is off blocks its direction; the other still flows (body diode, §2.9 note on 0xAB/0xAC).
    const gated = this.demandMa > 0 ? (this.chargeMosfetOn ? this.demandMa : 0) : this.dischargeMosfetOn ? this.demandMa : 0;
    this.battery.step(dt, gated, {
      enabled: this.settings.balancerEnabled,
      startMv: this.settings.balanceStartMv,
      triggerMv: this.settings.balanceTriggerMv,
    });
    this.protection.step(dt, this.measure(), this.settings);
  }

  /** The snapshot the BMS would report now (before snapshot faults), for a given command echo. */
  liveSnapshot(command: number = JkCommand.readAll): BmsSnapshot {
    const b = this.battery;
    return buildSnapshot({
      command,
      measurement: this.measure(),
      settings: { ...this.settings, runtimeMinutes: this.settings.runtimeMinutes + Math.floor(b.elapsedMs / 60_000) },
      chargeMosfetOn: this.chargeMosfetOn,
      dischargeMosfetOn: this.dischargeMosfetOn,
      balancing: b.balancing,
      alarms: this.protection.alarmBits,
      cycles: Math.floor(b.dischargedAh / b.nominalAh),
      cycleCapacityAh: Math.floor(b.dischargedAh),
    });
  }

  /** What a read-all reply would carry now, with the snapshot faults (frozen, wrong cells, alarms). */
  reportedSnapshot(command: number = JkCommand.readAll): BmsSnapshot {
    this.catchUp();
    return this.faults.applyToSnapshot(this.liveSnapshot(command));
  }

  /** "freeze": keep reporting the values of this moment. */
  freeze(): void {
    this.catchUp();
    this.faults.frozen = this.liveSnapshot();
  }

  // ---- the wire -------------------------------------------------------------------------------

  /** Starts answering on a link (in-process) or a link source (pty, TCP); resolves once it is up. */
  async serve(link: ByteLink | LinkSource): Promise<void> {
    if (this.source) throw new Error('this virtual BMS is already serving');
    const source = 'drop' in link ? link : new SingleLinkSource(link);
    this.source = source;
    this.lastStepAtMs = this.clock.now();
    this.scheduleTick();
    await source.start((l) => this.attach(l));
  }

  get linkDescription(): string | null {
    return this.source?.description ?? null;
  }

  /** Breaks the link like a pulled cable and restores it after ms ("drop-link"). */
  async dropLink(ms: number): Promise<void> {
    const source = this.source;
    if (!source) throw new Error('not serving a link');
    this.faults.linkDownUntilMs = this.clock.now() + ms;
    this.detachAll();
    await source.drop();
    this.emit('link', 'down', `${source.description} dropped for ${ms} ms`);
    if (this.restoreTimer !== null) this.clock.clearTimeout(this.restoreTimer);
    this.restoreTimer = this.clock.setTimeout(() => {
      this.restoreTimer = null;
      this.faults.linkDownUntilMs = null;
      source.restore().catch((err: Error) => this.emit('link', 'down', `restore failed: ${err.message}`));
    }, ms);
  }

  /**
   * "respawn": the BMS process dies (kill -9) and a new one starts at the same path, while the old
   * pty stays alive (socat or a USB hub can keep it): the port the bridge has open is silent and
   * reports no disconnect; only a fresh open of the path reaches the new BMS. The battery is the
   * same pack, so the model runs on.
   */
  async respawn(): Promise<void> {
    const old = this.source;
    if (!(old instanceof PtyLinkSource)) throw new Error('respawn needs a pty link');
    this.detachAll();
    this.abandoned.push(old);
    const fresh = new PtyLinkSource(old.linkPath);
    this.source = fresh;
    await fresh.start((l) => this.attach(l));
    this.emit('link', 'up', `${fresh.description}: respawned; the old pty stays open and silent`);
  }

  /** Resolves with the first recorded request (past or future) matching `predicate`. */
  waitForRequest(predicate: (r: ReceivedRequest) => boolean, timeoutMs: number): Promise<ReceivedRequest> {
    const seen = this.requests.find(predicate);
    if (seen) return Promise.resolve(seen);
    const armedAt = new Error('waitForRequest timed out'); // keeps the caller's stack (lesson 11)
    return new Promise((resolve, reject) => {
      const onRequest = (r: ReceivedRequest): void => {
        if (!predicate(r)) return;
        this.clock.clearTimeout(timer);
        this.off('request', onRequest);
        resolve(r);
      };
      const timer = this.clock.setTimeout(() => {
        this.off('request', onRequest);
        armedAt.message = `no matching request within ${timeoutMs} ms (${this.requests.length} received)`;
        reject(armedAt);
      }, timeoutMs);
      this.on('request', onRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer);
    if (this.restoreTimer !== null) this.clock.clearTimeout(this.restoreTimer);
    this.tickTimer = null;
    this.restoreTimer = null;
    this.detachAll();
    const source = this.source;
    this.source = null;
    // The newest first: an old socat removes its link on exit, which is the new one's path by now.
    await source?.close();
    for (const old of this.abandoned.splice(0).reverse()) await old.close();
  }

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      this.catchUp();
      this.scheduleTick();
    }, this.tickMs);
  }

  private attach(link: ByteLink): void {
    const responder = new Responder(link, (item) => this.decide(item), { clock: this.clock, chunked: this.chunked, random: this.random });
    this.responders.set(link, responder);
    responder.start();
    const off = link.onDisconnect((err) => {
      off();
      responder.stop();
      this.responders.delete(link);
      this.emit('link', 'down', err.message);
    });
    this.emit('link', 'up', link.description);
  }

  private detachAll(): void {
    for (const responder of this.responders.values()) responder.stop();
    this.responders.clear();
  }

  private record(bytes: Uint8Array, request: JkRequest | null, outcome: RequestOutcome, detail: string): void {
    const entry: ReceivedRequest = { atMs: this.clock.now(), bytes, request, outcome, detail };
    this.requests.push(entry);
    if (this.requests.length > MAX_RECORDED_REQUESTS) this.requests.shift();
    this.emit('request', entry);
  }

  /** §2.11 points 2-4: what to do with one framer output. */
  private decide(item: JkFramerOutput): ReplyPlan | null {
    if (item.kind === 'discarded') {
      this.record(item.bytes, null, 'ignored', `${item.code}: ${item.detail}`);
      return null;
    }
    const parsed = parseRequest(item.bytes);
    if (isJkError(parsed)) {
      this.record(item.bytes, null, 'ignored', `${parsed.code}: ${parsed.detail}`);
      return null;
    }
    const ignore = (detail: string): null => (this.record(item.bytes, parsed, 'ignored', detail), null);
    if (parsed.transmissionType !== JkTransmissionType.request) return ignore(`transmission type ${parsed.transmissionType} is not a request`);
    const now = this.clock.now();
    if (this.faults.isSilent(now)) return ignore('silent (fault)');

    switch (parsed.command) {
      case JkCommand.readAll:
      case JkCommand.read: {
        // §2.3: id 0x00 or the 20-byte form without an id; single-id reads are unverified (§5 q3).
        if (parsed.dataId !== null && parsed.dataId !== 0) return ignore(`read of single id ${parsed.dataId} is not supported`);
        this.record(item.bytes, parsed, 'read', '');
        return this.readReply(parsed.command);
      }
      case JkCommand.pair:
        this.pairedUntilMs = now + PAIR_WINDOW_MS;
        this.record(item.bytes, parsed, 'pair', 'paired; no reply (esphome#341)');
        return null;
      case JkCommand.write:
        return this.write(item.bytes, parsed, now, ignore);
      default:
        // 0x01 activation: "reply with something short or nothing" (§2.11 point 4): nothing.
        return ignore(`command ${parsed.command} is not answered`);
    }
  }

  private replyDelay(): number {
    const late = this.faults.lateMs;
    if (late !== null) return late;
    const { min, max } = this.replyDelayMs;
    // Node timers count whole milliseconds; rounding up never answers before `min`.
    return Math.ceil(min + (max - min) * this.random());
  }

  private readReply(command: number): ReplyPlan {
    const requestedAtMs = this.clock.now();
    const f = this.faults;
    const reported = this.reportedSnapshot(command);
    const latePoison = f.lateMs !== null && f.latePoisoned;
    const snapshot = latePoison ? poisoned(reported) : reported;
    const wire = f.applyToWire(encodeResponse(snapshot), () => encodeResponse(poisoned(reported)), this.random);
    const carried = wire.poisoned ? poisoned(reported) : snapshot;
    return {
      bytes: wire.bytes,
      delayMs: this.replyDelay(),
      onWritten: () => {
        const atMs = this.clock.now();
        if (wire.intact) this.lastServed = { atMs, snapshot };
        this.emit('served', { atMs, requestedAtMs, snapshot: carried, bytes: wire.bytes, intact: wire.intact });
      },
    };
  }

  /** §2.8: after a pair frame, 0xAB/0xAC with a one-byte value switch the MOSFETs. */
  private write(bytes: Uint8Array, req: JkRequest, now: number, ignore: (detail: string) => null): ReplyPlan | null {
    if (now > this.pairedUntilMs) return ignore('write without a preceding pair frame');
    if (req.value.length !== 1) return ignore('write without a one-byte value');
    const on = req.value[0] !== 0;
    if (req.dataId === 0xab) this.settings.chargeMosfetSwitch = on;
    else if (req.dataId === 0xac) this.settings.dischargeMosfetSwitch = on;
    else return ignore(`write to id ${req.dataId} is not supported (only 0xAB/0xAC, §2.8)`);
    this.record(bytes, req, 'write', `${req.dataId === 0xab ? 'charge' : 'discharge'} MOSFET switch ${on ? 'on' : 'off'}`);
    // The reply format is unverified (§2.8 point 4): cmd 0x02 echoing [id][value], as esphome parses it.
    return {
      bytes: buildFrame(
        { command: JkCommand.write, source: JkFrameSource.bms, transmissionType: JkTransmissionType.reply },
        Uint8Array.of(req.dataId, req.value[0]),
      ),
      delayMs: this.replyDelay(),
    };
  }
}
