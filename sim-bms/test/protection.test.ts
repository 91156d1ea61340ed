import { afterEach, describe, expect, it, vi } from 'vitest';
import { chargeMosfetOn, dischargeMosfetOn, JkAlarmBit, type JkSettings } from '../../bridge/src/protocol/jk';
import { ProtectionModel, RULES, type Measurement, type ProtectionName } from '../src/protection';
import { VirtualBms } from '../src/virtual-bms';
import { decodeOnly, memoryRig, testProfile, VECTORS } from './helpers';

// 16 cells, defaults of profile.ts: cell OVP 3650/3400 5 s, UVP 2800/3000 5 s, pack OVP 58560,
// pack UVP 44640, charge OCP 150 A 30 s, discharge OCP 200 A 300 s, MOS OTP 100/80, box OTP 70/60,
// charge OTP 55, discharge OTP 65 (hysteresis 5), charge UTP 0/2, discharge UTP -20/-10,
// temperature delay 5 s, OCP release 60 s, cell diff 300 mV, low capacity 20 %.
const profile = testProfile();
const base: Measurement = { cellsMv: Array(16).fill(3300), packMv: 52_800, currentMa: 0, mosfetC: 25, t1C: 25, t2C: 25, socPct: 50 };
const withCell = (mv: number): Partial<Measurement> => ({ cellsMv: [mv, ...Array(15).fill(3300)] });
const allCells = (mv: number): Partial<Measurement> => ({ cellsMv: Array(16).fill(mv) });

interface Case {
  name: ProtectionName;
  trip: Partial<Measurement>;
  delayMs: number;
  /** Past the recovery value: stays tripped (or, for OCP, until the release time). */
  hold: Partial<Measurement>;
  release: Partial<Measurement>;
  /** Time-based release (OCP). */
  releaseAfterMs?: number;
  /** Moves neighbouring limits away so the rule is tested alone. */
  settings?: Partial<JkSettings>;
}

const CASES: Case[] = [
  { name: 'cellOvp', trip: allCells(3650), delayMs: 5000, hold: allCells(3401), release: allCells(3400) },
  { name: 'cellUvp', trip: allCells(2800), delayMs: 5000, hold: allCells(2999), release: allCells(3000) },
  { name: 'packOvp', trip: { packMv: 58_560 }, delayMs: 5000, hold: { packMv: 54_570 }, release: { packMv: 54_560 } },
  { name: 'packUvp', trip: { packMv: 44_640 }, delayMs: 5000, hold: { packMv: 47_830 }, release: { packMv: 47_840 } },
  { name: 'chargeOcp', trip: { currentMa: 150_010 }, delayMs: 30_000, hold: {}, release: {}, releaseAfterMs: 60_000 },
  { name: 'dischargeOcp', trip: { currentMa: -200_010 }, delayMs: 300_000, hold: {}, release: {}, releaseAfterMs: 60_000 },
  { name: 'mosfetOtp', trip: { mosfetC: 100 }, delayMs: 5000, hold: { mosfetC: 81 }, release: { mosfetC: 80 } },
  { name: 'boxOtp', trip: { t1C: 70 }, delayMs: 5000, hold: { t1C: 61 }, release: { t1C: 60 }, settings: { chargeOtpC: 90, dischargeOtpC: 90 } },
  { name: 'chargeOtp', trip: { t2C: 55 }, delayMs: 5000, hold: { t2C: 51 }, release: { t2C: 50 } },
  { name: 'dischargeOtp', trip: { t2C: 65 }, delayMs: 5000, hold: { t2C: 61 }, release: { t2C: 60 }, settings: { chargeOtpC: 90 } },
  { name: 'chargeUtp', trip: { t2C: 0 }, delayMs: 5000, hold: { t2C: 1 }, release: { t2C: 2 } },
  {
    name: 'dischargeUtp', trip: { t2C: -20 }, delayMs: 5000, hold: { t2C: -11 }, release: { t2C: -10 },
    settings: { chargeUtpC: -40, chargeUtpRecoveryC: -35 },
  },
  { name: 'cellDiff', trip: withCell(3600), delayMs: 0, hold: withCell(3600), release: withCell(3599) },
  { name: 'lowCapacity', trip: { socPct: 19 }, delayMs: 0, hold: { socPct: 19 }, release: { socPct: 20 } },
];

const STEP_MS = 100;

