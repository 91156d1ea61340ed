/** The status people see, from the real statechart, and the hub that hands it to observers. */
import { describe, expect, it, vi } from 'vitest';
import { StatusHub } from '../../src/status/hub';
import { bridgeStatus, type BridgeStatus } from '../../src/status/model';
import { startHarness } from '../machine/harness';
import { cellsWithOne, snapshot } from '../support/snapshot-builder';

const healthy = snapshot({ cellMv: 3300, socPct: 60 });
const statusOf = (h: ReturnType<typeof startHarness>) => {
  const s = h.actor.getSnapshot();
  return bridgeStatus(s.value, s.context, h.clock.now());
};

describe('bridgeStatus', () => {
  it('before any data: idle, no packs, no limits', () => {
    const h = startHarness();
    expect(statusOf(h)).toMatchObject({ states: { bms: 'idle', inverter: 'unknown', can: 'up' }, packs: [], limits: null, faults: [] });
  });

  it('connected: every cell, min/max, the limits as sent with their reasons and flags', () => {
    const h = startHarness();
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3420), socPct: 60 }));
    const s = statusOf(h);
    expect(s.states.bms).toBe('connected');
    expect(s.packs[0]).toMatchObject({ id: 'pack1', socPct: 60, cellMaxNumber: 6, cellMaxMv: 3420, cellMinMv: 3300, cellDeltaMv: 120 });
    expect(s.packs[0].cellsMv).toHaveLength(16);
    expect(s.limits).toMatchObject({ chargeCurrentA: h.last().decoded.chargeCurrentLimitA, dischargeCurrentA: 60, chargeAllowed: true, dischargeAllowed: true });
    expect(s.limits!.reasons.chargeCurrent).toContain('cell voltage table');
  });

  it('stale and fault: the zero limits the bus carries, with the reason, and the fault listed', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(3000);
    let s = statusOf(h);
    expect(s.states.bms).toBe('stale');
    expect(s.limits).toMatchObject({ chargeCurrentA: 0, dischargeCurrentA: 0, chargeAllowed: false, reasons: { chargeCurrent: 'BMS data stale' } });
    expect(s.warnings).toContain('communication');
    h.advance(5000);
    s = statusOf(h);
    expect(s.states.bms).toBe('fault');
    expect(s.faults).toEqual(['no valid BMS data for 8 s']);
    h.advance(4000);
    expect(statusOf(h).faults).toEqual(['no valid BMS data for 12 s']); // not frozen at fault entry
    expect(s.alarms).toContain('systemError');
    h.advance(10_000);
    expect(statusOf(h)).toMatchObject({ states: { bms: 'fault (silent)' }, limits: null });
  });

  it('active commands with their source; lapsed ones gone', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.actor.send({ type: 'COMMAND', command: { command: 'deny-discharge', expiresInS: 2 }, source: 'mqtt', atMs: h.clock.now() });
    expect(statusOf(h).commands.denyDischarge).toEqual({ untilMs: 2000, source: 'mqtt' });
    h.feed(healthy, 2500);
    expect(statusOf(h).commands.denyDischarge).toBeNull();
  });
});

describe('StatusHub', () => {
  const base = (() => {
    const h = startHarness();
    h.snapshot(healthy);
    return statusOf(h);
  })();
  const withSoc = (soc: number): BridgeStatus => ({ ...base, packs: [{ ...base.packs[0], socPct: soc }] });
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('observers hear changes on a later turn, coalesced to the latest, never a repeat', async () => {
    const hub = new StatusHub({ historyHours: 1, historySampleS: 10 });
    const heard: number[] = [];
    hub.onStatus((s) => heard.push(s.packs[0].socPct));
    hub.update(withSoc(1));
    hub.update(withSoc(2));
    expect(heard).toEqual([]);
    await turn();
    expect(heard).toEqual([2]);
    hub.update(withSoc(2));
    await turn();
    expect(heard).toEqual([2]);
  });

  it('a failing observer reaches neither the runtime nor the other observers', async () => {
    const hub = new StatusHub({ historyHours: 1, historySampleS: 10 });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const heard: number[] = [];
    hub.onStatus(() => {
      throw new Error('observer bug');
    });
    hub.onStatus((s) => heard.push(s.packs[0].socPct));
    expect(() => hub.update(withSoc(3))).not.toThrow();
    await turn();
    expect(heard).toEqual([3]);
    expect(warn).toHaveBeenCalledWith('status observer failed: observer bug');
    warn.mockRestore();
  });

  it('history: one sample per period, bounded to the configured hours', async () => {
    let now = 0;
    const hub = new StatusHub({ historyHours: 1 / 60, historySampleS: 10 }, () => now);
    for (let i = 0; i < 30; i++) {
      now = i * 5000;
      hub.update(withSoc(i));
      await turn();
    }
    // A minute at one sample per 10 s: 6 kept, the newest last, every other update sampled.
    expect(hub.history.toArray().map((s) => s.socPct)).toEqual([18, 20, 22, 24, 26, 28]);
  });

  it('events and frames are bounded', () => {
    const hub = new StatusHub({ historyHours: 1, historySampleS: 10, events: 3, frames: 2 });
    for (let i = 0; i < 5; i++) hub.event('info', `e${i}`);
    expect(hub.events.toArray().map((e) => e.text)).toEqual(['e2', 'e3', 'e4']);
    for (let i = 0; i < 5; i++) hub.frameSent({ id: 0x351 + i, ext: false, data: new Uint8Array(0) });
    expect(hub.frames.toArray().map((f) => f.frame.id)).toEqual([0x354, 0x355]);
    expect(hub.framesSent).toBe(5);
  });
});
