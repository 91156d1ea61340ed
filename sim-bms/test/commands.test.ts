import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chargeMosfetOn, JkAlarmBit, JkStatusBit } from '../../bridge/src/protocol/jk';
import { createMemoryLinkPair } from '../../bridge/src/transport/memory-link';
import { startControlServer } from '../../sim-kit/src/control-server';
import { sendControlCommand } from '../../sim-kit/src/ctl';
import { loadTimeline, playTimeline } from '../../sim-kit/src/timeline';
import { VirtualBms } from '../src/virtual-bms';
import { decodeOnly, memoryRig, testProfile, VECTORS } from './helpers';

afterEach(() => vi.useRealTimers());

describe('bad input at the prompt or the control interface', () => {
  it.each([
    ['frobnicate', "unknown command 'frobnicate' (try: help)"],
    ['cell 0 3300', "bad cell number '0' (expected a whole number from 1 to 16)\nusage: cell <n> <mV>|clear | cell clear"],
    ['cell 17 3300', "bad cell number '17' (expected a whole number from 1 to 16)"],
    ['cell 3 lots', "bad voltage 'lots' (expected e.g. 3650mV or 3.65V)"],
    ['cell 3 70V', "bad voltage '70V' (0 to 65535 mV fit 0x79)"],
    ['cell 3', "expected 'clear' or a cell number and a voltage"],
    ['temp t9 5', "bad sensor 't9' (expected one of: mosfet, t1, t2)"],
    ['temp t1 200C', "bad temperature '200C' (the JK reports -40 to 100 C)"],
    ['silent forever', "bad duration 'forever' (expected e.g. 250ms, 5s or 2m)"],
    ['late', 'expected 1 to 2 arguments, got 0\nusage: late <ms> [poison]|off'],
    ['late 300 fast', "late: expected \"poison\" after the delay, got 'fast'"],
    ['late -5', "bad duration '-5' (must not be negative)"],
    ['garbage 0', "bad byte count '0' (expected a whole number from 1 to 4096)"],
    ['bad-checksum x', "bad count 'x' (expected a whole number from 1 to 1000)"],
    ['truncate 1 2', 'expected 0 to 1 arguments, got 2'],
    ['wrong-cells 0', "bad cell count '0' (expected a whole number from 1 to 85)"],
    ['alarm fire', "bad alarm bit 'fire' (expected one of: lowCapacity, "],
    ['drop-link', 'expected 1 argument, got 0'],
    ['mosfet both on', "bad MOSFET 'both' (expected one of: charge, discharge)"],
    ['mosfet charge maybe', "bad switch value 'maybe' (expected one of: on, off)"],
    ['soc 150', "bad percentage '150' (must be 0 to 100)"],
    ['current ten', "bad current 'ten' (expected e.g. 20A, -5.5A or 500mA)"],
    ['status now', 'expected 0 arguments, got 1'],
  ])('%s → a clear error, state unchanged, and the BMS keeps answering', async (line, message) => {
    vi.useFakeTimers();
    const { bms, ask } = await memoryRig();
    const before = JSON.stringify(bms.faults.describe(bms.now()));
    const result = await bms.commands.execute(line);
    expect(result.ok).toBe(false);
    expect(result.output).toContain(message);
    expect(JSON.stringify(bms.faults.describe(bms.now()))).toBe(before);
    expect(decodeOnly(await ask(VECTORS.readAllPc)).cellCount).toBe(16);
    await bms.stop();
  });

  it('drop-link without a served link says so', async () => {
    const bms = new VirtualBms({ profile: testProfile() });
    await expect(bms.commands.execute('drop-link 1s')).resolves.toEqual({
      ok: false,
      output: 'no link is being served\nusage: drop-link <duration>',
    });
  });
});