describe('JK protections on a simulated clock', () => {
  it('has a case for every rule', () => {
    expect(CASES.map((c) => c.name).sort()).toEqual(RULES.map((r) => r.name).sort());
  });

  it.each(CASES)('$name trips after its delay and recovers at its recovery value', (c) => {
    const rule = RULES.find((r) => r.name === c.name)!;
    const settings = { ...profile.settings, ...c.settings };
    const model = new ProtectionModel(profile.protection);
    const feed = (m: Partial<Measurement>, ms: number): void => {
      for (let t = 0; t < ms; t += STEP_MS) model.step(STEP_MS, { ...base, ...m }, settings);
    };
    feed({}, 1000);
    expect(model.active).toEqual([]);

    // The first sample that shows the condition starts the delay.
    model.step(STEP_MS, { ...base, ...c.trip }, settings);
    if (c.delayMs > 0) {
      feed(c.trip, c.delayMs - STEP_MS);
      expect(model.active).toEqual([]);
      expect(model.chargeAllowed && model.dischargeAllowed).toBe(true);
      feed(c.trip, STEP_MS);
    }
    expect(model.active).toEqual([c.name]);
    expect(model.alarmBits).toBe(1 << JkAlarmBit[rule.alarm]);
    expect(model.chargeAllowed).toBe(!rule.blocksCharge);
    expect(model.dischargeAllowed).toBe(!rule.blocksDischarge);

    if (c.releaseAfterMs !== undefined) {
      feed(c.hold, c.releaseAfterMs - STEP_MS);
      expect(model.active).toEqual([c.name]);
      feed(c.release, STEP_MS);
    } else {
      feed(c.hold, 600_000);
      expect(model.active).toEqual([c.name]);
      model.step(STEP_MS, { ...base, ...c.release }, settings);
    }
    expect(model.active).toEqual([]);
    expect(model.alarmBits).toBe(0);
    expect(model.chargeAllowed && model.dischargeAllowed).toBe(true);
  });

  it('restarts the delay when one sample is back inside the limit', () => {
    const model = new ProtectionModel(profile.protection);
    const over = { ...base, ...withCell(3700) };
    for (let round = 0; round < 5; round++) {
      for (let t = 0; t < 4900; t += STEP_MS) model.step(STEP_MS, over, profile.settings);
      model.step(STEP_MS, base, profile.settings);
    }
    expect(model.active).toEqual([]);
  });

  it('a zero cell-difference setting disables that alarm', () => {
    const model = new ProtectionModel(profile.protection);
    model.step(STEP_MS, { ...base, ...withCell(3000) }, { ...profile.settings, cellDiffProtectionMv: 0 });
    expect(model.isActive('cellDiff')).toBe(false);
  });
});

describe('the step API (no timers)', () => {
  it('advance() runs the model and its protections in tick-sized steps', () => {
    const bms = new VirtualBms({ profile, tickMs: 100 });
    bms.faults.cellOverridesMv.set(1, 2700); // below the 2800 mV UVP
    bms.advance(4900);
    expect(bms.dischargeMosfetOn).toBe(true);
    bms.advance(200);
    expect(bms.dischargeMosfetOn).toBe(false);
    expect(bms.protection.active).toEqual(['cellUvp', 'cellDiff']);
    bms.faults.cellOverridesMv.set(1, 3000);
    bms.advance(100);
    expect(bms.dischargeMosfetOn).toBe(true);
  });
});

describe('protections seen on the wire (virtual BMS on fake timers)', () => {
  afterEach(() => vi.useRealTimers());

  it('charge OCP: MOSFET off after 30 s, back on after the 60 s release, then trips again while the overcurrent lasts', async () => {
    vi.useFakeTimers();
    const { bms, ask } = await memoryRig();
    bms.setCurrentA(160); // charge OCP 150 A
    await vi.advanceTimersByTimeAsync(29_800);
    let s = decodeOnly(await ask(VECTORS.readAllPc));
    expect(chargeMosfetOn(s)).toBe(true);
    expect(s.currentMa).toBe(160_000);

    await vi.advanceTimersByTimeAsync(300);
    s = decodeOnly(await ask(VECTORS.readAllPc));
    expect(chargeMosfetOn(s)).toBe(false);
    expect(dischargeMosfetOn(s)).toBe(true);
    expect(s.currentMa).toBe(0); // the open MOSFET blocks the charger
    expect(s.alarms).toBe(1 << JkAlarmBit.chargeOverCurrent);

    await vi.advanceTimersByTimeAsync(59_700);
    expect(chargeMosfetOn(decodeOnly(await ask(VECTORS.readAllPc)))).toBe(false);
    await vi.advanceTimersByTimeAsync(400);
    s = decodeOnly(await ask(VECTORS.readAllPc));
    expect(chargeMosfetOn(s)).toBe(true);
    expect(s.alarms).toBe(0);

    await vi.advanceTimersByTimeAsync(30_500);
    expect(chargeMosfetOn(decodeOnly(await ask(VECTORS.readAllPc)))).toBe(false);
    await bms.stop();
  });

  it('a real charge drives a cell into OVP: the charge MOSFET opens and discharging is still possible', async () => {
    vi.useFakeTimers();
    // timeScale 60: one clock minute = one model hour, so a 100 Ah pack fills in minutes
    const { bms, ask } = await memoryRig({ timeScale: 60, profileInput: { initialSocPct: 90, capacitySpreadPct: 3 } });
    bms.setCurrentA(50);
    let tripped = false;
    for (let minute = 0; minute < 10 && !tripped; minute++) {
      await vi.advanceTimersByTimeAsync(10_000);
      tripped = bms.protection.isActive('cellOvp');
    }
    expect(tripped).toBe(true);
    const s = decodeOnly(await ask(VECTORS.readAllPc));
    expect(Math.max(...s.cellsMv)).toBeGreaterThanOrEqual(3650 - 50 * 0.25); // OCV at trip; the I·R lift is gone with the current
    expect(chargeMosfetOn(s)).toBe(false);
    expect(s.alarms & (1 << JkAlarmBit.cellOverVoltage)).not.toBe(0);
    bms.setCurrentA(-20);
    await vi.advanceTimersByTimeAsync(1000);
    expect(decodeOnly(await ask(VECTORS.readAllPc)).currentMa).toBe(-20_000);
    await bms.stop();
  });
});
