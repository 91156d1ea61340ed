/**
 * loadConfig: command line + YAML file → a validated config, or one line per problem naming where
 * the value came from (the file, or the flag that set it) and the key.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadResult } from '../../src/config/load';
import { controlConfigSchema } from '../../src/control';

const LINKS = ['--bms', '/dev/ttyUSB0', '--can', 'stdout'];
const SAMPLE = path.resolve(__dirname, '../../../deploy/bridge.example.yaml');

/** loadConfig with an in-memory file system; any other path is missing. */
function load(argv: string[], files: Record<string, string> = {}): LoadResult {
  return loadConfig(argv, (file) => {
    if (Object.hasOwn(files, file)) return files[file];
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
  });
}

function config(argv: string[], files: Record<string, string> = {}) {
  const result = load(argv, files);
  if (!result.ok) throw new Error(`refused:\n${result.problems.join('\n')}`);
  return result.config;
}

function problems(argv: string[], files: Record<string, string> = {}): string[] {
  const result = load(argv, files);
  if (result.ok) throw new Error('accepted a configuration it should refuse');
  return result.problems;
}

describe('defaults and precedence', () => {
  it('links on the command line and nothing else: every default, no file read', () => {
    const loaded = loadConfig(LINKS, () => {
      throw new Error('no file was asked for');
    });
    expect(loaded).toMatchObject({ ok: true, cli: { help: false, check: false } });
    const c = config(LINKS);
    const pollDefaults = {
      baudRate: 115200,
      pollIntervalMs: 500,
      replyTimeoutMs: 300,
      minGapMs: 100,
      request: { command: 0x06, source: 'pc' },
      temperatureCoding: 'doc',
      reconnectInitialMs: 1000,
      reconnectMaxMs: 30000,
      reopenAfterMissedPolls: 10,
      plausibility: { minCellMv: 1000, maxCellMv: 5000, packVoltageToleranceMv: 1500, maxCurrentA: 1000, minTemperatureC: -40, maxTemperatureC: 100 },
    };
    expect(c.bms).toEqual({
      link: '/dev/ttyUSB0',
      onPackLost: 'stop',
      mirrorPacks: 1,
      maxPackVoltageSpreadMv: 1000,
      ...pollDefaults,
      fastPoll: { enabled: true, cellMarginMv: 50, currentFraction: 0.9, afterChangePolls: 10 },
      faultOnAlarms: ['mosfetOverTemperature', 'batteryOverTemperature', 'boxOverTemperature', 'protection309A', 'protection309B'],
      // One link is one pack, named "1", with the section's settings.
      packs: [{ name: '1', link: '/dev/ttyUSB0', ...pollDefaults }],
    });
    expect(c.can).toEqual({
      bus: 'stdout',
      profile: 'pylon-lv',
      periodMs: 1000,
      reconnectInitialMs: 1000,
      reconnectMaxMs: 30000,
      downAfterFailedSends: 3,
      pylonHv: { preset: 'deye' },
      identity: { moduleCount: 1, firmwareMajor: 1, firmwareMinor: 0 },
    });
    expect(c.state).toEqual({ staleAfterMs: 5000, faultAfterMs: 30000, silenceAfterMs: 60000, recoverAfter: 3, inverterTimeoutMs: 10000 });
    expect(c.battery).toEqual({ chemistry: 'auto' });
    // The voltage points stay open: the chemistry preset fills them per BMS (battery-policy.ts).
    expect(c.control).toEqual(controlConfigSchema.parse({}));
    expect(c.control.chargeStopCellMv).toBeUndefined();
    expect(c.log).toEqual({ level: 'info', format: 'pretty' });
  });

  it('flags override the file; what the flags leave alone comes from the file', () => {
    const file = [
      'bms: { link: /dev/ttyS1, pollIntervalMs: 2000 }',
      'can: { bus: "socketcan:can1", profile: goodwe-lv }',
      'state: { staleAfterMs: 7000 }',
      'log: { level: debug, format: pretty }',
    ].join('\n');
    const c = config(
      ['--config', 'f.yaml', ...LINKS, '--profile', 'victron', '--log-level', 'warn', '--log-format', 'json', '--set', 'bms.pollIntervalMs=1000'],
      { 'f.yaml': file },
    );
    expect(c.bms.link).toBe('/dev/ttyUSB0');
    expect(c.can.bus).toBe('stdout');
    expect(c.can.profile).toBe('victron');
    expect(c.log).toEqual({ level: 'warn', format: 'json' });
    expect(c.bms.pollIntervalMs).toBe(1000);
    expect(c.state.staleAfterMs).toBe(7000);
  });

  it('a later --set of the same key wins', () => {
    expect(config([...LINKS, '--set', 'state.staleAfterMs=4000', '--set', 'state.staleAfterMs=6000']).state.staleAfterMs).toBe(6000);
  });

  it.each([
    { set: 'bms.pollIntervalMs=1000', pick: (c: Cfg) => c.bms.pollIntervalMs, value: 1000 },
    { set: 'bms.request.command=0x03', pick: (c: Cfg) => c.bms.request.command, value: 3 },
    { set: 'bms.request.source=gps', pick: (c: Cfg) => c.bms.request.source, value: 'gps' },
    { set: 'control.stop.currentA=0.1', pick: (c: Cfg) => c.control.stop.currentA, value: 0.1 },
    { set: 'control.forceCharge.enabled=false', pick: (c: Cfg) => c.control.forceCharge.enabled, value: false },
    { set: 'control.current.bmsOcpCapFraction=null', pick: (c: Cfg) => c.control.current.bmsOcpCapFraction, value: null },
    { set: 'control.soc.clampUntilFloatPct=98', pick: (c: Cfg) => c.control.soc.clampUntilFloatPct, value: 98 },
    { set: 'can.identity.manufacturer="12345"', pick: (c: Cfg) => c.can.identity.manufacturer, value: '12345' },
    { set: 'can.identity.manufacturer=A=B', pick: (c: Cfg) => c.can.identity.manufacturer, value: 'A=B' },
    { set: 'bms.faultOnAlarms=[cellOverVoltage, protection309A]', pick: (c: Cfg) => c.bms.faultOnAlarms, value: ['cellOverVoltage', 'protection309A'] },
    { set: 'control.tables.chargeVsSocPct={enabled: true}', pick: (c: Cfg) => c.control.tables.chargeVsSocPct.enabled, value: true },
  ])('--set $set is read as YAML', ({ set, pick, value }) => {
    expect(pick(config([...LINKS, '--set', set]))).toEqual(value);
  });

  it('--help, --check and --probe are reported to the caller', () => {
    expect(load([...LINKS, '--check']).cli).toEqual({ help: false, check: true, probe: false });
    expect(load([...LINKS, '--check', '--probe']).cli).toEqual({ help: false, check: true, probe: true });
    expect(load(['--help']).cli).toEqual({ help: true, check: false, probe: false });
  });
});

