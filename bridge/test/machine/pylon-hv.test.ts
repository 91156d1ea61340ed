/**
 * The chart with the pylon-hv profile (issue 13) on the simulated clock: it answers each request
 * at once from the same bus output as the broadcast profiles, never sends on its own, supervises
 * the inverter by its valid requests, and honours sleep and charge/discharge commands only as far
 * as they make it more conservative.
 */
import { describe, expect, it } from 'vitest';
import { canFrame, encodePylonHvRequest, type CanFrame, type PylonHvRequest } from '../../src/protocol/can';
import { cellsWithOne, snapshot } from '../support/snapshot-builder';
import { statusLine } from '../../src/runtime';
import { bridgeStatus } from '../../src/status/model';
import { startHarness } from './harness';

const healthy = snapshot({ cellMv: 3300, socPct: 60 });
const ENSEMBLE = [0x4210, 0x4220, 0x4230, 0x4240, 0x4250, 0x4260, 0x4270, 0x4280, 0x4290];
const hex = (f: CanFrame) => Array.from(f.data, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

function hv(overrides: Parameters<typeof startHarness>[0] = {}) {
  const h = startHarness({ can: { profile: 'pylon-hv', ...overrides.can }, ...overrides });
  const ask = (request: PylonHvRequest, address = 0): void => h.actor.send({ type: 'INVERTER.FRAME', frame: encodePylonHvRequest(request, address) });
  const ensemble = (): void => ask({ kind: 'info', info: 'ensemble' });
  const frame = (id: number): CanFrame => {
    const f = h.last().frames.find((x) => x.id === id);
    if (f === undefined) throw new Error(`no 0x${id.toString(16)} in the last reply`);
    return f;
  };
  return { ...h, ask, ensemble, frame, hv: () => h.actor.getSnapshot().context.hv };
}

describe('request and response', () => {
  it('never sends on its own: valid data for 10 s and no request, nothing on the bus', () => {
    const h = hv();
    h.feed(healthy, 10_000);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
    expect(h.sent).toHaveLength(0);
  });

  it('answers each ensemble request at once with 0x4210-0x4290 carrying the policy limits', () => {
    const h = hv();
    h.feed(healthy, 1000);
    h.ensemble();
    expect(h.sent).toHaveLength(1);
    expect(h.last().atMs).toBe(h.clock.now());
    expect(h.last().frames.map((f) => [f.id, f.ext])).toEqual(ENSEMBLE.map((id) => [id, true]));
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 50, dischargeCurrentLimitA: 60, socPct: 60, requests: { chargeEnable: true, dischargeEnable: true } });
    expect(hex(h.frame(0x4280))).toBe('00 00 00 00 00 00 00 00');
    h.ensemble();
    h.ensemble();
    expect(h.sent).toHaveLength(3);
  });

  it('answers the equipment request with 0x7310-0x7340: 16 cells, 51 V level, "PYLON"', () => {
    const h = hv();
    h.feed(healthy, 1000);
    h.ask({ kind: 'info', info: 'equipment' });
    expect(h.last().frames.map((f) => f.id)).toEqual([0x7310, 0x7320, 0x7330, 0x7340]);
    expect(hex(h.frame(0x7320)).slice(0, 17)).toBe('10 00 01 10 33 00');
    expect(String.fromCharCode(...h.frame(0x7330).data)).toBe('PYLON\0\0\0');
  });

  it('does not answer before the first valid snapshot (no data is never stale data)', () => {
    const h = hv();
    h.ensemble();
    h.advance(2000);
    h.ensemble();
    expect(h.sent).toHaveLength(0);
    expect(h.state('inverter')).toBe('alive');
  });

  it('stale: the answer carries CCL = DCL = 0 and the charge/discharge-forbidden frame; fault silence: no answer', () => {
    const h = hv({ state: { staleAfterMs: 3000, faultAfterMs: 5000, silenceAfterMs: 10_000 } });
    h.feed(healthy, 1000);
    h.advance(3100);
    expect(h.state('bms')).toBe('stale');
    h.ensemble();
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0, requests: { chargeEnable: false, dischargeEnable: false } });
    expect(hex(h.frame(0x4280))).toBe('AA AA 00 00 00 00 00 00');
    expect(h.last().decoded.warnings?.communication).toBe(true);
    h.advance(5000 + 10_000);
    expect(h.state('bms')).toEqual({ fault: 'silent' });
    const before = h.sent.length;
    h.ensemble();
    expect(h.sent).toHaveLength(before);
  });

  it('a cell over the charge stop is in the very next answer, as CCL 0 and charge forbidden', () => {
    const h = hv();
    h.feed(healthy, 1000);
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3600), socPct: 60 }));
    h.ensemble();
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0, requests: { chargeEnable: false, dischargeEnable: true } });
    expect(hex(h.frame(0x4280))).toBe('AA 00 00 00 00 00 00 00');
  });

  it('the variant settings change the reply bytes: Sofar preset = send group 1; byteOrder be', () => {
    const sofar = hv({ can: { profile: 'pylon-hv', pylonHv: { preset: 'sofar' } } });
    sofar.feed(healthy, 500);
    sofar.ensemble();
    expect(sofar.last().frames.map((f) => f.id)).toEqual(ENSEMBLE.map((id) => id + 1));
    const be = hv({ can: { profile: 'pylon-hv', pylonHv: { byteOrder: 'be' } } });
    be.feed(healthy, 500);
    be.ensemble();
    // 16 × 3.3 V = 52.8 V = 528 = 0x0210, big-endian.
    expect(hex(be.frame(0x4210)).slice(0, 5)).toBe('02 10');
  });
});

