/**
 * Turns command-line arguments (+ an optional YAML file) into a validated BridgeConfig, or into
 * a list of problems, one line each: "<where>: <key>: <what is wrong, what is allowed>".
 * Nothing starts half-configured: the caller exits non-zero when the list is not empty.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { parseDocument as ParseDocument } from 'yaml';
import type { z } from 'zod';
import { parseBmsLinkSpec, parseCanSpec, type SpecResult } from '../transport/spec';
import { findContradictions } from './cross-checks';
import { bridgeConfigSchema, type BridgeConfig, type PackConfig, type RunnableConfig } from './schema';

export const USAGE = `Usage: jk-can-bridge [run] --bms <device|tcp://host:port> --can <socketcan:IFACE|slcan:PATH[@bitrate]|stdout> [options]
       (in a clone of the repository: npm run bridge -- --bms ... --can ... [options])

Options:
  --bms [name=]<spec>   BMS link: serial device (/dev/ttyUSB0) or tcp://host:port; repeat it for
                        packs in parallel, one BMS each (named 1, 2, ... unless named)
  --can <spec>          CAN side: socketcan:can0, slcan:/dev/ttyACM0, or stdout (dry run)
  --profile <name>      pylon-lv | goodwe-lv | sma-si | victron | pylon-hv   (default pylon-lv)
  --config <file>       YAML configuration file (flags override it)
  --set <key=value>     override any configuration key, e.g. --set state.staleAfterMs=3000 (repeatable)
  --log-level <level>   fatal | error | warn | info | debug | trace | silent
  --log-format <fmt>    pretty | json
  --check               validate the configuration, print it and exit
  --probe               validate it, read every BMS once over its link, print one line per pack
                        (cells, SoC, MOSFETs, alarms, chemistry, what would stop the bridge), exit
                        0 when every pack answered and may pass limits, else 1; nothing goes on CAN
  --help                this text`;

export interface CliRequest {
  help: boolean;
  check: boolean;
  probe: boolean;
}

export type LoadResult =
  | { ok: true; config: RunnableConfig; cli: CliRequest }
  | { ok: false; problems: string[]; cli: CliRequest };

type Tree = Record<string, unknown>;

/** The two links a bridge cannot start without, validated with the transport spec parsers. */
const LINK_SPECS: ReadonlyArray<{ key: string; parse: (text: string) => SpecResult<unknown>; missing: string }> = [
  { key: 'bms.link', parse: parseBmsLinkSpec, missing: 'missing; give --bms /dev/ttyUSB0 or tcp://host:port' },
  { key: 'can.bus', parse: parseCanSpec, missing: 'missing; give --can socketcan:can0, slcan:/dev/ttyACM0 or stdout' },
];

