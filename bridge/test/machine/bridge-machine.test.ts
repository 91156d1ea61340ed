import { describe, expect, it } from 'vitest';
import { cellsWithOne, snapshot } from '../support/snapshot-builder';
import { startHarness } from './harness';

const healthy = snapshot({ cellMv: 3300, socPct: 60 });

describe('bms region: idle', () => {
  it('transmits nothing before the first valid snapshot, however long it waits', () => {
    const h = startHarness();
    h.advance(20_000);
    expect(h.state('bms')).toBe('idle');
    expect(h.sent).toHaveLength(0);
  });

  it('implausible data before any valid snapshot keeps it idle and silent', () => {
    const h = startHarness();
    h.actor.send({ type: 'BMS.IMPLAUSIBLE', pack: '1', problems: ['cell 3 at 0 mV'], atMs: 0 });
    h.advance(2000);
    expect(h.state('bms')).toBe('idle');
    expect(h.sent).toHaveLength(0);
  });

  it('a first snapshot with an active protection goes straight to fault with the reason', () => {
    const h = startHarness();
    h.snapshot(snapshot({ alarms: ['batteryOverTemperature'] }));
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.actor.getSnapshot().context.faultReason).toBe('BMS protection: batteryOverTemperature');
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.alarms?.systemError).toBe(true);
  });
});

describe('bms region: connected', () => {
  it('sends the full frame set at once on the first snapshot, then every period', () => {
    const h = startHarness();
    h.advance(300);
    h.snapshot(healthy);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0].atMs).toBe(300);
    expect(h.sent[0].frames.map((f) => f.id)).toEqual([0x359, 0x351, 0x355, 0x356, 0x35c, 0x35e]);
    h.feed(healthy, 3000);
    // periodic sets at 1000, 2000, 3000 ms on the tx region's own timer
    expect(h.sent.map((s) => s.atMs)).toEqual([300, 1000, 2000, 3000]);
  });

  it('reports the policy limits, measurements and enable flags', () => {
    const h = startHarness();
    h.snapshot(healthy);
    const d = h.last().decoded;
    expect(d.chargeCurrentLimitA).toBe(50);
    expect(d.dischargeCurrentLimitA).toBe(60);
    expect(d.voltageV).toBeCloseTo(16 * 3.3, 2);
    expect(d.socPct).toBe(60);
    expect(d.requests).toMatchObject({ chargeEnable: true, dischargeEnable: true });
    expect(d.chargeVoltageV).toBeCloseTo(16 * 3.45, 1);
  });

  it('sends a limit decrease at once, not at the next period', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(1200);
    const before = h.sent.length;
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3500) }));
    expect(h.sent.length).toBe(before + 1);
    expect(h.last().atMs).toBe(1200);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.requests?.chargeEnable).toBe(false);
  });

  it('waits for the period to send an unchanged or higher limit', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(1200);
    const before = h.sent.length;
    h.snapshot(healthy);
    expect(h.sent.length).toBe(before);
  });

  it('stays connected while snapshots keep arriving, far beyond staleAfterMs', () => {
    const h = startHarness();
    h.feed(healthy, 20_000);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
  });

  it('goes to fault on implausible data', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.actor.send({ type: 'BMS.IMPLAUSIBLE', pack: '1', problems: ['expected 16 cells, BMS reports 15'], atMs: 100 });
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.actor.getSnapshot().context.faultReason).toBe('implausible BMS data: expected 16 cells, BMS reports 15');
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(0);
  });

  it('goes to fault on a configured protection alarm, but not on a directional one', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.snapshot(snapshot({ alarms: ['cellOverVoltage'], chargeMosfet: false }));
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(60);
    h.snapshot(snapshot({ alarms: ['mosfetOverTemperature'] }));
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
  });
});

