/**
 * The chart with several packs (issue 12): one actor per pack, the bms region following the bank,
 * what goes on the bus, and the status line, on the simulated clock.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { statusLine, statusReporter } from '../../src/runtime';
import { cellsWithOne, snapshot } from '../support/snapshot-builder';
import { startHarness } from './harness';

const healthy = snapshot({ cellMv: 3300, socPct: 60 });
const packs = (names: string[], extra: Record<string, unknown> = {}) => ({
  bms: { packs: names.map((name, i) => ({ name, link: `/dev/ttyUSB${i}` })), ...extra },
  control: { current: { maxChargeA: 400, maxDischargeA: 400 } },
});
const all = (names: string[], s = healthy) => Object.fromEntries(names.map((n) => [n, s]));
const packStates = (h: ReturnType<typeof startHarness>) => Object.fromEntries(h.actor.getSnapshot().context.packs.map((p) => [p.name, p.state]));

describe('a bank of packs', () => {
  it('sends nothing until every pack has answered, then the bank’s limits', () => {
    const h = startHarness(packs(['A', 'B', 'C']));
    h.snapshot(healthy, 'A');
    h.snapshot(healthy, 'B');
    h.advance(2000);
    expect(h.state('bms')).toBe('idle');
    expect(h.sent).toHaveLength(0);
    h.snapshot(healthy, 'C');
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    // 0.9 × 100 A OCP per pack at a third of the bank current: 270 A.
    expect(h.last().decoded.chargeCurrentLimitA).toBe(270);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(400);
    expect(h.actor.getSnapshot().context.output?.reasons.chargeCurrent).toBe('pack A: BMS over-current setting (0.9 × 100 A) at a 33 % share');
  });

  it('one pack’s cell at its charge stop: CCL 0 at once, naming the pack; the others keep discharging', () => {
    const h = startHarness(packs(['A', 'B']));
    h.feedPacks(all(['A', 'B']), 1000);
    const before = h.sent.length;
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3510) }), 'B');
    expect(h.sent.length).toBe(before + 1);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.requests?.chargeEnable).toBe(false);
    expect(h.last().decoded.requests?.dischargeEnable).toBe(true);
    expect(h.actor.getSnapshot().context.output?.reasons.chargeCurrent).toBe('pack B: charge-stop cell voltage (max cell 3.510 V)');
  });

  it('stop (default): one pack going stale stops the bank at once; it comes back through hold and ramp', () => {
    const h = startHarness(packs(['A', 'B']));
    h.feedPacks(all(['A', 'B']), 1000);
    h.feedPacks({ A: healthy }, 3000); // B silent for staleAfterMs
    expect(packStates(h)).toEqual({ A: 'connected', B: 'stale' });
    expect(h.state('bms')).toBe('stale');
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    expect(h.last().decoded.dischargeCurrentLimitA).toBe(0);
    h.snapshot(healthy, 'B');
    h.snapshot(healthy, 'A');
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    // B restarts its currents from 0: the bank waits for its hold.
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0);
    h.feedPacks(all(['A', 'B']), 80_000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(180);
  });

  it('degrade: a stale pack is left out, the bank goes on with the packs left and a communication warning', () => {
    const h = startHarness(packs(['A', 'B', 'C'], { onPackLost: 'degrade' }));
    h.feedPacks(all(['A', 'B', 'C']), 1000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(270);
    h.feedPacks({ A: healthy, C: healthy }, 3500);
    expect(packStates(h)).toEqual({ A: 'connected', B: 'stale', C: 'connected' });
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    // Two packs share: 180 A, sent at once as a decrease.
    expect(h.last().decoded.chargeCurrentLimitA).toBe(180);
    expect(h.last().decoded.warnings?.communication).toBe(true);
    // Lost long enough to fault, it stays left out.
    h.feedPacks({ A: healthy, C: healthy }, 6000);
    expect(packStates(h).B).toBe('fault');
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    const line = statusLine(h.actor.getSnapshot(), h.clock.now());
    expect(line).toContain('packs A connected, B fault, C connected');
    expect(line).toContain('degraded: pack B left out (no valid BMS data)');
  });

  it('degrade: a pack that never answers is left out after staleAfterMs; when it answers it comes in through hold and ramp', () => {
    const h = startHarness(packs(['A', 'B', 'C'], { onPackLost: 'degrade' }));
    h.feedPacks({ A: healthy, C: healthy }, 2500);
    expect(h.sent).toHaveLength(0);
    h.feedPacks({ A: healthy, C: healthy }, 1000);
    expect(packStates(h)).toEqual({ A: 'connected', B: 'stale', C: 'connected' });
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    // Two packs share: 2 × 0.9 × 100 A.
    expect(h.last().decoded.chargeCurrentLimitA).toBe(180);
    expect(h.last().decoded.warnings?.communication).toBe(true);
    expect(statusLine(h.actor.getSnapshot(), h.clock.now())).toContain('degraded: pack B left out (no answer since the start)');
    // B's first data: it joins as a pack that recovers, from 0 A, so the bank does not jump to 270 A.
    h.feedPacks(all(['A', 'B', 'C']), 1000);
    expect(packStates(h).B).toBe('connected');
    expect(h.last().decoded.warnings?.communication).toBe(false);
    expect(h.last().decoded.chargeCurrentLimitA).toBeLessThan(180);
    h.feedPacks(all(['A', 'B', 'C']), 120_000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(270);
  });

  it('stop, or no pack answering at all: the bridge waits and sends nothing', () => {
    const stop = startHarness(packs(['A', 'B']));
    stop.feedPacks({ A: healthy }, 60_000);
    expect(packStates(stop)).toEqual({ A: 'connected', B: 'idle' });
    expect(stop.state('bms')).toBe('idle');
    expect(stop.sent).toHaveLength(0);
    const none = startHarness(packs(['A', 'B'], { onPackLost: 'degrade' }));
    none.advance(60_000);
    expect(none.state('bms')).toBe('idle');
    expect(none.sent).toHaveLength(0);
    expect(none.actor.getSnapshot().context.bank?.reason).toBe('waiting for the first data of A, B');
  });

  it('a pack with a protection alarm faults the bank, naming the pack, in degrade mode too', () => {
    const h = startHarness(packs(['A', 'B'], { onPackLost: 'degrade' }));
    h.feedPacks(all(['A', 'B']), 1000);
    h.snapshot(snapshot({ alarms: ['batteryOverTemperature'] }), 'B');
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(h.actor.getSnapshot().context.faultReason).toBe('pack B: BMS protection: batteryOverTemperature');
    expect(h.last().decoded.alarms?.systemError).toBe(true);
  });

  it('packs that disagree are faulted, never averaged; they recover after recoverAfter agreeing snapshots', () => {
    const h = startHarness(packs(['A', 'B']));
    h.feedPacks(all(['A', 'B']), 1000);
    h.snapshot(snapshot({ cellMv: 3300, packMv: 51_000 }), 'B');
    expect(h.state('bms')).toEqual({ fault: 'transmitting' });
    expect(packStates(h)).toEqual({ A: 'fault', B: 'fault' });
    expect(h.actor.getSnapshot().context.faultReason).toMatch(/^pack voltages disagree on one bus: pack A 52\.80 V, pack B 51\.00 V/);
    h.feedPacks(all(['A', 'B']), 3 * 500);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.last().decoded.chargeCurrentLimitA).toBe(0); // through hold and ramp again
  });

  it('a pack whose BMS opened its charge MOSFET is out of the charge sharing; the bank charges on', () => {
    const h = startHarness(packs(['A', 'B', 'C']));
    h.feedPacks(all(['A', 'B', 'C']), 1000);
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3660), chargeMosfet: false }), 'C');
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    // A and B share: 0.9 × 100 A at half the bank current each.
    expect(h.last().decoded.chargeCurrentLimitA).toBe(180);
    expect(h.last().decoded.requests?.chargeEnable).toBe(true);
  });

  it('mirror mode multiplies one pack and says in every status line what is not watched', () => {
    const h = startHarness({ bms: { mirrorPacks: 4 }, control: { current: { maxChargeA: 400, maxDischargeA: 400 } } });
    const { log, records } = recordingLog();
    h.actor.subscribe(statusReporter(log, { now: () => h.clock.now(), setTimeout: () => undefined, clearTimeout: () => undefined }));
    h.feedPacks({ '1': snapshot({ cellMv: 3300 }) }, 1000);
    expect(h.last().decoded.chargeCurrentLimitA).toBe(360);
    expect(records.at(-1)?.msg).toMatch(/ · mirror mode: one pack watched for 4, 3 not watched$/);
  });

  it('one pack: the status line is the single-pack line, without a packs part', () => {
    const h = startHarness();
    h.feed(healthy, 1000);
    expect(statusLine(h.actor.getSnapshot(), h.clock.now())).toMatch(/^bms connected\/fresh · inverter unknown · can link\/up · CVL .* DCL 60\.0 A \(configured maximum\)$/);
  });
});

function recordingLog() {
  const records: Array<{ msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line) as { msg: string }) });
  return { log, records };
}
