/**
 * Commands from a person (MQTT or the web page): deny charge, deny discharge, request a force
 * charge, each until an expiry. They are one more input of the policy and can only make it more
 * conservative: a deny is a limiter at 0 A (so the limit comes back through the policy's hold and
 * ramp when it ends), and a force-charge request sets the request bits only while charging is
 * allowed (policy.ts: never without chargeEnable, i.e. it still obeys CCL). Pure: no clock, no I/O.
 */
import { z } from 'zod';

export interface ActiveCommand {
  /** Monotonic time (the bridge clock) at which it lapses. */
  untilMs: number;
  /** Who asked, e.g. "mqtt" or "web 127.0.0.1". */
  source: string;
}

export interface Commands {
  denyCharge: ActiveCommand | null;
  denyDischarge: ActiveCommand | null;
  forceCharge: ActiveCommand | null;
}

export const noCommands: Commands = { denyCharge: null, denyDischarge: null, forceCharge: null };

export const COMMAND_NAMES = [
  'deny-charge',
  'allow-charge',
  'deny-discharge',
  'allow-discharge',
  'force-charge',
  'cancel-force-charge',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** The ones that start something, and so need an expiry. */
const TIMED: ReadonlySet<CommandName> = new Set(['deny-charge', 'deny-discharge', 'force-charge']);

export interface BridgeCommand {
  command: CommandName;
  /** Seconds until it lapses (timed commands only). */
  expiresInS?: number;
  /** Echoed on the response, so a caller can match it. */
  id?: string;
}

const commandSchema = z
  .object({
    command: z.enum(COMMAND_NAMES),
    expiresInS: z.number().int().positive().optional(),
    id: z.string().max(64).optional(),
  })
  .strict();

export type CommandParse = { ok: true; command: BridgeCommand } | { ok: false; reason: string; id?: string };

/**
 * Validates a command's JSON text, e.g. {"command":"deny-charge","expiresInS":3600}. Every
 * refusal says why in one line, and a refused command changes nothing.
 */
export function parseCommand(text: string, maxExpiryS: number): CommandParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON; expected e.g. {"command":"deny-charge","expiresInS":3600}' };
  }
  const id = typeof json === 'object' && json !== null && typeof (json as { id?: unknown }).id === 'string' ? (json as { id: string }).id : undefined;
  const parsed = commandSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    const what =
      issue.code === 'invalid_value' && issue.path[0] === 'command'
        ? `unknown command; expected one of ${COMMAND_NAMES.join(', ')}`
        : issue.code === 'unrecognized_keys'
          ? `unknown key ${issue.keys.join(', ')}`
          : issue.message;
    return { ok: false, reason: `${where}${what}`, id };
  }
  const command = parsed.data;
  if (TIMED.has(command.command)) {
    if (command.expiresInS === undefined) return { ok: false, reason: `${command.command} needs expiresInS (1-${maxExpiryS})`, id };
    if (command.expiresInS > maxExpiryS) return { ok: false, reason: `expiresInS: at most ${maxExpiryS} (commands.maxExpiryS)`, id };
  } else if (command.expiresInS !== undefined) {
    return { ok: false, reason: `${command.command} takes no expiresInS (it ends a command)`, id };
  }
  return { ok: true, command };
}

export function applyCommand(commands: Commands, command: BridgeCommand, source: string, nowMs: number): Commands {
  const until = (): ActiveCommand => ({ untilMs: nowMs + (command.expiresInS ?? 0) * 1000, source });
  switch (command.command) {
    case 'deny-charge':
      return { ...commands, denyCharge: until() };
    case 'allow-charge':
      return { ...commands, denyCharge: null };
    case 'deny-discharge':
      return { ...commands, denyDischarge: until() };
    case 'allow-discharge':
      return { ...commands, denyDischarge: null };
    case 'force-charge':
      return { ...commands, forceCharge: until() };
    case 'cancel-force-charge':
      return { ...commands, forceCharge: null };
  }
}

export function isActive(command: ActiveCommand | null, nowMs: number): command is ActiveCommand {
  return command !== null && nowMs < command.untilMs;
}

/** The limiting reason a deny command gives its direction (no countdown: a reason changes only with its cause). */
export function denyReason(direction: 'charge' | 'discharge', command: ActiveCommand): string {
  return `${direction} denied by command (${command.source})`;
}
