/**
 * A crash or a stall is seen from the process handle (exit event, /proc state), not from a log
 * line: the old "still running" check looked for a "bridge stopped" line, which a SIGKILL, a
 * segfault or a SIGSTOP never writes. A shell stands in for the bridge (the installed-command path).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeProcess } from '../src/bridge-process';

const started: BridgeProcess[] = [];
/** `sh -c <script>`: BridgeProcess appends `--log-format json`, which becomes $0 and $1. */
function child(script: string): BridgeProcess {
  const bridge = new BridgeProcess(['-c', script], { command: '/bin/sh' });
  started.push(bridge);
  return bridge;
}

afterEach(async () => {
  for (const bridge of started.splice(0)) await bridge.kill();
});

describe('BridgeProcess liveness', () => {
  it('running, stopped by SIGSTOP, running again after SIGCONT, exited after SIGKILL', async () => {
    const bridge = child('sleep 30');
    expect(bridge.liveness).toBe('running');
    bridge.freeze();
    await expect.poll(() => bridge.liveness).toBe('stopped');
    bridge.resume();
    await expect.poll(() => bridge.liveness).toBe('running');
    await bridge.kill();
    expect(bridge.liveness).toBe('exited');
    expect(bridge.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('a child that dies on its own without a word is seen as exited, with its code', async () => {
    const bridge = child('exit 3');
    expect(await bridge.waitForExit(5000)).toEqual({ code: 3, signal: null });
    expect(bridge.liveness).toBe('exited');
    expect(bridge.logs).toEqual([]);
  });

  it('waitForExit rejects while the child still runs', async () => {
    await expect(child('sleep 30').waitForExit(100)).rejects.toThrow(/still running after 100 ms/);
  });
});
