import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  buildPairRequest,
  buildReadAllRequest,
  buildWriteRequest,
  chargeMosfetOn,
  dischargeMosfetOn,
  JkAlarmBit,
  JkStatusBit,
  readRecords,
} from '../../bridge/src/protocol/jk';
import { decodeOnly, framesIn, memoryRig, VECTORS } from './helpers';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('read-all replies (spec §2.4, §2.11 point 3)', () => {
  it.each([4, 7, 13, 16, 24, 32])('%i cells: LENGTH = 241 + 3N, ids in §2.4 order, 0xC0 = 1, valid sum', async (cells) => {
    const { bms, ask } = await memoryRig({ profileInput: { cells } });
    const bytes = await ask(VECTORS.readAllPc);
    const [item] = framesIn(bytes);
    expect(item.kind).toBe('frame');
    expect(bytes.length).toBe(243 + 3 * cells);
    expect((bytes[2] << 8) | bytes[3]).toBe(241 + 3 * cells);
    // terminal 0, cmd echo, source BMS, type reply
    expect([...bytes.subarray(4, 11)]).toEqual([0, 0, 0, 0, 0x06, 0x00, 0x01]);
    const records = readRecords(bytes);
    if (!records.ok) throw new Error(records.error.detail);
    const ids = records.records.map((r) => r.id.toString(16).toUpperCase()).join(' ');
    expect(ids).toBe(
      '79 80 81 82 83 84 85 86 87 89 8A 8B 8C 8E 8F 90 91 92 93 94 95 96 97 98 99 9A 9B 9C 9D 9E 9F A0 A1 A2 A3 A4 ' +
        'A5 A6 A7 A8 A9 AA AB AC AD AE AF B0 B1 B2 B3 B4 B5 B6 B7 B8 B9 BA C0',
    );
    expect([...records.records.at(-1)!.value]).toEqual([0x01]);
    // sum16 over 0x4E..0x68 (§2.1), checked here by hand rather than by the codec under test
    const end = bytes.length - 5;
    expect(bytes[end]).toBe(0x68);
    const sum = bytes.subarray(0, end + 1).reduce((a, b) => a + b, 0) & 0xffff;
    expect((bytes[bytes.length - 2] << 8) | bytes[bytes.length - 1]).toBe(sum);
    expect(decodeOnly(bytes).cellsMv).toHaveLength(cells);
    await bms.stop();
  });

  it('decodes with the bridge codec to exactly the model values', async () => {
    const { bms, ask } = await memoryRig({ profileInput: { cells: 16, capacityAh: 100, initialSocPct: 60 } });
    bms.setCurrentA(-23.456);
    await vi.advanceTimersByTimeAsync(1000);
    const decoded = decodeOnly(await ask(VECTORS.readAllPc));

    const model = bms.battery;
    expect(decoded.cellsMv).toEqual(model.cellVoltagesMv().map((mv) => Math.round(mv)));
    expect(decoded.currentMa).toBe(-23_460); // 10 mA resolution (§2.7)
    expect(decoded.socPct).toBe(Math.round(model.socPct));
    expect(decoded.packMv).toBe(Math.round(model.cellVoltagesMv().reduce((a, b) => a + b) / 10) * 10);
    expect(decoded.cellCount).toBe(16);
    expect(decoded.settings.cellCountSetting).toBe(16);
    expect(decoded.settings.capacityAh).toBe(100);
    expect(decoded.mosfetTempC).toBe(Math.round(model.temperatures.mosfetC));
    expect(chargeMosfetOn(decoded)).toBe(true);
    expect(dischargeMosfetOn(decoded)).toBe(true);
    expect(decoded.alarms).toBe(0);
    expect(decoded.protocolVersion).toBe(1);
    expect(decoded.settings).toEqual(bms.settings);
    // lastServed is exactly what went on the wire
    expect(bms.lastServed?.snapshot).toEqual(decoded);
    await bms.stop();
  });

  it('reports MOSFET states and protection alarms as the bits the codec decodes', async () => {
    const { bms, ask } = await memoryRig();
    bms.settings.dischargeMosfetSwitch = false;
    bms.faults.cellOverridesMv.set(2, 3700); // above the default 3650 mV OVP
    await vi.advanceTimersByTimeAsync(6000); // past the 5 s cell OVP delay
    const decoded = decodeOnly(await ask(VECTORS.readAllPc));
    expect(decoded.cellsMv[1]).toBe(3700);
    expect(chargeMosfetOn(decoded)).toBe(false); // cell OVP
    expect(dischargeMosfetOn(decoded)).toBe(false); // switch
    expect(decoded.settings.dischargeMosfetSwitch).toBe(false);
    expect(decoded.settings.chargeMosfetSwitch).toBe(true); // the switch, not the live state (§2.9)
    expect(decoded.alarms & (1 << JkAlarmBit.cellOverVoltage)).not.toBe(0);
    expect(decoded.status & (1 << JkStatusBit.batteryOnline)).toBe(0);
    await bms.stop();
  });
});

