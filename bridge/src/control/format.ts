/** Number formats for the human-readable limiting reasons. */

/** Cell millivolts as volts with mV resolution, e.g. "3.470 V". */
export const formatCellV = (mv: number): string => `${(mv / 1000).toFixed(3)} V`;

/** Amps to 0.01 A without trailing zeros, e.g. "50 A", "0.25 A". */
export const formatA = (a: number): string => `${Number(a.toFixed(2))} A`;
