/**
 * Several JK packs in parallel, told to the inverter as one battery (issue 12). Pure: the statechart
 * keeps one state, one snapshot and one control state per pack, steps the policy per pack
 * (stepPack) and asks this module what the bank as a whole may do (combineBank).
 *
 * Rules (each result carries its limiting reason naming the pack):
 *  - Every control rule runs per pack at bank scale: a pack's cell at its charge-stop voltage, its
 *    temperatures, its SoC table each limit the whole bank, because that pack takes its share of
 *    whatever the bank is given (dbus-aggregate-batteries#160: one pack at CCL 0 while the bank
 *    kept charging, its balancer fighting the charge current).
 *  - A pack whose own BMS has opened its charge (discharge) MOSFET carries no current in that
 *    direction: it is out of that direction's sharing and the others go on (YamBMS sums only the
 *    packs that allow a direction, field-survey.md §2B).
 *  - The BMS over-current setting of a sharing pack caps the bank at OCP / share (sharing.ts).
 *  - CVL: the lowest CVL of the packs that can charge; DVL: the highest DVL.
 *  - A pack without fresh data: `stop` (default) puts the whole bank to zero limits, since an
 *    unknown pack may be at its limits; `degrade` leaves it out once the chart calls it stale (one
 *    that never answered too), the shares (and so the limits) scale to the packs left, and a
 *    communication warning is raised.
 *  - A pack in fault (protection, implausible data) faults the bank in either mode; so do packs
 *    that disagree with each other (cell count, chemistry, bus voltage), never averaged away.
 * One pack, no mirror: the bank's output is the pack's own output, value for value and reason for
 * reason (the property test pins this), so a single-pack bridge behaves as it always did.
 */
import type { AlarmSet } from '../protocol/can/battery-state';
import { chargeMosfetOn, dischargeMosfetOn, type BmsSnapshot } from '../protocol/jk/snapshot';
import { stepControl, type ControlOutput, type ControlState } from '../control/policy';
import type { Commands } from '../control/commands';
import type { ControlSettings } from '../control/settings';
import { formatA } from '../control/format';
import { inferChemistry, type Chemistry } from '../control/chemistry';
import { currentShares, type SharingPack } from './sharing';

export type PackState = 'idle' | 'connected' | 'stale' | 'fault';
export type OnPackLost = 'stop' | 'degrade';

export interface PackView {
  name: string;
  state: PackState;
  /** In fault: the data was bad ('data': protection, implausible) or the pack stayed lost ('lost'). */
  faultCause: 'data' | 'lost' | null;
  faultReason: string | null;
  /** Newest valid snapshot and when it arrived (the chart's clock); null before the first. */
  snapshot: BmsSnapshot | null;
  snapshotAtMs: number | null;
  /** The policy's output for that snapshot (stepPack); null before the first. */
  output: ControlOutput | null;
  /** Configured whole-pack internal resistance, mΩ; null = unknown. */
  internalResistanceMohm: number | null;
}

export interface BankOptions {
  onPackLost: OnPackLost;
  /** Mirror mode: the one watched pack stands for this many identical packs (1 = off). */
  copies: number;
  /** Largest believable difference between the voltages of packs on one bus (cable drop), mV. */
  maxPackVoltageSpreadMv: number;
  /** control.current.bmsOcpCapFraction. */
  ocpCapFraction: number | null;
  /** control.stop.currentA: what a stopped direction sends. */
  stopCurrentA: number;
}

/** Where a bank extreme comes from. */
export interface Located {
  value: number;
  pack: string;
}

/** A cell extreme: `cell` is 1-based within its pack, `number` counts through the bank (pack by pack). */
export interface LocatedCell extends Located {
  cell: number;
  number: number;
}

export interface BankMeasurements {
  /** Mean of the packs' voltages (they share one bus). */
  voltageMv: number;
  /** Sum, + = charging; × copies in mirror mode. */
  currentMa: number;
  /** Sum of the packs' 0xAA capacities; × copies in mirror mode. */
  capacityAh: number;
  /** Capacity-weighted. */
  socPct: number;
  /** Capacity-weighted cycle count (the bus estimates SoH from it). */
  cycles: number;
  cellCount: number;
  maxCellMv: LocatedCell;
  minCellMv: LocatedCell;
  maxTemperatureC: Located;
  minTemperatureC: Located;
  maxMosfetTemperatureC: Located;
}

export type BankMode = 'none' | 'normal' | 'stale' | 'fault';

