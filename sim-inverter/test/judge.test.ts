/**
 * The judge's thresholds come from the declaration (battery limits, inverter profile, timing) and
 * the protocol documents, and the truth accepts only what a correct bridge may use.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { AcceptedReplies, rejection, type ServedReplyEvent } from '../src/battery-truth';
import { Checker } from '../src/checker';
import { jkReplyTimeMs, judgeThresholds, PROCESSING_MARGIN_MS } from '../src/judge';
import { INVERTER_PROFILES } from '../src/profiles';
import { limitsFrame, THRESHOLDS } from './support';

const BATTERY = { cells: 16, limits: { chargeStopCellMv: 3500, dischargeStopCellMv: 2800, maxChargeCellMv: 3450 } };
const TIMING = { pollIntervalMs: 200, replyTimeoutMs: 150, staleAfterMs: 2500 };

describe('judgeThresholds', () => {
  test('from the declaration and the protocol documents', () => {
    expect(judgeThresholds(BATTERY, INVERTER_PROFILES['pylon-lv'], TIMING)).toEqual({
      framePeriodMs: 1000,
      maxChargeVoltageV: 55.2,
      chargeStopCellMv: 3500,
      dischargeStopCellMv: 2800,
      pollIntervalMs: 200,
      replyTimeMs: jkReplyTimeMs(16),
      processingMarginMs: PROCESSING_MARGIN_MS,
      staleAfterMs: 2500,
    });
  });

  test('the JK reply time: latency plus the wire time at 115200 baud (§2.10: ~26 ms for a 273-byte reply)', () => {
    expect(jkReplyTimeMs(16)).toBe(5 + Math.ceil(291 / 11.52));
    expect(jkReplyTimeMs(10) - 5).toBeGreaterThanOrEqual(23);
    expect(jkReplyTimeMs(10) - 5).toBeLessThanOrEqual(26);
  });

  test('a time scale stretches the protocol-fixed times; the declared timing is already scaled', () => {
    const t = judgeThresholds(BATTERY, INVERTER_PROFILES.victron, TIMING, 4);
    expect(t.framePeriodMs).toBe(4000);
    expect(t.processingMarginMs).toBe(4 * PROCESSING_MARGIN_MS);
    expect(t.pollIntervalMs).toBe(200);
  });

  test('old leniency: the CVL maximum is the battery\'s (16 × 3.45 V), not 16 × 3.65 V', () => {
    const c = new Checker({ profile: INVERTER_PROFILES['pylon-lv'], thresholds: judgeThresholds(BATTERY, INVERTER_PROFILES['pylon-lv'], TIMING) });
    c.feed(limitsFrame(55.2, 10, 10, 48), 0);
    expect(c.violations).toEqual([]);
    c.feed(limitsFrame(56, 10, 10, 48), 1);
    expect(c.violations.map((v) => v.rule)).toEqual(['cvl-above-max']);
  });
});

describe('AcceptedReplies: the newest reply a correct bridge may accept', () => {
  const RULES = { cells: 4, replyTimeoutMs: 150 };
  const snapshot = (cellsMv: number[], declared = 4) => ({ cellsMv, packMv: cellsMv.reduce((a, b) => a + b, 0), cellCount: declared, settings: { cellCountSetting: declared } });
  const reply = (atMs: number, over: Partial<ServedReplyEvent> = {}): ServedReplyEvent => ({
    atMs,
    requestedAtMs: atMs - 5,
    intact: true,
    snapshot: snapshot([3300, 3310, 3290, 3305]),
    ...over,
  });

  class Bms extends EventEmitter<{ served: [ServedReplyEvent] }> {
    cellsMv = [3300, 3310, 3290, 3305];
    measure() {
      return { cellsMv: this.cellsMv, packMv: this.cellsMv.reduce((a, b) => a + b, 0) };
    }
  }

  test('intact, in time and plausible counts; corrupted, truncated, late and wrong-cell-count replies do not', () => {
    expect(rejection(reply(100), RULES)).toBeNull();
    expect(rejection(reply(100, { intact: false }), RULES)).toMatch(/not an intact frame/);
    expect(rejection(reply(400, { requestedAtMs: 100 }), RULES)).toMatch(/late: 300 ms/);
    expect(rejection(reply(100, { snapshot: snapshot([3300, 3310, 3290, 3305, 3305], 4) }), RULES)).toMatch(/implausible: 5 cells/);
    expect(rejection(reply(100, { snapshot: snapshot([3300, 3310, 3290], 3) }), RULES)).toMatch(/implausible/);
  });

  test('old leniency: late intact replies (carrying a 4.0 V cell) are no fresh data for invariants 1 and 2', () => {
    const bms = new Bms();
    const truth = new AcceptedReplies(bms, RULES);
    bms.emit('served', reply(1000));
    for (let t = 1500; t <= 9000; t += 500) bms.emit('served', reply(t, { requestedAtMs: t - 300, snapshot: snapshot([4000, 3310, 3290, 3305]) }));
    expect(truth.lastAccepted()).toMatchObject({ atMs: 1000, maxCellMv: 3310, minCellMv: 3290, packMv: 13_205 });
    expect(truth.counts).toEqual({ served: 17, accepted: 1 });
    expect(truth.measured()).toEqual({ maxCellMv: 3310, minCellMv: 3290, packMv: 13_205 });
    // The checker with this truth: limits > 0 on the late data are limits on stale data.
    const c = new Checker({ profile: INVERTER_PROFILES['pylon-lv'], thresholds: THRESHOLDS, truth });
    c.feed(limitsFrame(55.2, 50, 60, 48), 9000);
    expect(c.violations.map((v) => v.rule)).toEqual(['limits-with-stale-data']);
  });
});
