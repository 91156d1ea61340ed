/**
 * Time as an injectable dependency, and the one clock every duration and timer of the bridge and
 * the simulators runs on.
 *
 * `now()` is MONOTONIC: `performance.timeOrigin + performance.now()`. It starts at the wall-clock
 * time of process start (so it reads like epoch milliseconds next to log timestamps) but never
 * steps: a Raspberry Pi without an RTC that gets a backward NTP step of an hour must not stop
 * polling for an hour, and a forward step must not satisfy every hold, ramp and absorption timer
 * at once (issue 10, bug 1). Node's timers already run on the monotonic clock. Wall-clock time
 * (`Date.now()`) is left to what is meant for people: log timestamps and candump timestamps.
 *
 * Unit tests use Vitest fake timers, which (since Vitest 3) fake `performance` as well as
 * `Date` and the timer functions, so no test waits in real time and `vi.setSystemTime` moves the
 * wall clock without moving this one.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  // Read at call time (not bound once), so fake timers installed later still drive it.
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Exponential back-off: initial, 2×, 4×, … capped at max. attempt counts from 1. */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}
