/**
 * The virtual inverter's commands: the same lines work at the live prompt, through the control
 * server (127.0.0.1) and in scenario timelines (`inverter: demand 3000W`).
 */
import { formatCandumpLine, parseCandumpLine, type PylonHvRequest } from '../../bridge/src/protocol/can';
import {
  CommandError,
  CommandSet,
  expectArgs,
  parseCurrentMa,
  parseDurationMs,
  parseInteger,
  parseOnOff,
  parsePowerW,
  type RigCommand,
} from '../../sim-kit/src/commands';
import type { Demand } from './inverter-model';
import type { TransportFaults } from './slcan-pty';
import { formatDemand, formatViolation, renderView } from './view';
import type { VirtualInverter } from './virtual-inverter';

/** "3000W", "3kW" → power; "-20A", "500mA" → current. */
export function parseDemand(text: string): Demand {
  if (/w$/i.test(text.trim())) return { unit: 'W', watts: parsePowerW(text) };
  if (/a$/i.test(text.trim())) return { unit: 'A', amps: parseCurrentMa(text) / 1000 };
  throw new CommandError(`bad demand '${text}' (expected power or current, e.g. 3000W, 3kW, -20A)`);
}

const HV_REQUESTS: Record<string, PylonHvRequest> = {
  sleep: { kind: 'sleep', sleep: true },
  wake: { kind: 'sleep', sleep: false },
  charge: { kind: 'command', charge: true, discharge: false },
  discharge: { kind: 'command', charge: false, discharge: true },
  both: { kind: 'command', charge: true, discharge: true },
  mask: { kind: 'mask-comm-failure' },
  cells: { kind: 'info', info: 'cells' },
  ensemble: { kind: 'info', info: 'ensemble' },
  equipment: { kind: 'info', info: 'equipment' },
};

/** An optional duration argument; absent = until cancelled (null). */
function optionalDuration(args: string[]): number | null {
  expectArgs(args, 0, 1);
  return args.length === 0 ? null : parseDurationMs(args[0], { bareUnit: 'ms' });
}

function forHow(ms: number | null): string {
  return ms === null ? 'until cancelled' : `for ${ms} ms`;
}

