import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chargeMosfetOn, decodeResponse, dischargeMosfetOn, JkAlarmBit, type BmsSnapshot } from '../../bridge/src/protocol/jk';
import { POISON } from '../src/faults';
import { decodeOnly, framesIn, memoryRig, VECTORS, type MemoryRig } from './helpers';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

let rig: MemoryRig;
beforeEach(async () => {
  rig = await memoryRig();
});
afterEach(async () => {
  await rig.bms.stop();
});

async function run(line: string): Promise<string> {
  const result = await rig.bms.commands.execute(line);
  if (!result.ok) throw new Error(`'${line}' failed: ${result.output}`);
  return result.output;
}
const poll = (waitMs?: number) => rig.ask(VECTORS.readAllPc, waitMs);

function expectPoison(s: BmsSnapshot): void {
  expect(s.cellsMv[POISON.cell - 1]).toBe(POISON.cellMv);
  expect(s.socPct).toBe(POISON.socPct);
}

/** §2.1: sum16 of everything up to the 0x68 end byte, big-endian in the last two bytes. */
function withOwnChecksum(frame: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(frame);
  const sum = bytes.subarray(0, bytes.length - 4).reduce((a, b) => a + b, 0) & 0xffff;
  bytes[bytes.length - 2] = sum >> 8;
  bytes[bytes.length - 1] = sum & 0xff;
  return bytes;
}

