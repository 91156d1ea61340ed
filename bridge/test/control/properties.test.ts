/**
 * The safety invariants (ARCHITECTURE.md) hold for any snapshot sequence, any timing and any
 * settings variant: CCL/DCL never negative, CVL in (0, max], SoC 0..100, CCL stopped whenever a
 * cell is at or above chargeStopCellMv, DCL stopped whenever a cell is at or below
 * dischargeStopCellMv, enable flags only with a MOSFET on and a limit above 0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  controlSettingsSchema,
  createControlState,
  defaultControlSettings,
  maxChargeVoltageV,
  stepControl,
  type ControlOutput,
  type ControlSettings,
} from '../../src/control';
import { chargeMosfetOn, dischargeMosfetOn, type BmsSnapshot } from '../../src/protocol/jk/snapshot';
import { snapshot } from '../support/snapshot-builder';

/** Mostly near the LiFePO4 top (where the phases and stops are), some anywhere incl. 0 mV. */
const cellMv = fc.oneof(
  { arbitrary: fc.integer({ min: 3300, max: 3700 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 4500 }), weight: 1 },
);
const cellsArb = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.oneof(
    fc.array(cellMv, { minLength: n, maxLength: n }),
    // Balanced packs, so absorption and float are reached too.
    cellMv.map((mv) => Array<number>(n).fill(mv)),
  ),
);

const snapshotArb: fc.Arbitrary<BmsSnapshot> = fc
  .record({
    cellsMv: cellsArb,
    t1TempC: fc.integer({ min: -40, max: 100 }),
    t2TempC: fc.integer({ min: -40, max: 100 }),
    mosfetTempC: fc.integer({ min: -40, max: 140 }),
    socPct: fc.integer({ min: 0, max: 255 }),
    status: fc.integer({ min: 0, max: 15 }),
    alarms: fc.integer({ min: 0, max: 0xffff }),
    packMv: fc.integer({ min: 0, max: 120_000 }),
    chargeOcpA: fc.integer({ min: 0, max: 300 }),
    dischargeOcpA: fc.integer({ min: 0, max: 300 }),
    cellUvpMv: fc.integer({ min: 1000, max: 3600 }),
  })
  .map((r) => ({
    ...snapshot({
      cellsMv: r.cellsMv,
      t1TempC: r.t1TempC,
      t2TempC: r.t2TempC,
      mosfetTempC: r.mosfetTempC,
      socPct: r.socPct,
      packMv: r.packMv,
      settings: { chargeOcpA: r.chargeOcpA, dischargeOcpA: r.dischargeOcpA, cellUvpMv: r.cellUvpMv },
    }),
    status: r.status,
    alarms: r.alarms,
  }));

/** Steps 0..120 s apart, bursts included (0 s: two snapshots in the same millisecond). */
const sequenceArb = fc.array(fc.record({ snap: snapshotArb, dtMs: fc.integer({ min: 0, max: 120_000 }) }), {
  minLength: 1,
  maxLength: 40,
});

const settingsArb: fc.Arbitrary<ControlSettings> = fc.oneof(
  fc.constant(defaultControlSettings),
  fc
    .record({
      controller: fc.constantFrom('penalty', 'integral'),
      stopVoltage: fc.constantFrom('cvl', 'pack'),
      stopCurrent: fc.constantFrom(0, 0.1),
      push: fc.boolean(),
      clamp: fc.constantFrom(null, 99),
      socResetDays: fc.constantFrom(null, 0.001), // 86.4 s
      dropOffsetPackMv: fc.integer({ min: 0, max: 1000 }),
      mode: fc.constantFrom('linear', 'step'),
      holdS: fc.constantFrom(0, 30),
    })
    .map((r) =>
      controlSettingsSchema.parse({
        // Room for the SoC-reset voltage (3.65 V) below the stop and the table's zero.
        chargeStopCellMv: r.socResetDays === null ? 3500 : 3700,
        current: { chargeRecovery: { holdS: r.holdS }, dischargeRecovery: { holdS: r.holdS } },
        voltage: {
          controller: { mode: r.controller },
          socReset: { afterDays: r.socResetDays },
          dropOffsetPackMv: r.dropOffsetPackMv,
          recovery: { holdS: r.holdS },
        },
        tables: {
          chargeVsMaxCellMv: {
            mode: r.mode,
            points: r.socResetDays === null ? undefined : [[3700, 0], [3650, 0.05], [3400, 1]],
          },
          dischargeVsMinCellMv: { mode: r.mode },
          chargeVsTemperatureC: { mode: r.mode },
          chargeVsSocPct: { mode: r.mode, enabled: true },
          dischargeVsSocPct: { mode: r.mode, enabled: true },
        },
        stop: { chargeVoltage: r.stopVoltage, currentA: r.stopCurrent },
        soc: { pushAtCellStop: r.push, clampUntilFloatPct: r.clamp },
      }),
    ),
);

