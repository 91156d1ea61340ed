/**
 * How a bank's current divides between parallel packs (issue 12; field-survey.md §2B YamBMS sums
 * only the packs that allow a direction, dbus-aggregate-batteries#160 for the failure when a pack
 * that cannot take current is still counted). Pure.
 *
 * Packs in parallel share one bus voltage V; pack i carries I_i = (V − OCV_i) / R_i. At equal OCV
 * the current divides by conductance (1/R); over a charge the packs' SoC, and so their OCV, track
 * each other only if the current divides by capacity. Neither is exact while the bank moves, so
 * each pack is given the LARGER of its capacity share and its conductance share (where every
 * sharing pack's resistance is known): the shares may then add up to more than 1, which only ever
 * lowers the bank's limit.
 */

export interface SharingPack {
  /** Nominal capacity (JK 0xAA, or configured). */
  capacityAh: number;
  /** Whole-pack internal resistance, mΩ; null = unknown. */
  internalResistanceMohm: number | null;
}

/**
 * The fraction of the bank current each pack may carry, for the packs that take part (the caller
 * leaves out packs whose MOSFET of this direction is open: they carry none). `copies` > 1 is mirror
 * mode: one watched pack stands for that many identical packs, so its share is 1/copies.
 */
export function currentShares(packs: readonly SharingPack[], copies = 1): number[] {
  if (packs.length === 0) return [];
  if (packs.length === 1) return [1 / copies];
  const totalAh = packs.reduce((sum, p) => sum + Math.max(0, p.capacityAh), 0);
  // Without a usable capacity every pack may take an equal share; that is what capacity says too
  // when the packs are alike, and it is never below what an unknown pack might draw on average.
  const byCapacity = packs.map((p) => (totalAh > 0 ? Math.max(0, p.capacityAh) / totalAh : 1 / packs.length));
  const resistances = packs.map((p) => p.internalResistanceMohm);
  if (resistances.some((r) => r === null || r <= 0)) return byCapacity.map((s) => s / copies);
  const conductances = (resistances as number[]).map((r) => 1 / r);
  const totalS = conductances.reduce((a, b) => a + b, 0);
  return byCapacity.map((s, i) => Math.max(s, conductances[i] / totalS) / copies);
}
