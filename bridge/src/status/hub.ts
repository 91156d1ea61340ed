/**
 * Where the observers (MQTT, web page, /metrics) read the bridge: the latest status, a bounded
 * history for the charts, recent events and the last frames sent. The runtime writes; observers
 * subscribe. Writing costs the chart's turn almost nothing: listeners run later, on their own
 * turn (setImmediate), coalesced, so a slow observer never delays a frame.
 */
import type { CanFrame } from '../protocol/can/frame';
import type { BridgeStatus } from './model';

export interface HistorySample {
  atMs: number;
  voltageV: number;
  currentA: number;
  socPct: number;
  chargeVoltageV: number | null;
  chargeCurrentA: number | null;
  dischargeCurrentA: number | null;
}

export interface BridgeEvent {
  atMs: number;
  level: 'info' | 'warn';
  text: string;
}

export interface SentFrame {
  atMs: number;
  frame: CanFrame;
}

export interface HubOptions {
  historyHours: number;
  historySampleS: number;
  /** Recent events kept. */
  events?: number;
  /** Frames sent kept (a full set is 6-10 frames per second). */
  frames?: number;
}

/** A fixed-size ring: pushing beyond capacity drops the oldest. */
export class Ring<T> {
  private readonly items: T[] = [];
  constructor(readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  toArray(): T[] {
    return [...this.items];
  }
  get length(): number {
    return this.items.length;
  }
}

type Listener<T> = (value: T) => void;

export class StatusHub {
  private statusValue: BridgeStatus | null = null;
  private statusJson = '';
  private pendingStatus: BridgeStatus | null = null;
  private flushScheduled = false;
  private readonly statusListeners = new Set<Listener<BridgeStatus>>();
  private readonly eventListeners = new Set<Listener<BridgeEvent>>();
  private readonly sampleMs: number;
  private lastSampleMs = -Infinity;
  readonly history: Ring<HistorySample>;
  readonly events: Ring<BridgeEvent>;
  readonly frames: Ring<SentFrame>;
  framesSent = 0;

  constructor(
    options: HubOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.sampleMs = options.historySampleS * 1000;
    this.history = new Ring(Math.ceil((options.historyHours * 3600) / options.historySampleS));
    this.events = new Ring(options.events ?? 100);
    this.frames = new Ring(options.frames ?? 300);
  }

  get status(): BridgeStatus | null {
    return this.statusValue;
  }

  /** Called by the runtime on every chart change; observers hear only real changes, on a later turn. */
  update(status: BridgeStatus): void {
    this.pendingStatus = status;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const status = this.pendingStatus;
    this.pendingStatus = null;
    if (status === null) return;
    const at = this.now();
    if (at - this.lastSampleMs >= this.sampleMs && status.packs.length > 0) {
      this.lastSampleMs = at;
      this.history.push(sampleOf(status, at));
    }
    // Serialising the status only tells listeners apart from repeats; with nobody listening (no
    // page open, no MQTT) that work per poll is skipped.
    if (this.statusListeners.size === 0) {
      this.statusValue = status;
      this.statusJson = '';
      return;
    }
    const json = JSON.stringify(status);
    if (json === this.statusJson) return;
    this.statusJson = json;
    this.statusValue = status;
    for (const listener of this.statusListeners) safely(listener, status);
  }

  event(level: BridgeEvent['level'], text: string): void {
    const event = { atMs: this.now(), level, text };
    this.events.push(event);
    for (const listener of this.eventListeners) setImmediate(() => safely(listener, event));
  }

  frameSent(frame: CanFrame): void {
    this.framesSent += 1;
    this.frames.push({ atMs: this.now(), frame });
  }

  onStatus(listener: Listener<BridgeStatus>): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  onEvent(listener: Listener<BridgeEvent>): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }
}

/** The bank's voltage, current and SoC (sum and mean over packs) and the limits on the bus. */
function sampleOf(status: BridgeStatus, atMs: number): HistorySample {
  const packs = status.packs;
  const sum = (f: (p: BridgeStatus['packs'][number]) => number) => packs.reduce((acc, p) => acc + f(p), 0);
  return {
    atMs,
    voltageV: sum((p) => p.voltageV) / packs.length,
    currentA: sum((p) => p.currentA),
    socPct: sum((p) => p.socPct) / packs.length,
    chargeVoltageV: status.limits?.chargeVoltageV ?? null,
    chargeCurrentA: status.limits?.chargeCurrentA ?? null,
    dischargeCurrentA: status.limits?.dischargeCurrentA ?? null,
  };
}

/** An observer's bug is its own: it never reaches the runtime or the chart. */
function safely<T>(listener: Listener<T>, value: T): void {
  try {
    listener(value);
  } catch (err) {
    process.emitWarning(`status observer failed: ${(err as Error).message}`);
  }
}
