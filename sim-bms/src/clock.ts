/**
 * The simulator's time source. The default reads the global timers at call time, so a test that
 * installs vi.useFakeTimers() drives the whole virtual BMS (model ticks, protection delays,
 * reply latency, timed faults) on a simulated clock.
 */
export interface SimClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SimClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