describe('request variants and malformed input (§2.3, §2.11 point 2)', () => {
  it.each([
    ['0x06 PC 21 bytes (vendor)', VECTORS.readAllPc, 0x06],
    ['0x06 GPS', VECTORS.readAllGps, 0x06],
    ['0x03 PC', VECTORS.readCmd03, 0x03],
    ['0x06 20 bytes (no id)', VECTORS.readAll20Byte, 0x06],
    ['built 0x03 GPS 20 bytes', buildReadAllRequest({ command: 0x03, source: 'gps', withDataId: false }), 0x03],
  ])('%s gets a full reply echoing the command', async (_name, request, command) => {
    const { bms, ask } = await memoryRig();
    const decoded = decodeOnly(await ask(request));
    expect(decoded.command).toBe(command);
    expect(bms.requests.at(-1)).toMatchObject({ outcome: 'read' });
    await bms.stop();
  });

  it.each([
    ['the PR #343 bad-checksum write', VECTORS.badChecksumPr343],
    ['junk', Uint8Array.from([0x01, 0x02, 0x4e, 0x00, 0xff, 0x68, 0x13])],
    ['a read-all with a wrong sum', Uint8Array.from([...VECTORS.readAllPc.subarray(0, 20), 0x2a])],
    ['a read-all without the 0x68 end byte', Uint8Array.from(VECTORS.readAllPc.map((b, i) => (i === 16 ? 0x69 : i === 20 ? b + 1 : b)))],
    ['activation (0x01)', VECTORS.activate],
    ['a reply frame (type 1) instead of a request', Uint8Array.from(VECTORS.readAllPc.map((b, i) => (i === 10 ? 1 : i === 20 ? b + 1 : b)))],
    ['a single-id read', buildReadAllRequest().map((b, i) => (i === 11 ? 0x85 : i === 20 ? b + 0x85 : b))],
    ['a half request', VECTORS.readAllPc.subarray(0, 12)],
  ])('%s gets no reply', async (_name, bytes) => {
    const { bms, ask } = await memoryRig();
    expect(await ask(bytes, 100)).toHaveLength(0);
    // reported within the 50 ms receive gap, not only when the next frame arrives
    expect(bms.requests.length).toBeGreaterThan(0);
    expect(bms.requests.map((r) => r.outcome)).toEqual(bms.requests.map(() => 'ignored'));
    // and the BMS still answers the next good request
    expect(decodeOnly(await ask(VECTORS.readAllPc)).cellCount).toBe(16);
    expect(bms.requests.at(-1)?.outcome).toBe('read');
    await bms.stop();
  });

  it('resynchronises on 4E 57 after junk in the same chunk', async () => {
    const { ask, bms } = await memoryRig();
    const decoded = decodeOnly(await ask(Uint8Array.from([0x00, 0x4e, 0x11, ...VECTORS.readAllGps])));
    expect(decoded.cellCount).toBe(16);
    expect(bms.requests.map((r) => r.outcome)).toEqual(['ignored', 'read']);
    await bms.stop();
  });

  it('drops a request torn by a receive gap of 50 ms or more (§2.10)', async () => {
    const { peer, bms } = await memoryRig();
    peer.emitData(VECTORS.readAllPc.subarray(0, 10));
    await vi.advanceTimersByTimeAsync(50);
    peer.emitData(VECTORS.readAllPc.subarray(10));
    await vi.advanceTimersByTimeAsync(60);
    expect(peer.writes).toHaveLength(0);
    expect(bms.requests.map((r) => r.detail.split(':')[0])).toEqual(['TRUNCATED', 'JUNK']);
    await bms.stop();
  });

  it('answers a request that arrives in pieces', async () => {
    const { peer, bms } = await memoryRig();
    for (const b of VECTORS.readAllPc) {
      peer.emitData([b]);
      await vi.advanceTimersByTimeAsync(0);
    }
    await vi.advanceTimersByTimeAsync(10);
    expect(decodeOnly(peer.written()).command).toBe(0x06);
    await bms.stop();
  });
});

