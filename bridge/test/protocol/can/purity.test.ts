/**
 * The CAN codecs are pure (ARCHITECTURE "protocol/can/ pure"; MODELS.md §7 lesson 1): no module in
 * bridge/src/protocol/can may import node built-ins, socketcan, serialport or xstate, so the
 * virtual inverter and any future browser tool can reuse them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from 'vitest';

const SRC = path.resolve(__dirname, '../../../src/protocol/can');
const FORBIDDEN = /^(node:|fs$|path$|os$|net$|events$|stream$|child_process$|socketcan|serialport|@serialport\/|xstate)/;

test('no I/O imports in src/protocol/can', () => {
  const files = fs.readdirSync(SRC).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(10);
  for (const file of files) {
    const text = fs.readFileSync(path.join(SRC, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect(specifiers.filter((s) => FORBIDDEN.test(s)), file).toEqual([]);
    expect(specifiers.every((s) => s.startsWith('./')), `${file} imports only sibling modules`).toBe(true);
  }
});
