/**
 * What the virtual inverter transmits on its own, per profile (inverter-can-protocols.md §8):
 * Pylon/Goodwe 0x305 8×00 every second (§3.1), Deye 0x305 only as a reply to the battery's 0x356
 * with the occasional late reply (§8, YamBMS), SMA 0x305/0x306/0x307 with measured data every
 * second (§5.4), Victron GX 0x305/0x306/0x307 every second (§6.1), Pylon HV 0x4200 requests every
 * poll period (§7: ensemble each time, equipment until answered and then every equipmentEveryMs,
 * as Battery-Emulator's battery side asks 0x02 until it has the equipment data), or nothing.
 *
 * Faults: off (nothing is sent) and late (every heartbeat or reply comes this much later).
 */
import type { Clock } from '../../bridge/src/clock';
import { PYLON_HV_EQUIPMENT_IDS, encodeInverterMessage, encodePylonHvRequest, inverterHeartbeatFrames, type CanFrame } from '../../bridge/src/protocol/can';
import type { InverterProfile } from './profiles';

/** The SI's view of the battery for its 0x305/0x306/0x307 (§5.4); + = charging. */
export interface SmaReport {
  voltageV: number;
  currentA: number;
  temperatureC: number;
  socPct: number;
  sohPct: number;
  /** 1 Operating, 4 Failure (§5.4 0x306 byte 3). */
  operatingState: number;
  /** Active error number, e.g. 952 for F952 ExtBMSTimeout (§5.5); 0 = none. */
  activeErrorNumber: number;
  chargeVoltageSetpointV: number;
}

export interface HeartbeatOptions {
  profile: InverterProfile;
  clock: Clock;
  /** Transmits one frame; failures are the caller's to record. */
  send(frame: CanFrame): void;
  /** sma-data only. */
  smaReport(): SmaReport;
}

/** SI 0x306 byte 2: "Charging procedure (10 when external BMS)" (§5.4). */
const SMA_CHARGING_PROCEDURE_EXTERNAL_BMS = 10;

export class Heartbeat {
  private readonly profile: InverterProfile;
  private readonly clock: Clock;
  private readonly options: HeartbeatOptions;
  private timer: unknown;
  private replyPending = false;
  private running = false;
  private nextLateReplyAtMs = Number.POSITIVE_INFINITY;
  private enabledValue = true;
  private lateValueMs = 0;
  private sentCount = 0;
  /** Pylon HV: when the battery last answered the equipment request (its 0x7320). */
  private equipmentAnsweredAtMs: number | null = null;

  constructor(options: HeartbeatOptions) {
    this.options = options;
    this.profile = options.profile;
    this.clock = options.clock;
  }

  /** false = the "heartbeat off" fault: nothing is sent. */
  get enabled(): boolean {
    return this.enabledValue;
  }

  /** Extra delay of every heartbeat or reply (the "late" fault); 0 = on time. */
  get lateMs(): number {
    return this.lateValueMs;
  }

  get sent(): number {
    return this.sentCount;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const late = this.profile.lateReplies;
    if (late !== null) this.nextLateReplyAtMs = this.clock.now() + late.everyMs;
    if (this.isPeriodic()) this.schedulePeriodic();
  }

  stop(): void {
    this.running = false;
    this.replyPending = false;
    this.cancelTimer();
  }

  setEnabled(on: boolean): void {
    this.enabledValue = on;
  }

  setLate(ms: number): void {
    this.lateValueMs = ms;
    // A periodic heartbeat takes the new delay from the next beat on, not after the old one.
    if (this.running && this.isPeriodic()) {
      this.cancelTimer();
      this.schedulePeriodic();
    }
  }

  /** Every frame the inverter hears from the battery; a Deye answers 0x356. */
  onBatteryFrame(frame: CanFrame): void {
    const hv = this.profile.pylonHv;
    if (hv !== null && frame.ext === true && frame.id === PYLON_HV_EQUIPMENT_IDS[1] + hv.variant.address) this.equipmentAnsweredAtMs = this.clock.now();
    if (!this.running || this.profile.heartbeat !== 'reply-to-356' || frame.id !== 0x356 || frame.ext === true) return;
    // One answer at a time: while a reply is held back, further 0x356 go unanswered, which is
    // what makes a late Deye reply visible to the bridge as a gap (§8).
    if (this.replyPending) return;
    let delayMs = this.profile.replyDelayMs + this.lateValueMs;
    const late = this.profile.lateReplies;
    if (late !== null && this.clock.now() >= this.nextLateReplyAtMs) {
      delayMs += late.delayMs;
      this.nextLateReplyAtMs += late.everyMs;
    }
    this.replyPending = true;
    this.timer = this.clock.setTimeout(() => {
      this.replyPending = false;
      this.timer = undefined;
      this.emit();
    }, delayMs);
  }

  private isPeriodic(): boolean {
    return this.profile.heartbeat === 'periodic-1s' || this.profile.heartbeat === 'sma-data' || this.profile.heartbeat === 'victron-gx' || this.profile.heartbeat === 'pylon-hv-poll';
  }

  private schedulePeriodic(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      this.emit();
      this.schedulePeriodic();
    }, this.profile.heartbeatPeriodMs + this.lateValueMs);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private emit(): void {
    if (!this.running || !this.enabledValue) return;
    for (const frame of this.frames()) this.options.send(frame);
    this.sentCount += 1;
  }

  private frames(): CanFrame[] {
    switch (this.profile.heartbeat) {
      case 'periodic-1s':
      case 'reply-to-356':
        return inverterHeartbeatFrames('pylon-lv');
      case 'victron-gx':
        return inverterHeartbeatFrames('victron');
      case 'sma-data': {
        const r = this.options.smaReport();
        return [
          encodeInverterMessage({ kind: 'sma-battery', voltageV: r.voltageV, currentA: r.currentA, temperatureC: r.temperatureC, socPct: r.socPct }),
          encodeInverterMessage({
            kind: 'sma-status',
            sohPct: r.sohPct,
            chargingProcedure: SMA_CHARGING_PROCEDURE_EXTERNAL_BMS,
            operatingState: r.operatingState,
            activeErrorNumber: r.activeErrorNumber,
            chargeVoltageSetpointV: r.chargeVoltageSetpointV,
          }),
          // Relays closed and AC2 valid while operating, as a grid-tied SI reports (§5.4 observed bits).
          encodeInverterMessage({ kind: 'sma-relays', relayBits: 0, ac2RelayClosed: r.operatingState === 1, ac2VoltageValid: true }),
        ];
      }
      case 'pylon-hv-poll': {
        const hv = this.profile.pylonHv;
        if (hv === null) return [];
        const answered = this.equipmentAnsweredAtMs;
        const equipmentDue = answered === null || this.clock.now() - answered >= hv.equipmentEveryMs;
        const ensemble = encodePylonHvRequest({ kind: 'info', info: 'ensemble' });
        return equipmentDue ? [encodePylonHvRequest({ kind: 'info', info: 'equipment' }), ensemble] : [ensemble];
      }
      case 'none':
        return [];
    }
  }
}
