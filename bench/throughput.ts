/**
 * In-process throughput of the bridge's pure codecs on one core (Node runs this JavaScript on one
 * thread): JK replies decoded per second, the JK framer on a byte stream with junk, and CAN frame
 * sets encoded per second per inverter profile. The inputs are what the bridge really handles:
 * replies the virtual BMS encodes from its battery model, decoded by the bridge's own decoder, and
 * the battery state the bridge's bus output builds from the control policy's limits.
 */
import { measurementsOf } from '../bridge/src/bank/bank';
import { loadConfig } from '../bridge/src/config/load';
import type { RunnableConfig } from '../bridge/src/config/schema';
import { createControlState, resolveBatteryPolicy, stepControl } from '../bridge/src/control';
import { batteryStateFor } from '../bridge/src/machine/bus-output';
import { PROFILES, type BatteryState, type ProfileName } from '../bridge/src/protocol/can';
import { decodeResponse, encodeResponse, JkFramer, type BmsSnapshot } from '../bridge/src/protocol/jk';
import { loadProfile } from '../sim-bms/src/profile';
import { VirtualBms } from '../sim-bms/src/virtual-bms';

export interface ThroughputOptions {
  /** Length of one timed round. */
  roundMs: number;
  /** Timed rounds after one warm-up round; the median round is reported. */
  rounds: number;
}

export interface Rate {
  /** Median over the rounds. */
  perSecond: number;
  roundsPerSecond: number[];
}

export interface ThroughputResult {
  roundMs: number;
  rounds: number;
  decode: Record<'16S' | '24S', Rate & { frameBytes: number }>;
  framer: Rate & { mbPerSecond: number; streamBytes: number; frames: number; junkBytes: number; truncatedFrames: number; chunkBytes: string };
  canEncode: Record<ProfileName, Rate & { framesPerSet: number }>;
}

/** A JK read-all reply as the virtual BMS sends it for a pack of this profile at 50 % SoC. */
function replyOf(profileName: string): Uint8Array {
  return encodeResponse(new VirtualBms({ profile: loadProfile(profileName), initialSocPct: 50 }).liveSnapshot());
}

/** Small seeded PRNG (mulberry32), so every run times the same stream. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Calls op (which does `unitsPerCall` units of work) in rounds of roundMs and reports units per
 * second; one untimed round first lets V8 optimise the code being measured.
 */
function rate(op: () => void, unitsPerCall: number, options: ThroughputOptions): Rate {
  const round = (): number => {
    const started = process.hrtime.bigint();
    const budgetNs = BigInt(options.roundMs) * 1_000_000n;
    let calls = 0;
    let elapsed = 0n;
    do {
      for (let i = 0; i < 64; i++) op();
      calls += 64;
      elapsed = process.hrtime.bigint() - started;
    } while (elapsed < budgetNs);
    return (calls * unitsPerCall) / (Number(elapsed) / 1e9);
  };
  round();
  const roundsPerSecond = Array.from({ length: options.rounds }, round);
  const sorted = [...roundsPerSecond].sort((a, b) => a - b);
  return { perSecond: Math.round(sorted[Math.floor(sorted.length / 2)]), roundsPerSecond: roundsPerSecond.map(Math.round) };
}

function decodeRate(frame: Uint8Array, options: ThroughputOptions): Rate & { frameBytes: number } {
  const check = decodeResponse(frame, { temperatureCoding: 'doc' });
  if (!check.ok) throw new Error(`bench: the reply under test does not decode: ${check.error.detail}`);
  let failures = 0;
  const measured = rate(
    () => {
      // The poller's call, with its options; a failure would mean timing the error path.
      if (!decodeResponse(frame, { temperatureCoding: 'doc' }).ok) failures += 1;
    },
    1,
    options,
  );
  if (failures > 0) throw new Error(`bench: ${failures} decodes failed`);
  return { ...measured, frameBytes: frame.length };
}

/**
 * A serial stream as the bridge may see it on a noisy RS485 line: intact replies (16S and 24S
 * alternating), random junk between them, and every eighth reply preceded by a cut-off one,
 * delivered in 8-64 byte reads. The framer must find every intact reply.
 */
function framerRate(replies: readonly Uint8Array[], options: ThroughputOptions): ThroughputResult['framer'] {
  const random = seededRandom(0x4e57);
  const parts: Uint8Array[] = [];
  const frames = 200;
  let junkBytes = 0;
  let truncatedFrames = 0;
  for (let i = 0; i < frames; i++) {
    const junk = new Uint8Array(Math.floor(random() * 65));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(random() * 256);
    junkBytes += junk.length;
    parts.push(junk);
    const reply = replies[i % replies.length];
    if (i % 8 === 0) {
      parts.push(reply.subarray(0, Math.floor(reply.length / 2)));
      truncatedFrames += 1;
    }
    parts.push(reply);
  }
  const stream = Buffer.concat(parts);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = 8 + Math.floor(random() * 57);
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  const framer = new JkFramer();
  const pass = (): number => {
    let found = 0;
    for (const chunk of chunks) for (const out of framer.push(chunk)) if (out.kind === 'frame') found += 1;
    for (const out of framer.flush()) if (out.kind === 'frame') found += 1;
    return found;
  };
  const found = pass();
  if (found !== frames) throw new Error(`bench: the framer found ${found} of ${frames} replies in the junk stream`);
  const measured = rate(() => void pass(), stream.length, options);
  return {
    ...measured,
    mbPerSecond: Math.round(measured.perSecond / 1e4) / 100,
    streamBytes: stream.length,
    frames,
    junkBytes,
    truncatedFrames,
    chunkBytes: '8-64',
  };
}

/** The frame set the bridge would send for this snapshot in normal operation, per profile. */
function stateFor(profile: ProfileName, snapshot: BmsSnapshot): BatteryState {
  const loaded = loadConfig(['--bms', '/dev/null', '--can', 'stdout', '--profile', profile]);
  if (!loaded.ok) throw new Error(`bench: ${loaded.problems.join('; ')}`);
  const config: RunnableConfig = loaded.config;
  const policy = resolveBatteryPolicy({ chemistry: config.battery.chemistry, control: config.control }, snapshot.settings, snapshot.cellsMv.length);
  const { output } = stepControl(createControlState(), snapshot, 0, policy.settings);
  return batteryStateFor('normal', measurementsOf(snapshot), output, config, false, policy);
}

export function measureThroughput(options: ThroughputOptions): ThroughputResult {
  const reply16 = replyOf('jk-16s-280ah');
  const reply24 = replyOf('jk-24s-200ah');
  const decoded = decodeResponse(reply16);
  if (!decoded.ok) throw new Error(`bench: ${decoded.error.detail}`);
  const canEncode = {} as ThroughputResult['canEncode'];
  for (const name of Object.keys(PROFILES) as ProfileName[]) {
    const state = stateFor(name, decoded.snapshot);
    const framesPerSet = PROFILES[name].encode(state).length;
    canEncode[name] = { ...rate(() => void PROFILES[name].encode(state), 1, options), framesPerSet };
  }
  return {
    roundMs: options.roundMs,
    rounds: options.rounds,
    decode: { '16S': decodeRate(reply16, options), '24S': decodeRate(reply24, options) },
    framer: framerRate([reply16, reply24], options),
    canEncode,
  };
}