export function loadConfig(argv: string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): LoadResult {
  const cli: CliRequest = { help: false, check: false, probe: false };
  let args;
  try {
    args = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        bms: { type: 'string', multiple: true },
        can: { type: 'string' },
        profile: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        check: { type: 'boolean' },
        probe: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return { ok: false, cli, problems: [`command line: ${(err as Error).message} (see --help)`] };
  }
  const flags = args.values;
  cli.help = flags.help === true;
  cli.check = flags.check === true;
  cli.probe = flags.probe === true;

  const problems: string[] = [];
  let tree: Tree = {};
  const fileLabel = flags.config ?? 'configuration';
  if (flags.config !== undefined) {
    const fromFile = readYamlTree(flags.config, readFile);
    if (fromFile.ok) tree = fromFile.tree;
    else problems.push(...fromFile.problems);
  }

  /** Values given on the command line, by key path, with the flag that gave them. */
  const overrides: Array<{ path: string; value: unknown; flag: string }> = [];
  // Any --bms replaces the file's links. One unnamed --bms is the single-pack `bms.link` of old;
  // several (or a named one) become bms.packs.
  const bmsFlags = flags.bms ?? [];
  if (bmsFlags.length === 1 && !/^[^/=:]+=/.test(bmsFlags[0])) {
    overrides.push({ path: 'bms.packs', value: undefined, flag: '--bms' }, { path: 'bms.link', value: bmsFlags[0], flag: '--bms' });
  } else if (bmsFlags.length > 0) {
    const packs = bmsFlags.map((text, i) => {
      const named = /^([^/=:]+)=(.*)$/.exec(text);
      return named === null ? { name: String(i + 1), link: text } : { name: named[1], link: named[2] };
    });
    overrides.push({ path: 'bms.link', value: undefined, flag: '--bms' }, { path: 'bms.packs', value: packs, flag: '--bms' });
  }
  if (flags.can !== undefined) overrides.push({ path: 'can.bus', value: flags.can, flag: '--can' });
  if (flags.profile !== undefined) overrides.push({ path: 'can.profile', value: flags.profile, flag: '--profile' });
  if (flags['log-level'] !== undefined) overrides.push({ path: 'log.level', value: flags['log-level'], flag: '--log-level' });
  if (flags['log-format'] !== undefined) overrides.push({ path: 'log.format', value: flags['log-format'], flag: '--log-format' });
  for (const assignment of flags.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      problems.push(`--set ${assignment}: expected key=value, e.g. --set state.staleAfterMs=3000`);
      continue;
    }
    const value = parseYamlValue(assignment.slice(eq + 1));
    if (!value.ok) {
      problems.push(`--set ${assignment}: the value is not valid YAML: ${value.error}`);
      continue;
    }
    overrides.push({ path: assignment.slice(0, eq), value: value.value, flag: `--set ${assignment}` });
  }
  for (const { path, value } of overrides) setPath(tree, path, value);
  if (problems.length > 0) return { ok: false, cli, problems };

  /** "<file or flag>: <key>: <message>"; a key set (or made) on the command line names its flag, not the file. */
  const line = (key: string, message: string): string => {
    const given = overrides.filter((o) => key === o.path || key.startsWith(`${o.path}.`) || o.path.startsWith(`${key}.`)).at(-1);
    return `${given?.flag ?? fileLabel}: ${key}: ${message}`;
  };

  // Every problem at once: the link specs are checked even when the schema refuses something else
  // (a value that is not a non-empty string is the schema's to report).
  const packList = getPath(tree, 'bms.packs');
  const linkKeys = LINK_SPECS.flatMap((spec) => {
    if (spec.key !== 'bms.link' || packList === undefined) return [spec];
    if (getPath(tree, 'bms.link') !== undefined) problems.push(line('bms.link', 'give bms.link (one pack) or bms.packs (several), not both'));
    return Array.isArray(packList) ? packList.map((_, i) => ({ ...spec, key: `bms.packs.${i}.link` })) : [];
  });
  for (const { key, parse, missing } of linkKeys) {
    const value = getPath(tree, key);
    if (value === undefined) problems.push(line(key, missing));
    else if (typeof value === 'string' && value !== '') {
      const spec = parse(value);
      if (!spec.ok) problems.push(line(key, spec.error));
    }
  }

  const parsed = bridgeConfigSchema.safeParse(tree);
  if (!parsed.success) return { ok: false, cli, problems: [...formatIssues(parsed.error.issues, line), ...problems] };
  const config = parsed.data;
  for (const contradiction of findContradictions(config)) problems.push(line(contradiction.key, contradiction.message));

  const packs = resolvePacks(config.bms);
  const single = config.bms.packs === undefined;
  packs.forEach((pack, i) => {
    // A single pack's settings are the bms section's own keys; a pack's are its overrides.
    const key = (name: string): string => (single || getPath(tree, `bms.packs.${i}.${name}`) === undefined ? `bms.${name}` : `bms.packs.${i}.${name}`);
    const who = single ? '' : ` (pack ${pack.name})`;
    if (pack.replyTimeoutMs >= pack.pollIntervalMs)
      problems.push(line(key('replyTimeoutMs'), `${pack.replyTimeoutMs} must be below ${key('pollIntervalMs')} (${pack.pollIntervalMs})${who}`));
    if (config.state.staleAfterMs <= pack.pollIntervalMs)
      problems.push(
        line(
          'state.staleAfterMs',
          `${config.state.staleAfterMs} must exceed ${key('pollIntervalMs')} (${pack.pollIntervalMs})${who}, or every poll would go stale`,
        ),
      );
    if (pack.reconnectInitialMs > pack.reconnectMaxMs)
      problems.push(line(key('reconnectInitialMs'), `must not exceed ${key('reconnectMaxMs')}${who}`));
  });
  problems.push(...bankProblems(packs, config.bms.mirrorPacks).map(([key, message]) => line(key, message)));
  for (const section of ['can', 'mqtt'] as const) {
    if (config[section].reconnectInitialMs > config[section].reconnectMaxMs)
      problems.push(line(`${section}.reconnectInitialMs`, `must not exceed ${section}.reconnectMaxMs`));
  }
  problems.push(...observerProblems(config, line));
  if (config.mqtt.caFile !== undefined) {
    const ca = config.mqtt.caFile;
    if (!config.mqtt.url?.startsWith('mqtts://')) problems.push(line('mqtt.caFile', 'is only used with an mqtts:// url'));
    try {
      if (!readFile(ca).includes('-----BEGIN CERTIFICATE-----')) problems.push(line('mqtt.caFile', `${ca} holds no PEM certificate`));
    } catch (err) {
      problems.push(line('mqtt.caFile', `${ca}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`));
    }
  }
  if (problems.length > 0) return { ok: false, cli, problems };
  const { packs: _overrides, ...bms } = config.bms;
  return { ok: true, cli, config: { ...config, bms: { ...bms, packs } } as RunnableConfig };
}

