/**
 * The poll schedule alone: which snapshots make the next poll come back to back, which let it
 * relax, and how a change of state is counted. The poller's use of it, on the simulated clock, is
 * in poller.test.ts ("adaptive pace").
 */
import { describe, expect, it } from 'vitest';
import { afterGap, afterSnapshot, fastPollSettings, initialPollSchedule, type FastPollSettings, type PollScheduleState } from '../../src/bms/poll-schedule';
import { bridgeConfigSchema } from '../../src/config/schema';
import { decodeResponse, type BmsSnapshot } from '../../src/protocol/jk';
import { JkStatusBit } from '../../src/protocol/jk/snapshot';
import { bytesOf } from '../protocol/jk/helpers';
import { CAPTURE } from './support';

/** The capture (16 cells at 3319-3329 mV, +10.12 A, no alarms, both MOSFETs on) with `edit` applied. */
function snapshot(edit: (s: BmsSnapshot) => void = () => undefined): BmsSnapshot {
  const decoded = decodeResponse(bytesOf(CAPTURE.s16a));
  if (!decoded.ok) throw new Error(decoded.error.detail);
  edit(decoded.snapshot);
  return decoded.snapshot;
}

/**
 * The shipped defaults: margin 50 mV of the stops, 0.9 × 50 A / 60 A, 10 polls after a change. The
 * capture's JK (OVP 3.60 V, UVP 3.00 V) is LiFePO4: stops 3500 / 3100 mV (preset, fitted to the UVP).
 */
const DEFAULTS: FastPollSettings = fastPollSettings(bridgeConfigSchema.parse({}));

/** Feeds the snapshots in order and returns the pace after each. */
function paces(snapshots: BmsSnapshot[], s: FastPollSettings = DEFAULTS, start: PollScheduleState = initialPollSchedule()) {
  let state = start;
  return snapshots.map((snap) => {
    const pace = afterSnapshot(state, snap, s);
    state = pace.state;
    return pace.fast;
  });
}

/** A steady pack: the first snapshot is a change, so the pace relaxes after the changed polls. */
function settled(s: FastPollSettings = DEFAULTS): PollScheduleState {
  let state = initialPollSchedule();
  for (let i = 0; i <= s.afterChangePolls; i++) state = afterSnapshot(state, snapshot(), s).state;
  return state;
}

describe('defaults', () => {
  it('watch the control stops and maxima of the config, with a 50 mV margin, 0.9 of the current maxima and 10 polls after a change', () => {
    expect(DEFAULTS).toEqual({
      enabled: true,
      cellMarginMv: 50,
      stops: expect.any(Function),
      currentFraction: 0.9,
      maxChargeA: 50,
      maxDischargeA: 60,
      afterChangePolls: 10,
    });
    expect(DEFAULTS.stops(snapshot())).toEqual({ chargeStopCellMv: 3500, dischargeStopCellMv: 3100 });
    const custom = fastPollSettings(
      bridgeConfigSchema.parse({ bms: { fastPoll: { cellMarginMv: 20 } }, control: { chargeStopCellMv: 3550, current: { maxChargeA: 100 } } }),
    );
    expect(custom).toMatchObject({ cellMarginMv: 20, maxChargeA: 100 });
    expect(custom.stops(snapshot()).chargeStopCellMv).toBe(3550);
  });
});