export interface BankResult {
  mode: BankMode;
  /** Why the bank is not normal (or why it runs degraded), naming the pack; null when all is well. */
  reason: string | null;
  /** Packs whose data counts. */
  members: string[];
  /** Packs left out, each with why. */
  excluded: Array<{ name: string; why: string }>;
  /**
   * The bank's limits over its members in normal mode; otherwise the last known ones over every
   * pack with data (the bus stops both directions in stale and fault, but keeps CVL, SoC, alarms).
   */
  output: ControlOutput | null;
  /** When the oldest data the output rests on arrived; null without data. */
  dataAtMs: number | null;
  /** Packs whose data contradicts the others' (named in the reason): the chart faults them. */
  disagreeing: string[];
  /** Over the packs with data (the last known ones in stale and fault modes); null without any. */
  measurements: BankMeasurements | null;
}

/**
 * The snapshot the policy sees for one pack: its BMS over-current settings stand for the bank
 * current at which this pack reaches them (OCP / share), so the policy's OCP cap works at bank
 * scale. A share of 1 returns the very same snapshot.
 */
export function snapshotAtBankScale(snapshot: BmsSnapshot, chargeShare: number, dischargeShare: number): BmsSnapshot {
  if (chargeShare === 1 && dischargeShare === 1) return snapshot;
  return {
    ...snapshot,
    settings: {
      ...snapshot.settings,
      chargeOcpA: snapshot.settings.chargeOcpA / chargeShare,
      dischargeOcpA: snapshot.settings.dischargeOcpA / dischargeShare,
    },
  };
}

/**
 * The shares pack `name` would have in each direction with the given pack views: itself counted
 * in a direction even with that MOSFET open (so its OCP candidate is ready when it closes), and a
 * pack not heard from yet counted as one like itself (the bank sends nothing before every pack
 * has answered, so its limits start from the whole bank, not from one pack carrying it all).
 */
export function sharesOf(name: string, packs: readonly PackView[], copies: number): { charge: number; discharge: number } {
  const self = packs.find((p) => p.name === name);
  const share = (on: (s: BmsSnapshot) => boolean): number => {
    const sharing = packs.flatMap((p): Array<{ name: string; pack: SharingPack }> => {
      if (p.name === name || (p.state === 'connected' && p.snapshot !== null && on(p.snapshot))) return [{ name: p.name, pack: sharingPack(p) }];
      if (p.state === 'idle' && self !== undefined) return [{ name: p.name, pack: { ...sharingPack(self), internalResistanceMohm: p.internalResistanceMohm } }];
      return [];
    });
    const i = sharing.findIndex((p) => p.name === name);
    return i < 0 ? 1 / copies : currentShares(sharing.map((p) => p.pack), copies)[i];
  };
  return { charge: share(chargeMosfetOn), discharge: share(dischargeMosfetOn) };
}

function sharingPack(p: PackView): SharingPack {
  return { capacityAh: p.snapshot?.settings.capacityAh ?? 0, internalResistanceMohm: p.internalResistanceMohm };
}

export function combineBank(packs: readonly PackView[], o: BankOptions): BankResult {
  const single = packs.length === 1;
  const named = (name: string, text: string): string => (single ? text : `pack ${name}: ${text}`);
  const withData = packs.filter((p) => p.snapshot !== null);
  const measurements = withData.length > 0 ? measure(withData, o.copies, packs) : null;
  const known = withData.filter((p) => p.output !== null);
  const stopped = (mode: BankMode, reason: string, disagreeing: string[] = []): BankResult => ({
    mode,
    reason,
    members: [],
    excluded: [],
    output: known.length > 0 ? combineOutputs(known, o, single) : null,
    dataAtMs: oldest(known),
    disagreeing,
    measurements,
  });

  // A pack with bad data faults the bank in either mode: it is not lost, it is wrong.
  const faulted = packs.find((p) => p.state === 'fault' && (p.faultCause !== 'lost' || o.onPackLost === 'stop'));
  if (faulted !== undefined) return stopped('fault', named(faulted.name, faulted.faultReason ?? 'fault'));
  // Not yet heard from (the chart calls a pack stale after staleAfterMs without data, or, with
  // degrade, one that has not answered since the start); nothing from any pack is waiting too.
  const waiting = packs.filter((p) => p.state === 'idle');
  if (waiting.length > 0 || withData.length === 0) {
    return stopped('none', `waiting for the first data of ${(waiting.length > 0 ? waiting : packs).map((p) => p.name).join(', ')}`);
  }

  const lost = packs.filter((p) => p.state === 'stale' || p.state === 'fault');
  const lostWhy = (p: PackView): string =>
    p.snapshot === null ? 'no answer since the start' : p.state === 'stale' ? 'no fresh data' : (p.faultReason ?? 'lost');
  if (lost.length > 0 && (o.onPackLost === 'stop' || lost.length === packs.length)) {
    return stopped('stale', lost.map((p) => named(p.name, lostWhy(p))).join('; '));
  }
  const members = packs.filter((p) => p.state === 'connected' && p.snapshot !== null && p.output !== null);
  const excluded = lost.map((p) => ({ name: p.name, why: lostWhy(p) }));

  const problems = disagreements(members, o.maxPackVoltageSpreadMv);
  if (problems.length > 0) return stopped('fault', problems.map((p) => p.text).join('; '), [...new Set(problems.flatMap((p) => p.packs))]);

  const output = combineOutputs(members, o, single);
  let reason: string | null = null;
  if (excluded.length > 0) {
    // Degraded: the inverter hears a communication warning for as long as a pack is left out.
    output.warnings = { ...output.warnings, communication: true };
    reason = `degraded: ${excluded.map((e) => `pack ${e.name} left out (${e.why})`).join(', ')}`;
  }
  return {
    mode: 'normal',
    reason,
    members: members.map((p) => p.name),
    excluded,
    output,
    dataAtMs: oldest(members),
    disagreeing: [],
    measurements: measure(members, o.copies, packs),
  };
}