describe('fault injectors, each seen on the wire', () => {
  it('silent: no reply until "silent off"', async () => {
    await run('silent');
    expect(await poll(2000)).toHaveLength(0);
    expect(await poll(60_000)).toHaveLength(0);
    expect(rig.bms.requests.at(-1)).toMatchObject({ outcome: 'ignored', detail: 'silent (fault)' });
    await run('silent off');
    expect(decodeOnly(await poll()).cellCount).toBe(16);
  });

  it('silent <duration>: no reply for that long, then normal replies', async () => {
    await run('silent 3s');
    expect(await poll(1000)).toHaveLength(0); // t = 1 s
    expect(await poll(1990)).toHaveLength(0); // asked at t = 2 s
    await vi.advanceTimersByTimeAsync(10); // t = 3 s
    expect(decodeOnly(await poll()).cellCount).toBe(16);
  });

  it('late <ms> poison: the late replies carry the poison; "late off" ends both', async () => {
    const served: boolean[] = [];
    rig.bms.on('served', (r) => served.push(r.snapshot.socPct === POISON.socPct && r.requestedAtMs + 300 === r.atMs));
    await run('late 300 poison');
    expectPoison(decodeOnly(await poll(300)));
    expect(served).toEqual([true]);
    await run('late off');
    expect(decodeOnly(await poll(5)).socPct).not.toBe(POISON.socPct);
  });

  it('late <ms>: the reply comes exactly that late', async () => {
    await run('late 800');
    expect(await poll(799)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(decodeOnly(rig.peer.written()).cellCount).toBe(16);
    await run('late off');
    expect(decodeOnly(await poll(5)).cellCount).toBe(16);
  });

  it('garbage <n>: n junk bytes (never 0x4E), then a poisoned frame with a broken start, before the next reply only', async () => {
    await run('garbage 40');
    const bytes = await poll();
    const items = framesIn(bytes);
    expect(items.map((i) => i.kind)).toEqual(['discarded', 'frame']);
    expect(items[0]).toMatchObject({ code: 'JUNK' });
    const frameLength = 243 + 3 * 16;
    expect(items[0].bytes).toHaveLength(40 + frameLength);
    expect([...items[0].bytes.subarray(0, 40)]).not.toContain(0x4e);
    const broken = Uint8Array.from(items[0].bytes.subarray(40));
    expect([broken[0], broken[1]]).toEqual([0x4e, 0x00]);
    broken[1] = 0x57;
    expectPoison(decodeOnly(broken));
    expect(rig.bms.lastServed).not.toBeNull(); // the frame behind the junk is intact
    expect(framesIn(await poll()).map((i) => i.kind)).toEqual(['frame']);
  });

  it('bad-checksum <count>: that many replies carry the poison under the true data\'s checksum, then good ones', async () => {
    await run('bad-checksum 2');
    for (let i = 0; i < 2; i++) {
      const bytes = await poll();
      expect(bytes).toHaveLength(243 + 3 * 16);
      const decoded = decodeResponse(bytes);
      expect(decoded.ok ? 'ok' : decoded.error.code).toBe('BAD_CHECKSUM');
      // Not just a flipped checksum byte: the payload differs; with its own sum it decodes to the poison.
      expectPoison(decodeOnly(withOwnChecksum(bytes)));
    }
    expect(rig.bms.lastServed).toBeNull(); // the bridge was told nothing yet
    decodeOnly(await poll());
    expect(rig.bms.lastServed).not.toBeNull();
  });

  it('truncate: the poisoned reply stops halfway; the framer reports TRUNCATED; the next reply is whole', async () => {
    await run('truncate');
    const bytes = await poll();
    expect(bytes.length).toBe(Math.floor((243 + 3 * 16) / 2));
    // The poison is in the half that arrives: cell 1 (0x79, first record) and SoC (0x85).
    const cell1 = bytes.indexOf(0x79) + 2;
    expect((bytes[cell1 + 1] << 8) | bytes[cell1 + 2]).toBe(POISON.cellMv);
    expect(framesIn(bytes).map((i) => i.kind === 'discarded' && i.code)).toEqual(['TRUNCATED']);
    expect(decodeOnly(await poll()).cellCount).toBe(16);
  });

  it.each([15, 20])('wrong-cells %i: 0x79 carries that many cells (and the poison) while 0x8A/0xA9 say 16', async (n) => {
    await run(`wrong-cells ${n}`);
    const s = decodeOnly(await poll());
    expect(s.cellsMv).toHaveLength(n);
    expectPoison(s);
    expect(s.packMv).toBe(s.cellsMv.reduce((a, b) => a + b, 0));
    expect(s.cellCount).toBe(16);
    expect(s.settings.cellCountSetting).toBe(16);
    await run('wrong-cells off');
    expect(decodeOnly(await poll()).cellsMv).toHaveLength(16);
  });

  it('freeze: the reported values stop changing while the model runs on; unfreeze shows live values', async () => {
    const before = decodeOnly(await poll());
    await run('freeze');
    rig.bms.setCurrentA(-40);
    await vi.advanceTimersByTimeAsync(5000);
    const frozen = decodeOnly(await poll());
    expect(frozen.currentMa).toBe(0);
    expect(frozen.cellsMv).toEqual(before.cellsMv);
    expect(decodeOnly(await rig.ask(VECTORS.readCmd03)).command).toBe(0x03); // the command is still echoed
    await run('unfreeze');
    expect(decodeOnly(await poll()).currentMa).toBe(-40_000);
  });

  it('cell <n> <mV>: the BMS reports (and measures) the override; clear restores the model', async () => {
    const before = decodeOnly(await poll());
    await run('cell 3 3.6V');
    const s = decodeOnly(await poll());
    expect(s.cellsMv[2]).toBe(3600);
    expect(s.cellsMv.filter((_, i) => i !== 2)).toEqual(before.cellsMv.filter((_, i) => i !== 2));
    expect(s.packMv).toBeGreaterThan(before.packMv + 250);
    await run('cell 3 clear');
    expect(decodeOnly(await poll()).cellsMv).toEqual(before.cellsMv);
  });

  it('temp <sensor> <C>: overrides one sensor, negative values too (§2.6 coding); clear restores it', async () => {
    await run('temp t2 -5C');
    await run('temp mosfet 61');
    const s = decodeOnly(await poll());
    expect([s.mosfetTempC, s.t1TempC, s.t2TempC]).toEqual([61, 25, -5]);
    expect(s.alarms & (1 << JkAlarmBit.batteryLowTemperature)).toBe(0); // not before the 5 s delay
    await vi.advanceTimersByTimeAsync(5500);
    const tripped = decodeOnly(await poll());
    expect(tripped.alarms & (1 << JkAlarmBit.batteryLowTemperature)).not.toBe(0); // charge UTP 0 C
    expect(chargeMosfetOn(tripped)).toBe(false);
    await run('temp clear');
    expect(decodeOnly(await poll()).t2TempC).toBe(25);
  });

  it('alarm <bit>: the bit is raised in 0x8B without touching the MOSFETs; clear drops it', async () => {
    await run('alarm cellOverVoltage');
    await run('alarm protection309B');
    const s = decodeOnly(await poll());
    expect(s.alarms).toBe((1 << JkAlarmBit.cellOverVoltage) | (1 << JkAlarmBit.protection309B));
    expect(chargeMosfetOn(s) && dischargeMosfetOn(s)).toBe(true);
    await run('alarm clear');
    expect(decodeOnly(await poll()).alarms).toBe(0);
  });

  it('mosfet charge|discharge on|off: the 0x8C bits and the 0xAB/0xAC switches follow', async () => {
    await run('mosfet discharge off');
    const s = decodeOnly(await poll());
    expect(dischargeMosfetOn(s)).toBe(false);
    expect(s.settings.dischargeMosfetSwitch).toBe(false);
    expect(chargeMosfetOn(s)).toBe(true);
    await run('mosfet discharge on');
    expect(dischargeMosfetOn(decodeOnly(await poll()))).toBe(true);
  });

  it('drop-link <duration>: the link closes, nothing is answered, and it comes back after the duration', async () => {
    const events: string[] = [];
    rig.bms.on('link', (state) => events.push(state));
    await run('drop-link 2s');
    expect(rig.peer.linkIsOpen).toBe(false);
    expect(rig.bms.faults.describe(rig.bms.now())).toEqual(['link down (2.0 s left)']);
    rig.peer.emitData(VECTORS.readAllPc); // lost: nobody listens on a dropped link
    await vi.advanceTimersByTimeAsync(1990);
    expect(rig.peer.writes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(rig.peer.linkIsOpen).toBe(true);
    expect(decodeOnly(await poll()).cellCount).toBe(16);
    expect(events).toEqual(['down', 'up']);
  });

  it('clear-faults ends every injected fault at once', async () => {
    for (const line of ['silent', 'late 900', 'wrong-cells 3', 'freeze', 'cell 1 4000', 'temp t1 90', 'alarm lowCapacity', 'bad-checksum 5']) await run(line);
    expect(rig.bms.faults.describe(rig.bms.now())).toHaveLength(8);
    await run('clear-faults');
    expect(rig.bms.faults.describe(rig.bms.now())).toEqual([]);
    const s = decodeOnly(await poll());
    expect(s.cellsMv).toHaveLength(16);
    expect(s.alarms).toBe(0);
  });
});
