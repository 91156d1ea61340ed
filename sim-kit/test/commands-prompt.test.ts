import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CommandError, CommandSet } from '../src/commands';
import { startPrompt } from '../src/prompt';

describe('live prompt over a CommandSet', () => {
  it('prints outputs and errors and keeps reading after bad input', async () => {
    let level = 0;
    const commands = new CommandSet([
      {
        name: 'level',
        usage: 'level <0-9>',
        help: 'set the level',
        run: (args) => {
          if (!/^\d$/.test(args[0] ?? '')) throw new CommandError(`bad level '${args[0] ?? ''}'`);
          level = Number(args[0]);
          return `level ${level}`;
        },
      },
    ]);
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString('utf8')));
    let closed = false;
    const prompt = startPrompt(commands, { input, output, onClose: () => (closed = true) });

    input.write('nonsense\n');
    input.write('level x\n');
    input.write('\n');
    input.write('level 7\n');
    await new Promise((r) => setImmediate(r));
    await prompt.idle;
    expect(text).toContain("error: unknown command 'nonsense' (try: help)");
    expect(text).toContain("error: bad level 'x'\nusage: level <0-9>");
    expect(text).toContain('level 7');
    expect(level).toBe(7);
    expect(closed).toBe(false);

    input.end();
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
  });
});
