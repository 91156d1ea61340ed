/**
 * Test support for the BMS poller: options built from the production defaults, a poller that
 * records its events, and the captured replies of vectors/jk-frames.json (through the JK
 * codec tests' helpers, never copied).
 */
import pino from 'pino';
import { BmsPoller, pollerOptionsFor, type LogFn, type PollerEvent, type PollerOptions } from '../../src/bms/poller';
import type { PlausibilityLimits } from '../../src/bms/plausibility';
import { systemClock } from '../../src/clock';
import { resolvePacks } from '../../src/config/load';
import { bridgeConfigSchema } from '../../src/config/schema';
import type { ByteLink } from '../../src/transport/types';
import { bytesOf, vector } from '../protocol/jk/helpers';

export const silentLog = pino({ level: 'silent' });

/** A real pino logger at debug level whose JSON lines are kept as { level, msg } (30 info, 40 warn). */
export function recordingLog(): { log: LogFn; records: Array<{ level: number; msg: string }> } {
  const records: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, records };
}

export type PollerOverrides = Partial<Omit<PollerOptions, 'plausibility' | 'fastPoll'>> & {
  plausibility?: Partial<PlausibilityLimits>;
  fastPoll?: Partial<PollerOptions['fastPoll']>;
};

/**
 * The bridge's default bms options (so the plausibility limits are the shipped ones) with round
 * test timings: a poll every 1000 ms, a 300 ms reply window, 100 ms between packets, reopen
 * after 1000 ms doubling up to 8000 ms, and no fast polling unless a test asks for it.
 */
export function pollerOptions(overrides: PollerOverrides = {}): PollerOptions {
  const config = bridgeConfigSchema.parse({ bms: { link: '/dev/ttyUSB0' } });
  const bms = pollerOptionsFor(config, resolvePacks(config.bms)[0]);
  return {
    ...bms,
    pollIntervalMs: 1000,
    replyTimeoutMs: 300,
    minGapMs: 100,
    reconnectInitialMs: 1000,
    reconnectMaxMs: 8000,
    ...overrides,
    plausibility: { ...bms.plausibility, ...overrides.plausibility },
    // The relaxed pace only, so cadence tests count whole intervals; poll-schedule tests turn it on.
    fastPoll: { ...bms.fastPoll, enabled: false, ...overrides.fastPoll },
  };
}

export interface PollerProbe {
  poller: BmsPoller;
  events: PollerEvent[];
  of<T extends PollerEvent['type']>(type: T): Extract<PollerEvent, { type: T }>[];
}

/** Starts a poller on the system clock, which Vitest's fake timers replace when a test installs them. */
export function startPoller(link: ByteLink, options: PollerOptions = pollerOptions(), log: LogFn = silentLog): PollerProbe {
  const events: PollerEvent[] = [];
  const poller = new BmsPoller(link, options, (event) => events.push(event), systemClock, log);
  poller.start();
  return {
    poller,
    events,
    of: <T extends PollerEvent['type']>(type: T) => events.filter((e): e is Extract<PollerEvent, { type: T }> => e.type === type),
  };
}

/** Captured read-all replies (real devices) and the canonical request the bridge sends by default. */
export const CAPTURE = {
  s16a: '4e57-resp-16s-opendtu-0',
  s16b: '4e57-resp-16s-opendtu-1',
  s13: '4e57-resp-13s-b2a24s15p-capture',
  s14: '4e57-resp-14s-esphome-doc',
  s7: '4e57-resp-7s-kenura',
} as const;

export const READ_ALL_REQUEST = bytesOf('4e57-req-read-all-pc');

/** What the capture's own annotations (not our decoder) say the BMS reported. */
export function captured(id: string): { cellsMv: number[]; packMv: number; currentMa: number; socPct: number } {
  const e = vector(id).expected;
  return {
    cellsMv: e.cells_mV as number[],
    packMv: (e.total_voltage_raw as number) * 10,
    currentMa: Math.round((e.current_A as number) * 1000),
    socPct: e.soc_pct as number,
  };
}
