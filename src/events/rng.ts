// Randomness. Every random number in a run comes from a stream derived from the run
// seed and a stream name, so the same seed gives the same run and adding a new
// stream does not disturb the numbers drawn from the others.
import seedrandom from 'seedrandom';

/** A source of uniform numbers in [0, 1) (32 bits of randomness each). */
export type Rng = () => number;

/**
 * Returns the random stream named `stream` of the run seeded with `runSeed`: the same
 * (runSeed, stream) pair always gives the same sequence, different pairs give
 * independent-looking ones. Uses seedrandom's Alea generator. Never throws.
 */
export function deriveRng(runSeed: string, stream: string): Rng {
  // JSON keeps the pair unambiguous: ("a:b", "c") and ("a", "b:c") differ.
  return seedrandom.alea(JSON.stringify([runSeed, stream]));
}

/**
 * Draws from the exponential distribution with the given mean (a real number, not
 * rounded). Throws RangeError if `mean` is negative or not finite.
 */
export function exponential(rng: Rng, mean: number): number {
  if (!(mean >= 0 && mean < Infinity)) {
    throw new RangeError(`exponential: mean must be a finite number >= 0, got ${mean}`);
  }
  // 1 - u is in (0, 1], so the logarithm is finite.
  return -mean * Math.log(1 - rng());
}
