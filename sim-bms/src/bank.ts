/**
 * A bank of virtual packs for people and timelines: each pack its own identity (a real bank's
 * BMSs each carry their own 0xB4 device id and 0xBA manufacturer id; §2.5), and one command set
 * that reaches every pack by its number: `bms 2 silent`, `bms 3 cell 5 3600mV`, `bms current 80`.
 */
import type { JkSettings } from '../../bridge/src/protocol/jk/snapshot';
import { CommandError, CommandSet, expectArgs, parseCurrentMa, splitWords, type CommandResult } from '../../sim-kit/src/commands';
import { DcBus, type DcBusOptions } from './dc-bus';
import type { LinkSource } from './links';
import type { BatteryProfile } from './profile';
import { bmsStatusLine, signed } from './view';
import { VirtualBms, type VirtualBmsOptions } from './virtual-bms';

/** Pack k's (1-based) identity: 0xB4 is 8 bytes, 0xBA 24 (12 of user data + 12 of model). */
export function packIdentity(k: number): Pick<JkSettings, 'deviceId' | 'manufacturerId'> {
  const id = `PACK${String(k).padStart(2, '0')}`;
  return { deviceId: id.padEnd(8, ' '), manufacturerId: `${id}SIM`.padEnd(12, ' ') + 'JK_B2A24S15P' };
}

/** Commands of the bank; a line starting with a pack number goes to that pack's own commands. */
export class BankCommandSet extends CommandSet {
  constructor(private readonly bus: DcBus) {
    super([
      {
        name: 'status',
        usage: 'status',
        help: 'the bus current and voltage, then one line per pack (`<n> status` shows one pack in full)',
        run: (args) => (expectArgs(args, 0), bankStatus(bus).join('\n')),
      },
      {
        name: 'current',
        usage: 'current <A>',
        help: 'the current into the bank from outside, + = charging; it splits between the packs',
        run: (args) => {
          expectArgs(args, 1);
          const ma = parseCurrentMa(args[0], { bareUnit: 'a' });
          bus.setCurrentA(ma / 1000);
          return `bank current ${signed(ma / 1000)} A requested`;
        },
      },
      {
        name: 'pack',
        usage: 'pack <n> <command...>',
        help: `send a command to pack n (1..${bus.packs.length}); the word "pack" may be left out: "2 silent"`,
        run: async (args) => {
          if (args.length < 2) throw new CommandError('expected a pack number and a command');
          const result = await this.toPack(args[0], args.slice(1));
          if (!result.ok) throw new CommandError(result.output);
          return result.output;
        },
      },
    ]);
  }

  override async execute(line: string): Promise<CommandResult> {
    const words = splitWords(line);
    if (words.length > 0 && /^\d+$/.test(words[0])) return this.toPack(words[0], words.slice(1));
    return super.execute(line);
  }

  private async toPack(number: string, words: string[]): Promise<CommandResult> {
    const n = Number(number);
    const pack = this.bus.packs[n - 1];
    if (pack === undefined) return { ok: false, output: `no pack ${number} (the bank has packs 1..${this.bus.packs.length})` };
    if (words.length === 0) return { ok: false, output: `pack ${n}: which command? (try: ${n} help)` };
    const result = await pack.commands.execute(words.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' '));
    return { ok: result.ok, output: `pack ${n}: ${result.output}` };
  }
}

export function bankStatus(bus: DcBus): string[] {
  return [
    `bank ${bus.packs.length} packs  bus ${(bus.last.busMv / 1000).toFixed(2)} V  ${signed(bus.currentA)} A in`,
    ...bus.packs.map((pack, i) => `${i + 1}: ${bmsStatusLine(pack)}`),
  ];
}

export interface BankPackOptions {
  profile: BatteryProfile;
  initialSocPct: number;
}

/**
 * Packs in parallel on one DC bus, each answering on its own link: what the virtual inverter
 * charges and discharges (its current sink is the bus), what a person or a timeline drives.
 */
export class VirtualBank {
  readonly packs: VirtualBms[];
  readonly bus: DcBus;
  readonly commands: BankCommandSet;

  constructor(packs: readonly BankPackOptions[], opts: Omit<VirtualBmsOptions, 'profile' | 'initialSocPct' | 'settings'> & DcBusOptions = {}) {
    if (packs.length === 0) throw new Error('a bank needs at least one pack');
    this.packs = packs.map(
      (p, i) => new VirtualBms({ ...opts, profile: p.profile, initialSocPct: p.initialSocPct, settings: packIdentity(i + 1) }),
    );
    this.bus = new DcBus(this.packs, opts);
    this.commands = new BankCommandSet(this.bus);
  }

  /** Every pack on its own link (pack i on sources[i]); the bus starts splitting. */
  async serve(sources: readonly LinkSource[]): Promise<void> {
    if (sources.length !== this.packs.length) throw new Error(`${this.packs.length} packs need ${this.packs.length} links, got ${sources.length}`);
    await Promise.all(this.packs.map((pack, i) => pack.serve(sources[i])));
    this.bus.start();
  }

  /** The inverter's current into the bank (its CurrentSink). */
  setCurrentA(amps: number): void {
    this.bus.setCurrentA(amps);
  }

  async stop(): Promise<void> {
    this.bus.stop();
    await Promise.all(this.packs.map((pack) => pack.stop()));
  }
}
