/**
 * Frames the inverter sends (§3.1, §5.4, §6.1): encoders, the one decoder, the liveness test.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  canFrame,
  decodeInverterFrame,
  encodeInverterMessage,
  inverterHeartbeatFrames,
  isInverterHeartbeat,
  type InverterMessage,
} from '../../../src/protocol/can';
import { frameOf, hexOf, vector } from './helpers';

describe('isInverterHeartbeat: any frame on 0x305-0x307, whatever the payload (§5.4, §8)', () => {
  test.each([
    ['Pylon 8×00', canFrame(0x305, new Uint8Array(8))],
    ['SMA data', canFrame(0x305, [0x0c, 0x02, 0x9c, 0xff, 0xe6, 0x00, 0xde, 0x03])],
    ['SMA 0x306', canFrame(0x306, [0x64, 0, 10, 1, 0, 0, 0x28, 0x02])],
    ['Victron 0x307', frameOf(vector('victron-gx-307'))],
    ['ArminJo-style 21 00 …', canFrame(0x305, [0x21, 0, 0, 0, 0, 0, 0, 0])],
    ['DLC 0', canFrame(0x305, [])],
    ['Schneider 29-bit 0x305', canFrame(0x305, new Uint8Array(8), true)],
  ])('%s → true', (_, f) => expect(isInverterHeartbeat(f)).toBe(true));

  test.each([0x304, 0x308, 0x351, 0x356, 0x4200])('0x%s → false', (id) => expect(isInverterHeartbeat(canFrame(id, new Uint8Array(8)))).toBe(false));
});

describe('encoders', () => {
  test('Pylon / Goodwe: one 0x305 8×00 (§3.1)', () => {
    for (const profile of ['pylon-lv', 'goodwe-lv'] as const) {
      expect(inverterHeartbeatFrames(profile).map((f) => [f.id, hexOf(f.data)])).toEqual([[0x305, vector('pylonlv-inverter-305').data]]);
    }
  });

  test('Victron GX: 0x305, 0x306, 0x307 as captured (§6.1)', () => {
    const frames = inverterHeartbeatFrames('victron');
    expect(frames.map((f) => [f.id, hexOf(f.data)])).toEqual(['victron-gx-305', 'victron-gx-306', 'victron-gx-307'].map((id) => [frameOf(vector(id)).id, vector(id).data]));
  });

  test('SMA 0x305: 0.1 V, current negative while charging, 0.1 °C, SOC 0.1 % (§5.4)', () => {
    const f = encodeInverterMessage({ kind: 'sma-battery', voltageV: 52.4, currentA: 10, temperatureC: 23, socPct: 99 });
    // 23.0 °C and 99.0 % are the "E6,00,DE,03" tail seen on a real SI (SMAVenusDriver, §5.4).
    expect([f.id, hexOf(f.data)]).toEqual([0x305, '0C 02 9C FF E6 00 DE 03']);
  });

  test('SMA 0x306 and 0x307 layouts', () => {
    const status = encodeInverterMessage({ kind: 'sma-status', sohPct: 100, chargingProcedure: 10, operatingState: 1, activeErrorNumber: 952, chargeVoltageSetpointV: 55.2 });
    expect([status.id, hexOf(status.data)]).toEqual([0x306, '64 00 0A 01 B8 03 28 02']);
    const relays = encodeInverterMessage({ kind: 'sma-relays', relayBits: 0x0102, ac2RelayClosed: true, ac2VoltageValid: false });
    expect([relays.id, hexOf(relays.data)]).toEqual([0x307, '02 01 80 00 00 00 00 00']);
  });
});

describe('decodeInverterFrame', () => {
  test('SMA 0x305 back in the bridge convention (+ = charging)', () => {
    expect(decodeInverterFrame(canFrame(0x305, [0x0c, 0x02, 0x9c, 0xff, 0xe6, 0x00, 0xde, 0x03]))).toEqual({
      ok: true,
      message: { kind: 'sma-battery', voltageV: 52.4, currentA: 10, temperatureC: 23, socPct: 99 },
    });
  });

  test('payloads it cannot place are still heartbeats ("other")', () => {
    const r = decodeInverterFrame(canFrame(0x305, [0x21, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 4)));
    expect(r).toEqual({ ok: true, message: { kind: 'other', id: 0x305, ext: false, data: new Uint8Array([0x21, 0, 0, 0]) } });
    expect(decodeInverterFrame(canFrame(0x305, new Uint8Array(8), true))).toMatchObject({ ok: true, message: { kind: 'other', ext: true } });
  });

  test('ids outside 0x305-0x307 are refused', () => {
    expect(decodeInverterFrame(canFrame(0x351, new Uint8Array(8)))).toMatchObject({ ok: false, id: 0x351, code: 'UNKNOWN_ID' });
  });

  const heartbeatId = fc.constantFrom(0x305, 0x306, 0x307) as fc.Arbitrary<0x305 | 0x306 | 0x307>;
  const notAllZero = (values: number[]) => values.some((v) => v !== 0);
  const messageArb: fc.Arbitrary<InverterMessage> = fc.oneof(
    heartbeatId.map((id) => ({ kind: 'keepalive' as const, id })),
    fc.constant({ kind: 'victron-307' as const }),
    fc
      .record({ v: fc.integer({ min: 0, max: 0xffff }), i: fc.integer({ min: -32767, max: 32767 }), t: fc.integer({ min: -32768, max: 32767 }), soc: fc.integer({ min: 0, max: 1000 }) })
      .filter((r) => notAllZero([r.v, r.i, r.t, r.soc]))
      .map((r) => ({ kind: 'sma-battery' as const, voltageV: r.v / 10, currentA: r.i / 10, temperatureC: r.t / 10, socPct: r.soc / 10 })),
    fc
      .record({ soh: fc.integer({ min: 0, max: 100 }), proc: fc.integer({ min: 0, max: 255 }), op: fc.integer({ min: 0, max: 255 }), err: fc.integer({ min: 0, max: 0xffff }), cvl: fc.integer({ min: 0, max: 0xffff }) })
      .filter((r) => notAllZero([r.soh, r.proc, r.op, r.err, r.cvl]))
      .map((r) => ({ kind: 'sma-status' as const, sohPct: r.soh, chargingProcedure: r.proc, operatingState: r.op, activeErrorNumber: r.err, chargeVoltageSetpointV: r.cvl / 10 })),
    fc
      .record({ bits: fc.integer({ min: 0, max: 0xffff }), closed: fc.boolean(), valid: fc.boolean() })
      .filter((r) => r.bits !== 0 || r.closed || r.valid)
      .map((r) => ({ kind: 'sma-relays' as const, relayBits: r.bits, ac2RelayClosed: r.closed, ac2VoltageValid: r.valid })),
    fc
      .record({ id: heartbeatId, ext: fc.boolean(), data: fc.uint8Array({ maxLength: 8 }) })
      .filter((r) => r.ext || r.data.length !== 8)
      .map((r) => ({ kind: 'other' as const, ...r })),
  );

  test('decode(encode(m)) = m for every message that is not all zero', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const f = encodeInverterMessage(m);
        expect(isInverterHeartbeat(f)).toBe(true);
        expect(decodeInverterFrame(f)).toEqual({ ok: true, message: m });
      }),
    );
  });

  test('the documented ambiguity: an SMA 0x307 with every relay open is 8×00 and reads as a keep-alive', () => {
    const f = encodeInverterMessage({ kind: 'sma-relays', relayBits: 0, ac2RelayClosed: false, ac2VoltageValid: false });
    expect(decodeInverterFrame(f)).toEqual({ ok: true, message: { kind: 'keepalive', id: 0x307 } });
  });
});
