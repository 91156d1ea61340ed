/**
 * Scenario timelines (scenarios/*.yaml), played by both sims and by the live rig:
 *
 *   description: cell 3 runs away while the inverter keeps charging
 *   steps:
 *     - at: 5s
 *       bms: cell 3 3650mV
 *     - at: 10s
 *       inverter: demand 3000W
 *
 * Each step has `at` (a duration from the start, see parseDurationMs) and exactly one target
 * key whose value is a command line for the CommandSet of that name. Steps run in `at` order
 * (file order for equal times), one after the other.
 */
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CommandError, parseDurationMs, type CommandSet } from './commands';

export interface TimelineStep {
  atMs: number;
  target: string;
  line: string;
}

export interface Timeline {
  description?: string;
  steps: TimelineStep[];
}

const stepSchema = z
  .object({
    at: z.union([z.string(), z.number()]).transform((at, ctx) => {
      try {
        // A bare number would be ambiguous (ms? s?); parseDurationMs rejects it.
        return parseDurationMs(String(at));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as CommandError).message });
        return z.NEVER;
      }
    }),
  })
  .catchall(z.string().trim().min(1, 'a command line must not be empty'))
  .transform((step, ctx): TimelineStep => {
    const { at, ...targets } = step;
    const names = Object.keys(targets);
    if (names.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a step needs exactly one target (e.g. "bms: cell 3 3650mV"), found ${names.length === 0 ? 'none' : names.join(', ')}`,
      });
      return z.NEVER;
    }
    return { atMs: at, target: names[0], line: targets[names[0]] };
  });

export const timelineSchema = z.strictObject({
  description: z.string().optional(),
  steps: z.array(stepSchema).min(1, 'a timeline needs at least one step'),
});

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('') || '(top level)';
}

/** Validates an already-parsed document; `source` names it in errors. */
export function parseTimeline(doc: unknown, source: string): Timeline {
  const result = timelineSchema.safeParse(doc);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `  ${issuePath(issue.path)}: ${issue.message}`);
    throw new Error(`${source}: invalid timeline\n${issues.join('\n')}`);
  }
  const steps = result.data.steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => a.step.atMs - b.step.atMs || a.index - b.index)
    .map(({ step }) => step);
  return { description: result.data.description, steps };
}

/** Reads and validates a timeline file; errors name the file and the offending key. */
export function loadTimeline(path: string): Timeline {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read timeline: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid YAML: ${(err as Error).message}`);
  }
  return parseTimeline(doc, path);
}

export interface TimelineClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}

export interface StepResult extends TimelineStep {
  ok: boolean;
  output: string;
}

export interface TimelinePlayback {
  /** Stops the steps not yet run. */
  cancel(): void;
  /** Resolves when every step ran, or at cancel(); failed commands do not stop playback. */
  done: Promise<{ results: StepResult[]; cancelled: boolean }>;
}

/**
 * Schedules every step on `clock` (globalThis, or fake timers in tests). Throws at once when a
 * step names a target that is not in `targets`, so a typo does not surface minutes later.
 */
export function playTimeline(
  timeline: Timeline,
  targets: Record<string, CommandSet>,
  clock: TimelineClock,
  onStep?: (result: StepResult) => void,
): TimelinePlayback {
  const missing = [...new Set(timeline.steps.map((s) => s.target).filter((t) => !(t in targets)))];
  if (missing.length > 0) {
    throw new Error(`timeline targets ${missing.map((t) => `'${t}'`).join(', ')} are not available here (have: ${Object.keys(targets).join(', ')})`);
  }
  const results: StepResult[] = [];
  let cancelled = false;
  let finish: (value: { results: StepResult[]; cancelled: boolean }) => void = () => undefined;
  const done = new Promise<{ results: StepResult[]; cancelled: boolean }>((resolve) => (finish = resolve));

  // Steps are scheduled on absolute offsets (no drift), but run through one queue so a slow
  // async command finishes before the next step starts.
  let queue = Promise.resolve();
  let remaining = timeline.steps.length;
  const handles = timeline.steps.map((step) =>
    clock.setTimeout(() => {
      queue = queue.then(async () => {
        if (cancelled) return;
        const { ok, output } = await targets[step.target].execute(step.line);
        const result = { ...step, ok, output };
        results.push(result);
        onStep?.(result);
        remaining -= 1;
        if (remaining === 0) finish({ results, cancelled: false });
      });
    }, step.atMs),
  );
  if (remaining === 0) finish({ results, cancelled: false });

  return {
    cancel: () => {
      if (cancelled || remaining === 0) return;
      cancelled = true;
      for (const handle of handles) clock.clearTimeout?.(handle);
      finish({ results, cancelled: true });
    },
    done,
  };
}