export function createInverterCommands(inverter: VirtualInverter): CommandSet {
  const transport = (): TransportFaults => {
    const faults = inverter.transportFaults;
    if (faults === undefined) throw new CommandError('this transport cannot inject transport faults (use --can slcan-pty:<link>)');
    return faults;
  };
  const origin = (): number => inverter.startedAtMs;

  const commands: RigCommand[] = [
    {
      name: 'status',
      usage: 'status',
      help: 'the battery as the inverter sees it, the power stage, faults and the newest violations',
      run: (args) => {
        expectArgs(args, 0);
        return renderView(inverter, origin()).join('\n');
      },
    },
    {
      name: 'demand',
      usage: 'demand <W|A>',
      help: 'solar surplus (+) or load (-) the inverter tries to move, e.g. 3000W, 3kW, -20A',
      run: (args) => {
        expectArgs(args, 1);
        const demand = parseDemand(args[0]);
        inverter.setDemand(demand);
        return `demand ${formatDemand(demand)}`;
      },
    },
    {
      name: 'heartbeat',
      usage: 'heartbeat on|off',
      help: "stop or resume the inverter's 0x305-0x307 frames",
      run: (args) => {
        expectArgs(args, 1);
        const on = parseOnOff(args[0]);
        inverter.heartbeat.setEnabled(on);
        return `heartbeat ${on ? 'on' : 'off'}`;
      },
    },
    {
      name: 'late',
      usage: 'late <duration>|off',
      help: 'send every heartbeat or reply this much later (bare numbers are ms)',
      run: (args) => {
        expectArgs(args, 1);
        const ms = args[0].toLowerCase() === 'off' ? 0 : parseDurationMs(args[0], { bareUnit: 'ms' });
        inverter.heartbeat.setLate(ms);
        return ms === 0 ? 'late off' : `heartbeats ${ms} ms late`;
      },
    },
    {
      name: 'off-bus',
      usage: 'off-bus [duration]',
      help: 'the inverter leaves the bus: hears and sends nothing (until on-bus when no duration)',
      run: (args) => {
        const ms = optionalDuration(args);
        inverter.goOffBus(ms);
        return `off the bus ${forHow(ms)}`;
      },
    },
    {
      name: 'on-bus',
      usage: 'on-bus',
      help: 'back on the bus',
      run: (args) => {
        expectArgs(args, 0);
        inverter.onBus();
        return 'on the bus';
      },
    },
    {
      name: 'start',
      usage: 'start',
      help: 'SMA: leave the standby a quick stop (0x00F) caused, like the manual start on the SI',
      run: (args) => {
        expectArgs(args, 0);
        inverter.restart();
        return `started (${inverter.describeLink()})`;
      },
    },
    {
      name: 'hv',
      usage: 'hv sleep|wake|charge|discharge|both|mask|cells|ensemble|equipment | hv storm <n> [duration]',
      help: 'Pylon HV: send a command (0x8200 sleep/wake, 0x8210 charge/discharge/both, 0x8240 mask), a 0x4200 request, or n ensemble requests over a duration (default 1 s)',
      run: (args) => {
        if (inverter.profile.pylonHv === null) throw new CommandError(`hv: the ${inverter.profile.name} profile does not speak Pylon HV (use --profile pylon-hv)`);
        expectArgs(args, 1, 3);
        const what = args[0].toLowerCase();
        if (what === 'storm') {
          expectArgs(args, 2, 3);
          const count = parseInteger(args[1], 'request count', 1, 100_000);
          const ms = args.length === 3 ? parseDurationMs(args[2], { bareUnit: 'ms' }) : 1000;
          inverter.requestStorm(count, ms);
          return `storm: ${count} ensemble requests over ${ms} ms`;
        }
        expectArgs(args, 1);
        const request = HV_REQUESTS[what];
        if (request === undefined) throw new CommandError(`hv: unknown '${args[0]}' (expected ${Object.keys(HV_REQUESTS).join(', ')} or storm)`);
        inverter.sendHvRequest(request);
        return `sent ${what}`;
      },
    },
    {
      name: 'inject',
      usage: 'inject <id>#<hex>',
      help: 'send one foreign frame, e.g. inject 351#0000000000000000',
      run: (args) => {
        expectArgs(args, 1);
        const parsed = parseCandumpLine(`(0.0) inject ${args[0]}`);
        if (!parsed.ok) throw new CommandError(`bad frame '${args[0]}': ${parsed.detail} (expected e.g. 351#0102, 8 hex digits for a 29-bit id)`);
        inverter.inject(parsed.frame);
        return `injected ${args[0].toUpperCase()}`;
      },
    },
    {
      name: 'garbage',
      usage: 'garbage [n]',
      help: 'send n frames with random ids and data (default 10)',
      run: (args) => {
        expectArgs(args, 0, 1);
        const count = args.length === 0 ? 10 : parseInteger(args[0], 'frame count', 1, 1000);
        inverter.injectGarbage(count);
        return `sent ${count} garbage frame${count === 1 ? '' : 's'}`;
      },
    },
    {
      name: 'bus-off',
      usage: 'bus-off [duration]|off',
      help: 'SLCAN: the adapter answers every transmit with BEL and delivers nothing (bus-off / ENOBUFS at the bridge)',
      run: (args) => {
        const faults = transport();
        if (args.length === 1 && args[0].toLowerCase() === 'off') {
          faults.busOn();
          return 'bus-off cleared';
        }
        const ms = optionalDuration(args);
        faults.busOff(ms);
        return `bus-off ${forHow(ms)}`;
      },
    },
    {
      name: 'junk',
      usage: 'junk [bytes]',
      help: 'SLCAN: random bytes on the serial line to the bridge (default 32)',
      run: (args) => {
        expectArgs(args, 0, 1);
        const count = args.length === 0 ? 32 : parseInteger(args[0], 'byte count', 1, 65536);
        transport().junk(count);
        return `sent ${count} junk byte${count === 1 ? '' : 's'}`;
      },
    },
    {
      name: 'unplug',
      usage: 'unplug [duration]',
      help: 'SLCAN: the adapter disappears (the pty closes) and comes back after the duration (or at replug)',
      run: async (args) => {
        const ms = optionalDuration(args);
        await transport().unplug(ms);
        return `unplugged ${forHow(ms)}`;
      },
    },
    {
      name: 'replug',
      usage: 'replug',
      help: 'SLCAN: the adapter comes back at the same path',
      run: async (args) => {
        expectArgs(args, 0);
        await transport().replug();
        return 'plugged in';
      },
    },
    {
      name: 'violations',
      usage: 'violations [n]',
      help: 'the newest n violations (default all)',
      run: (args) => {
        expectArgs(args, 0, 1);
        const all = inverter.checker.violations;
        const n = args.length === 0 ? all.length : parseInteger(args[0], 'count', 1, 1_000_000);
        if (all.length === 0) return 'no violations';
        return [`${all.length} violation${all.length === 1 ? '' : 's'}`, ...all.slice(-n).map((v) => formatViolation(v, origin()))].join('\n');
      },
    },
    {
      name: 'frames',
      usage: 'frames [n]',
      help: 'the newest n received frames in candump format (default 20)',
      run: (args) => {
        expectArgs(args, 0, 1);
        const n = args.length === 0 ? 20 : parseInteger(args[0], 'count', 1, 100_000);
        const records = inverter.checker.frames.slice(-n);
        if (records.length === 0) return 'no frames received';
        return records
          .map((r) => {
            const verdict = r.decoded === null ? '' : r.decoded.ok ? `  ${r.decoded.message.kind}` : `  ${r.decoded.code}`;
            return `${formatCandumpLine(r.frame, 'inv', r.atMs / 1000)}${verdict}`;
          })
          .join('\n');
      },
    },
    {
      name: 'clear',
      usage: 'clear',
      help: 'forget the recorded frames and violations',
      run: (args) => {
        expectArgs(args, 0);
        inverter.checker.clear();
        return 'cleared';
      },
    },
  ];
  return new CommandSet(commands);
}
