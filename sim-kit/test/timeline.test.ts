import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandSet } from '../src/commands';
import { loadTimeline, parseTimeline, playTimeline, type StepResult } from '../src/timeline';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeline-test-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('loadTimeline', () => {
  it('loads steps, sorted by time, file order kept for equal times', () => {
    const p = file(
      'ok.yaml',
      [
        'description: cell 3 runs away',
        'steps:',
        '  - { at: 10s, inverter: demand 3000W }',
        '  - { at: 5s, bms: cell 3 3650mV }',
        '  - { at: 5s, bms: silent 2s }',
        '  - { at: 250ms, bms: status }',
      ].join('\n'),
    );
    expect(loadTimeline(p)).toEqual({
      description: 'cell 3 runs away',
      steps: [
        { atMs: 250, target: 'bms', line: 'status' },
        { atMs: 5000, target: 'bms', line: 'cell 3 3650mV' },
        { atMs: 5000, target: 'bms', line: 'silent 2s' },
        { atMs: 10_000, target: 'inverter', line: 'demand 3000W' },
      ],
    });
  });

  it('names the file and the key in every error', () => {
    expect(() => loadTimeline(path.join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read timeline/);
    expect(() => loadTimeline(file('yaml.yaml', 'steps: [ {at: 1s'))).toThrow(/yaml\.yaml: not valid YAML/);
    const bad = file(
      'bad.yaml',
      ['steps:', '  - { at: 5, bms: status }', '  - { at: 1s }', '  - { at: 2s, bms: status, inverter: status }', '  - { at: 3s, bms: "" }', 'extra: 1'].join(
        '\n',
      ),
    );
    let message = '';
    try {
      loadTimeline(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^.*bad\.yaml: invalid timeline$/m);
    expect(message).toContain("steps[0].at: bad duration '5' (expected e.g. 250ms, 5s or 2m)");
    expect(message).toContain('steps[1]: a step needs exactly one target (e.g. "bms: cell 3 3650mV"), found none');
    expect(message).toContain('steps[2]: a step needs exactly one target (e.g. "bms: cell 3 3650mV"), found bms, inverter');
    expect(message).toContain('steps[3].bms: a command line must not be empty');
    expect(message).toMatch(/\(top level\): .*extra/);
  });

  it('rejects an empty timeline', () => {
    expect(() => parseTimeline({ steps: [] }, 'inline')).toThrow(/inline: invalid timeline\n {2}steps: a timeline needs at least one step/);
  });
});

describe('playTimeline on fake timers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function recorder(name: string, log: string[]): CommandSet {
    return new CommandSet([
      { name: 'say', usage: 'say <word>', help: '', run: (args) => (log.push(`${name}:${args.join(' ')}@${Date.now()}`), 'said') },
    ]);
  }

  it('runs each step at its time on its target and reports failures without stopping', async () => {
    const start = Date.now();
    const log: string[] = [];
    const seen: StepResult[] = [];
    const timeline = parseTimeline(
      {
        steps: [
          { at: '1s', bms: 'say one' },
          { at: '1s', inverter: 'say two' },
          { at: '2s', bms: 'nonsense' },
          { at: '3s', inverter: 'say three' },
        ],
      },
      'inline',
    );
    const playback = playTimeline(timeline, { bms: recorder('bms', log), inverter: recorder('inverter', log) }, globalThis, (r) => seen.push(r));
    await vi.advanceTimersByTimeAsync(999);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual([`bms:one@${start + 1000}`, `inverter:two@${start + 1000}`]);
    await vi.advanceTimersByTimeAsync(2000);
    const { results, cancelled } = await playback.done;
    expect(cancelled).toBe(false);
    expect(log).toEqual([`bms:one@${start + 1000}`, `inverter:two@${start + 1000}`, `inverter:three@${start + 3000}`]);
    expect(results.map((r) => [r.atMs, r.target, r.ok])).toEqual([
      [1000, 'bms', true],
      [1000, 'inverter', true],
      [2000, 'bms', false],
      [3000, 'inverter', true],
    ]);
    expect(results[2].output).toBe("unknown command 'nonsense' (try: help)");
    expect(seen).toEqual(results);
  });

  it('cancel stops the remaining steps', async () => {
    const log: string[] = [];
    const playback = playTimeline(
      parseTimeline({ steps: [{ at: '1s', bms: 'say a' }, { at: '5s', bms: 'say b' }] }, 'inline'),
      { bms: recorder('bms', log) },
      globalThis,
    );
    await vi.advanceTimersByTimeAsync(1000);
    playback.cancel();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toHaveLength(1);
    await expect(playback.done).resolves.toMatchObject({ cancelled: true, results: [{ line: 'say a' }] });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a timeline whose target is not available, before running anything', () => {
    const timeline = parseTimeline({ steps: [{ at: '1s', bms: 'say a' }, { at: '2s', invertor: 'say b' }] }, 'inline');
    expect(() => playTimeline(timeline, { bms: recorder('bms', []), inverter: recorder('inverter', []) }, globalThis)).toThrow(
      "timeline targets 'invertor' are not available here (have: bms, inverter)",
    );
    expect(vi.getTimerCount()).toBe(0);
  });
});
