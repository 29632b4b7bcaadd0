import { describe, expect, it } from 'vitest';
import { Simulation, deriveRng, exponential } from '../src/events/index.js';

function draw(rng: () => number, n: number): number[] {
  return Array.from({ length: n }, () => rng());
}

describe('deriveRng', () => {
  it('is deterministic per (seed, stream)', () => {
    expect(draw(deriveRng('seed', 'disk'), 100)).toEqual(draw(deriveRng('seed', 'disk'), 100));
  });

  it('gives different sequences for different seeds or streams', () => {
    const base = draw(deriveRng('seed', 'disk'), 10);
    expect(draw(deriveRng('seed2', 'disk'), 10)).not.toEqual(base);
    expect(draw(deriveRng('seed', 'net'), 10)).not.toEqual(base);
    // The pair is not simply concatenated.
    expect(draw(deriveRng('a:b', 'c'), 10)).not.toEqual(draw(deriveRng('a', 'b:c'), 10));
  });

  it('draws uniformly from [0, 1)', () => {
    const xs = draw(deriveRng('u', 'u'), 100_000);
    expect(xs.reduce((m, x) => Math.min(m, x), Infinity)).toBeGreaterThanOrEqual(0);
    expect(xs.reduce((m, x) => Math.max(m, x), -Infinity)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeCloseTo(0.5, 2);
  });
});

describe('exponential', () => {
  it('has the requested mean and is non-negative', () => {
    const rng = deriveRng('exp', 'exp');
    const xs = Array.from({ length: 200_000 }, () => exponential(rng, 3));
    expect(xs.reduce((m, x) => Math.min(m, x), Infinity)).toBeGreaterThanOrEqual(0);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 3) / 3).toBeLessThan(0.01);
    // P(X > mean) = e^-1 for an exponential distribution.
    const above = xs.filter((x) => x > 3).length / xs.length;
    expect(above).toBeCloseTo(Math.exp(-1), 2);
  });

  it('throws on a negative or non-finite mean', () => {
    const rng = deriveRng('exp', 'exp');
    expect(() => exponential(rng, -1)).toThrow(RangeError);
    expect(() => exponential(rng, NaN)).toThrow(RangeError);
    expect(() => exponential(rng, Infinity)).toThrow(RangeError);
    expect(exponential(rng, 0)).toBe(0);
  });
});

describe('Simulation.rng', () => {
  it('derives streams from the run seed and returns one generator per stream name', () => {
    const sim = new Simulation({ seed: 'run' });
    const disk = sim.rng('disk');
    expect(sim.rng('disk')).toBe(disk);
    expect(draw(disk, 5)).toEqual(draw(deriveRng('run', 'disk'), 5));
    expect(draw(new Simulation({ seed: 'run' }).rng('net'), 5)).toEqual(draw(deriveRng('run', 'net'), 5));
  });
});
