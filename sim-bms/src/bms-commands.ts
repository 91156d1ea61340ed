/**
 * The text commands of the virtual BMS: the same lines work at the live prompt, through the
 * control server (`npm run ctl -- <port> silent 10s`) and in scenario timelines
 * (`bms: cell 3 3650mV`). Bad values throw CommandError; CommandSet turns that into a clear
 * error with the usage, and the simulator keeps running.
 */
import { JkAlarmBit } from '../../bridge/src/protocol/jk/snapshot';
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
  parseTemperatureC,
  parseVoltageMv,
  type RigCommand,
} from '../../sim-kit/src/commands';
import { ALARM_NAMES, TEMP_SENSORS } from './faults';
import { renderStatus, signed } from './view';
import type { VirtualBms } from './virtual-bms';

/** Default size of "garbage" without a count. */
const DEFAULT_GARBAGE_BYTES = 32;

export function createBmsCommands(bms: VirtualBms): CommandSet {
  const f = bms.faults;
  const count = (args: string[], what: string): number => (args.length === 0 ? 1 : parseInteger(args[0], what, 1, 1000));

  const commands: RigCommand[] = [
    {
      name: 'status',
      usage: 'status',
      help: 'cells, current, SoC, MOSFETs, alarms, protections and active faults',
      run: (args) => (expectArgs(args, 0), renderStatus(bms).join('\n')),
    },
    {
      name: 'current',
      usage: 'current <A>',
      help: 'pack current from outside, + = charging (e.g. current 40, current -25.5A)',
      run: (args) => {
        expectArgs(args, 1);
        const ma = parseCurrentMa(args[0], { bareUnit: 'a' });
        bms.setCurrentA(ma / 1000);
        return `current ${signed(ma / 1000)} A requested`;
      },
    },
    {
      name: 'soc',
      usage: 'soc <pct>',
      help: 'set every cell and the coulomb counter to this state of charge',
      run: (args) => {
        expectArgs(args, 1);
        const pct = parsePercent(args[0]);
        bms.battery.setSocPct(pct);
        return `SoC ${pct} %`;
      },
    },
    {
      name: 'cell',
      usage: 'cell <n> <mV>|clear | cell clear',
      help: 'override what the BMS measures on cell n (its protections act on it); clear one or all',
      run: (args) => {
        expectArgs(args, 1, 2);
        if (args.length === 1) {
          if (args[0].toLowerCase() !== 'clear') throw new CommandError(`expected 'clear' or a cell number and a voltage`);
          f.cellOverridesMv.clear();
          return 'all cell overrides cleared';
        }
        const n = parseInteger(args[0], 'cell number', 1, bms.profile.cells);
        if (args[1].toLowerCase() === 'clear') {
          f.cellOverridesMv.delete(n);
          return `cell ${n} override cleared`;
        }
        const mv = parseVoltageMv(args[1], { bareUnit: 'mv' });
        if (mv < 0 || mv > 0xffff) throw new CommandError(`bad voltage '${args[1]}' (0 to 65535 mV fit 0x79)`);
        f.cellOverridesMv.set(n, mv);
        return `cell ${n} = ${mv} mV`;
      },
    },
    {
      name: 'temp',
      usage: `temp <${TEMP_SENSORS.join('|')}> <C>|clear | temp clear`,
      help: 'override a temperature sensor (mosfet 0x80, t1 box 0x81, t2 battery 0x82); clear one or all',
      run: (args) => {
        expectArgs(args, 1, 2);
        if (args.length === 1) {
          if (args[0].toLowerCase() !== 'clear') throw new CommandError(`expected 'clear' or a sensor and a temperature`);
          f.tempOverridesC.clear();
          return 'all temperature overrides cleared';
        }
        const sensor = parseChoice(args[0], 'sensor', TEMP_SENSORS);
        if (args[1].toLowerCase() === 'clear') {
          f.tempOverridesC.delete(sensor);
          return `${sensor} override cleared`;
        }
        const c = parseTemperatureC(args[1], { bareUnit: 'c' });
        // §2.6: 0..140 raw = -40..100 °C.
        if (c < -40 || c > 100) throw new CommandError(`bad temperature '${args[1]}' (the JK reports -40 to 100 C)`);
        f.tempOverridesC.set(sensor, c);
        return `${sensor} = ${c} C`;
      },
    },
    {
      name: 'silent',
      usage: 'silent [duration]|off',
      help: 'ignore every request, until "silent off" or for a duration (e.g. silent 10s)',
      run: (args) => {
        expectArgs(args, 0, 1);
        if (args[0]?.toLowerCase() === 'off') {
          f.silentUntilMs = null;
          return 'answering again';
        }
        const ms = args.length === 0 ? Infinity : parseDurationMs(args[0], { bareUnit: 'ms' });
        f.silentUntilMs = bms.now() + ms;
        return ms === Infinity ? 'silent until "silent off"' : `silent for ${ms} ms`;
      },
    },
    {
      name: 'late',
      usage: 'late <ms> [poison]|off',
      help: 'answer this late instead of after 0.2-5 ms (e.g. late 800, late 2s); "poison": the late replies carry a 4.0 V cell and SoC 3 %',
      run: (args) => {
        expectArgs(args, 1, 2);
        if (args[0].toLowerCase() === 'off') {
          f.lateMs = null;
          f.latePoisoned = false;
          return 'normal reply latency';
        }
        if (args.length === 2 && args[1].toLowerCase() !== 'poison') throw new CommandError(`late: expected "poison" after the delay, got '${args[1]}'`);
        f.lateMs = parseDurationMs(args[0], { bareUnit: 'ms' });
        f.latePoisoned = args.length === 2;
        return `replies ${f.lateMs} ms late${f.latePoisoned ? ', carrying a 4.0 V cell and SoC 3 %' : ''}`;
      },
    },
    {
      name: 'garbage',
      usage: 'garbage [bytes]',
      help: `write random junk (no 4E 57) and a broken poisoned frame right before the next reply; default ${DEFAULT_GARBAGE_BYTES} junk bytes`,
      run: (args) => {
        expectArgs(args, 0, 1);
        f.garbageBytes = args.length === 0 ? DEFAULT_GARBAGE_BYTES : parseInteger(args[0], 'byte count', 1, 4096);
        return `${f.garbageBytes} junk bytes before the next reply`;
      },
    },
    {
      name: 'bad-checksum',
      usage: 'bad-checksum [count]',
      help: 'the next count replies (default 1) carry a 4.0 V cell and SoC 3 % under the checksum of the true data',
      run: (args) => {
        expectArgs(args, 0, 1);
        f.badChecksumReplies = count(args, 'count');
        return `next ${f.badChecksumReplies} replies with a bad checksum`;
      },
    },
    {
      name: 'truncate',
      usage: 'truncate [count]',
      help: 'the next count replies (default 1) carry a 4.0 V cell and SoC 3 % and stop halfway',
      run: (args) => {
        expectArgs(args, 0, 1);
        f.truncatedReplies = count(args, 'count');
        return `next ${f.truncatedReplies} replies truncated`;
      },
    },
    {
      name: 'wrong-cells',
      usage: 'wrong-cells <n>|off',
      help: 'send n cells in 0x79 while 0x8A/0xA9 keep the real count (with a 4.0 V cell and SoC 3 %)',
      run: (args) => {
        expectArgs(args, 1);
        if (args[0].toLowerCase() === 'off') {
          f.wrongCellCount = null;
          return 'cell count correct again';
        }
        // 0x79's length byte is 3N, so at most 85 cells fit (§2.5).
        f.wrongCellCount = parseInteger(args[0], 'cell count', 1, 85);
        return `reporting ${f.wrongCellCount} cells (really ${bms.profile.cells})`;
      },
    },
    {
      name: 'freeze',
      usage: 'freeze',
      help: 'keep reporting the current values (a hung measurement), while the model runs on',
      run: (args) => (expectArgs(args, 0), bms.freeze(), 'values frozen'),
    },
    {
      name: 'unfreeze',
      usage: 'unfreeze',
      help: 'report live values again',
      run: (args) => (expectArgs(args, 0), (f.frozen = null), 'values live'),
    },
    {
      name: 'alarm',
      usage: 'alarm <bit-name>|clear',
      help: `raise a 0x8B alarm bit in every reply: ${ALARM_NAMES.join(', ')}`,
      run: (args) => {
        expectArgs(args, 1);
        if (args[0].toLowerCase() === 'clear') {
          f.forcedAlarms = 0;
          return 'forced alarm bits cleared';
        }
        const name = parseChoice(args[0], 'alarm bit', ALARM_NAMES);
        f.forcedAlarms |= 1 << JkAlarmBit[name];
        return `alarm ${name} (bit ${JkAlarmBit[name]}) raised`;
      },
    },
    {
      name: 'drop-link',
      usage: 'drop-link <duration>',
      help: 'break the link as a pulled cable would (pty vanishes / TCP reset) and restore it after the duration',
      run: async (args) => {
        expectArgs(args, 1);
        const ms = parseDurationMs(args[0], { bareUnit: 'ms' });
        if (!bms.linkDescription) throw new CommandError('no link is being served');
        await bms.dropLink(ms);
        return `link dropped for ${ms} ms`;
      },
    },
    {
      name: 'respawn',
      usage: 'respawn',
      help: 'the BMS process dies and a new one starts at the same path; the old pty stays open and silent (no disconnect)',
      run: async (args) => {
        expectArgs(args, 0);
        try {
          await bms.respawn();
        } catch (err) {
          throw new CommandError((err as Error).message);
        }
        return `respawned at ${bms.linkDescription}; the old pty stays open and silent`;
      },
    },
    {
      name: 'mosfet',
      usage: 'mosfet charge|discharge on|off',
      help: 'flip the 0xAB/0xAC MOSFET switch as the JK app (or a 0x02 write) does',
      run: (args) => {
        expectArgs(args, 2);
        const which = parseChoice(args[0], 'MOSFET', ['charge', 'discharge'] as const);
        const on = parseOnOff(args[1]);
        if (which === 'charge') bms.settings.chargeMosfetSwitch = on;
        else bms.settings.dischargeMosfetSwitch = on;
        return `${which} MOSFET switch ${on ? 'on' : 'off'}`;
      },
    },
    {
      name: 'clear-faults',
      usage: 'clear-faults',
      help: 'end every injected fault (not a dropped link, which comes back by itself)',
      run: (args) => (expectArgs(args, 0), f.clearAll(), 'all faults cleared'),
    },
  ];
  return new CommandSet(commands);
}
