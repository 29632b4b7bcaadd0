// Reading and writing a profile's parameters by cost-term name, for calibration:
// a term is either a profile cost (costs.X) or a machine term (memory latency,
// first touch, a cache level's hit or stream cost). Values move in ps per
// occurrence and are stored in the parameter's own unit.

import { COSTS } from '../../costmodel/costs.js';
import type { Param } from '../../costmodel/param.js';
import type { Profile } from '../../costmodel/profile.js';

type RawProfile = Record<string, any>;

/** Where a term's parameter sits in a profile: the keys from the top down to the parameter. */
export function termPath(profile: Profile | RawProfile, term: string): (string | number)[] {
  if (term in COSTS) return ['costs', term];
  switch (term) {
    case 'first_touch':
      return ['machine', 'first_touch_ns'];
    case 'mem.latency':
      return ['machine', 'memory', 'latency_ns'];
    case 'mem.stream_read':
      return ['machine', 'memory', 'stream_read_ns_per_line'];
    case 'mem.stream_write':
      return ['machine', 'memory', 'stream_write_ns_per_line'];
    case 'tlb.miss':
      return ['machine', 'tlb', 'miss_ns'];
  }
  const [level, kind] = term.split('.');
  const i = (profile.machine.caches as { name: string }[]).findIndex((c) => c.name === level);
  if (i >= 0 && kind === 'hit') return ['machine', 'caches', i, 'hit_cycles'];
  if (i >= 0 && kind === 'stream') return ['machine', 'caches', i, 'stream_cycles_per_line'];
  throw new Error(`no profile parameter for cost term '${term}'`);
}

/** The parameter object of a term inside a profile (typed, or raw JSON). */
export function termParam(profile: Profile | RawProfile, term: string): Param {
  return termPath(profile, term).reduce((at: any, key) => at[key], profile) as Param;
}

/** A copy of `profile` with the term's parameter replaced (everything else shared, keys in their order). */
export function withTerm<P extends Profile>(profile: P, term: string, param: Param): P {
  const put = (at: any, path: (string | number)[]): any => {
    if (path.length === 0) return param;
    const [key, ...rest] = path as [string | number, ...(string | number)[]];
    if (Array.isArray(at)) return at.map((v, i) => (i === key ? put(v, rest) : v));
    return { ...at, [key]: put(at[key], rest) };
  };
  return put(profile, termPath(profile, term)) as P;
}

/** Picoseconds per unit of a parameter's value. */
export function psPerUnit(raw: Profile | RawProfile, p: Param): number {
  return p.unit === 'cycles' ? 1e12 / raw.machine.clock_hz.value : 1000;
}

/** Round to 4 significant digits: calibration output that reads well and diffs stably. */
export function sig4(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(4));
}

/** Replace a term's parameter with a fitted value (in its own unit) and its provenance. */
export function setFitted(raw: RawProfile, term: string, value: number, meta: { from: string; residual: number | undefined; stderr: number | null; note?: string | undefined }): void {
  const p = termParam(raw, term);
  const fitted: Param = { value, unit: p.unit, source: 'fitted', from: meta.from };
  if (meta.residual !== undefined) fitted.residual = sig4(meta.residual);
  if (meta.stderr !== null) fitted.stderr = sig4(meta.stderr);
  if (meta.note) fitted.note = meta.note;
  for (const key of Object.keys(p)) delete (p as unknown as Record<string, unknown>)[key];
  Object.assign(p, fitted);
}

/** Picoseconds per unit of a calibration row: ns, us and s rows are times; counts have no unit cost. */
export const PS_PER_ROW_UNIT: Record<string, number> = { ns: 1e3, us: 1e6, s: 1e12 };

/**
 * A row's usage of the fitted terms as the protocol wants it, d(row value)/d(parameter) in
 * the row's unit per the parameter's unit, from the meter's occurrence counts over the
 * row's interval. `modelled` is the row's value as the model prints it (a DTrace interval
 * in whole ns, time(1)'s share of the run): the usage is scaled by its ratio to the
 * metered time, so that the row is exactly the sum of its terms.
 */
export function usageOf(raw: RawProfile, book: { names: readonly string[]; psPer: readonly number[] }, counts: Float64Array, terms: readonly string[], rowUnit: string, modelled: number): Record<string, number> {
  const out: Record<string, number> = {};
  const psPerRow = PS_PER_ROW_UNIT[rowUnit];
  if (psPerRow === undefined) return out;
  const metered = counts.reduce((a, n, i) => a + n * book.psPer[i]!, 0);
  const share = metered > 0 ? (modelled * psPerRow) / metered : 1;
  for (const term of terms) {
    const i = book.names.indexOf(term);
    const n = i < 0 ? 0 : counts[i]!;
    if (n !== 0) out[term] = (n * psPerUnit(raw, termParam(raw, term)) * share) / psPerRow;
  }
  return out;
}

/** Set fitted terms' values (in their own units) on a raw profile, for a trial run. */
export function setValues(raw: RawProfile, values: Readonly<Record<string, number>>): void {
  for (const [term, v] of Object.entries(values)) termParam(raw, term).value = v;
}