function run(
  settings: ControlSettings,
  sequence: { snap: BmsSnapshot; dtMs: number }[],
  check: (snap: BmsSnapshot, out: ControlOutput) => void,
) {
  let state = createControlState();
  let nowMs = 1_700_000_000_000;
  for (const { snap, dtMs } of sequence) {
    nowMs += dtMs;
    const step = stepControl(state, snap, nowMs, settings);
    state = step.state;
    check(snap, step.output);
  }
}

describe('safety invariants over random snapshots, timings and settings', () => {
  it('hold at every step', () => {
    fc.assert(
      fc.property(settingsArb, sequenceArb, (settings, sequence) => {
        run(settings, sequence, (snap, out) => {
          const maxCell = Math.max(...snap.cellsMv);
          const minCell = Math.min(...snap.cellsMv);

          expect(out.chargeCurrentLimitA).toBeGreaterThanOrEqual(0);
          expect(out.dischargeCurrentLimitA).toBeGreaterThanOrEqual(0);
          expect(out.chargeCurrentLimitA).toBeLessThanOrEqual(settings.current.maxChargeA);
          expect(out.dischargeCurrentLimitA).toBeLessThanOrEqual(settings.current.maxDischargeA);

          expect(out.chargeVoltageV).toBeGreaterThan(0);
          expect(out.chargeVoltageV).toBeLessThanOrEqual(maxChargeVoltageV(settings, snap.cellsMv.length));
          expect(out.dischargeVoltageV).toBeGreaterThan(0);

          expect(out.socPct).toBeGreaterThanOrEqual(0);
          expect(out.socPct).toBeLessThanOrEqual(100);

          if (maxCell >= settings.chargeStopCellMv) {
            expect(out.chargeCurrentLimitA).toBe(settings.stop.currentA);
            expect(out.requests.chargeEnable).toBe(false);
          }
          if (minCell <= settings.dischargeStopCellMv) {
            expect(out.dischargeCurrentLimitA).toBe(settings.stop.currentA);
            expect(out.requests.dischargeEnable).toBe(false);
          }
          if (out.requests.chargeEnable) {
            expect(chargeMosfetOn(snap)).toBe(true);
            expect(out.chargeCurrentLimitA).toBeGreaterThan(0);
          }
          if (out.requests.dischargeEnable) {
            expect(dischargeMosfetOn(snap)).toBe(true);
            expect(out.dischargeCurrentLimitA).toBeGreaterThan(0);
          }
          if (out.requests.forceChargeI || out.requests.forceChargeII) expect(out.requests.chargeEnable).toBe(true);
          expect(out.requests.fullCharge).toBe(false);

          for (const reason of Object.values(out.reasons)) expect(reason).not.toBe('');
        });
      }),
      { numRuns: 300 },
    );
  });

  it('with the default settings a cell at the stop voltages means exactly 0 A', () => {
    fc.assert(
      fc.property(sequenceArb, (sequence) => {
        run(defaultControlSettings, sequence, (snap, out) => {
          if (Math.max(...snap.cellsMv) >= defaultControlSettings.chargeStopCellMv) {
            expect(out.chargeCurrentLimitA).toBe(0);
          }
          if (Math.min(...snap.cellsMv) <= defaultControlSettings.dischargeStopCellMv) {
            expect(out.dischargeCurrentLimitA).toBe(0);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
