import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../src/pty';

describe('openPtyPair', () => {
  const opened: PtyPair[] = [];
  const dirs: string[] = [];
  const originalPath = process.env.PATH;
  afterEach(async () => {
    process.env.PATH = originalPath;
    for (const pair of opened.splice(0)) await pair.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }

  async function open(options?: Parameters<typeof openPtyPair>[0]): Promise<PtyPair> {
    const pair = await openPtyPair(options);
    opened.push(pair);
    return pair;
  }

  it('makes two links under the temporary directory, each to a different pty', async () => {
    const pair = await open();
    expect(dirname(pair.pathA)).toBe(dirname(pair.pathB));
    expect(pair.pathA.startsWith(tmpdir())).toBe(true);
    const [a, b] = [realpathSync(pair.pathA), realpathSync(pair.pathB)];
    expect(a).toMatch(/^\/dev\/pts\/\d+$/);
    expect(b).toMatch(/^\/dev\/pts\/\d+$/);
    expect(a).not.toBe(b);
  });

  it('uses the link paths it is given', async () => {
    const dir = tempDir('pty-test-');
    const pair = await open({ linkA: join(dir, 'bms'), linkB: join(dir, 'sim') });
    expect([pair.pathA, pair.pathB]).toEqual([join(dir, 'bms'), join(dir, 'sim')]);
    expect(existsSync(pair.pathA) && existsSync(pair.pathB)).toBe(true);
  });

  it('removes both links and the temporary directory on close, and closing twice is harmless', async () => {
    const pair = await openPtyPair();
    await pair.close();
    await pair.close();
    expect(existsSync(pair.pathA) || existsSync(pair.pathB)).toBe(false);
    expect(existsSync(dirname(pair.pathA))).toBe(false);
  });

  it("fails with socat's own complaint when a link cannot be made", async () => {
    await expect(openPtyPair({ linkA: '/nonexistent-dir/a', linkB: join(tempDir('pty-test-'), 'b') })).rejects.toThrow(
      /socat exited \(code 1\) before the pty pair was ready: .*symlink\("\/dev\/pts\/\d+", "\/nonexistent-dir\/a"\): No such file or directory/,
    );
  });

  it('says how to install socat when it is missing', async () => {
    process.env.PATH = tempDir('empty-path-');
    await expect(openPtyPair()).rejects.toThrow('socat not found: apt-get install socat');
  });
});