describe('commands', () => {
  it('help lists every command of the issue', async () => {
    const bms = new VirtualBms({ profile: testProfile() });
    expect(bms.commands.names).toEqual(
      expect.arrayContaining([
        'help', 'status', 'current', 'soc', 'cell', 'temp', 'silent', 'late', 'garbage', 'bad-checksum', 'truncate',
        'wrong-cells', 'freeze', 'unfreeze', 'alarm', 'drop-link', 'mosfet',
      ]),
    );
    const help = await bms.commands.execute('help');
    expect(help.output.split('\n')).toHaveLength(bms.commands.names.length);
  });

  it('current and soc drive the model; status shows cells, current, SoC, MOSFETs, alarms and faults', async () => {
    vi.useFakeTimers();
    const { bms, ask } = await memoryRig();
    expect(await bms.commands.execute('soc 30')).toEqual({ ok: true, output: 'SoC 30 %' });
    expect(await bms.commands.execute('current -12.5')).toEqual({ ok: true, output: 'current -12.50 A requested' });
    await bms.commands.execute('late 2s');
    await bms.commands.execute('mosfet charge off');
    await vi.advanceTimersByTimeAsync(1000);
    const status = (await bms.commands.execute('status')).output.split('\n');
    expect(status[0]).toBe('test  16S lifepo4 100 Ah  memory bms');
    expect(status[1]).toMatch(/^pack \d+\.\d\d V {2}-12\.50 A \(asked -12\.50 A\) {2}SoC 30 % {2}mos 25 C {2}t1 25 C {2}t2 25 C$/);
    expect(status[2]).toMatch(/^c1-8 {4}( \d{4}){8}$/);
    expect(status[3]).toMatch(/^c9-16 {3}( \d{4}){8}$/);
    expect(status[5]).toBe('MOSFET charge OFF  discharge ON   alarms -  protections -');
    expect(status[6]).toBe('faults late 2000 ms  |  0 requests, no reply yet');
    expect(status.every((line) => line.length <= 80)).toBe(true);
    await bms.commands.execute('late off');
    const s = decodeOnly(await ask(VECTORS.readAllPc));
    expect(s.socPct).toBe(30);
    expect(s.currentMa).toBe(-12_500);
    expect(chargeMosfetOn(s)).toBe(false);
    await bms.stop();
  });

  it('reports balancing in 0x8C bit 2 while the balancer works', async () => {
    vi.useFakeTimers();
    const { bms, ask } = await memoryRig({ profileInput: { initialSocPct: 97, socSpreadPct: 0, capacitySpreadPct: 0 } });
    bms.battery.cells[6].chargeAh += 2;
    await vi.advanceTimersByTimeAsync(200);
    const s = decodeOnly(await ask(VECTORS.readAllPc));
    expect(s.status & (1 << JkStatusBit.balancing)).not.toBe(0);
    expect((await bms.commands.execute('status')).output).toContain('balancing 7');
    await bms.stop();
  });
});

describe('control server with the BMS commands (127.0.0.1)', () => {
  it('a command from another terminal changes what the bridge reads; errors come back as errors', async () => {
    const bms = new VirtualBms({ profile: testProfile(), chunked: false });
    const [link, peer] = createMemoryLinkPair();
    await bms.serve(link);
    const control = await startControlServer(bms.commands, { port: 0 });
    try {
      await expect(sendControlCommand(control.port, 'cell 2 3500mV')).resolves.toEqual({ ok: true, output: 'cell 2 = 3500 mV' });
      await expect(sendControlCommand(control.port, 'cell 2 high')).resolves.toMatchObject({ ok: false, output: expect.stringContaining("bad voltage 'high'") });
      peer.emitData(VECTORS.readAllPc);
      await vi.waitFor(() => expect(peer.writes).toHaveLength(1));
      expect(decodeOnly(peer.written()).cellsMv[1]).toBe(3500);
    } finally {
      await control.close();
      await bms.stop();
    }
  });
});

describe('scenario timelines (scenarios/*.yaml)', () => {
  const scenarioDir = path.resolve(__dirname, '../../scenarios');
  const files = fs.readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s loads and every bms step runs without error against a served virtual BMS', async (file) => {
    vi.useFakeTimers();
    const full = loadTimeline(path.join(scenarioDir, file));
    // Rig-wide files also drive the virtual inverter; only the bms steps are this simulator's.
    const timeline = { ...full, steps: full.steps.filter((step) => step.target === 'bms') };
    const { bms } = await memoryRig();
    const playback = playTimeline(timeline, { bms: bms.commands }, globalThis);
    await vi.advanceTimersByTimeAsync(timeline.steps.at(-1)?.atMs ?? 0);
    const { results } = await playback.done;
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(timeline.steps.length);
    await bms.stop();
  });

  it('bms-cell-overvoltage.yaml plays on fake timers: OVP trips 5 s after the override and recovers after the clear', async () => {
    vi.useFakeTimers();
    const { bms } = await memoryRig();
    const playback = playTimeline(loadTimeline(path.join(scenarioDir, 'bms-cell-overvoltage.yaml')), { bms: bms.commands }, globalThis);
    await vi.advanceTimersByTimeAsync(5000); // override at 5 s
    expect(bms.faults.cellOverridesMv.get(5)).toBe(3660);
    await vi.advanceTimersByTimeAsync(4900);
    expect(bms.protection.isActive('cellOvp')).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(bms.protection.isActive('cellOvp')).toBe(true);
    expect(bms.liveSnapshot().alarms & (1 << JkAlarmBit.cellOverVoltage)).not.toBe(0);
    expect(bms.chargeMosfetOn).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000); // clear at 20 s
    expect(bms.protection.isActive('cellOvp')).toBe(false);
    expect(bms.chargeMosfetOn).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    const { results, cancelled } = await playback.done;
    expect(cancelled).toBe(false);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
    expect(bms.demandA).toBe(0);
    await bms.stop();
  });
});
