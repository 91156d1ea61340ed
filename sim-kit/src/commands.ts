/**
 * Text commands shared by every rig piece (sim-bms, sim-inverter, the live rig): the same
 * command line works at a live prompt, through the HTTP control server, and in a scenario
 * timeline (ARCHITECTURE.md "The rig": "a control interface for manual fault injection").
 *
 * A CommandSet never throws: a person typing at a prompt or a timeline step must get a clear
 * error and the simulator must keep running.
 */

export interface RigCommand {
  name: string;
  /** One line, e.g. "cell <n> <mV>|clear". Shown after a bad value. */
  usage: string;
  help: string;
  /** Returns the text to show. Throws CommandError for bad arguments. */
  run(args: string[]): string | Promise<string>;
}

/** A bad argument or a command that cannot run now; the message is shown to the person. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface CommandResult {
  ok: boolean;
  output: string;
}

export class CommandSet {
  private readonly byName = new Map<string, RigCommand>();

  constructor(commands: RigCommand[]) {
    for (const command of commands) {
      if (!/^[a-z][a-z0-9-]*$/.test(command.name)) throw new Error(`bad command name '${command.name}'`);
      if (this.byName.has(command.name)) throw new Error(`duplicate command '${command.name}'`);
      this.byName.set(command.name, command);
    }
    // Every set answers "help" so the unknown-command hint is always true.
    if (!this.byName.has('help')) {
      this.byName.set('help', {
        name: 'help',
        usage: 'help [command]',
        help: 'list the commands, or show one command in full',
        run: (args) => this.help(args[0]),
      });
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  async execute(line: string): Promise<CommandResult> {
    const words = splitWords(line);
    if (words.length === 0) return { ok: false, output: 'empty command (try: help)' };
    const [name, ...args] = words;
    const command = this.byName.get(name.toLowerCase());
    if (!command) return { ok: false, output: `unknown command '${name}' (try: help)` };
    try {
      return { ok: true, output: await command.run(args) };
    } catch (err) {
      if (err instanceof CommandError) return { ok: false, output: `${err.message}\nusage: ${command.usage}` };
      return { ok: false, output: `${command.name} failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /** All commands (one line each), or one command's usage and help. */
  help(name?: string): string {
    if (name !== undefined) {
      const command = this.byName.get(name.toLowerCase());
      if (!command) throw new CommandError(`unknown command '${name}'`);
      return `${command.usage}\n  ${command.help}`;
    }
    const commands = [...this.byName.values()];
    const width = Math.max(...commands.map((c) => c.usage.length));
    return commands.map((c) => `${c.usage.padEnd(width)}  ${c.help}`).join('\n');
  }
}

/** Whitespace-separated words; double quotes group words ("alarm clear" stays simple). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2]);
  return words;
}

/** Throws CommandError unless args has between min and max entries. */
export function expectArgs(args: string[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const wanted = min === max ? `${min}` : `${min} to ${max}`;
    throw new CommandError(`expected ${wanted} argument${wanted === '1' ? '' : 's'}, got ${args.length}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Argument parsers. Each returns a number in the base unit named in its name and throws
// CommandError with an example of the accepted form. A bare number is accepted only when the
// caller names the unit it means (opts.bareUnit), so "late 50" can mean 50 ms while a
// timeline's "at: 5" is rejected instead of silently meaning 5 ms.
// ---------------------------------------------------------------------------------------------

const NUMBER_WITH_UNIT = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-zA-Z%°]*)$/;

function parseQuantity(text: string, what: string, units: Record<string, number>, example: string, bareUnit?: string): number {
  const m = NUMBER_WITH_UNIT.exec(text.trim());
  const unit = m ? (m[2] === '' ? bareUnit : m[2].toLowerCase().replace('°', '')) : undefined;
  const factor = unit === undefined ? undefined : units[unit.toLowerCase()];
  if (!m || factor === undefined) throw new CommandError(`bad ${what} '${text}' (expected e.g. ${example})`);
  return Number(m[1]) * factor;
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** "250ms", "5s", "1.5s", "2m", "1h" → milliseconds (never negative). */
export function parseDurationMs(text: string, opts: { bareUnit?: keyof typeof DURATION_UNITS } = {}): number {
  const ms = parseQuantity(text, 'duration', DURATION_UNITS, '250ms, 5s or 2m', opts.bareUnit);
  if (ms < 0) throw new CommandError(`bad duration '${text}' (must not be negative)`);
  return Math.round(ms);
}

/** "3650mV", "3.65V" → integer millivolts. */
export function parseVoltageMv(text: string, opts: { bareUnit?: 'mv' | 'v' } = {}): number {
  return Math.round(parseQuantity(text, 'voltage', { mv: 1, v: 1000 }, '3650mV or 3.65V', opts.bareUnit));
}

/** "20A", "-5.5A", "500mA" → integer milliamperes (+ = charging by rig convention). */
export function parseCurrentMa(text: string, opts: { bareUnit?: 'ma' | 'a' } = {}): number {
  return Math.round(parseQuantity(text, 'current', { ma: 1, a: 1000 }, '20A, -5.5A or 500mA', opts.bareUnit));
}

/** "25C", "-5C", "25°C" → degrees Celsius. */
export function parseTemperatureC(text: string, opts: { bareUnit?: 'c' } = {}): number {
  return parseQuantity(text, 'temperature', { c: 1 }, '25C or -5C', opts.bareUnit);
}

/** "3000W", "3kW" → watts. */
export function parsePowerW(text: string, opts: { bareUnit?: 'w' | 'kw' } = {}): number {
  return parseQuantity(text, 'power', { w: 1, kw: 1000 }, '3000W or 3kW', opts.bareUnit);
}

/** "50", "50%" → percent in [0, 100]. */
export function parsePercent(text: string): number {
  const pct = parseQuantity(text, 'percentage', { '%': 1 }, '50 or 50%', '%');
  if (pct < 0 || pct > 100) throw new CommandError(`bad percentage '${text}' (must be 0 to 100)`);
  return pct;
}

/** An integer in [min, max]. */
export function parseInteger(text: string, what: string, min: number, max: number): number {
  const value = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CommandError(`bad ${what} '${text}' (expected a whole number from ${min} to ${max})`);
  }
  return value;
}

/** One of a fixed set of words (case-insensitive). */
export function parseChoice<T extends string>(text: string, what: string, choices: readonly T[]): T {
  const found = choices.find((c) => c.toLowerCase() === text.toLowerCase());
  if (found === undefined) throw new CommandError(`bad ${what} '${text}' (expected one of: ${choices.join(', ')})`);
  return found;
}

/** "on"/"off" → boolean. */
export function parseOnOff(text: string): boolean {
  return parseChoice(text, 'switch value', ['on', 'off'] as const) === 'on';
}