describe('near a limit: back to back', () => {
  it.each([
    { what: 'the highest cell at the charge stop − margin', edit: (s: BmsSnapshot) => void (s.cellsMv[3] = 3450), fast: 'charge-stop' },
    { what: 'a cell above the charge stop', edit: (s: BmsSnapshot) => void (s.cellsMv[15] = 3600), fast: 'charge-stop' },
    { what: 'the lowest cell at the discharge stop + margin', edit: (s: BmsSnapshot) => void (s.cellsMv[0] = 3150), fast: 'discharge-stop' },
    { what: 'charging above 0.9 × 50 A', edit: (s: BmsSnapshot) => void (s.currentMa = 45_001), fast: 'charge-current' },
    { what: 'discharging above 0.9 × 60 A', edit: (s: BmsSnapshot) => void (s.currentMa = -54_001), fast: 'discharge-current' },
  ] as const)('$what', ({ edit, fast }) => {
    expect(paces([snapshot(edit)], DEFAULTS, settled())).toEqual([fast]);
  });

  it.each([
    { what: 'the highest cell 1 mV short of the margin', edit: (s: BmsSnapshot) => void (s.cellsMv[3] = 3449) },
    { what: 'the lowest cell 1 mV short of the margin', edit: (s: BmsSnapshot) => void (s.cellsMv[0] = 3151) },
    { what: 'charging at exactly 0.9 × 50 A', edit: (s: BmsSnapshot) => void (s.currentMa = 45_000) },
    { what: 'discharging at exactly 0.9 × 60 A', edit: (s: BmsSnapshot) => void (s.currentMa = -54_000) },
  ])('not yet: $what', ({ edit }) => {
    expect(paces([snapshot(edit)], DEFAULTS, settled())).toEqual([null]);
  });

  it('relaxes with the first snapshot that is no longer near a limit', () => {
    const near = snapshot((s) => void (s.cellsMv[3] = 3480));
    expect(paces([near, near, snapshot(), snapshot()], DEFAULTS, settled())).toEqual(['charge-stop', 'charge-stop', null, null]);
  });

  it('disabled: always relaxed, even at a stop or right after a change', () => {
    const off = { ...DEFAULTS, enabled: false };
    expect(paces([snapshot(), snapshot((s) => void (s.cellsMv[3] = 3600)), snapshot((s) => void (s.alarms = 1))], off)).toEqual([null, null, null]);
  });
});

describe('a change of state: afterChangePolls back to back', () => {
  const s = { ...DEFAULTS, afterChangePolls: 3 };

  it('the first snapshot ever is a change', () => {
    expect(paces([snapshot(), snapshot(), snapshot(), snapshot(), snapshot()], s)).toEqual(['changed', 'changed', 'changed', null, null]);
  });

  it.each([
    { what: 'an alarm bit', edit: (snap: BmsSnapshot) => void (snap.alarms = 0x0004) },
    { what: 'the charge MOSFET', edit: (snap: BmsSnapshot) => void (snap.status &= ~(1 << JkStatusBit.chargeMosfetOn)) },
    { what: 'the discharge MOSFET', edit: (snap: BmsSnapshot) => void (snap.status &= ~(1 << JkStatusBit.dischargeMosfetOn)) },
  ])('$what going on and off again', ({ edit }) => {
    const changed = snapshot(edit);
    expect(paces([changed, changed, changed, changed, snapshot(), snapshot(), snapshot(), snapshot()], s, settled(s))).toEqual([
      'changed',
      'changed',
      'changed',
      null,
      'changed',
      'changed',
      'changed',
      null,
    ]);
  });

  it('the first snapshot after a gap (missed or implausible reply, reopened link), which itself speeds nothing up', () => {
    const state = settled(s);
    expect(afterGap(state)).toEqual({ ...state, marks: null });
    expect(paces([snapshot(), snapshot(), snapshot(), snapshot()], s, afterGap(state))).toEqual(['changed', 'changed', 'changed', null]);
  });

  it('the current and cell values alone are no change of state', () => {
    const drift = [3300, 3301, 3299, 3310].map((mv) => snapshot((snap) => void ((snap.cellsMv[0] = mv), (snap.currentMa = mv))));
    expect(paces(drift, s, settled(s))).toEqual([null, null, null, null]);
  });

  it('a steady pack keeps the same state object (nothing allocated per poll)', () => {
    const state = settled(s);
    expect(afterSnapshot(state, snapshot(), s).state).toBe(state);
  });
});