describe('bms region: stale and fault', () => {
  it('goes stale after staleAfterMs without data: zero limits and cleared flags sent at once', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(2950);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    h.advance(50);
    expect(h.state('bms')).toBe('stale');
    const set = h.last();
    expect(set.atMs).toBe(3000);
    expect(set.decoded.chargeCurrentLimitA).toBe(0);
    expect(set.decoded.dischargeCurrentLimitA).toBe(0);
    expect(set.decoded.requests).toMatchObject({ chargeEnable: false, dischargeEnable: false, forceChargeI: false });
    expect(set.decoded.warnings?.communication).toBe(true);
    // last known measurements are still reported, CVL is never 0
    expect(set.decoded.voltageV).toBeCloseTo(52.8, 2);
    expect(set.decoded.chargeVoltageV).toBeGreaterThan(0);
  });

  it('keeps sending the zero-limit set every period while stale', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(4500);
    const staleSets = h.sentSince(3000);
    expect(staleSets.length).toBeGreaterThanOrEqual(2);
    for (const set of staleSets) expect(set.decoded.chargeCurrentLimitA).toBe(0);
  });

  it('stale → fault after faultAfterMs → silent after silenceAfterMs', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(3000 + 5000);
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.actor.getSnapshot().context.faultReason).toBe('no valid BMS data');
    expect(h.last().decoded.alarms?.systemError).toBe(true);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    h.advance(10_000);
    expect(h.state('bms')).toEqual({ fault: 'silent' });
    const silentSince = h.clock.now();
    h.advance(5000);
    expect(h.sentSince(silentSince)).toHaveLength(0);
  });

  it('never goes silent when silenceAfterMs is 0', () => {
    const h = startHarness({ state: { silenceAfterMs: 0 } });
    h.snapshot(healthy);
    h.advance(60_000);
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.sentSince(59_000).length).toBeGreaterThan(0);
  });

  it('stale → connected on the next valid snapshot; limits restart from 0 through hold and ramp', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(3500);
    expect(h.state('bms')).toBe('stale');
    h.snapshot(healthy);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    h.feed(healthy, 29_000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    h.feed(healthy, 3000);
    const ccl = h.last().decoded.chargeCurrentLimitA ?? 0;
    expect(ccl).toBeGreaterThan(0);
    expect(ccl).toBeLessThan(50);
    h.feed(healthy, 12_000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(50);
  });

  it('recovers from fault only after recoverAfter consecutive valid snapshots without protection', () => {
    const h = startHarness();
    h.snapshot(snapshot({ alarms: ['boxOverTemperature'] }));
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    h.snapshot(healthy);
    h.snapshot(healthy);
    h.snapshot(snapshot({ alarms: ['boxOverTemperature'] })); // resets the streak
    h.snapshot(healthy);
    h.snapshot(healthy);
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    h.actor.send({ type: 'BMS.IMPLAUSIBLE', pack: '1', problems: ['pack voltage'], atMs: h.clock.now() }); // resets too
    h.snapshot(healthy);
    h.snapshot(healthy);
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    h.snapshot(healthy);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.actor.getSnapshot().context.faultReason).toBeNull();
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0); // ramps back from 0
  });

  it('recovers from silent fault when the BMS returns', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(20_000);
    expect(h.state('bms')).toEqual({ fault: 'silent' });
    h.feed(healthy, 1500);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(0);
  });
});

describe('inverter region', () => {
  const heartbeat = { type: 'INVERTER.FRAME' as const, frame: { id: 0x305, data: new Uint8Array(8) } };

  it('unknown → alive on a frame → silent after inverterTimeoutMs → alive again by itself', () => {
    const h = startHarness();
    expect(h.state('inverter')).toBe('unknown');
    h.actor.send(heartbeat);
    expect(h.state('inverter')).toBe('alive');
    h.advance(3000);
    h.actor.send(heartbeat); // restarts the timeout
    h.advance(3950);
    expect(h.state('inverter')).toBe('alive');
    h.advance(100);
    expect(h.state('inverter')).toBe('silent');
    h.actor.send(heartbeat);
    expect(h.state('inverter')).toBe('alive');
  });

  it('an inverter going silent does not change what is sent', () => {
    const h = startHarness();
    h.feed(healthy, 10_000);
    expect(h.state('inverter')).toBe('unknown');
    expect(h.last().decoded.chargeCurrentLimitA).toBe(50);
  });
});

describe('can region', () => {
  it('opening → up; CAN.DOWN → down, nothing sent, reopened after the back-off', () => {
    const h = startHarness();
    expect(h.state('can')).toEqual({ link: 'up' });
    h.snapshot(healthy);
    h.advance(200);
    h.actor.send({ type: 'CAN.DOWN', error: 'ENOBUFS: no buffer space' });
    expect(h.state('can')).toBe('down');
    const downAt = h.clock.now();
    h.feed(healthy, 950);
    expect(h.sentSince(downAt)).toHaveLength(0);
    h.feed(healthy, 100);
    expect(h.state('can')).toEqual({ link: 'up' });
    expect(h.canLinkStarts).toBe(2);
    // the frame set goes out as soon as the link is back
    expect(h.sentSince(downAt)[0].atMs).toBe(downAt + 1000);
  });

  it('backs off exponentially while the bus cannot be opened, up to the maximum, and resets on success', () => {
    const h = startHarness({}, { canOpens: false });
    expect(h.state('can')).toBe('down');
    const startsAt = (ms: number) => {
      h.advance(ms - 50);
      const before = h.canLinkStarts;
      h.advance(50);
      return h.canLinkStarts - before;
    };
    expect(startsAt(1000)).toBe(1); // 1 s
    expect(startsAt(2000)).toBe(1); // 2 s
    expect(startsAt(4000)).toBe(1); // 4 s
    expect(startsAt(8000)).toBe(1); // 8 s (max)
    expect(startsAt(8000)).toBe(1); // stays at max
    h.canOpens = true;
    expect(startsAt(8000)).toBe(1);
    expect(h.state('can')).toEqual({ link: 'up' });
    // the back-off starts afresh once the link has been up as long as the longest back-off
    h.advance(7950);
    expect(h.actor.getSnapshot().context.canFailures).toBe(6);
    h.advance(50);
    expect(h.actor.getSnapshot().context.canFailures).toBe(0);
  });

  it('bug 9: a link lost again right after each reopen keeps backing off; one good period resets it', () => {
    const h = startHarness();
    const lose = () => h.actor.send({ type: 'CAN.DOWN', error: 'ENOBUFS: no buffer space' });
    const downFor = (): number => {
      const from = h.clock.now();
      while (h.state('can') === 'down') h.advance(50);
      return h.clock.now() - from;
    };
    lose();
    expect(downFor()).toBe(1000);
    lose(); // at once after the reopen
    expect(downFor()).toBe(2000);
    h.advance(8000); // up for reconnectMaxMs
    lose();
    expect(downFor()).toBe(1000);
  });
});

