/**
 * The live console of every rig program (sim-bms, sim-inverter, the live rig): a view redrawn in
 * place on a terminal or one status line per second in a log, a prompt when a person sits at a
 * terminal, the control server for a second terminal, timeline playback, and one clean shutdown
 * on SIGINT/SIGTERM, Ctrl-C/Ctrl-D or a command; and the command-line frame around it (runCli).
 *
 *   const ui = await startConsole({ commands, promptLabel: 'sim-bms> ', banner, render, statusLine,
 *                                   view, controlPort, onShutdown: () => bms.stop() });
 *   ui.say('link up');            // printed above the view and the prompt
 *   await ui.finished;            // after the shutdown, whatever started it
 */
import * as readline from 'node:readline';
import type { CommandSet } from './commands';
import { startControlServer } from './control-server';
import { startPrompt, type Prompt } from './prompt';
import { playTimeline, type Timeline, type TimelinePlayback } from './timeline';

export interface ConsoleOptions {
  /** What the prompt and the control server run. */
  commands: CommandSet;
  /** e.g. "sim-bms> ". */
  promptLabel: string;
  /** Lines printed first (what runs, where the bridge connects); the control port follows them. */
  banner: string[];
  /** The view on a terminal, redrawn twice a second. */
  render(): string[];
  /** Printed once a second when stdout is not a terminal (logs, CI); one line or a few. */
  statusLine(): string;
  /** false (--no-view): neither the view nor status lines; the prompt stays. */
  view: boolean;
  /** Control server port on 127.0.0.1; 0 = any free port. */
  controlPort: number;
  /** Stops what the owner started. Runs once, after the console's own parts stopped, and also when the console cannot start. */
  onShutdown(): Promise<void>;
}

export interface LiveConsole {
  /** Prints text above the view and the prompt. */
  say(text: string): void;
  /** Plays a timeline, reporting each step; a timeline still playing is cancelled. Throws on a target missing from `targets`. */
  play(timeline: Timeline, targets: Record<string, CommandSet>): void;
  /** Stops the console, then the owner (onShutdown). Idempotent. */
  shutdown(): Promise<void>;
  /** Settles when a shutdown has finished. */
  readonly finished: Promise<void>;
}

export async function startConsole(opts: ConsoleOptions): Promise<LiveConsole> {
  const control = await startControlServer(opts.commands, { port: opts.controlPort }).catch(async (err: Error) => {
    await opts.onShutdown();
    throw new Error(`control server on 127.0.0.1:${opts.controlPort}: ${err.message}`);
  });

  const out = process.stdout;
  let prompt: Prompt | undefined;
  /** Height of the in-place view (TTY stdout without a prompt); text printed below it resets it. */
  let drawnLines = 0;
  const say = (text: string): void => {
    if (prompt) return prompt.print(text);
    out.write(`${text}\n`);
    drawnLines = 0;
  };
  const draw = (): void => {
    if (!opts.view) return;
    if (prompt) return prompt.setStatus(opts.render());
    if (!out.isTTY) return void out.write(`${opts.statusLine()}\n`);
    const lines = opts.render();
    readline.moveCursor(out, 0, -drawnLines);
    readline.clearScreenDown(out);
    out.write(`${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  // A TTY view is cheap to redraw and feels live at 2 Hz; a log gets one line per second.
  const viewTimer = setInterval(draw, out.isTTY ? 500 : 1000);

  let playback: TimelinePlayback | undefined;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let stopping: Promise<void> | undefined;
  // Deferred by a tick: closing the prompt calls shutdown() again (its onClose), and that call
  // must find `stopping` set instead of running onShutdown a second time.
  const shutdown = (): Promise<void> =>
    (stopping ??= Promise.resolve().then(async () => {
      clearInterval(viewTimer);
      playback?.cancel();
      prompt?.close();
      await control.close();
      await opts.onShutdown();
      finish();
    }));
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  for (const line of opts.banner) say(line);
  say(`control: 127.0.0.1:${control.port}   e.g. jk-can-bridge ctl ${control.port} help (in a clone: npm run ctl -- ${control.port} help)`);
  if (process.stdin.isTTY === true && out.isTTY === true) {
    prompt = startPrompt(opts.commands, { prompt: opts.promptLabel, onInterrupt: () => void shutdown(), onClose: () => void shutdown() });
    say('type "help" for commands; Ctrl-C or Ctrl-D quits');
  }
  draw();

  return {
    say,
    play(timeline, targets) {
      const next = playTimeline(timeline, targets, globalThis, (step) => {
        say(`[scenario ${(step.atMs / 1000).toFixed(1)}s] ${step.line} -> ${step.ok ? step.output : `error: ${step.output}`}`);
      });
      playback?.cancel();
      playback = next;
      void next.done.then(({ cancelled }) => cancelled || say('[scenario] done; the simulator keeps running'));
    },
    shutdown,
    finished,
  };
}

/** A bad command-line argument; runCli prints it with the usage. */
export class UsageError extends Error {}

/** The number a numeric option gives, within [min, max]; undefined when the option is absent. */
export function numberOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} ${text}: expected a number from ${min} to ${max}`);
  return value;
}

/**
 * The command-line frame of a rig program. Bad arguments: the message and the usage on stderr,
 * exit 2; --help: the usage, exit 0; otherwise main's number is the exit code, and an error it
 * throws (a start-up failure) is one line "<name>: <message>" on stderr, exit 1.
 */
export function runCli<Cli extends { help: boolean }>(
  name: string,
  usage: string,
  parse: (argv: string[]) => Cli,
  main: (cli: Exclude<Cli, { help: true }>) => Promise<number>,
  argv: string[] = process.argv.slice(2),
): void {
  let cli: Cli;
  try {
    cli = parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return process.exit(2);
  }
  if (cli.help) {
    process.stdout.write(`${usage}\n`);
    return process.exit(0);
  }
  // A parser may return just { help: true } (no other option is checked then); that case ended above.
  main(cli as Exclude<Cli, { help: true }>).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