type Cfg = ReturnType<typeof config>;

describe('problems: one line each, naming the file (or flag) and the key', () => {
  it.each([
    {
      name: 'unknown keys, one line per key',
      file: 'bms:\n  pollIntervalMs: 600\n  pollIntervalMS: 400\n  replyTimeOut: 100\nextra: 1\n',
      expected: ['f.yaml: bms.pollIntervalMS: unknown key', 'f.yaml: bms.replyTimeOut: unknown key', 'f.yaml: extra: unknown key'],
    },
    { name: 'a wrong type', file: 'bms:\n  pollIntervalMs: fast\n', expected: [/^f\.yaml: bms\.pollIntervalMs: .*expected number, received string$/] },
    { name: 'a value below its minimum', file: 'bms:\n  minGapMs: 50\n', expected: [/^f\.yaml: bms\.minGapMs: .*>=100$/] },
    { name: 'a bad enum', file: 'can:\n  profile: pylontech\n', expected: [/^f\.yaml: can\.profile: .*"pylon-lv".*"victron"/] },
    { name: 'a bad enum deep in control', file: 'control:\n  stop: { chargeVoltage: zero }\n', expected: [/^f\.yaml: control\.stop\.chargeVoltage: .*"cvl"\|"pack"/] },
    {
      name: 'replyTimeoutMs not below pollIntervalMs',
      file: 'bms:\n  pollIntervalMs: 400\n  replyTimeoutMs: 400\n',
      expected: ['f.yaml: bms.replyTimeoutMs: 400 must be below bms.pollIntervalMs (400)'],
    },
    {
      name: 'staleAfterMs not above pollIntervalMs',
      file: 'state:\n  staleAfterMs: 500\n',
      expected: ['f.yaml: state.staleAfterMs: 500 must exceed bms.pollIntervalMs (500), or every poll would go stale'],
    },
    {
      name: 'a reconnect back-off that starts above its maximum',
      file: 'can:\n  reconnectInitialMs: 5000\n  reconnectMaxMs: 2000\n',
      expected: ['f.yaml: can.reconnectInitialMs: must not exceed can.reconnectMaxMs'],
    },
    {
      name: 'a bad BMS link in the file',
      file: 'bms:\n  link: "192.168.1.50:8899"\n',
      argv: ['--can', 'stdout'],
      expected: ['f.yaml: bms.link: "192.168.1.50:8899": did you mean tcp://192.168.1.50:8899?'],
    },
  ])('$name', ({ file, expected, argv = LINKS }) => {
    const lines = problems(['--config', 'f.yaml', ...argv], { 'f.yaml': file });
    expect(lines).toHaveLength(expected.length);
    expected.forEach((want, i) => (typeof want === 'string' ? expect(lines[i]).toBe(want) : expect(lines[i]).toMatch(want)));
  });

  it.each([
    { name: 'a bad --bms', argv: ['--bms', 'ttyUSB0', '--can', 'stdout'], expected: '--bms: bms.link: "ttyUSB0": a serial device needs its full path, e.g. /dev/ttyUSB0' },
    { name: 'a bad --can', argv: ['--bms', '/dev/ttyUSB0', '--can', 'can0'], expected: /^--can: can\.bus: "can0": did you mean socketcan:can0\?/ },
    {
      name: 'an SLCAN bit rate the adapter cannot set',
      argv: ['--bms', '/dev/ttyUSB0', '--can', 'slcan:/dev/ttyACM0@300000'],
      expected: /^--can: can\.bus: "slcan:\/dev\/ttyACM0@300000": "300000" is not a CAN bit rate/,
    },
    { name: 'a bad --profile', argv: [...LINKS, '--profile', 'deye'], expected: /^--profile: can\.profile: .*"pylon-lv"/ },
    { name: 'a bad --set value', argv: [...LINKS, '--set', 'bms.replyTimeoutMs=600'], expected: '--set bms.replyTimeoutMs=600: bms.replyTimeoutMs: 600 must be below bms.pollIntervalMs (500)' },
    { name: 'a --set of an unknown key', argv: [...LINKS, '--set', 'state.staleAfter=100'], expected: '--set state.staleAfter=100: state.staleAfter: unknown key' },
    { name: 'a --set without =', argv: [...LINKS, '--set', 'state.staleAfterMs'], expected: '--set state.staleAfterMs: expected key=value, e.g. --set state.staleAfterMs=3000' },
    { name: 'a --set value that is not YAML', argv: [...LINKS, '--set', 'bms.faultOnAlarms=[cellOverVoltage'], expected: /^--set bms\.faultOnAlarms=\[cellOverVoltage: the value is not valid YAML: / },
    { name: 'an unknown flag', argv: [...LINKS, '--bsm', '/dev/ttyUSB1'], expected: /^command line: Unknown option '--bsm'/ },
  ])('$name names the flag', ({ argv, expected }) => {
    const lines = problems(argv);
    expect(lines).toHaveLength(1);
    if (typeof expected === 'string') expect(lines[0]).toBe(expected);
    else expect(lines[0]).toMatch(expected);
  });

  it('pylon-hv: a preset with single overrides; an out-of-range address or unknown byte order is refused, one line each', () => {
    const c = config([...LINKS, '--profile', 'pylon-hv', '--set', 'can.pylonHv.preset=sofar', '--set', 'can.pylonHv.byteOrder=be']);
    expect(c.can).toMatchObject({ profile: 'pylon-hv', pylonHv: { preset: 'sofar', byteOrder: 'be' } });
    const lines = problems([...LINKS, '--profile', 'pylon-hv', '--set', 'can.pylonHv.address=16', '--set', 'can.pylonHv.byteOrder=middle']);
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => /^--set can\.pylonHv\.address=16: can\.pylonHv\.address: /.test(l))).toBe(true);
    expect(lines.some((l) => /^--set can\.pylonHv\.byteOrder=middle: can\.pylonHv\.byteOrder: /.test(l))).toBe(true);
  });

  it('missing --bms and --can: one line each', () => {
    expect(problems([])).toEqual([
      'configuration: bms.link: missing; give --bms /dev/ttyUSB0 or tcp://host:port',
      'configuration: can.bus: missing; give --can socketcan:can0, slcan:/dev/ttyACM0 or stdout',
    ]);
  });

  it('reports every problem at once, not only the first kind', () => {
    const file = 'bms:\n  pollIntervalMs: soon\n  bogus: 1\ncan:\n  profile: byd\n';
    expect(problems(['--config', 'f.yaml', '--bms', 'COM3'], { 'f.yaml': file })).toEqual([
      'f.yaml: bms.pollIntervalMs: Invalid input: expected number, received string',
      'f.yaml: bms.bogus: unknown key',
      expect.stringMatching(/^f\.yaml: can\.profile: Invalid option: expected one of /),
      '--bms: bms.link: "COM3": Windows COM ports are not supported; the bridge runs on Linux (/dev/ttyUSB0)',
      'f.yaml: can.bus: missing; give --can socketcan:can0, slcan:/dev/ttyACM0 or stdout',
    ]);
  });

  it('a --set of __proto__ is an unknown key, never a write to Object.prototype', () => {
    expect(problems([...LINKS, '--set', '__proto__.polluted=1'])).toEqual(['--set __proto__.polluted=1: __proto__: unknown key']);
    expect(problems([...LINKS, '--set', 'bms.__proto__.polluted=1'])).toEqual(['--set bms.__proto__.polluted=1: bms.__proto__: unknown key']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('several packs (issue 12)', () => {
  const CAN = ['--can', 'stdout'];

  it('repeated --bms: one pack per link, named by position unless named', () => {
    const c = config(['--bms', '/dev/ttyUSB0', '--bms', 'east=tcp://10.0.0.5:8899', '--bms', '/dev/ttyUSB2', ...CAN]);
    expect(c.bms.link).toBeUndefined();
    expect(c.bms.packs.map((p) => [p.name, p.link])).toEqual([
      ['1', '/dev/ttyUSB0'],
      ['east', 'tcp://10.0.0.5:8899'],
      ['3', '/dev/ttyUSB2'],
    ]);
    expect(c.bms.packs.every((p) => p.pollIntervalMs === 500 && p.plausibility.maxCellMv === 5000)).toBe(true);
  });

  it('bms.packs in YAML: each pack takes the bms settings unless it overrides them', () => {
    const file = [
      'bms:',
      '  pollIntervalMs: 800',
      '  replyTimeoutMs: 300',
      '  onPackLost: degrade',
      '  plausibility: { cellCount: 16 }',
      '  packs:',
      '    - { name: A, link: /dev/ttyUSB0 }',
      '    - { name: B, link: /dev/ttyUSB1, pollIntervalMs: 1000, internalResistanceMohm: 12, plausibility: { maxCurrentA: 200 } }',
    ].join('\n');
    const c = config(['--config', 'f.yaml', ...CAN], { 'f.yaml': file });
    expect(c.bms.onPackLost).toBe('degrade');
    const [a, b] = c.bms.packs;
    expect(a.internalResistanceMohm).toBeUndefined();
    expect(a).toMatchObject({ name: 'A', pollIntervalMs: 800, plausibility: { cellCount: 16, maxCurrentA: 1000 } });
    expect(b).toMatchObject({ name: 'B', pollIntervalMs: 1000, internalResistanceMohm: 12, plausibility: { cellCount: 16, maxCurrentA: 200, maxCellMv: 5000 } });
  });

  it('--bms replaces the packs of the file', () => {
    const file = 'bms:\n  packs:\n    - { name: A, link: /dev/ttyUSB0 }\n    - { name: B, link: /dev/ttyUSB1 }\n';
    const c = config(['--config', 'f.yaml', '--bms', '/dev/ttyUSB7', ...CAN], { 'f.yaml': file });
    expect(c.bms.packs.map((p) => p.link)).toEqual(['/dev/ttyUSB7']);
  });

  it.each([
    {
      name: 'two packs on one link',
      argv: ['--bms', '/dev/ttyUSB0', '--bms', '/dev/ttyUSB0', ...CAN],
      expected: ["--bms: bms.packs.1.link: /dev/ttyUSB0 is also pack 1's link; one pack per link (one BMS answers a link)"],
    },
    {
      name: 'duplicate names',
      argv: ['--bms', 'A=/dev/ttyUSB0', '--bms', 'A=/dev/ttyUSB1', ...CAN],
      expected: ['--bms: bms.packs.1.name: "A" names two packs; every pack needs its own name'],
    },
    {
      name: 'a bad link of one pack',
      argv: ['--bms', '/dev/ttyUSB0', '--bms', 'ttyUSB1', ...CAN],
      expected: ['--bms: bms.packs.1.link: "ttyUSB1": a serial device needs its full path, e.g. /dev/ttyUSB1'],
    },
    {
      name: 'differing cell counts',
      file: 'bms:\n  packs:\n    - { name: A, link: /dev/ttyUSB0, plausibility: { cellCount: 16 } }\n    - { name: B, link: /dev/ttyUSB1, plausibility: { cellCount: 15 } }\n',
      expected: ['f.yaml: bms.packs.1.plausibility.cellCount: pack B has 15 cells, pack A 16; packs in parallel need the same cell count'],
    },
    {
      name: 'a pack override that breaks a timing rule names the pack',
      file: 'bms:\n  packs:\n    - { name: A, link: /dev/ttyUSB0 }\n    - { name: B, link: /dev/ttyUSB1, replyTimeoutMs: 600 }\n',
      expected: ['f.yaml: bms.packs.1.replyTimeoutMs: 600 must be below bms.pollIntervalMs (500) (pack B)'],
    },
    {
      name: 'link and packs both',
      file: 'bms:\n  link: /dev/ttyUSB0\n  packs:\n    - { name: A, link: /dev/ttyUSB1 }\n',
      expected: ['f.yaml: bms.link: give bms.link (one pack) or bms.packs (several), not both'],
    },
    {
      name: 'mirror mode with several packs',
      argv: ['--bms', '/dev/ttyUSB0', '--bms', '/dev/ttyUSB1', '--set', 'bms.mirrorPacks=4', ...CAN],
      expected: ['--set bms.mirrorPacks=4: bms.mirrorPacks: mirrors one watched pack; with 2 packs configured, leave it at 1'],
    },
    {
      name: 'a pack name that cannot be read in a log line',
      argv: ['--bms', 'pack one=/dev/ttyUSB0', '--bms', '/dev/ttyUSB1', ...CAN],
      expected: [/^--bms: bms\.packs\.0\.name: a short name: letters, digits/],
    },
  ])('$name', ({ argv = CAN, file, expected }) => {
    const lines = problems(file === undefined ? argv : ['--config', 'f.yaml', ...argv], file === undefined ? {} : { 'f.yaml': file });
    expect(lines).toHaveLength(expected.length);
    expected.forEach((want, i) => (typeof want === 'string' ? expect(lines[i]).toBe(want) : expect(lines[i]).toMatch(want)));
  });
});

describe('the file itself', () => {
  it.each([
    { name: 'a duplicate key', file: 'bms:\n  link: /dev/ttyUSB0\n  link: /dev/ttyUSB1\n', expected: 'f.yaml:3:3: Map keys must be unique' },
    { name: 'a tab as indentation', file: 'bms:\n\tlink: /dev/ttyUSB0\n', expected: /^f\.yaml:2:1: / },
    { name: 'an unclosed flow sequence', file: 'can:\n  bus: stdout\nbms: { faultOnAlarms: [cellOverVoltage }\n', expected: /^f\.yaml:3:\d+: / },
  ])('YAML syntax error ($name) → file:line:col', ({ file, expected }) => {
    const lines = problems(['--config', 'f.yaml', ...LINKS], { 'f.yaml': file });
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^f\.yaml:\d+:\d+: \S/);
    if (typeof expected === 'string') expect(lines[0]).toBe(expected);
    else expect(lines[0]).toMatch(expected);
  });

  it('a file that is not a mapping of sections', () => {
    expect(problems(['--config', 'f.yaml', ...LINKS], { 'f.yaml': '- bms\n- can\n' })).toEqual([
      'f.yaml: expected a mapping of sections (name, bms, can, state, control, log, mqtt, web, commands)',
    ]);
  });

  it('an empty file means all defaults', () => {
    expect(config(['--config', 'f.yaml', ...LINKS], { 'f.yaml': '# nothing yet\n' })).toEqual(config(LINKS));
  });

  it('an unreadable file: missing, or a directory (real file system)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-config-'));
    const missing = path.join(dir, 'absent.yaml');
    expect(loadConfig(['--config', missing, ...LINKS])).toMatchObject({ ok: false, problems: [`${missing}: cannot read: ENOENT`] });
    expect(loadConfig(['--config', dir, ...LINKS])).toMatchObject({ ok: false, problems: [`${dir}: cannot read: EISDIR`] });
    const real = path.join(dir, 'bridge.yaml');
    writeFileSync(real, 'state:\n  staleAfterMs: 3000\n');
    const loaded = loadConfig(['--config', real, ...LINKS]);
    expect(loaded.ok && loaded.config.state.staleAfterMs).toBe(3000);
  });
});

