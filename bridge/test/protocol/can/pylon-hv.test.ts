/**
 * Pylon HV codec (spec §7): the golden vectors pylonhv-* both ways, the requests, every variant
 * setting by the bytes it changes, and properties (round trip, hostile states never throw).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  PYLON_HV_DEFAULT_VARIANT,
  PYLON_HV_ENSEMBLE_IDS,
  PYLON_HV_EQUIPMENT_IDS,
  createPylonHvCodec,
  decodePylonHvRequest,
  encodePylonHvEnsemble,
  encodePylonHvEquipment,
  encodePylonHvMaskReply,
  encodePylonHvRequest,
  pylonHvName,
  type BatteryState,
  type BatteryStatePatch,
  type CanFrame,
  type PylonHvVariant,
} from '../../../src/protocol/can';
import { canFrame } from '../../../src/protocol/can/frame';
import { ALL_VECTORS, baseState, frameOf, hexOf, hostileStateArb, validStateArb, vector } from './helpers';

const variant = (patch: Partial<PylonHvVariant>): PylonHvVariant => ({ ...PYLON_HV_DEFAULT_VARIANT, ...patch });

/** A 24 S LiFePO4 pack as the bridge would describe it (the case: 76.8 V nominal). */
function hvState(): BatteryState {
  return {
    ...baseState(),
    chargeVoltageV: 82.8,
    dischargeVoltageV: 67.2,
    voltageV: 79.2,
    currentA: -12.5,
    temperatureC: 21.5,
    identity: { ...baseState().identity, manufacturer: 'PYLON', moduleCount: 2, capacityAh: 200 },
    pack: { cellCount: 24, cycles: 17, nominalVoltageV: 77 },
  };
}

function frameWith(frames: CanFrame[], id: number): CanFrame {
  const f = frames.find((x) => x.id === id);
  if (!f) throw new Error(`no 0x${id.toString(16)} in ${frames.map((x) => x.id.toString(16)).join(' ')}`);
  return f;
}

function decodeAll(frames: CanFrame[], v: PylonHvVariant = PYLON_HV_DEFAULT_VARIANT): BatteryStatePatch {
  const codec = createPylonHvCodec(v);
  let out: BatteryStatePatch = {};
  for (const f of frames) {
    const r = codec.decode(f);
    if (!r.ok) throw new Error(r.detail);
    out = { ...out, ...r.patch, cells: { ...out.cells, ...r.patch.cells }, identity: { ...out.identity, ...r.patch.identity }, pack: { ...out.pack, ...r.patch.pack } };
  }
  return out;
}

