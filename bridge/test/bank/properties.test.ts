/**
 * Bank properties for any packs and any snapshot sequence:
 *  - one pack, no mirror: the bank's output IS the pack's policy output (today's single-pack bridge);
 *  - no bank charge while a pack that can take charge has a cell at its charge stop; the same for
 *    discharge;
 *  - no sharing pack is given more than its BMS over-current cap by its share of the bank current;
 *  - limits never above the configured maxima, never negative; enable flags only with a limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineBank, stepPack, type PackView } from '../../src/bank/bank';
import { currentShares } from '../../src/bank/sharing';
import { createControlState, defaultControlSettings, stepControl, type ControlState } from '../../src/control';
import { chargeMosfetOn, dischargeMosfetOn, type BmsSnapshot } from '../../src/protocol/jk/snapshot';
import { snapshot } from '../support/snapshot-builder';

const s = defaultControlSettings;
const CELLS = 16;

const packSnapshot: fc.Arbitrary<BmsSnapshot> = fc
  .record({
    cells: fc.array(fc.integer({ min: 2700, max: 3700 }), { minLength: CELLS, maxLength: CELLS }),
    tempC: fc.integer({ min: -10, max: 60 }),
    socPct: fc.integer({ min: 0, max: 100 }),
    status: fc.integer({ min: 0, max: 3 }),
    chargeOcpA: fc.integer({ min: 10, max: 300 }),
    dischargeOcpA: fc.integer({ min: 10, max: 300 }),
    capacityAh: fc.integer({ min: 50, max: 400 }),
  })
  .map((r) => ({
    ...snapshot({
      cellsMv: r.cells,
      tempC: r.tempC,
      socPct: r.socPct,
      settings: { chargeOcpA: r.chargeOcpA, dischargeOcpA: r.dischargeOcpA, capacityAh: r.capacityAh },
    }),
    status: r.status,
  }));

const view = (name: string, snap: BmsSnapshot, output: PackView['output'], resistance: number | null = null): PackView => ({
  name,
  state: 'connected',
  faultCause: null,
  faultReason: null,
  snapshot: snap,
  snapshotAtMs: 0,
  output,
  internalResistanceMohm: resistance,
});

const options = (copies = 1) => ({
  onPackLost: 'stop' as const,
  copies,
  maxPackVoltageSpreadMv: 100_000,
  ocpCapFraction: s.current.bmsOcpCapFraction,
  stopCurrentA: s.stop.currentA,
});

describe('bank properties', () => {
  it('one pack: the bank output equals the pack policy output at every step', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(packSnapshot, fc.integer({ min: 0, max: 60_000 })), { minLength: 1, maxLength: 20 }), (steps) => {
        let control: ControlState = createControlState();
        let nowMs = 0;
        for (const [snap, dt] of steps) {
          nowMs += dt;
          const step = stepControl(control, snap, nowMs, s);
          control = step.state;
          const result = combineBank([view('A', snap, step.output)], options());
          expect(result.mode).toBe('normal');
          expect(result.output).toEqual(step.output);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('N packs: the cell stops, OCP caps per share, maxima and flags hold for the bank', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(packSnapshot, fc.option(fc.integer({ min: 1, max: 50 }), { nil: null })), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (packs, mirror) => {
          const copies = packs.length === 1 ? mirror : 1;
          let views = packs.map(([snap, r], i) => view(String.fromCharCode(65 + i), snap, null, r));
          views = views.map((v) => ({ ...v, output: stepPack(createControlState(), v.name, v.snapshot!, views, copies, 0, s).output }));
          const result = combineBank(views, options(copies));
          // Every pack connected, one cell count, any voltage spread allowed: always normal.
          expect(result.mode).toBe('normal');
          const out = result.output!;
          expect(out.chargeCurrentLimitA).toBeGreaterThanOrEqual(0);
          expect(out.dischargeCurrentLimitA).toBeGreaterThanOrEqual(0);
          expect(out.chargeVoltageV).toBeGreaterThan(0);
          expect(out.socPct).toBeGreaterThanOrEqual(0);
          expect(out.socPct).toBeLessThanOrEqual(100 + 1e-9);
          for (const [dir, on, enable, limit, max, stopped, ocp] of [
            ['charge', chargeMosfetOn, out.requests.chargeEnable, out.chargeCurrentLimitA, s.current.maxChargeA,
              (b: BmsSnapshot) => Math.max(...b.cellsMv) >= s.chargeStopCellMv, (b: BmsSnapshot) => b.settings.chargeOcpA],
            ['discharge', dischargeMosfetOn, out.requests.dischargeEnable, out.dischargeCurrentLimitA, s.current.maxDischargeA,
              (b: BmsSnapshot) => Math.min(...b.cellsMv) <= s.dischargeStopCellMv, (b: BmsSnapshot) => b.settings.dischargeOcpA],
          ] as const) {
            const sharing = views.filter((v) => on(v.snapshot!));
            if (!enable) continue;
            expect(sharing.length, `${dir} enabled with no pack able to take it`).toBeGreaterThan(0);
            expect(limit).toBeLessThanOrEqual(max);
            const shares = currentShares(
              sharing.map((v) => ({ capacityAh: v.snapshot!.settings.capacityAh, internalResistanceMohm: v.internalResistanceMohm })),
              copies,
            );
            sharing.forEach((v, i) => {
              expect(stopped(v.snapshot!), `${dir} enabled while pack ${v.name} is at its stop`).toBe(false);
              expect(limit * shares[i]).toBeLessThanOrEqual(0.9 * ocp(v.snapshot!) * (1 + 1e-9));
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
