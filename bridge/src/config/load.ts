/**
 * Turns command-line arguments (+ an optional YAML file) into a validated BridgeConfig, or into
 * a list of problems, one line each: "<where>: <key>: <what is wrong, what is allowed>".
 * Nothing starts half-configured: the caller exits non-zero when the list is not empty.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDocument, parse as parseYamlScalar } from 'yaml';
import type { z } from 'zod';
import { parseBmsLinkSpec, parseCanSpec } from '../transport/spec';
import { bridgeConfigSchema, type RunnableConfig } from './schema';

export const USAGE = `Usage: npm run bridge -- --bms <device|tcp://host:port> --can <socketcan:IFACE|slcan:PATH[@bitrate]|stdout> [options]

Options:
  --bms <spec>          BMS link: serial device (/dev/ttyUSB0) or tcp://host:port
  --can <spec>          CAN side: socketcan:can0, slcan:/dev/ttyACM0, or stdout (dry run)
  --profile <name>      pylon-lv | goodwe-lv | sma-si | victron   (default pylon-lv)
  --config <file>       YAML configuration file (flags override it)
  --set <key=value>     override any configuration key, e.g. --set state.staleAfterMs=3000 (repeatable)
  --log-level <level>   fatal | error | warn | info | debug | trace | silent
  --log-format <fmt>    pretty | json
  --check               validate the configuration, print it and exit
  --help                this text`;

export interface CliRequest {
  help: boolean;
  check: boolean;
}

export type LoadResult =
  | { ok: true; config: RunnableConfig; cli: CliRequest }
  | { ok: false; problems: string[]; cli: CliRequest };

type Tree = Record<string, unknown>;

export function loadConfig(argv: string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): LoadResult {
  const cli: CliRequest = { help: false, check: false };
  let args;
  try {
    args = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        bms: { type: 'string' },
        can: { type: 'string' },
        profile: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return { ok: false, cli, problems: [`command line: ${(err as Error).message} (see --help)`] };
  }
  const flags = args.values;
  cli.help = flags.help === true;
  cli.check = flags.check === true;

  const problems: string[] = [];
  let tree: Tree = {};
  const fileLabel = flags.config ?? 'configuration';
  if (flags.config !== undefined) {
    const fromFile = readYamlTree(flags.config, readFile);
    if (fromFile.ok) tree = fromFile.tree;
    else problems.push(...fromFile.problems);
  }

  const overrides: Array<[string, unknown]> = [];
  if (flags.bms !== undefined) overrides.push(['bms.link', flags.bms]);
  if (flags.can !== undefined) overrides.push(['can.bus', flags.can]);
  if (flags.profile !== undefined) overrides.push(['can.profile', flags.profile]);
  if (flags['log-level'] !== undefined) overrides.push(['log.level', flags['log-level']]);
  if (flags['log-format'] !== undefined) overrides.push(['log.format', flags['log-format']]);
  for (const assignment of flags.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      problems.push(`--set ${assignment}: expected key=value, e.g. --set state.staleAfterMs=3000`);
      continue;
    }
    overrides.push([assignment.slice(0, eq), parseYamlScalar(assignment.slice(eq + 1))]);
  }
  for (const [path, value] of overrides) setPath(tree, path, value);
  if (problems.length > 0) return { ok: false, cli, problems };

  const parsed = bridgeConfigSchema.safeParse(tree);
  if (!parsed.success) return { ok: false, cli, problems: formatIssues(fileLabel, parsed.error.issues) };
  const config = parsed.data;

  if (config.bms.link === undefined) problems.push(`${fileLabel}: bms.link: missing; give --bms /dev/ttyUSB0 or tcp://host:port`);
  else {
    const bms = parseBmsLinkSpec(config.bms.link);
    if (!bms.ok) problems.push(`${fileLabel}: bms.link: ${bms.error}`);
  }
  if (config.can.bus === undefined) problems.push(`${fileLabel}: can.bus: missing; give --can socketcan:can0, slcan:/dev/ttyACM0 or stdout`);
  else {
    const can = parseCanSpec(config.can.bus);
    if (!can.ok) problems.push(`${fileLabel}: can.bus: ${can.error}`);
  }
  if (config.bms.replyTimeoutMs >= config.bms.pollIntervalMs)
    problems.push(`${fileLabel}: bms.replyTimeoutMs: ${config.bms.replyTimeoutMs} must be below bms.pollIntervalMs (${config.bms.pollIntervalMs})`);
  if (config.state.staleAfterMs <= config.bms.pollIntervalMs)
    problems.push(`${fileLabel}: state.staleAfterMs: ${config.state.staleAfterMs} must exceed bms.pollIntervalMs (${config.bms.pollIntervalMs}), or every poll would go stale`);
  for (const section of ['bms', 'can'] as const) {
    if (config[section].reconnectInitialMs > config[section].reconnectMaxMs)
      problems.push(`${fileLabel}: ${section}.reconnectInitialMs: must not exceed ${section}.reconnectMaxMs`);
  }
  if (problems.length > 0) return { ok: false, cli, problems };
  return { ok: true, cli, config: config as RunnableConfig };
}

function readYamlTree(path: string, readFile: (path: string) => string): { ok: true; tree: Tree } | { ok: false; problems: string[] } {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    return { ok: false, problems: [`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => `${path}:${e.linePos?.[0]?.line ?? '?'}:${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]}`),
    };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { ok: true, tree: {} };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, problems: [`${path}: expected a mapping of sections (bms, can, state, control, log)`] };
  return { ok: true, tree: value as Tree };
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

export function formatIssues(where: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(top level)';
    return `${where}: ${key}: ${issue.message}`;
  });
}