describe('inverter supervision by its requests', () => {
  it('alive while it asks; silent after inverterTimeoutMs without a request; alive again on the next', () => {
    const h = hv();
    h.feed(healthy, 500);
    h.ensemble();
    expect(h.state('inverter')).toBe('alive');
    h.feed(healthy, 3900);
    h.ensemble();
    h.feed(healthy, 3900);
    expect(h.state('inverter')).toBe('alive');
    h.feed(healthy, 200);
    expect(h.state('inverter')).toBe('silent');
    h.ensemble();
    expect(h.state('inverter')).toBe('alive');
  });

  it('malformed and unknown frames are counted and ignored: no answer, no sign of life', () => {
    const h = hv();
    h.feed(healthy, 500);
    const junk = [
      canFrame(0x4200, [0x07, 0, 0, 0, 0, 0, 0, 0], true),
      canFrame(0x4200, [], true),
      canFrame(0x8200, [0x12, 0, 0, 0, 0, 0, 0, 0], true),
      canFrame(0x18ff9701, [1, 2, 3], true),
    ];
    for (const frame of junk) h.actor.send({ type: 'INVERTER.FRAME', frame });
    expect(h.sent).toHaveLength(0);
    expect(h.hv().ignored).toBe(4);
    expect(h.state('inverter')).toBe('unknown');
  });
});

describe('sleep and commands: only ever more conservative', () => {
  it('sleep: CCL = DCL = 0, both forbidden, basic status sleep; wake: limits return from 0 through hold and ramp', () => {
    const h = hv();
    h.feed(healthy, 2000);
    h.ask({ kind: 'sleep', sleep: true });
    h.ensemble();
    expect(h.hv().sleeping).toBe(true);
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0, sleeping: true, requests: { chargeEnable: false, dischargeEnable: false } });
    expect(h.frame(0x4250).data[0] & 0x07).toBe(0);
    h.feed(healthy, 2000);
    h.ensemble();
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0, dischargeCurrentLimitA: 0 });
    h.ask({ kind: 'sleep', sleep: false });
    h.feed(healthy, 500);
    h.ensemble();
    expect(h.hv().sleeping).toBe(false);
    const first = h.last().decoded;
    expect(first.chargeCurrentLimitA).toBeLessThan(50);
    h.feed(healthy, 120_000);
    h.ensemble();
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 50, dischargeCurrentLimitA: 60 });
  });

  it('a charge command while a cell is over the charge stop changes nothing but the status', () => {
    const h = hv();
    const high = snapshot({ cellsMv: cellsWithOne(3300, 3600), socPct: 90 });
    h.feed(high, 1000);
    h.ask({ kind: 'command', charge: true, discharge: true });
    h.feed(high, 1000);
    h.ensemble();
    expect(h.hv().lastCommand).toEqual({ charge: true, discharge: true });
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0, requests: { chargeEnable: false } });
  });

  it('sleep and the last command are visible in the status line and the status model', () => {
    const h = hv();
    h.feed(healthy, 1000);
    h.ask({ kind: 'sleep', sleep: true });
    h.ask({ kind: 'command', charge: true, discharge: false });
    const s = h.actor.getSnapshot();
    const line = statusLine(s, h.clock.now());
    expect(line).toContain("asleep at the inverter's request: CCL 0 A, DCL 0 A, charge/discharge forbidden");
    expect(line).toContain('inverter sent charge command (not acted on)');
    const status = bridgeStatus(s.value, s.context, h.clock.now());
    expect(status.pylonHv).toEqual({ asleep: true, lastCommand: { charge: true, discharge: false }, ignoredFrames: 0 });
    expect(status.limits).toMatchObject({ chargeCurrentA: 0, dischargeCurrentA: 0, chargeAllowed: false, dischargeAllowed: false });
    expect(status.limits?.reasons.chargeCurrent).toBe("asleep at the inverter's request");
  });

  it('the mask command is answered 0x8250 "won\'t act"', () => {
    const h = hv();
    h.feed(healthy, 500);
    h.ask({ kind: 'mask-comm-failure' });
    expect(h.last().frames.map((f) => [f.id, f.ext, hex(f)])).toEqual([[0x8250, true, '00 00 00 00 00 00 00 00']]);
  });
});

describe('a request storm', () => {
  it('500 requests in one second: each is answered from the newest data, and a cell over the stop shows in the next answer', () => {
    const h = hv();
    h.feed(healthy, 1000);
    for (let i = 0; i < 250; i++) {
      h.ensemble();
      h.advance(2);
    }
    h.snapshot(snapshot({ cellsMv: cellsWithOne(3300, 3600), socPct: 60 }));
    h.ensemble();
    expect(h.last().decoded).toMatchObject({ chargeCurrentLimitA: 0 });
    for (let i = 0; i < 249; i++) {
      h.ensemble();
      h.advance(2);
    }
    expect(h.sent.length).toBe(500);
    expect(h.state('bms')).toEqual({ connected: 'fresh' });
  });
});
