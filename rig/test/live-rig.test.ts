/**
 * Smoke test of the live rig as CI runs it: the built entry point, the real bridge between the two
 * sims on socat ptys, stopped by --duration. Its exit status is the verdict (bridge connected, no
 * checker violation, bridge stopped cleanly); its closing summary shows the battery charging.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, expect, test } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

beforeAll(() => {
  // The rig runs from dist/ and spawns dist/bridge/src/main.js: build what is under test.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
}, 60_000);

test('the live rig charges the battery through the bridge and exits 0 after --duration', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['dist/rig/src/live-rig.js', '--no-view', '--duration', '8s'], { cwd: ROOT, timeout: 20_000 }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });

  expect(stderr).toBe('');
  expect(code, stdout).toBe(0);
  expect(stdout).toMatch(/^bridge: bms connected\b/m);
  // The summary taken while the rig still ran: "bms       pack 52.85V +50.00A SoC 41% ...".
  const current = /^bms +pack [\d.]+V ([+-][\d.]+)A/m.exec(stdout);
  expect(current, stdout).not.toBeNull();
  expect(Number(current![1])).toBeGreaterThan(0);
  expect(stdout).toMatch(/the bridge connected to the BMS and exited with code 0; 0 violations$/m);
}, 30_000);
