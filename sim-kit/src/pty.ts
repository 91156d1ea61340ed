/**
 * A connected pair of pseudo-terminals made by socat, the no-privilege stand-in for a serial
 * cable: whatever is written to one path is read from the other, and node-serialport opens
 * either path like a real adapter.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPairOptions {
  /** Path of the symlink to the first pty; a fresh temporary path when omitted. */
  linkA?: string;
  /** Path of the symlink to the second pty; a fresh temporary path when omitted. */
  linkB?: string;
  /** How long socat may take to set both ptys up. */
  timeoutMs?: number;
}

export interface PtyPair {
  /** The link paths (stable names), not the /dev/pts/N they point to. */
  pathA: string;
  pathB: string;
  /** Stops socat, which removes both links; both ends then see their port disappear. Idempotent. */
  close(): Promise<void>;
}

export async function openPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const tempDir = options.linkA === undefined || options.linkB === undefined ? await mkdtemp(join(tmpdir(), 'pty-pair-')) : undefined;
  const pathA = options.linkA ?? join(tempDir as string, 'a');
  const pathB = options.linkB ?? join(tempDir as string, 'b');
  const removeTempDir = async (): Promise<void> => {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${pathA}`, `pty,raw,echo=0,link=${pathB}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const timeoutMs = options.timeoutMs ?? 5000;
  const ptys: string[] = [];
  const log: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat did not set up the pty pair within ${timeoutMs} ms: ${log.join(' | ')}`)), timeoutMs);
      let pending = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          log.push(line);
          const pty = / PTY is (\S+)/.exec(line);
          if (pty) ptys.push(pty[1]);
          // socat prints this after both ptys exist and both links are made.
          if (/starting data transfer loop/.test(line)) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === 'ENOENT' ? new Error('socat not found: apt-get install socat') : error);
      });
      // 'close' (not 'exit') so that everything socat wrote to stderr is in the message.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const errors = log.filter((line) => / [EF] /.test(line));
        reject(new Error(`socat exited (${signal ?? `code ${code}`}) before the pty pair was ready: ${(errors.length > 0 ? errors : log).join(' | ')}`));
      });
    });
    // The links are what callers open; check they lead to the ptys socat reported.
    const targets = await Promise.all([realpath(pathA), realpath(pathB)]);
    if (targets[0] !== ptys[0] || targets[1] !== ptys[1]) {
      throw new Error(`pty links do not match socat's ptys: ${pathA} -> ${targets[0]}, ${pathB} -> ${targets[1]}; socat said ${ptys.join(', ')}`);
    }
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      await exited;
    }
    await removeTempDir();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    pathA,
    pathB,
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        await removeTempDir();
      })();
      return closing;
    },
  };
}
