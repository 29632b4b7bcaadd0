// Reading and writing a profile's parameters by cost-term name, for calibration:
// a term is either a profile cost (costs.X) or a machine term (memory latency,
// first touch, a cache level's hit or stream cost). Values move in ps per
// occurrence and are stored in the parameter's own unit.

import { COSTS } from '../../costmodel/costs.js';
import type { Param } from '../../costmodel/param.js';

type RawProfile = Record<string, any>;

/** The parameter object of a term inside a raw (JSON) profile. */
export function termParam(raw: RawProfile, term: string): Param {
  if (term in COSTS) return raw.costs[term];
  const m = raw.machine;
  switch (term) {
    case 'first_touch':
      return m.first_touch_ns;
    case 'mem.latency':
      return m.memory.latency_ns;
    case 'mem.stream_read':
      return m.memory.stream_read_ns_per_line;
    case 'mem.stream_write':
      return m.memory.stream_write_ns_per_line;
    case 'tlb.miss':
      return m.tlb.miss_ns;
  }
  const [level, kind] = term.split('.');
  const cache = (m.caches as RawProfile[]).find((c) => c.name === level);
  if (cache && kind === 'hit') return cache.hit_cycles;
  if (cache && kind === 'stream') return cache.stream_cycles_per_line;
  throw new Error(`no profile parameter for cost term '${term}'`);
}

/** Picoseconds per unit of a parameter's value. */
export function psPerUnit(raw: RawProfile, p: Param): number {
  return p.unit === 'cycles' ? 1e12 / raw.machine.clock_hz.value : 1000;
}

/** Round to 4 significant digits: calibration output that reads well and diffs stably. */
export function sig4(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(4));
}

export function setFitted(raw: RawProfile, term: string, ps: number, meta: { from: string; residual: number | undefined; stderrPs: number | null; note?: string | undefined }): void {
  const p = termParam(raw, term);
  const scale = psPerUnit(raw, p);
  const fitted: Param = { value: sig4(ps / scale), unit: p.unit, source: 'fitted', from: meta.from };
  if (meta.residual !== undefined) fitted.residual = sig4(meta.residual);
  if (meta.stderrPs !== null) fitted.stderr = sig4(meta.stderrPs / scale);
  if (meta.note) fitted.note = meta.note;
  for (const key of Object.keys(p)) delete (p as unknown as Record<string, unknown>)[key];
  Object.assign(p, fitted);
}
