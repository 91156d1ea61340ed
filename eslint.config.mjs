// ESLint: the project's layers as import rules, and a few correctness rules TypeScript does not
// check. No style rules. `npm run lint` (part of `npm test`).
//
// Layers, lowest first (a folder imports only from the left):
//   bridge/src/protocol, bridge/src/control   pure: no I/O, no Node built-ins, no timers
//   bridge/src                                 the bridge: never the rig, the simulators or the tests
//   sim-kit                                    what both simulators share: no simulator
//   sim-bms, sim-inverter                      the virtual devices: not each other, not the rig or the tests
//   rig                                        the composition: live rig, rig set-up, bridge process
//   features, bench                            scenarios and benchmarks
//   cli                                        the installed command, on top of everything
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** An import of one of these top-level folders, from anywhere below the repository root. */
const folders = (...names) => `(^|/)(${names.join('|')})/`;
const layer = (message, ...names) => ({ regex: folders(...names), message });

const IO_PACKAGES = ['serialport', '@serialport/.*', 'socketcan', 'pino', 'pino-pretty', 'mqtt', 'prom-client'];
const PURE = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { regex: `^(node:.*|${builtinModules.join('|')})$`, message: 'protocol and control are pure: no Node built-ins (I/O lives in transport/, bms/, machine/).' },
        { regex: `^(${IO_PACKAGES.join('|')})$`, message: 'protocol and control are pure: no I/O packages.' },
        { regex: '(^|/)(transport|machine|bms|config)(/|$)|/(runtime|logging|main)$', message: 'protocol and control are pure: they do not import the I/O edges of the bridge.' },
        layer('the bridge never imports the rig, the simulators, the tests or the command on top.', 'rig', 'sim-bms', 'sim-inverter', 'sim-kit', 'features', 'bench', 'cli'),
      ],
    },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "CallExpression[callee.name='require']", message: 'protocol and control are pure: no require().' },
    { selector: 'ImportExpression', message: 'protocol and control are pure: no dynamic import().' },
  ],
  'no-restricted-globals': [
    'error',
    ...['process', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'fetch'].map((name) => ({
      name,
      message: 'protocol and control are pure: time and the outside world come in as arguments (see bridge/src/clock.ts).',
    })),
  ],
};

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**', '.vcan-vm/**', 'bench/tmp/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Correctness that tsc does not check.
      'no-async-promise-executor': 'error',
      'no-compare-neg-zero': 'error',
      'no-cond-assign': 'error',
      'no-constant-binary-expression': 'error',
      'no-dupe-else-if': 'error',
      'no-duplicate-case': 'error',
      'no-empty-pattern': 'error',
      'no-self-assign': 'error',
      'no-self-compare': 'error',
      'no-sparse-arrays': 'error',
      'no-unsafe-finally': 'error',
      'no-unsafe-optional-chaining': 'error',
      'no-useless-catch': 'error',
      'use-isnan': 'error',
      'no-debugger': 'error',
      // A skipped or focused test is a defect (DEVELOPERS.md).
      'no-restricted-properties': [
        'error',
        ...['describe', 'it', 'test'].flatMap((object) =>
          ['only', 'skip', 'todo'].map((property) => ({ object, property, message: 'a skipped or focused test is a defect' })),
        ),
      ],
    },
  },
  {
    files: ['bridge/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // Not even `import type`: a machine that could not compile the optional addon must still build.
          paths: [{ name: 'socketcan', message: 'socketcan is optional: require() it lazily where a socketcan: bus opens (transport/socketcan-bus.ts).' }],
          patterns: [layer('the bridge never imports the rig, the simulators, the tests or the command on top.', 'rig', 'sim-bms', 'sim-inverter', 'sim-kit', 'features', 'bench', 'cli')],
        },
      ],
    },
  },
  { files: ['bridge/src/protocol/**/*.ts', 'bridge/src/control/**/*.ts'], rules: PURE },
  { files: ['sim-kit/src/**/*.ts'], rules: restrict(layer('sim-kit is below both simulators: it imports neither, nor what is above them.', 'sim-bms', 'sim-inverter', 'rig', 'features', 'bench', 'cli')) },
  { files: ['sim-bms/src/**/*.ts'], rules: restrict(layer('a simulator imports neither the other simulator (the judge stays independent) nor the rig, the tests or the command.', 'sim-inverter', 'rig', 'features', 'bench', 'cli')) },
  { files: ['sim-inverter/src/**/*.ts'], rules: restrict(layer('a simulator imports neither the other simulator (the judge stays independent) nor the rig, the tests or the command.', 'sim-bms', 'rig', 'features', 'bench', 'cli')) },
  { files: ['rig/src/**/*.ts'], rules: restrict(layer('the rig composes the simulators and the bridge; the tests and the command are above it.', 'features', 'bench', 'cli')) },
  { files: ['features/**/*.ts', 'bench/**/*.ts'], rules: restrict(layer('nothing but the installed command sits above the scenarios and benchmarks.', 'cli')) },
);
