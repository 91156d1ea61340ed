import { describe, expect, it } from 'vitest';
import {
  CommandError,
  CommandSet,
  expectArgs,
  parseChoice,
  parseCurrentMa,
  parseDurationMs,
  parseInteger,
  parseOnOff,
  parsePercent,
  parsePowerW,
  parseTemperatureC,
  parseVoltageMv,
  splitWords,
  type RigCommand,
} from '../src/commands';

function demoSet(): { set: CommandSet; calls: string[][] } {
  const calls: string[][] = [];
  const commands: RigCommand[] = [
    {
      name: 'cell',
      usage: 'cell <n> <mV>',
      help: 'override a cell voltage',
      run: (args) => {
        expectArgs(args, 2);
        const n = parseInteger(args[0], 'cell number', 1, 16);
        const mv = parseVoltageMv(args[1], { bareUnit: 'mv' });
        calls.push(args);
        return `cell ${n} = ${mv} mV`;
      },
    },
    {
      name: 'slow',
      usage: 'slow',
      help: 'an async command',
      run: async () => 'done later',
    },
    {
      name: 'broken',
      usage: 'broken',
      help: 'a command with a bug',
      run: () => {
        throw new TypeError('boom');
      },
    },
  ];
  return { set: new CommandSet(commands), calls };
}

describe('CommandSet', () => {
  it('runs a command and returns its output', async () => {
    const { set, calls } = demoSet();
    await expect(set.execute('cell 3 3.65V')).resolves.toEqual({ ok: true, output: 'cell 3 = 3650 mV' });
    expect(calls).toEqual([['3', '3.65V']]);
    await expect(set.execute('  CELL   4 3600  ')).resolves.toEqual({ ok: true, output: 'cell 4 = 3600 mV' });
    await expect(set.execute('slow')).resolves.toEqual({ ok: true, output: 'done later' });
  });

  it('answers an unknown command with a hint instead of throwing', async () => {
    const { set } = demoSet();
    await expect(set.execute('explode now')).resolves.toEqual({ ok: false, output: "unknown command 'explode' (try: help)" });
    await expect(set.execute('   ')).resolves.toEqual({ ok: false, output: 'empty command (try: help)' });
  });

  it('answers a bad value with the reason and the usage, and does not run the command', async () => {
    const { set, calls } = demoSet();
    const result = await set.execute('cell 99 3650mV');
    expect(result.ok).toBe(false);
    expect(result.output).toBe("bad cell number '99' (expected a whole number from 1 to 16)\nusage: cell <n> <mV>");
    const missing = await set.execute('cell 3');
    expect(missing).toEqual({ ok: false, output: 'expected 2 arguments, got 1\nusage: cell <n> <mV>' });
    expect(calls).toEqual([]);
  });

  it('reports an unexpected exception as a failed command', async () => {
    const { set } = demoSet();
    await expect(set.execute('broken')).resolves.toEqual({ ok: false, output: 'broken failed: boom' });
    // still usable afterwards
    await expect(set.execute('slow')).resolves.toMatchObject({ ok: true });
  });

  it('provides help for all commands and for one', async () => {
    const { set } = demoSet();
    const all = await set.execute('help');
    expect(all.ok).toBe(true);
    expect(all.output.split('\n')).toHaveLength(4);
    expect(all.output).toMatch(/^cell <n> <mV>\s+override a cell voltage$/m);
    expect(all.output).toMatch(/^help \[command\]\s+list the commands/m);
    await expect(set.execute('help cell')).resolves.toEqual({ ok: true, output: 'cell <n> <mV>\n  override a cell voltage' });
    const bad = await set.execute('help nope');
    expect(bad).toEqual({ ok: false, output: "unknown command 'nope'\nusage: help [command]" });
    expect(set.names).toEqual(['cell', 'slow', 'broken', 'help']);
  });

  it('rejects duplicate or malformed command names at construction', () => {
    const c: RigCommand = { name: 'x', usage: 'x', help: '', run: () => '' };
    expect(() => new CommandSet([c, c])).toThrow("duplicate command 'x'");
    expect(() => new CommandSet([{ ...c, name: 'Bad Name' }])).toThrow("bad command name 'Bad Name'");
  });
});

describe('argument parsers', () => {
  it('splits words and keeps quoted groups', () => {
    expect(splitWords('  a  "b c"  d ')).toEqual(['a', 'b c', 'd']);
  });

  it('parses durations', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('5s')).toBe(5000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('40', { bareUnit: 'ms' })).toBe(40);
    expect(() => parseDurationMs('5')).toThrow("bad duration '5' (expected e.g. 250ms, 5s or 2m)");
    expect(() => parseDurationMs('5x')).toThrow(CommandError);
    expect(() => parseDurationMs('-1s')).toThrow("bad duration '-1s' (must not be negative)");
    expect(() => parseDurationMs('')).toThrow(CommandError);
  });

  it('parses voltages, currents, temperatures, power', () => {
    expect(parseVoltageMv('3650mV')).toBe(3650);
    expect(parseVoltageMv('3.65V')).toBe(3650);
    expect(parseVoltageMv('3650', { bareUnit: 'mv' })).toBe(3650);
    expect(() => parseVoltageMv('3.65')).toThrow("bad voltage '3.65' (expected e.g. 3650mV or 3.65V)");
    expect(() => parseVoltageMv('3.65A')).toThrow(CommandError);
    expect(parseCurrentMa('20A')).toBe(20_000);
    expect(parseCurrentMa('-5.5A')).toBe(-5500);
    expect(parseCurrentMa('500mA')).toBe(500);
    expect(parseCurrentMa('-12', { bareUnit: 'a' })).toBe(-12_000);
    expect(() => parseCurrentMa('lots')).toThrow("bad current 'lots' (expected e.g. 20A, -5.5A or 500mA)");
    expect(parseTemperatureC('25C')).toBe(25);
    expect(parseTemperatureC('-5°C')).toBe(-5);
    expect(parseTemperatureC('-5', { bareUnit: 'c' })).toBe(-5);
    expect(() => parseTemperatureC('25F')).toThrow("bad temperature '25F' (expected e.g. 25C or -5C)");
    expect(parsePowerW('3000W')).toBe(3000);
    expect(parsePowerW('3kW')).toBe(3000);
  });

  it('parses percentages, integers, choices and switches', () => {
    expect(parsePercent('50')).toBe(50);
    expect(parsePercent('12.5%')).toBe(12.5);
    expect(() => parsePercent('101')).toThrow("bad percentage '101' (must be 0 to 100)");
    expect(parseInteger('7', 'cell', 1, 8)).toBe(7);
    expect(() => parseInteger('7.5', 'cell', 1, 8)).toThrow("bad cell '7.5' (expected a whole number from 1 to 8)");
    expect(parseChoice('CHARGE', 'mosfet', ['charge', 'discharge'] as const)).toBe('charge');
    expect(() => parseChoice('both', 'mosfet', ['charge', 'discharge'] as const)).toThrow(
      "bad mosfet 'both' (expected one of: charge, discharge)",
    );
    expect(parseOnOff('on')).toBe(true);
    expect(parseOnOff('OFF')).toBe(false);
    expect(() => parseOnOff('maybe')).toThrow(CommandError);
  });
});
