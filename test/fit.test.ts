import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { linearRegression, linearRegressionLine, rSquared } from 'simple-statistics';
import { FitError, fitLinear, type Observation } from '../src/costmodel/fit.js';

/** read(2) of `size` bytes: per-call cost + per-byte cost + per-fault cost. */
function syscallRows(truth: Record<string, number>, noise: () => number = () => 0): Observation[] {
  const sizes = [1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
  const rows: Observation[] = [];
  for (const size of sizes) {
    for (const faults of [0, size / 4096]) {
      const usage = { per_call_ns: 1, per_byte_ns: size, per_fault_ns: faults };
      const exact = 40 + usage.per_call_ns * truth.per_call_ns! + size * truth.per_byte_ns! + faults * truth.per_fault_ns!;
      rows.push({ id: `read ${size}${faults ? ' fresh' : ''}`, target: exact * (1 + noise()), fixed: 40, usage });
    }
  }
  return rows;
}

const truth = { per_call_ns: 850, per_byte_ns: 0.065, per_fault_ns: 2400 };
const params = ['per_call_ns', 'per_byte_ns', 'per_fault_ns'];

describe('fitLinear: recovery of known parameters', () => {
  it('recovers the parameters exactly from noise-free data (NNLS and unconstrained, absolute and relative)', () => {
    for (const nonNegative of [true, false]) {
      for (const relative of [true, false]) {
        const fit = fitLinear(syscallRows(truth), { params, nonNegative, relative });
        for (const k of params) {
          expect(fit.params[k]!.value).toBeCloseTo(truth[k as keyof typeof truth], 9);
          expect(fit.params[k]!.atBound).toBe(false);
        }
        expect(fit.rSquared).toBeCloseTo(1, 12);
        expect(fit.residualRms).toBeLessThan(1e-6);
        expect(fit.dof).toBe(16 - 3);
        for (const r of fit.rows) expect(Math.abs(r.error)).toBeLessThan(1e-12);
      }
    }
  });

  it('recovers the parameters within tolerance from data with seeded 2% noise, with sensible standard errors', () => {
    const rng = seedrandom('fit-noise');
    const noise = (): number => (rng() - 0.5) * 0.04;
    const fit = fitLinear(syscallRows(truth, noise), { params, relative: true });
    expect(fit.params.per_call_ns!.value).toBeGreaterThan(truth.per_call_ns * 0.9);
    expect(fit.params.per_call_ns!.value).toBeLessThan(truth.per_call_ns * 1.1);
    expect(fit.params.per_byte_ns!.value / truth.per_byte_ns).toBeCloseTo(1, 1);
    expect(fit.params.per_fault_ns!.value / truth.per_fault_ns).toBeCloseTo(1, 1);
    for (const k of params) {
      const p = fit.params[k]!;
      expect(p.stdError).not.toBeNull();
      expect(p.stdError!).toBeGreaterThan(0);
      // within 4 standard errors of the truth
      expect(Math.abs(p.value - truth[k as keyof typeof truth])).toBeLessThan(4 * p.stdError!);
    }
    expect(fit.rSquared).toBeGreaterThan(0.99);
    expect(fit.residualUnit).toBe('relative');
    expect(fit.residualRms).toBeGreaterThan(0.001);
    expect(fit.residualRms).toBeLessThan(0.03);
  });

  it('reports R^2 as simple-statistics does for a one-parameter model', () => {
    const rng = seedrandom('r2');
    const xs = [1, 2, 3, 5, 8, 13, 21, 34];
    const obs: Observation[] = xs.map((x) => ({ id: `x=${x}`, target: 10 + 3 * x + (rng() - 0.5) * 4, fixed: 10, usage: { slope: x } }));
    const fit = fitLinear(obs, { params: ['slope'] });
    const slope = fit.params.slope!.value;
    const expected = rSquared(obs.map((o) => [o.usage.slope!, o.target]), (x: number) => 10 + slope * x);
    expect(fit.rSquared).toBeCloseTo(expected, 12);
    expect(fit.rSquared).toBeLessThan(1);
    // and the slope is the least-squares one: the derivative of SS_res vanishes
    const grad = obs.reduce((s, o) => s + o.usage.slope! * (o.target - 10 - slope * o.usage.slope!), 0);
    expect(Math.abs(grad)).toBeLessThan(1e-9);
  });

  it('agrees with simple-statistics linearRegression for intercept + slope', () => {
    const rng = seedrandom('linreg');
    const pts = Array.from({ length: 20 }, (_, i) => [i, 5 + 2 * i + (rng() - 0.5) * 3] as [number, number]);
    const obs: Observation[] = pts.map(([x, y]) => ({ id: `p${x}`, target: y, fixed: 0, usage: { b: 1, m: x } }));
    const fit = fitLinear(obs, { params: ['b', 'm'], nonNegative: false });
    const lr = linearRegression(pts);
    expect(fit.params.m!.value).toBeCloseTo(lr.m, 10);
    expect(fit.params.b!.value).toBeCloseTo(lr.b, 10);
    expect(fit.rSquared).toBeCloseTo(rSquared(pts, linearRegressionLine(lr)), 12);
  });

  it('keeps held-out rows out of the fit and reports their median absolute error', () => {
    const rows = syscallRows(truth);
    // perturb a held-out row: it must not affect the fit, and its error shows in the report
    const bad = rows.find((r) => r.id === 'read 65536')!;
    bad.target *= 1.2;
    const fit = fitLinear(rows, { params, holdOut: (o) => o.id === 'read 65536' || o.id === 'read 4096' });
    expect(fit.params.per_call_ns!.value).toBeCloseTo(truth.per_call_ns, 6);
    const held = fit.rows.filter((r) => r.heldOut);
    expect(held.map((r) => r.id).sort()).toEqual(['read 4096', 'read 65536']);
    expect(fit.rows).toHaveLength(rows.length);
    expect(fit.dof).toBe(14 - 3);
    const errBad = held.find((r) => r.id === 'read 65536')!.error;
    expect(errBad).toBeCloseTo(1 / 1.2 - 1, 9);
    expect(fit.heldOutMedianAbsError).toBeCloseTo(Math.abs(errBad) / 2, 9); // median of |e| and ~0
    expect(fitLinear(syscallRows(truth), { params }).heldOutMedianAbsError).toBeNull();
  });

  it('clamps a parameter the data pushes negative to 0 under NNLS and flags it', () => {
    const obs: Observation[] = [1, 2, 3, 4].map((x) => ({ id: `x${x}`, target: 100 - 0.5 * x, fixed: 0, usage: { a: 1, b: x } }));
    const fit = fitLinear(obs, { params: ['a', 'b'] });
    expect(fit.params.b!.value).toBe(0);
    expect(fit.params.b!.atBound).toBe(true);
    expect(fit.params.a!.value).toBeCloseTo(98.75, 9);
    const free = fitLinear(obs, { params: ['a', 'b'], nonNegative: false });
    expect(free.params.b!.value).toBeCloseTo(-0.5, 9);
  });

  it('gives null standard errors when there are no degrees of freedom', () => {
    const fit = fitLinear([{ id: 'only', target: 10, fixed: 2, usage: { c: 4 } }], { params: ['c'] });
    expect(fit.params.c!.value).toBeCloseTo(2, 12);
    expect(fit.params.c!.stdError).toBeNull();
    expect(fit.dof).toBe(0);
  });
});

describe('fitLinear: degenerate data is refused with a clear FitError', () => {
  const fails = (f: () => unknown, pattern: RegExp): void => {
    expect(f).toThrow(FitError);
    expect(f).toThrow(pattern);
  };

  it('one point for two parameters', () => {
    fails(
      () => fitLinear([{ id: 'dd', target: 5e6, fixed: 0, usage: { per_call: 1, per_byte: 1e7 } }], { params: ['per_call', 'per_byte'] }),
      /fewer usable rows \(1\) than parameters \(2: per_call, per_byte\)/,
    );
  });

  it('held-out rows do not count as usable', () => {
    const obs: Observation[] = [1, 2, 3].map((x) => ({ id: `x${x}`, target: x, fixed: 0, usage: { a: 1, b: x } }));
    fails(() => fitLinear(obs, { params: ['a', 'b'], holdOut: (o) => o.id !== 'x1' }), /fewer usable rows \(1 of 3/);
  });

  it('collinear sizes (per-byte and per-KiB costs) name both parameters', () => {
    const obs: Observation[] = [1024, 4096, 65536, 1 << 20].map((s) => ({
      id: `bs=${s}`,
      target: 500 + 0.1 * s,
      fixed: 0,
      usage: { per_call: 1, per_byte: s, per_kib: s / 1024 },
    }));
    fails(() => fitLinear(obs, { params: ['per_call', 'per_byte', 'per_kib'] }), /collinear columns \(rank 2 of 3\).*'per_byte', 'per_kib'/);
    // all rows of one size: per-call and per-byte cannot be told apart
    const same: Observation[] = [0, 1, 2].map((i) => ({ id: `r${i}`, target: 1000 + i, fixed: 0, usage: { per_call: 1, per_byte: 4096 } }));
    fails(() => fitLinear(same, { params: ['per_call', 'per_byte'] }), /collinear.*'per_call', 'per_byte'/);
  });

  it('an all-zero column', () => {
    const obs: Observation[] = [1, 2, 3].map((x) => ({ id: `x${x}`, target: x, fixed: 0, usage: { a: x, faults: 0 } }));
    fails(() => fitLinear(obs, { params: ['a', 'faults'] }), /parameter 'faults' has an all-zero column/);
  });

  it('NaN and infinite data name the observation and field', () => {
    const ok = (): Observation[] => [1, 2, 3].map((x) => ({ id: `x${x}`, target: x, fixed: 0, usage: { a: x } }));
    const a = ok();
    a[1]!.target = NaN;
    fails(() => fitLinear(a, { params: ['a'] }), /non-finite data: observation 'x2' target is NaN/);
    const b = ok();
    b[2]!.usage.a = Infinity;
    fails(() => fitLinear(b, { params: ['a'] }), /non-finite data: observation 'x3' usage.a is Infinity/);
    const c = ok();
    c[0]!.fixed = NaN;
    fails(() => fitLinear(c, { params: ['a'] }), /observation 'x1' fixed is NaN/);
  });

  it('other invalid input', () => {
    const obs: Observation[] = [{ id: 'z', target: 0, fixed: 0, usage: { a: 1 } }];
    fails(() => fitLinear(obs, { params: ['a'] }), /target 0/);
    fails(() => fitLinear([], { params: ['a'] }), /no observations/);
    fails(() => fitLinear([{ id: 'x', target: 1, fixed: 0, usage: { a: 1 } }], { params: [] }), /no parameters/);
    fails(() => fitLinear([{ id: 'x', target: 1, fixed: 0, usage: { a: 1, q: 2 } }], { params: ['a'] }), /uses 'q', which is not a fitted parameter/);
    fails(() => fitLinear([{ id: 'x', target: 1, fixed: 0, usage: { a: 1 }, weight: -1 }], { params: ['a'] }), /weight is -1/);
    fails(() => fitLinear([{ id: 'x', target: 1, fixed: 0, usage: { a: 1 } }], { params: ['a', 'a'] }), /listed twice/);
  });
});