function oldest(packs: readonly PackView[]): number | null {
  const times = packs.flatMap((p) => (p.snapshotAtMs === null ? [] : [p.snapshotAtMs]));
  return times.length === 0 ? null : Math.min(...times);
}

type Member = PackView & { snapshot: BmsSnapshot; output: ControlOutput };

/**
 * The packs whose `value` differs from the bank's: the value most packs have, ties going to the
 * first pack's. Packs without a value (null) take no part.
 */
function outvoted<T>(members: readonly PackView[], value: (p: PackView) => T | null): Array<{ pack: PackView; own: T; bank: T }> {
  const valued = members.flatMap((pack) => {
    const own = value(pack);
    return own === null ? [] : [{ pack, own }];
  });
  const counts = new Map<T, number>();
  for (const v of valued) counts.set(v.own, (counts.get(v.own) ?? 0) + 1);
  if (counts.size < 2) return [];
  const bank = [...counts].reduce((best, c) => (c[1] > best[1] ? c : best))[0];
  return valued.filter((v) => v.own !== bank).map((v) => ({ ...v, bank }));
}

/** The chemistry a pack's own BMS settings say (its OVP/UVP window); null when they fit none. */
function chemistryOf(p: PackView): Chemistry | null {
  const inferred = inferChemistry(p.snapshot!.settings);
  return inferred.ok ? inferred.chemistry : null;
}

/** Cross-pack checks: never average two packs that cannot both be right. */
function disagreements(members: readonly PackView[], maxSpreadMv: number): Array<{ text: string; packs: string[] }> {
  const problems: Array<{ text: string; packs: string[] }> = [];
  for (const { pack, own, bank } of outvoted(members, (p) => p.snapshot!.cellsMv.length)) {
    problems.push({ text: `pack ${pack.name}: ${own} cells, the bank's other packs have ${bank}`, packs: [pack.name] });
  }
  // Their voltages cannot be compared either.
  if (problems.length > 0) return problems;
  // Packs in parallel hold one kind of cell: a JK set for another chemistry protects its cells at
  // the wrong voltages, and the bank's voltage points cannot suit both (issue 11).
  for (const { pack, own, bank } of outvoted(members, chemistryOf)) {
    const { cellOvpMv, cellUvpMv } = pack.snapshot!.settings;
    problems.push({
      text: `pack ${pack.name}: its BMS is set for ${own} (bms.cellOvp ${cellOvpMv} mV, bms.cellUvp ${cellUvpMv} mV), the bank's other packs for ${bank}: one bank holds one chemistry, check this JK's cell OVP and UVP`,
      packs: [pack.name],
    });
  }
  // Only packs with both MOSFETs closed sit on the bus; an open MOSFET (or its body diode) lets a
  // pack's own voltage differ by design.
  const onBus = members.filter((p) => chargeMosfetOn(p.snapshot!) && dischargeMosfetOn(p.snapshot!));
  if (onBus.length > 1) {
    const high = onBus.reduce((a, b) => (b.snapshot!.packMv > a.snapshot!.packMv ? b : a));
    const low = onBus.reduce((a, b) => (b.snapshot!.packMv < a.snapshot!.packMv ? b : a));
    const spread = high.snapshot!.packMv - low.snapshot!.packMv;
    if (spread > maxSpreadMv) {
      problems.push({
        text: `pack voltages disagree on one bus: pack ${high.name} ${volts(high.snapshot!.packMv)}, pack ${low.name} ${volts(low.snapshot!.packMv)} (${spread} mV apart, at most ${maxSpreadMv} mV believable)`,
        packs: [high.name, low.name],
      });
    }
  }
  return problems;
}