describe('golden vectors (vectors/can-frames.json, Battery-Emulator PYLON-CAN constants)', () => {
  const codec = createPylonHvCodec();

  test('every pylon-hv vector is covered by this file', () => {
    const ids = ALL_VECTORS.filter((v) => v.protocol === 'pylon-hv').map((v) => v.id).sort();
    expect(ids).toEqual(
      ['pylonhv-8200-quit-sleep', 'pylonhv-8210-charge-cmd', 'pylonhv-be-4210', 'pylonhv-be-4220', 'pylonhv-be-4230', 'pylonhv-be-4240', 'pylonhv-be-4250', 'pylonhv-be-7320', 'pylonhv-req-ensemble', 'pylonhv-req-sysinfo'].sort(),
    );
  });

  test('0x4210 decodes to 246.9 V, 0.0 A, 18.1 °C, SOC 46 %, SOH 100 % and is re-encoded byte for byte', () => {
    const v = vector('pylonhv-be-4210');
    const r = codec.decode(frameOf(v));
    expect(r.ok && r.patch).toEqual({ voltageV: 246.9, currentA: 0, temperatureC: 18.1, socPct: 46, sohPct: 100 });
    const state = { ...baseState(), voltageV: 246.9, currentA: 0, temperatureC: 18.1, socPct: 46, sohPct: 100 };
    expect(hexOf(frameWith(encodePylonHvEnsemble(state), 0x4210).data)).toBe(v.data);
  });

  test('0x4220: V1.26 reads bytes 6-7 = 31050 as -105 A (a sender fault made visible); the GCE variant reads +105 A and re-encodes it', () => {
    const v = vector('pylonhv-be-4220');
    const v126 = codec.decode(frameOf(v));
    expect(v126.ok && v126.patch).toEqual({ chargeVoltageV: 270, dischargeVoltageV: 202.5, chargeCurrentLimitA: 105, dischargeCurrentLimitA: -105 });
    const gce = createPylonHvCodec(variant({ dischargeLimitSign: 'plus' })).decode(frameOf(v));
    expect(gce.ok && gce.patch.dischargeCurrentLimitA).toBe(105);
    const state = { ...baseState(), chargeVoltageV: 270, dischargeVoltageV: 202.5, chargeCurrentLimitA: 105, dischargeCurrentLimitA: 105 };
    expect(hexOf(frameWith(encodePylonHvEnsemble(state, variant({ dischargeLimitSign: 'plus' })), 0x4220).data)).toBe(v.data);
    // V1.26 default: 30000 − 1050 = 28950 = 0x7116.
    expect(hexOf(frameWith(encodePylonHvEnsemble(state), 0x4220).data)).toBe('8C 0A E9 07 4A 79 16 71');
  });

  test('0x4230 / 0x4240: cell extremes and their numbers, both ways', () => {
    const cells = codec.decode(frameOf(vector('pylonhv-be-4230')));
    expect(cells.ok && cells.patch.cells).toEqual({ maxCellMv: 3295, minCellMv: 3290, maxCellNumber: 3, minCellNumber: 6 });
    const temps = codec.decode(frameOf(vector('pylonhv-be-4240')));
    expect(temps.ok && temps.patch.cells).toEqual({ maxTemperatureC: 15, minTemperatureC: 12.2, maxTemperatureSensorNumber: 17, minTemperatureSensorNumber: 3 });
    const state = {
      ...baseState(),
      cells: { maxCellMv: 3295, minCellMv: 3290, maxCellNumber: 3, minCellNumber: 6, maxTemperatureC: 15, minTemperatureC: 12.2, maxTemperatureSensorNumber: 17, minTemperatureSensorNumber: 3 },
    };
    const frames = encodePylonHvEnsemble(state);
    expect(hexOf(frameWith(frames, 0x4230).data)).toBe(vector('pylonhv-be-4230').data);
    expect(hexOf(frameWith(frames, 0x4240).data)).toBe(vector('pylonhv-be-4240').data);
  });

  test('0x4250: idle, cycle count 2, no error/alarm/protection, both ways', () => {
    const v = vector('pylonhv-be-4250');
    const r = codec.decode(frameOf(v));
    expect(r.ok && r.message).toEqual({ kind: 'hv-status', basicStatus: 'idle', forceCharge: false, balanceCharge: false, cycles: 2, errorByte: 0, alarmWord: 0, protectionWord: 0 });
    const state = { ...baseState(), currentA: 0, pack: { cellCount: 16, cycles: 2, nominalVoltageV: 51 } };
    expect(hexOf(frameWith(encodePylonHvEnsemble(state), 0x4250).data)).toBe(v.data);
  });

  test('0x7320: 120 cells, 4 modules of 30, 384 V, 37 Ah, both ways', () => {
    const v = vector('pylonhv-be-7320');
    const r = codec.decode(frameOf(v));
    expect(r.ok && r.message).toEqual({ kind: 'hv-quantities', cellCount: 120, modulesInSeries: 4, cellsPerModule: 30, voltageLevelV: 384, capacityAh: 37 });
    const state = { ...baseState(), identity: { ...baseState().identity, moduleCount: 4, capacityAh: 37 }, pack: { cellCount: 120, cycles: 0, nominalVoltageV: 384 } };
    expect(hexOf(frameWith(encodePylonHvEquipment(state), 0x7320).data)).toBe(v.data);
  });

  test.each([
    ['pylonhv-req-ensemble', { kind: 'info', info: 'ensemble' }],
    ['pylonhv-req-sysinfo', { kind: 'info', info: 'equipment' }],
    ['pylonhv-8200-quit-sleep', { kind: 'sleep', sleep: false }],
    ['pylonhv-8210-charge-cmd', { kind: 'command', charge: true, discharge: false }],
  ] as const)('request %s decodes and is re-encoded byte for byte', (id, request) => {
    const v = vector(id);
    const r = decodePylonHvRequest(frameOf(v));
    expect(r).toEqual({ ok: true, request });
    const f = encodePylonHvRequest(request);
    expect([f.id, f.ext, hexOf(f.data)]).toEqual([parseInt(v.can_id, 16), true, v.data]);
  });
});

