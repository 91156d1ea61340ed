/**
 * A person's commands reach the bus through the policy: tested by the frames they change.
 * They only make the bridge more conservative; when they end, limits come back through hold and ramp.
 */
import { describe, expect, it } from 'vitest';
import type { BridgeCommand } from '../../src/control/commands';
import { cellsWithOne, snapshot } from '../support/snapshot-builder';
import { startHarness } from './harness';

const healthy = snapshot({ cellMv: 3300, socPct: 60 });
const command = (h: ReturnType<typeof startHarness>, c: BridgeCommand) =>
  h.actor.send({ type: 'COMMAND', command: c, source: 'mqtt', atMs: h.clock.now() });

describe('commands on the bus', () => {
  it('deny-charge zeroes CCL and clears charge enable with the next snapshot, sent at once, discharge untouched', () => {
    const h = startHarness();
    h.snapshot(healthy);
    h.advance(1200);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(50);
    command(h, { command: 'deny-charge', expiresInS: 60 });
    const before = h.sent.length;
    h.snapshot(healthy);
    expect(h.sent.length).toBe(before + 1);
    expect(h.last().atMs).toBe(1200);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.requests?.chargeEnable).toBe(false);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(60);
    expect(h.actor.getSnapshot().context.output?.reasons.chargeCurrent).toBe('charge denied by command (mqtt)');
  });

  it('deny-discharge zeroes DCL; allow-discharge ends it and DCL returns only after the recovery hold', () => {
    const h = startHarness({ control: { current: { dischargeRecovery: { holdS: 5, rateAPerS: 1000 } } } });
    h.snapshot(healthy);
    command(h, { command: 'deny-discharge', expiresInS: 600 });
    h.feed(healthy, 2000);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.requests?.dischargeEnable).toBe(false);
    command(h, { command: 'allow-discharge' });
    h.feed(healthy, 3000);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(0);
    h.feed(healthy, 4000);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(60);
  });

  it('a deny lapses at its expiry', () => {
    const h = startHarness({ control: { current: { chargeRecovery: { holdS: 1, rateAPerS: 1000 } } } });
    h.snapshot(healthy);
    command(h, { command: 'deny-charge', expiresInS: 3 });
    h.feed(healthy, 2500);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    h.feed(healthy, 4000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(50);
  });

  it('force-charge sets both request bits while charging is allowed', () => {
    const h = startHarness();
    h.snapshot(healthy);
    expect(h.last().decoded.requests).toMatchObject({ forceChargeI: false, forceChargeII: false });
    command(h, { command: 'force-charge', expiresInS: 60 });
    h.feed(healthy, 1500);
    expect(h.last().decoded.requests).toMatchObject({ chargeEnable: true, forceChargeI: true, forceChargeII: true });
    command(h, { command: 'cancel-force-charge' });
    h.feed(healthy, 1500);
    expect(h.last().decoded.requests).toMatchObject({ forceChargeI: false, forceChargeII: false });
  });

  it('force-charge still obeys CCL: a cell at the charge stop voltage sends no request', () => {
    const h = startHarness();
    command(h, { command: 'force-charge', expiresInS: 60 });
    h.feed(snapshot({ cellsMv: cellsWithOne(3300, 3500) }), 1500);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.requests).toMatchObject({ chargeEnable: false, forceChargeI: false, forceChargeII: false });
  });

  it('a command never raises a limit: deny on a stopped direction keeps the policy reason', () => {
    const h = startHarness();
    command(h, { command: 'deny-charge', expiresInS: 60 });
    h.feed(snapshot({ cellsMv: cellsWithOne(3300, 3500) }), 600);
    expect(h.actor.getSnapshot().context.output?.reasons.chargeCurrent).toMatch(/3\.500 V|cell/);
  });
});
