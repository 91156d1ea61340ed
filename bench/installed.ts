/**
 * The product as a Pi runs it: this tree packed and installed with `npm install -g` into a scratch
 * prefix without a compiler (scripts/install-packed.sh, as the package test does), then the cold
 * start to the first CAN frame and the resident memory of that installed jk-can-bridge command,
 * on the same rig and with the same measurements as footprint.ts.
 * BENCH_INSTALLED=<path of a jk-can-bridge command> measures an existing installation instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { measureColdStart, measureFootprint, type ColdStartResult, type FootprintResult } from './footprint';

/** The repository root, whether this file runs from source or from dist/. */
const HERE = path.resolve(__dirname, '..');
const ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;

export interface InstalledResult {
  /** "packed from this tree" or the BENCH_INSTALLED path. */
  source: string;
  coldStart: ColdStartResult;
  /** Default settings (2 polls/s): RSS and CPU of the installed command. */
  footprint: FootprintResult;
}

export async function measureInstalled(options: { coldStarts: number; durationMs: number; log: (line: string) => void }): Promise<InstalledResult> {
  const given = process.env.BENCH_INSTALLED;
  const dir = given === undefined ? mkdtempSync(path.join(os.tmpdir(), 'jk-bench-installed-')) : undefined;
  try {
    let command = given;
    if (dir !== undefined) {
      options.log('  packing this tree and installing it with npm install -g into a scratch prefix…');
      // dist/ was just built by `npm run bench`; rebuilding it (prepack) under the running bench is not needed.
      command = execFileSync('bash', [path.join(ROOT, 'scripts/install-packed.sh'), '--ignore-scripts', dir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }).trim();
    }
    const coldStart = await measureColdStart(options.coldStarts, options.log, command);
    const footprint = await measureFootprint({ settings: [], durationMs: options.durationMs, log: options.log, command });
    return { source: given ?? 'packed from this tree', coldStart, footprint };
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows of the results table in bench/README.md. */
export function installedRows(r: InstalledResult): string[] {
  const c = r.coldStart;
  const f = r.footprint;
  return [
    `| Installed command (\`npm install -g\` of the tarball, ${r.source}): cold start, spawn → first CAN frame (n=${c.n}) | median ${c.medianMs} · p95 ${c.p95Ms} · max ${c.maxMs} ms |`,
    `| Installed command at 2 polls/s, ${f.durationS} s | RSS ${f.rssMb} MB (peak ${f.peakRssMb} MB) · ${f.cpuPctOfOneCore} % of one core |`,
  ];
}
