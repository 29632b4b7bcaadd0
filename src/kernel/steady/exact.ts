// The arithmetic that keeps fast-forward exact to the bit (./fast-forward.ts says why
// it suffices): binades, the spacing of doubles in them, ties, and how far a sum
// may grow with every addition exact.

/** e such that 2^e <= x < 2^(e+1), for x > 0. */
export function binade(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e--;
  else if (2 ** (e + 1) <= x) e++;
  return e;
}

/** Whether adding `dt` to a double spaced `u` apart rounds a tie (to even: the increment would depend on the sum). */
export function isTie(dt: number, u: number): boolean {
  const q = dt / u;
  return q - Math.floor(q) === 0.5;
}

/**
 * The bound an output that was `v0` must stay below for every addition to it to be
 * exact: the top of the cursor's binade (`top`) if it is a multiple of the cursor's
 * spacing `u` (every increment, a count or a sum of cursor durations, is one too),
 * else the top of its own binade, whose spacing is finer than u.
 */
export function exactLimit(v0: number, u: number, top: number): number {
  return Number.isInteger(v0 / u) ? top : 2 ** (binade(v0) + 1);
}

/** How many more iterations an output that went from v0 to v1 in one can take with every addition exact: it must only grow, and stay below exactLimit. */
export function exactSteps(v0: number, v1: number, u: number, top: number): number {
  const d = v1 - v0;
  if (!(d > 0) || v0 < 0) return 0;
  const limit = exactLimit(v0, u, top);
  let k = Math.floor((limit - v1) / d);
  while (k > 0 && !(v1 + k * d < limit)) k--;
  return Math.max(0, k);
}
