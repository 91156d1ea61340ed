/**
 * The command lines a person, the control server or a timeline sends to the virtual inverter.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { canFrame } from '../../bridge/src/protocol/can';
import { MemoryCanNetwork } from '../../bridge/src/transport/memory-bus';
import { startControlServer } from '../../sim-kit/src/control-server';
import { sendControlCommand } from '../../sim-kit/src/ctl';
import { parseDemand } from '../src/inverter-commands';
import { VirtualInverter } from '../src/virtual-inverter';
import { THRESHOLDS, baseState, frameSet } from './support';

async function started(): Promise<{ inverter: VirtualInverter; send(frame: ReturnType<typeof canFrame>): Promise<void> }> {
  const network = new MemoryCanNetwork();
  const bridge = network.attach('bridge');
  await bridge.open();
  const inverter = new VirtualInverter({ profile: 'pylon-lv', bus: network.attach('inverter'), thresholds: THRESHOLDS });
  await inverter.start();
  return { inverter, send: (frame) => bridge.send(frame) };
}

describe('parseDemand', () => {
  test.each([
    ['3000W', { unit: 'W', watts: 3000 }],
    ['3kW', { unit: 'W', watts: 3000 }],
    ['-1500W', { unit: 'W', watts: -1500 }],
    ['-20A', { unit: 'A', amps: -20 }],
    ['500mA', { unit: 'A', amps: 0.5 }],
  ] as const)('%s', (text, demand) => {
    expect(parseDemand(text)).toEqual(demand);
  });

  test.each(['3000', '20V', 'lots'])('%s is refused with an example', (text) => {
    expect(() => parseDemand(text)).toThrow(/e\.g\./);
  });
});

describe('with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('help lists every command the issue asks for', async () => {
    const { inverter } = await started();
    const help = await inverter.commands.execute('help');
    expect(help.ok).toBe(true);
    for (const name of ['help', 'status', 'demand', 'heartbeat', 'late', 'off-bus', 'inject', 'garbage', 'bus-off', 'violations', 'clear']) {
      expect(inverter.commands.names).toContain(name);
    }
    expect(help.output).toMatch(/^demand <W\|A> +solar surplus/m);
  });

  test('demand sets the model; status shows the decoded battery and the power stage', async () => {
    const { inverter, send } = await started();
    expect(await inverter.commands.execute('demand -20A')).toEqual({ ok: true, output: 'demand -20.0 A' });
    for (const frame of frameSet('pylon-lv', baseState())) await send(frame);
    await vi.advanceTimersByTimeAsync(1_000);
    const status = await inverter.commands.execute('status');
    expect(status.ok).toBe(true);
    expect(status.output).toMatch(/CVL 55\.2 V {2}CCL 100\.0 A {2}DCL 150\.0 A {2}DVL 48\.0 V/);
    expect(status.output).toMatch(/charge yes {2}discharge yes/);
    expect(status.output).toMatch(/SOC 60 %/);
    expect(status.output).toMatch(/demand -20\.0 A → -20\.0 A \(demand\)/);
    expect(status.output).toMatch(/351 1\.0s/);
    expect(await inverter.commands.execute('demand 20V')).toMatchObject({ ok: false });
  });

  test('violations, frames and clear', async () => {
    const { inverter, send } = await started();
    expect((await inverter.commands.execute('violations')).output).toBe('no violations');
    await send(canFrame(0x355, [101, 0, 100, 0]));
    await vi.advanceTimersByTimeAsync(10);
    expect((await inverter.commands.execute('violations')).output).toMatch(/^1 violation\n\+0\.0\d\ds soc-range 0x355: SOC 101 %/);
    expect((await inverter.commands.execute('frames 1')).output).toMatch(/^\(0000000000\.0\d\d000\) inv 355#65006400 {2}soc$/);
    expect(await inverter.commands.execute('clear')).toEqual({ ok: true, output: 'cleared' });
    expect((await inverter.commands.execute('violations')).output).toBe('no violations');
    expect((await inverter.commands.execute('frames')).output).toBe('no frames received');
  });

  test('bad arguments get the usage', async () => {
    const { inverter } = await started();
    const result = await inverter.commands.execute('garbage 0');
    expect(result).toMatchObject({ ok: false });
    expect(result.output).toMatch(/usage: garbage \[n\]/);
    expect((await inverter.commands.execute('late soon')).ok).toBe(false);
    expect((await inverter.commands.execute('heartbeat maybe')).ok).toBe(false);
  });
});

test('the same commands work through the control server on 127.0.0.1', async () => {
  const { inverter } = await started();
  const server = await startControlServer(inverter.commands, { port: 0 });
  try {
    expect(await sendControlCommand(server.port, 'demand 3kW')).toEqual({ ok: true, output: 'demand +3000 W' });
    expect(inverter.model.demand).toEqual({ unit: 'W', watts: 3000 });
    expect(await sendControlCommand(server.port, 'off-bus')).toEqual({ ok: true, output: 'off the bus until cancelled' });
    expect(inverter.faults.offBusUntilMs).toBe(Number.POSITIVE_INFINITY);
    expect((await sendControlCommand(server.port, 'on-bus')).ok).toBe(true);
    expect(inverter.faults.offBusUntilMs).toBeNull();
  } finally {
    await server.close();
    await inverter.stop();
  }
});