describe('requests (inverter → battery)', () => {
  const ext = (id: number, bytes: number[]) => canFrame(id, bytes, true);

  test('sleep 0x55, cells 0x01, discharge command, mask and heartbeat', () => {
    expect(decodePylonHvRequest(ext(0x8200, [0x55, 0, 0, 0, 0, 0, 0, 0]))).toEqual({ ok: true, request: { kind: 'sleep', sleep: true } });
    expect(decodePylonHvRequest(ext(0x4200, [0x01, 0, 0, 0, 0, 0, 0, 0]))).toEqual({ ok: true, request: { kind: 'info', info: 'cells' } });
    expect(decodePylonHvRequest(ext(0x8210, [0, 0xaa, 0, 0, 0, 0, 0, 0]))).toEqual({ ok: true, request: { kind: 'command', charge: false, discharge: true } });
    expect(decodePylonHvRequest(ext(0x8240, [0, 0, 0, 0, 0, 0, 0, 0]))).toEqual({ ok: true, request: { kind: 'mask-comm-failure' } });
    expect(decodePylonHvRequest(ext(0x3010, [1, 0, 0, 0, 0, 0, 0, 0]))).toEqual({ ok: true, request: { kind: 'heartbeat' } });
  });

  test('address-bearing commands are ours only at our address; 0x4200 is common to all', () => {
    expect(decodePylonHvRequest(ext(0x8201, [0x55]), 1)).toEqual({ ok: true, request: { kind: 'sleep', sleep: true } });
    expect(decodePylonHvRequest(ext(0x8200, [0x55]), 1)).toMatchObject({ ok: false, code: 'UNKNOWN_ID' });
    expect(decodePylonHvRequest(ext(0x4200, [0]), 1)).toEqual({ ok: true, request: { kind: 'info', info: 'ensemble' } });
    expect(encodePylonHvRequest({ kind: 'command', charge: true, discharge: true }, 1).id).toBe(0x8211);
  });

  test.each([
    ['11-bit 0x4200', canFrame(0x4200 & 0x7ff, [0]), 'UNKNOWN_ID'],
    ['0x4200 DLC 0', ext(0x4200, []), 'MALFORMED'],
    ['0x4200 type 0x07', ext(0x4200, [7, 0, 0, 0, 0, 0, 0, 0]), 'MALFORMED'],
    ['0x8200 byte0 0x12', ext(0x8200, [0x12, 0, 0, 0, 0, 0, 0, 0]), 'MALFORMED'],
    ['0x8210 no 0xAA', ext(0x8210, [0x55, 0x55, 0, 0, 0, 0, 0, 0]), 'MALFORMED'],
    ['0x8210 DLC 1', ext(0x8210, [0xaa]), 'MALFORMED'],
    ['foreign 29-bit id', ext(0x18ff9701, [0]), 'UNKNOWN_ID'],
  ] as const)('%s is refused (%s)', (_, frame, code) => {
    const r = decodePylonHvRequest(frame);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  test('0x8250 reply to the mask command says "won\'t act" (0x00)', () => {
    const f = encodePylonHvMaskReply(variant({ address: 1 }));
    expect([f.id, f.ext, hexOf(f.data)]).toEqual([0x8251, true, '00 00 00 00 00 00 00 00']);
  });
});

describe('the reply sets', () => {
  test('ensemble: 0x4210..0x4290 in order, 29-bit, DLC 8; equipment: 0x7310..0x7340', () => {
    const ensemble = encodePylonHvEnsemble(hvState());
    expect(ensemble.map((f) => f.id)).toEqual([...PYLON_HV_ENSEMBLE_IDS]);
    expect(ensemble.every((f) => f.ext === true && f.data.length === 8)).toBe(true);
    const equipment = encodePylonHvEquipment(hvState());
    expect(equipment.map((f) => f.id)).toEqual([...PYLON_HV_EQUIPMENT_IDS]);
    expect(pylonHvName(String.fromCharCode(...equipment[2].data), String.fromCharCode(...equipment[3].data))).toBe('PYLON');
  });

  test('a cleared enable flag zeroes its limit and sets the 0x4280 forbidden mark; stale-style sets forbid both', () => {
    const state = { ...hvState(), requests: { ...hvState().requests, chargeEnable: false } };
    const frames = encodePylonHvEnsemble(state);
    expect(hexOf(frameWith(frames, 0x4280).data)).toBe('AA 00 00 00 00 00 00 00');
    const got = decodeAll(frames);
    expect([got.chargeCurrentLimitA, got.dischargeCurrentLimitA]).toEqual([0, 150]);
    const stopped = { ...hvState(), requests: { ...hvState().requests, chargeEnable: false, dischargeEnable: false } };
    expect(hexOf(frameWith(encodePylonHvEnsemble(stopped), 0x4280).data)).toBe('AA AA 00 00 00 00 00 00');
  });

  test('status: sleep, alarms and errors land in their bits', () => {
    const state: BatteryState = {
      ...hvState(),
      sleeping: true,
      alarms: { highVoltage: true, systemError: true },
      warnings: { lowTemperatureCharge: true, communication: true },
    };
    const f = frameWith(encodePylonHvEnsemble(state), 0x4250);
    // byte0 sleep = 0; cycles 17; error bit2 comm + bit7 other; alarm word bit4 (charge low T); protection bit1 (cell high V).
    expect(hexOf(f.data)).toBe('00 11 00 84 10 00 02 00');
  });
});

describe('variants change exactly the bytes they name', () => {
  const state = hvState();

  test('big-endian swaps every 16-bit field of 0x4210', () => {
    const le = frameWith(encodePylonHvEnsemble(state), 0x4210).data;
    const be = frameWith(encodePylonHvEnsemble(state, variant({ byteOrder: 'be' })), 0x4210).data;
    expect(hexOf(be)).toBe(hexOf([le[1], le[0], le[3], le[2], le[5], le[4], le[6], le[7]]));
  });

  test('without the offsets: signed 0.1 A and 0.1 °C, limits as plain magnitudes', () => {
    const frames = encodePylonHvEnsemble(state, variant({ currentOffset: false, temperatureOffset: false }));
    // −12.5 A = −125 = 0xFF83; 21.5 °C = 215 = 0x00D7.
    expect(hexOf(frameWith(frames, 0x4210).data.slice(2, 6))).toBe('83 FF D7 00');
    // CCL 100 A = 1000 = 0x03E8; DCL 150 A = 1500 = 0x05DC.
    expect(hexOf(frameWith(frames, 0x4220).data.slice(4, 8))).toBe('E8 03 DC 05');
  });

  test('the address moves every reply id (Sofar: send group 1)', () => {
    const frames = encodePylonHvEnsemble(state, variant({ address: 1 }));
    expect(frames.map((f) => f.id)).toEqual(PYLON_HV_ENSEMBLE_IDS.map((id) => id + 1));
    expect(createPylonHvCodec(variant({ address: 1 })).decode(frames[0]).ok).toBe(true);
    expect(createPylonHvCodec().decode(frames[0])).toMatchObject({ ok: false, code: 'UNKNOWN_ID' });
  });

  test('a big-endian set read as little-endian gives absurd values (what the virtual inverter detects)', () => {
    const got = decodeAll(encodePylonHvEnsemble(state, variant({ byteOrder: 'be' })));
    expect(got.voltageV).not.toBeCloseTo(state.voltageV, 0);
    expect(got.cells?.maxCellMv).toBeGreaterThan(5000);
  });
});

describe('properties', () => {
  const variants = fc.record({
    byteOrder: fc.constantFrom('le' as const, 'be' as const),
    currentOffset: fc.boolean(),
    temperatureOffset: fc.boolean(),
    dischargeLimitSign: fc.constantFrom('minus' as const, 'plus' as const),
    address: fc.integer({ min: 0, max: 15 }),
  });

  test('round trip within resolution, for every variant', () => {
    fc.assert(
      fc.property(validStateArb, variants, (state, v) => {
        const got = decodeAll(encodePylonHvEnsemble(state, v), v);
        expect(Math.abs((got.voltageV ?? NaN) - state.voltageV)).toBeLessThanOrEqual(0.051);
        expect(Math.abs((got.currentA ?? NaN) - state.currentA)).toBeLessThanOrEqual(0.051);
        expect(Math.abs((got.chargeVoltageV ?? NaN) - state.chargeVoltageV)).toBeLessThanOrEqual(0.051);
        const ccl = state.requests.chargeEnable ? state.chargeCurrentLimitA : 0;
        const dcl = state.requests.dischargeEnable ? state.dischargeCurrentLimitA : 0;
        expect(Math.abs((got.chargeCurrentLimitA ?? NaN) - ccl)).toBeLessThanOrEqual(0.051);
        expect(Math.abs((got.dischargeCurrentLimitA ?? NaN) - dcl)).toBeLessThanOrEqual(0.051);
        expect(got.requests).toEqual({ chargeEnable: state.requests.chargeEnable, dischargeEnable: state.requests.dischargeEnable });
        expect(got.cells?.maxCellMv).toBe(state.cells.maxCellMv);
        expect(got.cells?.minCellMv).toBe(state.cells.minCellMv);
        expect(Math.abs((got.cells?.maxTemperatureC ?? NaN) - state.cells.maxTemperatureC)).toBeLessThanOrEqual(0.051);
      }),
      { numRuns: 300 },
    );
  });

  test('hostile states never throw; limits never negative, DLC 8, 29-bit', () => {
    fc.assert(
      fc.property(hostileStateArb, variants, (state, v) => {
        const frames = [...encodePylonHvEnsemble(state, v), ...encodePylonHvEquipment(state, v)];
        expect(frames.every((f) => f.ext === true && f.data.length === 8)).toBe(true);
        const got = decodeAll(frames.slice(0, 9), v);
        expect(got.chargeCurrentLimitA).toBeGreaterThanOrEqual(0);
        expect(got.dischargeCurrentLimitA).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});