describe('latency and chunking (§2.10, §2.11 point 1)', () => {
  it.each([
    [0, 1],
    [0.5, 3],
    [0.999, 5],
  ])('with random() = %d the reply starts after %d ms (0.2-5 ms on the 1 ms timer grid)', async (r, delayMs) => {
    const { bms, peer } = await memoryRig({ random: () => r });
    peer.emitData(VECTORS.readAllPc);
    await vi.advanceTimersByTimeAsync(delayMs - 1);
    expect(peer.writes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(peer.writes.length).toBeGreaterThan(0);
    await bms.stop();
  });

  it('writes each reply in 2-6 chunks that reassemble to one valid frame', async () => {
    const chunkCounts: number[] = [];
    const { bms, ask, peer } = await memoryRig();
    for (let i = 0; i < 30; i++) {
      const bytes = await ask(VECTORS.readAllPc);
      chunkCounts.push(peer.writes.length);
      expect(decodeOnly(bytes).cellCount).toBe(16);
    }
    expect(Math.min(...chunkCounts)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...chunkCounts)).toBeLessThanOrEqual(6);
    expect(new Set(chunkCounts).size).toBeGreaterThan(2);
    await bms.stop();
  });

  it('writes one piece when chunking is off', async () => {
    const { bms, ask, peer } = await memoryRig({ chunked: false });
    decodeOnly(await ask(VECTORS.readAllPc));
    expect(peer.writes).toHaveLength(1);
    await bms.stop();
  });
});

describe('writes after pairing (§2.8, §2.11 point 4)', () => {
  it('pair (no reply) then write 0xAB 0 turns the charge MOSFET off; 0xAB 1 turns it back on', async () => {
    const { bms, ask } = await memoryRig();
    expect(await ask(VECTORS.pair)).toHaveLength(0);
    const ack = await ask(VECTORS.chargeMosOff);
    // short reply: cmd 0x02, source BMS, type reply, [id][value]
    expect([...ack.subarray(8, 13)]).toEqual([0x02, 0x00, 0x01, 0xab, 0x00]);
    expect(framesIn(ack).map((f) => f.kind)).toEqual(['frame']);
    let decoded = decodeOnly(await ask(VECTORS.readAllPc));
    expect(chargeMosfetOn(decoded)).toBe(false);
    expect(dischargeMosfetOn(decoded)).toBe(true);
    expect(decoded.settings.chargeMosfetSwitch).toBe(false);

    // charging is blocked by the open MOSFET, discharging still flows
    bms.setCurrentA(50);
    await vi.advanceTimersByTimeAsync(1000);
    expect(decodeOnly(await ask(VECTORS.readAllPc)).currentMa).toBe(0);

    await ask(VECTORS.chargeMosOn);
    await vi.advanceTimersByTimeAsync(1000);
    decoded = decodeOnly(await ask(VECTORS.readAllPc));
    expect(chargeMosfetOn(decoded)).toBe(true);
    expect(decoded.currentMa).toBe(50_000);
    expect(bms.requests.map((r) => r.outcome)).toEqual(['pair', 'write', 'read', 'read', 'write', 'read']);
    await bms.stop();
  });

  it('ignores writes without a pair, after the pair window, and to other ids', async () => {
    const { bms, ask } = await memoryRig();
    expect(await ask(VECTORS.chargeMosOff)).toHaveLength(0);
    await ask(buildPairRequest());
    await vi.advanceTimersByTimeAsync(11_000);
    expect(await ask(buildWriteRequest(0xac, 0))).toHaveLength(0);
    await ask(buildPairRequest());
    expect(await ask(buildWriteRequest(0x9d, 0))).toHaveLength(0);
    expect(bms.settings.chargeMosfetSwitch).toBe(true);
    expect(bms.settings.dischargeMosfetSwitch).toBe(true);
    expect(bms.settings.balancerEnabled).toBe(true);
    expect(bms.requests.filter((r) => r.outcome === 'ignored').map((r) => r.detail)).toEqual([
      'write without a preceding pair frame',
      'write without a preceding pair frame',
      'write to id 157 is not supported (only 0xAB/0xAC, §2.8)',
    ]);
    // 0xAC after a fresh pair works
    await ask(buildPairRequest());
    expect((await ask(buildWriteRequest(0xac, 0))).length).toBeGreaterThan(0);
    expect(dischargeMosfetOn(decodeOnly(await ask(VECTORS.readAllPc)))).toBe(false);
    await bms.stop();
  });
});

describe('recording (MODELS.md §7 lesson 12)', () => {
  it('waitForRequest resolves on a matching request and times out with a clear message', async () => {
    const { bms, peer } = await memoryRig();
    const waiting = bms.waitForRequest((r) => r.request?.source === 2, 1000);
    peer.emitData(VECTORS.readAllPc);
    peer.emitData(VECTORS.readAllGps);
    await vi.advanceTimersByTimeAsync(10);
    await expect(waiting).resolves.toMatchObject({ outcome: 'read', request: { source: 2 } });
    const never = bms.waitForRequest((r) => r.outcome === 'write', 500);
    const assertion = expect(never).rejects.toThrow('no matching request within 500 ms (2 received)');
    await vi.advanceTimersByTimeAsync(500);
    await assertion;
    await bms.stop();
  });
});
