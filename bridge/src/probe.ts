/**
 * `jk-can-bridge check --probe`: every pack's BMS read once over its real link before the bridge is
 * trusted with the inverter (issue 12: per-pack status in --check). One line per pack with what it
 * answered (cells, voltage, current, SoC, MOSFETs, alarms, the chemistry its settings say) and
 * what would stop the bridge from passing limits for it (a protection alarm, settings that
 * contradict the config), or why it did not answer. Nothing is sent on CAN.
 */
import { systemClock, type Clock } from './clock';
import type { PackConfig, RunnableConfig } from './config/schema';
import { BmsPoller, pollerOptionsFor, type LogFn } from './bms/poller';
import { packFaultCause, policyFor } from './machine/bridge-machine';
import { JkAlarmBit, chargeMosfetOn, dischargeMosfetOn, hasAlarm, type BmsSnapshot, type JkAlarmName } from './protocol/jk/snapshot';
import { createBmsLink } from './transport/spec';
import type { ByteLink } from './transport/types';

export type ProbeResult =
  | { kind: 'answered'; snapshot: BmsSnapshot; afterMs: number }
  | { kind: 'implausible'; problems: string[] }
  | { kind: 'silent'; waitedMs: number; lastProblem: string | null };

export interface PackProbe {
  pack: PackConfig;
  result: ProbeResult;
}

export interface ProbeOptions {
  clock?: Clock;
  link?: (pack: PackConfig) => ByteLink;
}

/** Long enough for three polls and the link to open: a BMS that misses one poll still counts. */
export function probeWaitMs(pack: PackConfig): number {
  return Math.max(2000, 3 * pack.pollIntervalMs + pack.replyTimeoutMs);
}

/** Reads every pack at once; resolves when each answered or its wait ran out. */
export function probePacks(config: RunnableConfig, options: ProbeOptions = {}): Promise<PackProbe[]> {
  return Promise.all(config.bms.packs.map((pack) => probePack(config, pack, options)));
}

function probePack(config: RunnableConfig, pack: PackConfig, options: ProbeOptions): Promise<PackProbe> {
  const clock = options.clock ?? systemClock;
  const link = options.link?.(pack) ?? createBmsLink(pack.link, { baudRate: pack.baudRate });
  let lastProblem: string | null = null;
  const note = (args: unknown[]): void => {
    const [first, second] = args;
    const message = typeof first === 'string' ? first : typeof second === 'string' ? second : null;
    const err = typeof first === 'object' && first !== null ? (first as { err?: unknown }).err : undefined;
    if (message !== null) lastProblem = typeof err === 'string' ? `${message}: ${err}` : message;
  };
  const quiet = (): void => undefined;
  const log: LogFn = { debug: quiet, info: quiet, warn: (...args: unknown[]) => note(args), error: (...args: unknown[]) => note(args) } as LogFn;
  const startedMs = clock.now();
  const waitMs = probeWaitMs(pack);
  return new Promise<PackProbe>((resolve) => {
    let done = false;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      void poller.stop().finally(() => resolve({ pack, result }));
    };
    const poller = new BmsPoller(
      link,
      pollerOptionsFor(config, pack),
      (event) => {
        if (event.type === 'snapshot') finish({ kind: 'answered', snapshot: event.snapshot, afterMs: event.atMs - startedMs });
        else if (event.type === 'implausible') finish({ kind: 'implausible', problems: event.problems });
      },
      clock,
      log,
    );
    const timer = clock.setTimeout(() => finish({ kind: 'silent', waitedMs: waitMs, lastProblem }), waitMs);
    poller.start();
  });
}

const volts = (mv: number): string => (mv / 1000).toFixed(3);
const onOff = (on: boolean): string => (on ? 'on' : 'off');

/** The pack's line, and the lines of what would keep the bridge from passing limits for it. */
export function describeProbe(config: RunnableConfig, probe: PackProbe): { lines: string[]; ok: boolean } {
  const head = `pack ${probe.pack.name} (${probe.pack.link})`;
  const { result } = probe;
  if (result.kind === 'silent') {
    return { lines: [`${head}: no valid answer in ${result.waitedMs} ms${result.lastProblem === null ? '' : ` (${result.lastProblem})`}`], ok: false };
  }
  if (result.kind === 'implausible') return { lines: [`${head}: answered, but implausibly: ${result.problems.join('; ')}`], ok: false };
  const s = result.snapshot;
  const alarms = (Object.keys(JkAlarmBit) as JkAlarmName[]).filter((name) => hasAlarm(s, name));
  const cells = s.cellsMv;
  const lines = [
    `${head}: answered in ${Math.round(result.afterMs)} ms: ${cells.length} cells ${volts(Math.min(...cells))}-${volts(Math.max(...cells))} V, ` +
      `${(s.packMv / 1000).toFixed(2)} V, ${s.currentMa >= 0 ? '+' : ''}${(s.currentMa / 1000).toFixed(2)} A, SoC ${s.socPct} %, ` +
      `charge MOSFET ${onOff(chargeMosfetOn(s))}, discharge MOSFET ${onOff(dischargeMosfetOn(s))}, alarms ${alarms.length === 0 ? 'none' : alarms.join(', ')}`,
    `  ${policyFor(config, s).description}`,
  ];
  const cause = packFaultCause(config, s);
  if (cause !== null) lines.push(`  the bridge would send zero limits: ${cause}`);
  return { lines, ok: cause === null };
}
