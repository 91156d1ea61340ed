/**
 * The runtime around the chart: the status line (one line per change of state or limiting reason,
 * with the age of the last data) and the fatal path (issue 10, bugs 4 and 9).
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeResponse } from '../../src/protocol/jk';
import { pylonLv } from '../../src/protocol/can';
import { statusReporter, startBridge } from '../../src/runtime';
import { MemoryCanNetwork } from '../../src/transport/memory-bus';
import { createMemoryLinkPair } from '../../src/transport/memory-link';
import type { CanBus } from '../../src/transport/types';
import { snapshot } from '../support/snapshot-builder';
import { startHarness, testConfig } from './harness';

const healthy = snapshot({ cellMv: 3300, socPct: 60 });

/** A real pino logger whose lines are kept as { level, msg }. */
function recordingLog() {
  const records: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, records };
}

describe('status line', () => {
  it('bug 9: a recovery hold and ramp are a few lines, not one per second', () => {
    const h = startHarness();
    const { log, records } = recordingLog();
    h.actor.subscribe(statusReporter(log, { now: () => h.clock.now(), setTimeout: () => undefined, clearTimeout: () => undefined }));
    h.snapshot(healthy);
    h.advance(3500); // stale
    h.feed(healthy, 60_000); // back: 30 s hold, then a 10-s ramp to 50 A, then tracking
    const connected = /^bms connected\/fresh · inverter unknown · can link\/up · CVL 55\.2 V \(bulk \(3\.450 V\/cell\)\) · /;
    // The reporter subscribes after the start: its first line is the state before the first data.
    expect(records.map((r) => r.msg)).toEqual([
      'bms idle · inverter unknown · can link/up',
      expect.stringMatching(connected),
      'bms stale · inverter unknown · can link/up · CCL 0 A, DCL 0 A, charge/discharge disabled · last valid data 3 s ago',
      expect.stringMatching(/CCL 0\.0 A \(recovery hold, 30 s left \(target 50 A: configured maximum\)\) · DCL 0\.0 A \(recovery hold, 30 s left/),
      expect.stringMatching(/CCL 0\.0 A \(ramp \(target 50 A: configured maximum\)\) · DCL 0\.0 A \(ramp/),
      expect.stringMatching(/CCL 50\.0 A \(configured maximum\) · DCL 50\.0 A \(ramp \(target 60 A: configured maximum\)\)$/),
      expect.stringMatching(/CCL 50\.0 A \(configured maximum\) · DCL 60\.0 A \(configured maximum\)$/),
    ]);
  });

  it("bug 9: the fault line's data age is the age when the line is written, not when fault began", () => {
    const h = startHarness();
    const { log, records } = recordingLog();
    h.actor.subscribe(statusReporter(log, { now: () => h.clock.now(), setTimeout: () => undefined, clearTimeout: () => undefined }));
    h.snapshot(healthy);
    h.advance(3000 + 5000 + 10_000); // stale, fault, silent
    expect(records.map((r) => r.msg)).toEqual([
      'bms idle · inverter unknown · can link/up',
      expect.stringMatching(/^bms connected\/fresh .* DCL 60\.0 A \(configured maximum\)$/),
      expect.stringMatching(/^bms stale .* last valid data 3 s ago$/),
      expect.stringMatching(/^bms fault\/transmitting .* fault: no valid BMS data · last valid data 8 s ago$/),
      expect.stringMatching(/^bms fault\/silent .* fault: no valid BMS data · last valid data 18 s ago$/),
    ]);
  });
});

describe('fatal errors (bug 4)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a chart error: one fatal line, the zero-limit set on a fresh bus, then onFatal', async () => {
    vi.useFakeTimers({ now: 0 });
    const config = testConfig();
    const [bmsLink, bmsPeer] = createMemoryLinkPair('bms');
    bmsPeer.onWrite(() => bmsPeer.emitData(encodeResponse(healthy)));
    const network = new MemoryCanNetwork();
    const inverter = network.attach('inverter');
    await inverter.open();
    const heard: Array<{ atMs: number; ccl: number | undefined }> = [];
    inverter.onFrame((frame) => {
      const decoded = pylonLv.decode(frame);
      if (frame.id === 0x351 && decoded.ok) heard.push({ atMs: Date.now(), ccl: decoded.patch.chargeCurrentLimitA });
    });
    const buses: CanBus[] = [];
    const createCanBus = (): CanBus => {
      // The second bus (the reopen after a loss) is where the chart fails: a throwing port.
      if (buses.length === 1) {
        buses.push(network.attach('broken'));
        throw new Error('port exploded');
      }
      const bus = network.attach(`bridge ${buses.length}`);
      buses.push(bus);
      return bus;
    };
    const fatal: unknown[] = [];
    const { log, records } = recordingLog();
    startBridge(config, log, { links: { createBmsLink: () => bmsLink, createCanBus }, onFatal: (err) => fatal.push(err) });
    await vi.advanceTimersByTimeAsync(2100);
    expect(heard.at(-1)?.ccl).toBe(50);
    network.disconnect(buses[0]); // CAN lost at 2100; the reopen 1 s later throws inside the chart
    await vi.advanceTimersByTimeAsync(1500);

    expect(fatal).toHaveLength(1);
    expect((fatal[0] as Error).message).toBe('port exploded');
    expect(records.filter((r) => r.level >= 50)).toEqual([
      expect.objectContaining({ level: 60, msg: 'bridge failed: port exploded; stopping with exit code 1 (the service manager restarts it)' }),
    ]);
    expect(heard.at(-1)).toEqual({ atMs: 3100, ccl: 0 });
    const sets = heard.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(heard.length).toBe(sets); // nothing after the fatal stop
  });

  it('an error outside the chart (uncaught exception): the same stop, once', async () => {
    vi.useFakeTimers({ now: 0 });
    const [bmsLink, bmsPeer] = createMemoryLinkPair('bms');
    bmsPeer.onWrite(() => bmsPeer.emitData(encodeResponse(healthy)));
    const network = new MemoryCanNetwork();
    const inverter = network.attach('inverter');
    await inverter.open();
    const ccls: Array<number | undefined> = [];
    inverter.onFrame((frame) => {
      const decoded = pylonLv.decode(frame);
      if (frame.id === 0x351 && decoded.ok) ccls.push(decoded.patch.chargeCurrentLimitA);
    });
    let n = 0;
    const fatal: unknown[] = [];
    const { log } = recordingLog();
    const bridge = startBridge(testConfig(), log, {
      links: { createBmsLink: () => bmsLink, createCanBus: () => network.attach(`bridge ${n++}`) },
      onFatal: (err) => fatal.push(err),
    });
    await vi.advanceTimersByTimeAsync(1500);
    expect(ccls.at(-1)).toBe(50);
    const error = new TypeError('x is undefined');
    await Promise.all([bridge.fail(error), bridge.fail(new Error('second'))]);
    expect(fatal).toEqual([error]);
    expect(ccls.at(-1)).toBe(0);
  });
});
