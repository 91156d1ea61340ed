/**
 * Issue 11 where the bytes are: each chemistry rule and each inverter quirk setting tested by the
 * frame it changes on the bus, driven through the statechart on a simulated clock.
 */
import { describe, expect, it } from 'vitest';
import type { BridgeConfigInput } from '../../src/config/schema';
import type { CanFrame } from '../../src/protocol/can';
import type { JkSettings } from '../../src/protocol/jk/snapshot';
import { snapshot, type SnapshotOptions } from '../support/snapshot-builder';
import { startHarness, type SentSet } from './harness';

const hex = (frame: CanFrame | undefined) =>
  frame === undefined ? 'none' : Array.from(frame.data, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
const frameOf = (set: SentSet, id: number) => set.frames.find((f) => f.id === id);

/** The real 14S NMC pack: JK cell OVP 4.15 V, pack 55.78 V, SoC 100 %. */
const NMC_14S: Partial<JkSettings> = { cellOvpMv: 4150, cellOvpRecoveryMv: 4050, cellUvpMv: 3000, packOvpMv: 58_800, packUvpMv: 41_300, batteryType: 1 };
const nmc = (o: SnapshotOptions = {}) => snapshot({ cellsMv: Array.from({ length: 14 }, () => 3984), packMv: 55_780, socPct: 100, settings: NMC_14S, ...o });

describe('chemistry from the BMS', () => {
  it('a 14S NMC pack at 55.78 V is charged towards NMC bulk, not told 48.3 V and 0 A', () => {
    const h = startHarness();
    h.snapshot(nmc());
    const d = h.last().decoded;
    // Before: 351#E30100001C02C001 (CVL 48.3 V, CCL 0). Now: bulk 4.05 V × 14 = 56.7 V, charging allowed.
    expect(d.chargeVoltageV).toBe(56.7);
    expect(d.chargeCurrentLimitA).toBeGreaterThan(0);
    expect(d.requests?.chargeEnable).toBe(true);
    expect(h.actor.getSnapshot().context.policy?.chemistry).toBe('nmc');
  });

  it('a contradicting config is a fault with its line and zero limits until the BMS settings change', () => {
    const h = startHarness({ control: { chargeStopCellMv: 3700 } });
    const jk = { packOvpMv: 62_000 };
    h.snapshot(snapshot({ cellMv: 3300, settings: jk }));
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.actor.getSnapshot().context.faultReason).toBe('settings contradict: bms.cellOvp 3650 mV <= control.chargeStopCellMv 3700 mV');
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0, requests: { chargeEnable: false } });
    h.feed(snapshot({ cellMv: 3300, settings: jk }), 5000);
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.sentSince(0).every((s) => s.decoded.chargeCurrentLimitA === 0 && s.decoded.dischargeCurrentLimitA === 0)).toBe(true);
    // The user raises OVP in the JK app: recovery after recoverAfter snapshots, limits from 0.
    h.feed(snapshot({ cellMv: 3300, settings: { ...jk, cellOvpMv: 3750 } }), 2000);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.actor.getSnapshot().context.faultReason).toBeNull();
  });

  it('in stale, CVL is never below the last known pack voltage (up to the CVL maximum)', () => {
    const h = startHarness({ control: { phase: { absorptionS: 10 }, voltage: { floatTransitionPackMvPerS: 1000 } } });
    h.feed(snapshot({ cellMv: 3460, socPct: 99 }), 11_000); // bulk → absorption → float
    h.feed(snapshot({ cellMv: 3380, socPct: 99 }), 3000); // float CVL 54.0 V below the 54.08 V pack
    expect(h.last().decoded.chargeVoltageV).toBe(54);
    h.advance(h.config.state.staleAfterMs + 50);
    expect(h.state('bms')).toBe('stale');
    expect(h.last().decoded.chargeVoltageV).toBe(54.1);
    expect(hex(frameOf(h.last(), 0x351)).slice(0, 4)).toBe('1D02');
  });

  it('in stale, a pack above the CVL maximum gets the maximum (invariant 4), not its own voltage', () => {
    const h = startHarness();
    h.snapshot(snapshot({ cellMv: 3480 }));
    h.advance(h.config.state.staleAfterMs + 50);
    expect(h.last().decoded.chargeVoltageV).toBe(55.2);
  });
});