describe('shutdown', () => {
  it('sends one zero-limit set when it was passing limits', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(400);
    h.actor.send({ type: 'SHUTDOWN' });
    expect(h.last().atMs).toBe(400);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.requests?.dischargeEnable).toBe(false);
    // the periodic sender has nothing left to send (the process stops right after this)
    const count = h.sent.length;
    h.advance(2000);
    expect(h.sent.length).toBe(count);
  });

  it('sends nothing when idle', () => {
    const h = startHarness();
    h.actor.send({ type: 'SHUTDOWN' });
    expect(h.sent).toHaveLength(0);
  });
});

describe('issue 10 field bugs', () => {
  it('bug 2: a cable blip in float keeps float: CVL stays at the float voltage, currents restart from 0', () => {
    const h = startHarness({ control: { phase: { absorptionS: 10 }, voltage: { floatTransitionPackMvPerS: 1000 } } });
    const full = snapshot({ cellMv: 3460, socPct: 99 });
    const settled = snapshot({ cellMv: 3380, socPct: 99 });
    h.feed(full, 11_000); // bulk reached → absorption → float after 10 s
    h.feed(settled, 3000); // the float transition ramps the CVL down to 16 × 3.375 V
    expect(h.actor.getSnapshot().context.output?.phase).toBe('float');
    expect(h.last().decoded.chargeVoltageV).toBeCloseTo(54.0, 1);
    h.advance(4000); // the cable is out for 4 s: stale
    expect(h.state('bms')).toBe('stale');
    h.feed(settled, 1000);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.actor.getSnapshot().context.output?.phase).toBe('float');
    expect(h.last().decoded.chargeVoltageV).toBeCloseTo(54.0, 1);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    // the CVL never goes back up to bulk (55.2 V) while the current returns through hold and ramp;
    // while stale it is the float voltage or the 54.08 V pack, never below the pack (issue 11)
    h.feed(settled, 60_000);
    for (const set of h.sentSince(14_000)) expect([54.0, 54.1]).toContain(set.decoded.chargeVoltageV);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(42.5); // the cell table at 3.380 V
  });

  it('bug 5: after a 10-s stall the first frame set is the zero set, never the limits from before', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(400);
    const before = h.sent.length;
    // SIGSTOP for 10 s, then SIGCONT: time jumps and every expired timer fires at the new time,
    // the periodic send (due at 1000) before the stale timer (due at 3000).
    h.clock.increment(10_000);
    const after = h.sent.slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0].atMs).toBe(10_400);
    for (const set of after) {
      expect(set.decoded.chargeCurrentLimitA).toBe(0);
      expect(set.decoded.dischargeCurrentLimitA).toBe(0);
      expect(set.decoded.requests).toMatchObject({ chargeEnable: false, dischargeEnable: false });
    }
    expect(h.state('bms')).toBe('stale');
  });

  it('bug 9: a CVL decrease is sent at once, not at the next period', () => {
    // A cell table that allows full current up to 3.59 V, so only the CVL moves.
    const h = startHarness({ control: { tables: { chargeVsMaxCellMv: { points: [[3590, 1], [3600, 0]] } }, chargeStopCellMv: 3600 } });
    h.snapshot(healthy);
    h.advance(1200);
    const before = h.sent.length;
    expect(h.last().decoded.chargeVoltageV).toBeCloseTo(55.2, 1);
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3470) })); // 20 mV over bulk: the penalty lowers the CVL
    expect(h.sent.length).toBe(before + 1);
    expect(h.last().atMs).toBe(1200);
    expect(h.last().decoded.chargeVoltageV).toBeCloseTo((15 * 3300 + 3470 - 20) / 1000, 1);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(50);
  });
});
