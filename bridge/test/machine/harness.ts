/**
 * Drives the bridge chart with fake I/O actors on xstate's SimulatedClock. Time advances in steps
 * no larger than the smallest delay (MODELS.md §4: SimulatedClock.increment jumps `now` first).
 */
import pino from 'pino';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import { resolvePacks } from '../../src/config/load';
import { bridgeConfigSchema, type BridgeConfigInput, type RunnableConfig } from '../../src/config/schema';
import { bridgeMachine } from '../../src/machine/bridge-machine';
import type { BmsPollerInput, CanLinkCommand, CanLinkInput } from '../../src/machine/actors';
import { profileCodec } from '../../src/machine/bus-output';
import { mergeBatteryState, type BatteryStatePatch, type CanFrame } from '../../src/protocol/can';
import type { BmsSnapshot } from '../../src/protocol/jk/snapshot';
import { createMemoryLinkPair } from '../../src/transport/memory-link';
import { MemoryCanNetwork } from '../../src/transport/memory-bus';

export interface SentSet {
  atMs: number;
  frames: CanFrame[];
  decoded: BatteryStatePatch;
}

/** Short delays so tests read easily; each test overrides what it exercises. */
export const TEST_TIMING = {
  bms: { link: '/dev/ttyUSB0', pollIntervalMs: 500, replyTimeoutMs: 200 },
  can: { bus: 'stdout', periodMs: 1000, reconnectInitialMs: 1000, reconnectMaxMs: 8000 },
  state: { staleAfterMs: 3000, faultAfterMs: 5000, silenceAfterMs: 10000, recoverAfter: 3, inverterTimeoutMs: 4000 },
} as const;

export function testConfig(overrides: BridgeConfigInput = {}): RunnableConfig {
  const merged: Record<string, unknown> = {};
  for (const source of [TEST_TIMING, overrides] as Record<string, unknown>[]) {
    for (const [section, value] of Object.entries(source)) {
      merged[section] = typeof value === 'object' ? { ...(merged[section] as object), ...(value as object) } : value;
    }
  }
  const parsed = bridgeConfigSchema.parse(merged);
  return { ...parsed, bms: { ...parsed.bms, packs: resolvePacks(parsed.bms) } } as RunnableConfig;
}

export function startHarness(overrides: BridgeConfigInput = {}, options: { canOpens?: boolean } = {}) {
  const config = testConfig(overrides);
  const clock = new SimulatedClock();
  const sent: SentSet[] = [];
  let canOpens = options.canOpens ?? true;
  let canLinkStarts = 0;
  const codec = profileCodec(config);
  const machine = bridgeMachine.provide({
    actors: {
      bmsPoller: fromCallback<{ type: 'NONE' }, BmsPollerInput>(() => () => undefined),
      canLink: fromCallback<CanLinkCommand, CanLinkInput>(({ sendBack, receive }) => {
        canLinkStarts += 1;
        receive((command) => {
          const decoded = command.frames.reduce<BatteryStatePatch>((acc, frame) => {
            const result = codec.decode(frame);
            return result.ok ? mergeBatteryState(acc, result.patch) : acc;
          }, {});
          sent.push({ atMs: clock.now(), frames: command.frames, decoded });
        });
        sendBack(canOpens ? { type: 'CAN.UP' } : { type: 'CAN.DOWN', error: 'ENODEV: no such device can0' });
        return () => undefined;
      }),
    },
  });
  const network = new MemoryCanNetwork();
  const actor = createActor(machine, {
    clock,
    input: {
      config,
      ports: {
        createBmsLink: () => createMemoryLinkPair('bms')[0],
        createCanBus: () => network.attach('bridge'),
        clock: { now: () => clock.now(), setTimeout: () => undefined, clearTimeout: () => undefined },
        log: pino({ level: 'silent' }),
      },
    },
  });
  actor.start();

  const harness = {
    actor,
    clock,
    config,
    sent,
    get canLinkStarts() {
      return canLinkStarts;
    },
    set canOpens(value: boolean) {
      canOpens = value;
    },
    /** Advances simulated time in steps of at most 50 ms. */
    advance(ms: number): void {
      for (let left = ms; left > 0; left -= 50) clock.increment(Math.min(50, left));
    },
    /** A valid snapshot from a pack (the first configured one unless named). */
    snapshot(s: BmsSnapshot, pack = config.bms.packs[0].name): void {
      actor.send({ type: 'BMS.SNAPSHOT', pack, snapshot: s, atMs: clock.now() });
    },
    /** Every named pack answers with its snapshot every pollIntervalMs while advancing. */
    feedPacks(byPack: Record<string, BmsSnapshot>, ms: number): void {
      for (let left = ms; left > 0; left -= config.bms.pollIntervalMs) {
        for (const [pack, s] of Object.entries(byPack)) harness.snapshot(s, pack);
        harness.advance(Math.min(config.bms.pollIntervalMs, left));
      }
    },
    /** Sends a valid snapshot every pollIntervalMs while advancing. */
    feed(s: BmsSnapshot, ms: number): void {
      for (let left = ms; left > 0; left -= config.bms.pollIntervalMs) {
        harness.snapshot(s);
        harness.advance(Math.min(config.bms.pollIntervalMs, left));
      }
    },
    state(region: 'bms' | 'inverter' | 'can'): unknown {
      return (actor.getSnapshot().value as Record<string, unknown>)[region];
    },
    last(): SentSet {
      const set = sent[sent.length - 1];
      if (set === undefined) throw new Error('nothing was transmitted');
      return set;
    },
    sentSince(ms: number): SentSet[] {
      return sent.filter((set) => set.atMs >= ms);
    },
  };
  return harness;
}