/** Every pack with its overrides over the bms section; one pack named "1" for a single `link`. */
export function resolvePacks(bms: BridgeConfig['bms']): PackConfig[] {
  const base = {
    baudRate: bms.baudRate,
    pollIntervalMs: bms.pollIntervalMs,
    replyTimeoutMs: bms.replyTimeoutMs,
    minGapMs: bms.minGapMs,
    request: bms.request,
    temperatureCoding: bms.temperatureCoding,
    reconnectInitialMs: bms.reconnectInitialMs,
    reconnectMaxMs: bms.reconnectMaxMs,
    reopenAfterMissedPolls: bms.reopenAfterMissedPolls,
    plausibility: bms.plausibility,
  };
  if (bms.packs === undefined) return bms.link === undefined ? [] : [{ name: '1', link: bms.link, ...base }];
  return bms.packs.map(({ plausibility, ...rest }) => ({ ...base, ...rest, plausibility: { ...base.plausibility, ...plausibility } }));
}

/** Packs that cannot be one bank: [key, message] naming the pack. */
function bankProblems(packs: readonly PackConfig[], mirrorPacks: number): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  packs.forEach((pack, i) => {
    const earlier = packs.slice(0, i);
    const sameName = earlier.find((p) => p.name === pack.name);
    if (sameName !== undefined) problems.push([`bms.packs.${i}.name`, `"${pack.name}" names two packs; every pack needs its own name`]);
    const sameLink = earlier.find((p) => p.link === pack.link);
    if (sameLink !== undefined)
      problems.push([`bms.packs.${i}.link`, `${pack.link} is also pack ${sameLink.name}'s link; one pack per link (one BMS answers a link)`]);
    const counted = earlier.find((p) => p.plausibility.cellCount !== undefined);
    if (counted !== undefined && pack.plausibility.cellCount !== undefined && pack.plausibility.cellCount !== counted.plausibility.cellCount)
      problems.push([
        `bms.packs.${i}.plausibility.cellCount`,
        `pack ${pack.name} has ${pack.plausibility.cellCount} cells, pack ${counted.name} ${counted.plausibility.cellCount}; packs in parallel need the same cell count`,
      ]);
  });
  if (mirrorPacks > 1 && packs.length > 1)
    problems.push(['bms.mirrorPacks', `mirrors one watched pack; with ${packs.length} packs configured, leave it at 1`]);
  return problems;
}

/** The web server's and MQTT's security defaults (README "Security defaults"). */
function observerProblems(config: BridgeConfig, line: (key: string, message: string) => string): string[] {
  const problems: string[] = [];
  const { web, mqtt } = config;
  if (web.listen !== 'off' && !isLoopbackListen(web.listen) && web.token === undefined && !web.allowUnauthenticated)
    problems.push(line('web.listen', `${web.listen} is reachable beyond this machine: set web.token, or web.allowUnauthenticated: true for a read-only page open to the network`));
  if (web.commands && web.token === undefined) problems.push(line('web.commands', 'needs web.token (commands change what the inverter is told)'));
  if (web.commands && web.listen === 'off') problems.push(line('web.commands', 'needs the web server (web.listen is off)'));
  if (mqtt.commands && mqtt.url === undefined) problems.push(line('mqtt.commands', 'needs mqtt.url'));
  return problems;
}

/** 127.0.0.0/8, ::1 and localhost: only processes on this machine can connect. */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The YAML parser (72 modules), loaded only when a --config file or a --set value needs it, so a
 * bridge started with flags alone does not load it.
 */
function yaml(): { LineCounter: typeof import('yaml').LineCounter; parseDocument: typeof ParseDocument } {
  return require('yaml') as typeof import('yaml');
}

function readYamlTree(path: string, readFile: (path: string) => string): { ok: true; tree: Tree } | { ok: false; problems: string[] } {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    return { ok: false, problems: [`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${path}:${line}:${col}: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { ok: true, tree: {} };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, problems: [`${path}: expected a mapping of sections (name, bms, can, state, control, log, mqtt, web, commands)`] };
  return { ok: true, tree: value as Tree };
}

/** A --set value is YAML (3000, true, pc, [1, 2]); its parse errors are reported, never thrown. */
function parseYamlValue(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const doc = yaml().parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false, error: doc.errors[0].message.split('\n')[0] };
  return { ok: true, value: doc.toJS() };
}

function getPath(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Tree)[key];
  }
  return node;
}

/**
 * Sets tree[a][b][c] for "a.b.c". Keys become own properties, so "__proto__" or "constructor" is an
 * unknown key the schema reports, never a write to Object.prototype.
 */
function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  const put = (node: Tree, key: string, v: unknown) =>
    Object.defineProperty(node, key, { value: v, enumerable: true, writable: true, configurable: true });
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next !== 'object' || next === null || Array.isArray(next)) put(node, key, {});
    node = node[key] as Tree;
  }
  put(node, keys[keys.length - 1], value);
}

/** One line per problem: a zod issue naming several unknown keys becomes one line per key. */
function formatIssues(issues: readonly z.core.$ZodIssue[], line: (key: string, message: string) => string): string[] {
  return issues.flatMap((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((unknown) => line(key === '' ? unknown : `${key}.${unknown}`, 'unknown key'));
    }
    return [line(key || '(top level)', issue.message)];
  });
}
