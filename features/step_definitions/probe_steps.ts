/** `jk-can-bridge check --probe` (issue 12: per-pack status before the bridge goes live). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Then, When } from '@cucumber/cucumber';
import { BRIDGE_ENTRY } from '../../rig/src/bridge-process';
import type { RigWorld } from '../support/world';

const probes = new WeakMap<RigWorld, { code: number | null; lines: string[] }>();

function probeOf(world: RigWorld): { code: number | null; lines: string[] } {
  const probe = probes.get(world);
  assert.ok(probe, 'the packs were not probed in this scenario');
  return probe;
}

function packLine(world: RigWorld, pack: string): string {
  const { lines } = probeOf(world);
  const line = lines.find((l) => l.startsWith(`pack ${pack} (`));
  assert.ok(line, `no line for pack ${pack} in:\n${lines.join('\n')}`);
  return line;
}

When('the bridge probes the packs', async function (this: RigWorld) {
  // Not spawnSync: the virtual BMSes answer from this very process.
  this.mark('event');
  const child = spawn(process.execPath, [BRIDGE_ENTRY, ...this.bridgeArgs(), '--probe'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(err, '', `the probe wrote to stderr:\n${err}`);
  probes.set(this, { code, lines: out.split('\n').filter((l) => l.trim() !== '') });
});

Then('the probe exits with code {int}', function (this: RigWorld, code: number) {
  const probe = probeOf(this);
  assert.equal(probe.code, code, `exit code ${probe.code}; it said:\n${probe.lines.join('\n')}`);
});

Then('the probe reports pack {string} answering with {int} cells at {int} % SoC', function (this: RigWorld, pack: string, cells: number, soc: number) {
  const line = packLine(this, pack);
  assert.match(line, /: answered in \d+ ms: /);
  assert.ok(line.includes(`: ${cells} cells `) && line.includes(`SoC ${soc} %`), line);
});

Then('the probe reports pack {string} silent', function (this: RigWorld, pack: string) {
  assert.match(packLine(this, pack), /: no valid answer in \d+ ms/);
});

Then('the probe says {string}', function (this: RigWorld, text: string) {
  const { lines } = probeOf(this);
  assert.ok(
    lines.some((l) => l.includes(text)),
    `no line with "${text}" in:\n${lines.join('\n')}`,
  );
});

Then('the inverter heard nothing from the bridge', function (this: RigWorld) {
  assert.deepEqual(
    this.frames.map((r) => r.frame.id.toString(16)),
    [],
  );
});