describe('sma-si rules (SMA TI, inverter-can-protocols.md §5)', () => {
  const sma: BridgeConfigInput = { can: { bus: 'stdout', profile: 'sma-si', periodMs: 1000, reconnectInitialMs: 1000, reconnectMaxMs: 8000 } };

  it('a JK with UVP 3.0 V: DVL 51.2 V is sent as 48.0 V, inside 41-48 V', () => {
    const h = startHarness(sma);
    h.snapshot(snapshot({ settings: { cellUvpMv: 3000, packUvpMv: 48_000 } }));
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.last().decoded.dischargeVoltageV).toBe(48);
    expect(hex(frameOf(h.last(), 0x351)).slice(12)).toBe('E001');
  });

  // The 200 ms per id is kept by the CAN link actor on the wire, from each frame's acknowledgement
  // (can-link-actor.test.ts: a decrease handed over 10 ms after a set leaves 205 ms after it).
  it('the chart hands a decrease over at once (10 ms after the set); the wire pacing is the link\'s', () => {
    const h = startHarness();
    h.snapshot(snapshot({ cellMv: 3300 }));
    h.clock.increment(10);
    h.snapshot(snapshot({ cellsMv: Array.from({ length: 16 }, (_, i) => (i === 5 ? 3520 : 3300)) }));
    expect(h.sent.map((s) => s.atMs)).toEqual([0, 10]);
  });

  it('a tripped cell OVP is a warning pair on the SI by default (an alarm would stop it)', () => {
    const h = startHarness(sma);
    h.snapshot(snapshot({ alarms: ['cellOverVoltage'], chargeMosfet: false }));
    expect(h.last().decoded.alarms?.highVoltage).toBe(false);
    expect(h.last().decoded.warnings?.highVoltage).toBe(true);
  });
});

describe('Pylon 0x359 protection vs warning placement (V1.2 §3.2, issue 11)', () => {
  const tripped = snapshot({ alarms: ['cellOverVoltage'], chargeMosfet: false });

  it('default: a tripped JK protection sets the protection byte 0 bit 1, not warning byte 2', () => {
    const h = startHarness();
    h.snapshot(tripped);
    expect(hex(frameOf(h.last(), 0x359))).toBe('02000000015' + '04E');
  });

  it('can.bmsProtections warning (Solis "BMS error"): byte 2 bit 1 instead', () => {
    const h = startHarness({ can: { bus: 'stdout', periodMs: 1000, reconnectInitialMs: 1000, reconnectMaxMs: 8000, bmsProtections: 'warning' } });
    h.snapshot(tripped);
    expect(hex(frameOf(h.last(), 0x359))).toBe('00000200015' + '04E');
  });
});

describe('control.stop.currentA reaches 0x351 (Sofar ignores 0 A, §10.5)', () => {
  it('0.1 A on a stopped direction, in normal operation and when stale', () => {
    const h = startHarness({ control: { stop: { currentA: 0.1 } } });
    h.snapshot(snapshot({ cellsMv: Array.from({ length: 16 }, (_, i) => (i === 5 ? 3520 : 3300)) }));
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0.1, requests: { chargeEnable: false } });
    expect(hex(frameOf(h.last(), 0x351)).slice(4, 8)).toBe('0100');
    h.advance(h.config.state.staleAfterMs + 50);
    expect(hex(frameOf(h.last(), 0x351)).slice(4, 12)).toBe('01000100');
  });

  it('0 A by default', () => {
    const h = startHarness();
    h.snapshot(snapshot({ cellsMv: Array.from({ length: 16 }, (_, i) => (i === 5 ? 3520 : 3300)) }));
    expect(hex(frameOf(h.last(), 0x351)).slice(4, 8)).toBe('0000');
  });
});

describe('Goodwe module count = capacity × nominal voltage / 5.4 kWh (§4)', () => {
  const goodwe: BridgeConfigInput = { can: { bus: 'stdout', profile: 'goodwe-lv', periodMs: 1000, reconnectInitialMs: 1000, reconnectMaxMs: 8000 } };
  it.each([
    ['8S LiFePO4 280 Ah (7.2 kWh)', { cellsMv: Array.from({ length: 8 }, () => 3300), settings: { packOvpMv: 29_200, packUvpMv: 22_400 } }, 1],
    ['16S LiFePO4 280 Ah (14.3 kWh)', {}, 3],
    ['14S NMC 280 Ah (14.1 kWh)', { cellsMv: Array.from({ length: 14 }, () => 3800), settings: NMC_14S }, 3],
    ['14S NMC 100 Ah (5.0 kWh)', { cellsMv: Array.from({ length: 14 }, () => 3800), settings: { ...NMC_14S, capacityAh: 100 } }, 1],
  ] as const)('%s → byte 4 = %s', (_, options, modules) => {
    const h = startHarness(goodwe);
    h.snapshot(snapshot(options as SnapshotOptions));
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(frameOf(h.last(), 0x359)?.data[4]).toBe(modules);
  });
});