const volts = (mv: number): string => `${(mv / 1000).toFixed(2)} V`;

interface Limit {
  limitA: number;
  reason: string;
}

function combineOutputs(members: readonly PackView[], o: BankOptions, single: boolean): ControlOutput {
  const packs = members as readonly Member[];
  const named = (name: string, text: string): string => (single ? text : `pack ${name}: ${text}`);
  const weights = capacityWeights(packs);

  const direction = (dir: 'charge' | 'discharge'): Limit => {
    const on = dir === 'charge' ? chargeMosfetOn : dischargeMosfetOn;
    const sharing = packs.filter((p) => on(p.snapshot));
    if (sharing.length === 0) {
      // No pack can take this direction. One pack: its own reason (the MOSFET it reports open).
      const reason = single ? packReason(packs[0], dir) : `every pack's ${dir} MOSFET is open`;
      return { limitA: 0, reason };
    }
    const shares = currentShares(sharing.map(sharingPack), o.copies);
    const limits = sharing.map((p, i): Limit => {
      const enabled = dir === 'charge' ? p.output.requests.chargeEnable : p.output.requests.dischargeEnable;
      const own: Limit = {
        limitA: enabled ? (dir === 'charge' ? p.output.chargeCurrentLimitA : p.output.dischargeCurrentLimitA) : 0,
        reason: named(p.name, packReason(p, dir)),
      };
      // The policy stepped this pack with the shares of its own step; the shares now decide.
      if (o.ocpCapFraction === null) return own;
      const ocpA = dir === 'charge' ? p.snapshot.settings.chargeOcpA : p.snapshot.settings.dischargeOcpA;
      const capA = (o.ocpCapFraction * ocpA) / shares[i];
      // On a tie between packs the share-aware reason is the clearer one; one pack keeps its own.
      const binds = capA < own.limitA || (!single && capA <= own.limitA * (1 + 1e-9));
      return binds
        ? {
            limitA: capA,
            reason: named(
              p.name,
              `BMS over-current setting (${o.ocpCapFraction} × ${formatA(ocpA)}) at a ${Math.round(shares[i] * 100)} % share`,
            ),
          }
        : own;
    });
    return limits.reduce((low, l) => (l.limitA < low.limitA ? l : low));
  };
  const charge = direction('charge');
  const discharge = direction('discharge');

  // CVL: the lowest of the packs that can charge (a higher one would push that pack past its own).
  const canCharge = packs.filter((p) => chargeMosfetOn(p.snapshot));
  const cvlFrom = (canCharge.length > 0 ? canCharge : packs).reduce((low, p) =>
    p.output.chargeVoltageV < low.output.chargeVoltageV ? p : low,
  );
  const dvlFrom = packs.reduce((high, p) => (p.output.dischargeVoltageV > high.output.dischargeVoltageV ? p : high));

  const chargeEnable = charge.limitA > 0;
  const dischargeEnable = discharge.limitA > 0;
  const forceCharge = chargeEnable && packs.some((p) => p.output.requests.forceChargeI);
  return {
    chargeVoltageV: cvlFrom.output.chargeVoltageV,
    chargeCurrentLimitA: chargeEnable ? charge.limitA : o.stopCurrentA,
    dischargeCurrentLimitA: dischargeEnable ? discharge.limitA : o.stopCurrentA,
    dischargeVoltageV: dvlFrom.output.dischargeVoltageV,
    socPct: packs.reduce((sum, p, i) => sum + p.output.socPct * weights[i], 0),
    phase: cvlFrom.output.phase,
    requests: {
      chargeEnable,
      dischargeEnable,
      forceChargeI: forceCharge,
      forceChargeII: forceCharge,
      fullCharge: packs.some((p) => p.output.requests.fullCharge),
    },
    reasons: {
      chargeVoltage: named(cvlFrom.name, cvlFrom.output.reasons.chargeVoltage),
      chargeCurrent: charge.reason,
      dischargeCurrent: discharge.reason,
    },
    alarms: union(packs.map((p) => p.output.alarms)),
    warnings: union(packs.map((p) => p.output.warnings)),
  };
}