describe('deploy/bridge.example.yaml', () => {
  const text = readFileSync(SAMPLE, 'utf8');
  const defaults = config(['--bms', '/dev/ttyUSB0', '--can', 'socketcan:can0']);

  it('loads cleanly and every key it sets is the default (only the links are examples)', () => {
    const loaded = loadConfig(['--config', SAMPLE]);
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    expect(loaded.config).toEqual(defaults);
  });

  it('its commented-out examples are valid too', () => {
    const uncommented = text.replace(/^(\s*)# (\w+: .*# example\b.*)$/gm, '$1$2');
    expect(uncommented).not.toBe(text);
    const c = config(['--config', 'sample.yaml'], { 'sample.yaml': uncommented });
    expect(c.bms.plausibility.cellCount).toBe(16);
    expect(c.can.identity).toMatchObject({ manufacturer: 'PYLON', capacityAh: 280 });
    expect(c.can.pylonHv).toEqual({ preset: 'deye', byteOrder: 'be', currentOffset: false, temperatureOffset: false, dischargeLimitSign: 'plus', address: 1 });
  });

  it.each([
    { inverter: 'Deye', setting: 'control.stop.chargeVoltage', value: 'pack' },
    { inverter: 'Sofar', setting: 'control.stop.currentA', value: 0.1 },
  ])('documents the $inverter stop encoding in a comment, and it loads on top of it', ({ inverter, setting, value }) => {
    const leaf = setting.split('.').at(-1);
    expect(text).toMatch(new RegExp(`#.*${inverter}: ${leaf}: ${value}`));
    const c = config(['--config', SAMPLE, '--set', `${setting}=${value}`], { [SAMPLE]: text });
    expect(c.control.stop).toMatchObject({ [leaf as string]: value });
  });
});

describe('observers: security defaults', () => {
  it('web page on 127.0.0.1:8080, MQTT off, commands off', () => {
    const c = config(LINKS);
    expect(c.web).toMatchObject({ listen: '127.0.0.1:8080', allowUnauthenticated: false, commands: false });
    expect(c.mqtt.url).toBeUndefined();
    expect(c.mqtt.commands).toBe(false);
  });

  it('listening beyond loopback needs a token or an explicit allowUnauthenticated', () => {
    expect(problems([...LINKS, '--set', 'web.listen=0.0.0.0:8080'])).toEqual([
      '--set web.listen=0.0.0.0:8080: web.listen: 0.0.0.0:8080 is reachable beyond this machine: set web.token, or web.allowUnauthenticated: true for a read-only page open to the network',
    ]);
    expect(config([...LINKS, '--set', 'web.listen=0.0.0.0:8080', '--set', 'web.token=0123456789abcdef0123']).web.listen).toBe('0.0.0.0:8080');
    expect(config([...LINKS, '--set', 'web.listen="[::]:80"', '--set', 'web.allowUnauthenticated=true']).web.listen).toBe('[::]:80');
    expect(config([...LINKS, '--set', 'web.listen="[::1]:8080"']).web.listen).toBe('[::1]:8080');
  });

  it('commands need their channel and, on the web, a token', () => {
    expect(problems([...LINKS, '--set', 'web.commands=true'])).toEqual(['--set web.commands=true: web.commands: needs web.token (commands change what the inverter is told)']);
    expect(problems([...LINKS, '--set', 'mqtt.commands=true'])).toEqual(['--set mqtt.commands=true: mqtt.commands: needs mqtt.url']);
  });

  it('mqtt.caFile: a readable PEM certificate, for an mqtts:// broker only, one line per problem', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const tls = [...LINKS, '--set', 'mqtt.url=mqtts://broker.lan:8883'];
    expect(config([...tls, '--set', 'mqtt.caFile=/etc/ssl/home-ca.pem'], { '/etc/ssl/home-ca.pem': pem }).mqtt.caFile).toBe('/etc/ssl/home-ca.pem');
    expect(problems([...tls, '--set', 'mqtt.caFile=/etc/ssl/none.pem'])).toEqual(['--set mqtt.caFile=/etc/ssl/none.pem: mqtt.caFile: /etc/ssl/none.pem: cannot read: ENOENT']);
    expect(problems([...tls, '--set', 'mqtt.caFile=/etc/ssl/key.pem'], { '/etc/ssl/key.pem': '-----BEGIN PRIVATE KEY-----\n' })).toEqual([
      '--set mqtt.caFile=/etc/ssl/key.pem: mqtt.caFile: /etc/ssl/key.pem holds no PEM certificate',
    ]);
    expect(problems([...LINKS, '--set', 'mqtt.url=mqtt://broker.lan', '--set', 'mqtt.caFile=/ca.pem'], { '/ca.pem': pem })).toEqual([
      '--set mqtt.caFile=/ca.pem: mqtt.caFile: is only used with an mqtts:// url',
    ]);
  });

  it('refuses a broker URL that is not mqtt:// or mqtts://, a short token and a bad name', () => {
    expect(problems([...LINKS, '--set', 'mqtt.url=http://broker:1883'])[0]).toContain('mqtt.url: expected mqtt://host[:port] or mqtts://host[:port]');
    expect(problems([...LINKS, '--set', 'web.token=short'])[0]).toContain('web.token: a token needs at least 16 characters');
    expect(problems([...LINKS, '--set', 'name=my bridge'])[0]).toContain('name: expected 1-64 letters');
  });
});
