/**
 * A live prompt over a CommandSet (readline). Bad input prints the error and a new prompt; the
 * prompt never exits on its own, only when the input ends (Ctrl-D) or on Ctrl-C, which it hands
 * to the owner (onInterrupt) so the simulator shuts down cleanly.
 *
 * On a TTY the owner may keep a small status block (the live view) just above the input line
 * with setStatus(); it is redrawn in place and the half-typed line is kept.
 */
import * as readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { CommandSet } from './commands';

export interface PromptOptions {
  input?: Readable;
  output?: Writable & { isTTY?: boolean; columns?: number };
  /** Default "> ". */
  prompt?: string;
  /** Ctrl-C at the prompt. Default: close the prompt. */
  onInterrupt?: () => void;
  /** The input ended (Ctrl-D or a closed pipe). */
  onClose?: () => void;
}

export interface Prompt {
  /** Redraw the status block above the input line (TTY only; ignored otherwise). */
  setStatus(lines: string[]): void;
  /** Print text above the input line. */
  print(text: string): void;
  close(): void;
  /** Settles after each executed line; tests await it. */
  readonly idle: Promise<void>;
}

export function startPrompt(commands: CommandSet, opts: PromptOptions = {}): Prompt {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const tty = output.isTTY === true;
  const rl = readline.createInterface({ input, output, prompt: opts.prompt ?? '> ', terminal: tty });
  let statusHeight = 0;
  let closed = false;
  let idle: Promise<void> = Promise.resolve();

  const fit = (line: string): string => {
    // A wrapped line would break the "move up statusHeight lines" arithmetic.
    const columns = output.columns || 80; // 0 when the terminal size is unknown
    return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
  };

  const print = (text: string): void => {
    if (tty && !closed) {
      readline.cursorTo(output, 0);
      readline.clearLine(output, 0);
    }
    output.write(text.endsWith('\n') ? text : `${text}\n`);
    // The old status block is now above the printed text; draw a fresh one below it.
    statusHeight = 0;
    if (!closed) rl.prompt(true);
  };

  const setStatus = (lines: string[]): void => {
    if (!tty || closed) return;
    readline.cursorTo(output, 0);
    readline.moveCursor(output, 0, -statusHeight);
    readline.clearScreenDown(output);
    output.write(lines.map(fit).join('\n') + '\n');
    statusHeight = lines.length;
    rl.prompt(true);
  };

  rl.on('line', (line) => {
    if (line.trim() === '') {
      rl.prompt();
      return;
    }
    idle = idle.then(async () => {
      const result = await commands.execute(line);
      print(result.ok ? result.output : `error: ${result.output}`);
    });
  });
  rl.on('SIGINT', () => (opts.onInterrupt ?? (() => rl.close()))());
  rl.on('close', () => {
    closed = true;
    opts.onClose?.();
  });
  rl.prompt();

  return {
    setStatus,
    print,
    close: () => rl.close(),
    get idle() {
      return idle;
    },
  };
}