function packReason(p: Member, dir: 'charge' | 'discharge'): string {
  return dir === 'charge' ? p.output.reasons.chargeCurrent : p.output.reasons.dischargeCurrent;
}

/**
 * Each pack's weight in the SoC and cycle averages: capacity / total, equal when no capacity is
 * known. Written as a product with the weight so that one pack's weight is exactly 1.
 */
function capacityWeights(packs: readonly PackView[]): number[] {
  const caps = packs.map((p) => Math.max(0, p.snapshot?.settings.capacityAh ?? 0));
  const total = caps.reduce((a, b) => a + b, 0);
  return caps.map((c) => (total > 0 ? c / total : 1 / packs.length));
}

/** Any pack's alarm is the bank's alarm (unlike YamBMS's "alarm only when every BMS is", §2B). */
function union(sets: readonly AlarmSet[]): AlarmSet {
  const out: AlarmSet = {};
  for (const set of sets) {
    for (const [kind, on] of Object.entries(set) as Array<[keyof AlarmSet, boolean | undefined]>) if (on === true) out[kind] = true;
  }
  return out;
}

/** Over `packs` (with data); `all` fixes each pack's place in the bank's cell numbering. */
function measure(packs: readonly PackView[], copies: number, all: readonly PackView[]): BankMeasurements {
  const withData = packs as ReadonlyArray<PackView & { snapshot: BmsSnapshot }>;
  const weights = capacityWeights(withData);
  const cellCount = withData[0].snapshot.cellsMv.length;
  const cells = withData.flatMap((p) => {
    const place = all.findIndex((q) => q.name === p.name);
    return p.snapshot.cellsMv.map((mv, i): LocatedCell => ({ value: mv, pack: p.name, cell: i + 1, number: place * cellCount + i + 1 }));
  });
  const temps = withData.flatMap((p): Located[] => [
    { value: p.snapshot.t1TempC, pack: p.name },
    { value: p.snapshot.t2TempC, pack: p.name },
  ]);
  const highest = <T extends Located>(list: T[]) => list.reduce((a, b) => (b.value > a.value ? b : a));
  const lowest = <T extends Located>(list: T[]) => list.reduce((a, b) => (b.value < a.value ? b : a));
  return {
    voltageMv: withData.reduce((sum, p) => sum + p.snapshot.packMv, 0) / withData.length,
    currentMa: withData.reduce((sum, p) => sum + p.snapshot.currentMa, 0) * copies,
    capacityAh: withData.reduce((sum, p) => sum + p.snapshot.settings.capacityAh, 0) * copies,
    socPct: withData.reduce((sum, p, i) => sum + p.snapshot.socPct * weights[i], 0),
    cycles: withData.reduce((sum, p, i) => sum + p.snapshot.cycles * weights[i], 0),
    cellCount,
    maxCellMv: highest(cells),
    minCellMv: lowest(cells),
    maxTemperatureC: highest(temps),
    minTemperatureC: lowest(temps),
    maxMosfetTemperatureC: highest(withData.map((p) => ({ value: p.snapshot.mosfetTempC, pack: p.name }))),
  };
}

/**
 * One policy step for one pack of the bank, at bank scale: the pack's OCP settings stand for the
 * bank current at which it reaches them (snapshotAtBankScale). With one pack and no mirror this
 * is exactly stepControl on the pack's snapshot.
 */
export function stepPack(
  state: ControlState,
  name: string,
  snapshot: BmsSnapshot,
  packs: readonly PackView[],
  copies: number,
  nowMs: number,
  settings: ControlSettings,
  commands?: Commands,
): { state: ControlState; output: ControlOutput } {
  const others = packs.filter((p) => p.name !== name);
  const self = packs.find((p) => p.name === name);
  const view: PackView[] = [...others, { ...(self ?? emptyView(name)), snapshot, state: 'connected' }];
  const shares = sharesOf(name, view, copies);
  return stepControl(state, snapshotAtBankScale(snapshot, shares.charge, shares.discharge), nowMs, settings, commands);
}

function emptyView(name: string): PackView {
  return { name, state: 'idle', faultCause: null, faultReason: null, snapshot: null, snapshotAtMs: null, output: null, internalResistanceMohm: null };
}

/** One pack's snapshot as bank measurements (what the bus shows for a single pack). */
export function measurementsOf(snapshot: BmsSnapshot, name = '1'): BankMeasurements {
  const view: PackView = { ...emptyView(name), state: 'connected', snapshot };
  return measure([view], 1, [view]);
}
