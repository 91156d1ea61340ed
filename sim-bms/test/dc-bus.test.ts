/**
 * Packs in parallel on one DC bus: the split by open-circuit voltage and resistance, MOSFETs that
 * gate it, packs at different SoC exchanging current, and the bank's command routing.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BankCommandSet, packIdentity } from '../src/bank';
import { DcBus, splitCurrent, type BusPack } from '../src/dc-bus';
import { VirtualBms } from '../src/virtual-bms';
import { testProfile } from './helpers';

const pack = (ocvMv: number, o: Partial<BusPack> = {}): BusPack => ({
  ocvMv,
  resistanceMohm: 10,
  chargeMosfetOn: true,
  dischargeMosfetOn: true,
  ...o,
});
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('splitCurrent', () => {
  it('equal packs share equally and the bus sits at OCV + I·R', () => {
    const split = splitCurrent([pack(53_000), pack(53_000), pack(53_000), pack(53_000)], 100_000);
    for (const ma of split.currentsMa) expect(ma).toBeCloseTo(25_000, 3);
    expect(split.busMv).toBeCloseTo(53_000 + 25 * 10, 3);
  });

  it('a stiffer pack takes more: current divides by conductance at equal OCV', () => {
    const split = splitCurrent([pack(53_000, { resistanceMohm: 5 }), pack(53_000, { resistanceMohm: 15 })], 40_000);
    expect(split.currentsMa[0]).toBeCloseTo(30_000, 3);
    expect(split.currentsMa[1]).toBeCloseTo(10_000, 3);
  });

  it('packs at different SoC exchange current with no current from outside', () => {
    // 30 % vs 70 % LiFePO4 is about 60 mV a cell: ~0.96 V on 16S.
    const split = splitCurrent([pack(52_320), pack(53_280)], 0);
    expect(split.currentsMa[0]).toBeCloseTo(48_000, 3);
    expect(split.currentsMa[1]).toBeCloseTo(-48_000, 3);
  });

  it('an open charge MOSFET carries no charge current, but discharge still flows through its body diode', () => {
    const charging = splitCurrent([pack(53_000), pack(53_000, { chargeMosfetOn: false }), pack(53_000)], 90_000);
    expect(charging.currentsMa[1]).toBe(0);
    expect(charging.currentsMa[0]).toBeCloseTo(45_000, 3);
    const discharging = splitCurrent([pack(53_000), pack(53_000, { chargeMosfetOn: false }), pack(53_000)], -90_000);
    expect(discharging.currentsMa[1]).toBeCloseTo(-30_000, 3);
  });

  it('with every charge MOSFET open no current flows in', () => {
    const split = splitCurrent([pack(53_000, { chargeMosfetOn: false }), pack(53_100, { chargeMosfetOn: false })], 50_000);
    expect(split.currentsMa).toEqual([0, 0]);
  });

  it('the pack currents add up to the current from outside whenever the packs can take it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ocvMv: fc.integer({ min: 40_000, max: 58_000 }),
            resistanceMohm: fc.double({ min: 1, max: 50, noNaN: true }),
            chargeMosfetOn: fc.constant(true),
            dischargeMosfetOn: fc.constant(true),
          }),
          { minLength: 1, maxLength: 16 },
        ),
        fc.integer({ min: -300_000, max: 300_000 }),
        (packs, totalMa) => {
          expect(sum(splitCurrent(packs, totalMa).currentsMa)).toBeCloseTo(totalMa, 0);
        },
      ),
    );
  });
});

describe('DcBus with virtual packs', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const bank = (socs: number[]) => {
    const packs = socs.map((soc, i) => new VirtualBms({ profile: testProfile({ socSpreadPct: 0 }), initialSocPct: soc, settings: packIdentity(i + 1) }));
    const bus = new DcBus(packs);
    bus.start();
    return { packs, bus };
  };

  it('a 30 % pack and a 70 % pack connected together move towards each other', () => {
    const { packs, bus } = bank([30, 70]);
    vi.advanceTimersByTime(10 * 60_000);
    bus.stop();
    const [low, high] = packs.map((p) => p.battery.cellSocPct(0));
    expect(low).toBeGreaterThan(30);
    expect(high).toBeLessThan(70);
    // Charge is conserved: what left one pack went into the other.
    expect(low - 30).toBeCloseTo(70 - high, 1);
  });

  it('the inverter current splits, and a pack whose charge MOSFET is open takes none of it', () => {
    const { packs, bus } = bank([50, 50, 50]);
    packs[1].settings.chargeMosfetSwitch = false;
    bus.setCurrentA(60);
    vi.advanceTimersByTime(1000);
    bus.stop();
    expect(packs[1].battery.currentMa).toBe(0);
    expect(packs[0].battery.currentMa + packs[2].battery.currentMa).toBeCloseTo(60_000, -1);
  });

  it('each pack reports its own identity', () => {
    const { packs, bus } = bank([50, 50]);
    bus.stop();
    expect(packs.map((p) => p.liveSnapshot().settings.manufacturerId)).toEqual([
      'PACK01SIM   JK_B2A24S15P',
      'PACK02SIM   JK_B2A24S15P',
    ]);
  });

  it('commands reach a pack by its number; a bank command reaches the bus', async () => {
    const { packs, bus } = bank([50, 50, 50]);
    const commands = new BankCommandSet(bus);
    expect(await commands.execute('2 silent')).toMatchObject({ ok: true, output: expect.stringMatching(/^pack 2: /) });
    expect(packs[1].faults.isSilent(packs[1].now())).toBe(true);
    expect(packs[0].faults.isSilent(packs[0].now())).toBe(false);
    expect((await commands.execute('3 cell 5 3600mV')).ok).toBe(true);
    expect(packs[2].measure().cellsMv[4]).toBe(3600);
    expect(await commands.execute('pack 1 cell 2 3500mV')).toMatchObject({ ok: true });
    expect(packs[0].measure().cellsMv[1]).toBe(3500);
    expect(await commands.execute('4 silent')).toEqual({ ok: false, output: 'no pack 4 (the bank has packs 1..3)' });
    expect((await commands.execute('2 cell 99 3600mV')).ok).toBe(false);
    expect(await commands.execute('current 30')).toEqual({ ok: true, output: 'bank current +30.00 A requested' });
    expect(bus.currentA).toBe(30);
    bus.stop();
  });
});
