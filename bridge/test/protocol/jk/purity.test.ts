/**
 * MODELS.md §7 lesson 1: the codec is pure. Its modules import only each other and touch no
 * Node globals, so it runs unchanged in the bridge, the virtual BMS and any browser tool.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../../src/protocol/jk');
const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'));

it.each(files)('%s imports only sibling codec modules and uses no Node globals', (file) => {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]);
  expect(specifiers.filter((s) => !s.startsWith('./'))).toEqual([]);
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''); // comments may name them
  expect(code).not.toMatch(/\b(require\(|import\(|Buffer\b|process\.|setTimeout|setInterval)/);
});
