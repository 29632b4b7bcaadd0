// Virtual time.
//
// Unit: one SimTime is one picosecond of simulated time, counted from the start of
// the run (t = 0). Times and delays are always integers, so arithmetic on them is
// exact.
//
// Range: 0 ..= MAX_SIM_TIME = Number.MAX_SAFE_INTEGER ps (2^53 - 1 ps, about
// 9007.2 s, two and a half hours). Past that a double can no longer hold every
// integer, so instead of silently losing precision, every way of computing a later
// time in the engine (checkedAdd, cyclesToPs, Simulation.schedule, a process's
// `yield delay`) throws SimTimeOverflowError.

/** Integer picoseconds since the start of the run, in 0 ..= MAX_SIM_TIME. */
export type SimTime = number;

export const PS_PER_NS = 1_000;
export const PS_PER_US = 1_000_000;
export const PS_PER_MS = 1_000_000_000;
export const PS_PER_S = 1_000_000_000_000;

/** The latest representable time: 2^53 - 1 ps, about 9007 s of simulated time. */
export const MAX_SIM_TIME: SimTime = Number.MAX_SAFE_INTEGER;

/** Thrown when a time would pass MAX_SIM_TIME (about 9007 s). */
export class SimTimeOverflowError extends Error {
  override readonly name = 'SimTimeOverflowError';
}

/**
 * Converts a number of clock cycles at `clockHz` to picoseconds, rounded to the nearest
 * picosecond. Throws RangeError if `cycles` is negative or not finite, or `clockHz` is
 * not a positive finite number; throws SimTimeOverflowError if the result passes
 * MAX_SIM_TIME.
 */
export function cyclesToPs(cycles: number, clockHz: number): SimTime {
  if (!Number.isFinite(cycles) || cycles < 0) {
    throw new RangeError(`cyclesToPs: cycles must be a finite number >= 0, got ${cycles}`);
  }
  if (!Number.isFinite(clockHz) || clockHz <= 0) {
    throw new RangeError(`cyclesToPs: clockHz must be a finite number > 0, got ${clockHz}`);
  }
  const ps = Math.round((cycles * PS_PER_S) / clockHz);
  if (ps > MAX_SIM_TIME) {
    throw new SimTimeOverflowError(
      `cyclesToPs: ${cycles} cycles at ${clockHz} Hz is ${ps} ps, past the largest simulated time (${formatTime(MAX_SIM_TIME)})`,
    );
  }
  return ps;
}

/**
 * Returns `t + d`. Throws RangeError if `d` is not a non-negative integer, and
 * SimTimeOverflowError if the sum passes MAX_SIM_TIME.
 */
export function checkedAdd(t: SimTime, d: SimTime): SimTime {
  if (!Number.isInteger(d) || d < 0) {
    throw new RangeError(`a delay must be a non-negative integer number of ps, got ${d}`);
  }
  const sum = t + d;
  if (sum > MAX_SIM_TIME) {
    throw new SimTimeOverflowError(overflowMessage(t, d));
  }
  return sum;
}

/** @internal The message for a time past MAX_SIM_TIME, shared with the simulation. */
export function overflowMessage(t: SimTime, d: SimTime): string {
  return (
    `simulated time overflow: ${formatTime(t)} + ${d} ps passes the largest simulated time ` +
    `(${formatTime(MAX_SIM_TIME)} = 2^53-1 ps)`
  );
}

const UNITS: ReadonlyArray<readonly [number, string]> = [
  [PS_PER_S, 's'],
  [PS_PER_MS, 'ms'],
  [PS_PER_US, 'us'],
  [PS_PER_NS, 'ns'],
];

/**
 * Formats a time for people, in the largest unit in which it is at least 1, with three
 * decimals: `formatTime(1_234_000_000)` is "1.234 ms", `formatTime(17)` is "17 ps".
 * Never throws; non-integers and non-finite values are printed as they are.
 */
export function formatTime(t: SimTime): string {
  if (!Number.isFinite(t)) return `${t} ps`;
  const abs = Math.abs(t);
  for (const [scale, unit] of UNITS) {
    if (abs >= scale) return `${(t / scale).toFixed(3)} ${unit}`;
  }
  return `${t} ps`;
}
