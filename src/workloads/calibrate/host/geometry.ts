// The data caches of a host profile: what the CPU reports (/sys, else getconf's cpuid)
// and what one core measures (calibration/probes/cache-geometry.c's dependent loads).
// The probe's latency curve steps up where a level is full; each plateau is a level's
// load-to-use latency, the last one, far above the others, memory's. A reported size
// the probe agrees with (within a factor of 1.5) is kept; one it does not (a VM's L3
// shared with other guests, a hypervisor's made-up cpuid) gives way to the size one
// core sees. Without the probe, the reported sizes stand, with typical latencies.

import type { Param } from '../../../costmodel/param.js';
import type { CacheLevelProfile } from '../../../costmodel/profile.js';
import type { CacheProbe } from '../../../host/cache-probe.js';
import type { CacheInfo } from '../../../host/procfs.js';
import { sizeLabel } from '../../../host/stats.js';

/** A parameter assumed, with why. */
export const assumed = (value: number, unit: Param['unit'], note: string): Param => ({ value, unit, source: 'assumed', note });
/** A parameter measured, with where (and a note, if there is more to say). */
export const measured = (value: number, unit: Param['unit'], from: string, note?: string): Param => ({ value, unit, source: 'measured', from, ...(note ? { note } : {}) });

/** Load-to-use latencies of AMD Zen 2-4 and Intel Skylake-to-Sapphire Rapids, by level (vendor optimisation manuals). */
const HIT_CYCLES: Record<number, number> = { 1: 4, 2: 14, 3: 46 };
/** Associativity assumed where nothing reports it. */
const TYPICAL_WAYS: Record<number, number> = { 1: 8, 2: 8, 3: 16 };
/** A typical x86-64 where nothing reports caches. */
const TYPICAL_SIZES: Record<number, number> = { 1: 32 * 1024, 2: 512 * 1024, 3: 8 * 1024 * 1024 };
/** The points of one plateau stay within this factor of its median latency. */
const TOLERANCE = 1.3;
/** A plateau this slow (ns) is memory: no current cache level takes this long. */
const MEMORY_NS = 25;
/** A reported size above this, with no associativity and nothing to measure it, is not believed (one guest's cpuid said 508 MiB). */
const UNBELIEVED_BYTES = 256 * 1024 * 1024;
/** A reported size within this factor of the probe's knee is taken as confirmed. */
const AGREE = 1.5;

export interface Plateau {
  /** Median latency of its points (ns). */
  ns: number;
  /** Index of its first and last point. */
  first: number;
  last: number;
}

export interface LatencyLevels {
  /** Cache plateaus, L1 first, each with the size where the next level takes over (null for the last when the probe saw no more). */
  caches: (Plateau & { capacity: number | null })[];
  /** The memory plateau, when the probe reached it. */
  memory: Plateau | null;
}

/**
 * Plateaus of a latency curve (sizes ascending): runs of three or more points over at
 * least a doubling of size whose latencies stay within a factor TOLERANCE of the run's
 * median are levels (adjacent runs at the same latency, split by a noisy point, are
 * one; every run slower than MEMORY_NS is memory); the points between them are a level
 * filling up. A level's capacity is where the curve, two points in a row,
 * passes the geometric mean of its latency and the next level's.
 */
export function latencyLevels(points: readonly { bytes: number; ns: number }[]): LatencyLevels {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const runs: Plateau[] = [];
  for (let i = 0; i < points.length; ) {
    const ns = [points[i]!.ns];
    let j = i + 1;
    while (j < points.length && points[j]!.ns <= TOLERANCE * median(ns) && points[j]!.ns >= median(ns) / TOLERANCE) ns.push(points[j++]!.ns);
    const level = ns.length >= 3 && points[j - 1]!.bytes >= 2 * points[i]!.bytes;
    if (level) {
      const prev = runs.at(-1);
      if (prev && Math.max(prev.ns, median(ns)) <= TOLERANCE * Math.min(prev.ns, median(ns))) {
        runs[runs.length - 1] = { ns: median([prev.ns, median(ns)]), first: prev.first, last: j - 1 };
      } else runs.push({ ns: median(ns), first: i, last: j - 1 });
    }
    i = level ? j : i + 1;
  }
  // Everything this slow is memory: one level, whose latency grows a little with the set
  // (TLB reach, DRAM pages) and, on a busy machine, varies too much for a plateau; the
  // trailing points all this slow are memory too.
  let tail = points.length;
  while (tail > 0 && points[tail - 1]!.ns >= MEMORY_NS) tail--;
  const slowFirst = Math.min(tail, ...runs.filter((r) => r.ns >= MEMORY_NS).map((r) => r.first));
  const memory =
    points.length - slowFirst >= 2 ? { ns: median(points.slice(slowFirst).map((p) => p.ns).filter((ns) => ns >= MEMORY_NS)), first: slowFirst, last: points.length - 1 } : null;
  const cachesOnly = runs.filter((r) => r.ns < MEMORY_NS);
  const levels = [...cachesOnly, ...(memory ? [memory] : [])];
  const caches = cachesOnly.map((p, k) => {
    const next = levels[k + 1];
    if (!next) return { ...p, capacity: null };
    const threshold = Math.sqrt(p.ns * next.ns);
    for (let i = p.last + 1; i < points.length; i++) {
      if (points[i]!.ns > threshold && (i + 1 >= points.length || points[i + 1]!.ns > threshold)) {
        // Interpolate the crossing in log size between the last point below and this one.
        const a = points[i - 1]!;
        const b = points[i]!;
        const f = a.ns >= threshold ? 0 : (Math.log(threshold) - Math.log(a.ns)) / (Math.log(b.ns) - Math.log(a.ns));
        return { ...p, capacity: Math.round(Math.exp(Math.log(a.bytes) + f * (Math.log(b.bytes) - Math.log(a.bytes)))) };
      }
    }
    return { ...p, capacity: null };
  });
  return { caches, memory };
}

/** The size nearest `bytes` (in ratio) that `ways` ways of `line`-byte lines can hold with a power-of-two number of sets. */
function modelSize(bytes: number, ways: number, line: number): number {
  const sets = 2 ** Math.max(0, Math.round(Math.log2(bytes / (ways * line))));
  return sets * ways * line;
}

export interface Geometry {
  caches: CacheLevelProfile[];
  /** Memory's load latency, when the probe reached it. */
  memoryLatency: Param | null;
  notes: string[];
}

/**
 * The modelled data caches (L1D, L2, L3 at most) from the reported ones and the probe.
 * `clockHz` converts measured latencies to cycles.
 */
export function cacheGeometry(reported: readonly CacheInfo[] | null, source: string | null, probe: CacheProbe | null, clockHz: number): Geometry {
  const notes: string[] = [];
  const data = (reported ?? []).filter((c) => c.type !== 'Instruction' && c.level >= 1 && c.level <= 3);
  const from = source ?? 'the CPU';
  const lat = probe ? latencyLevels(probe.points.map((p) => ({ bytes: p.bytes, ns: p.load_ns[1] }))) : null;
  const probeFrom = probe ? `calibration/probes/cache-geometry.c (dependent loads over working sets of ${sizeLabel(probe.points[0]!.bytes)} to ${sizeLabel(probe.points.at(-1)!.bytes)}, lowest of ${probe.repeats} passes)` : '';
  let count = Math.max(data.length, lat?.caches.length ?? 0, data.length === 0 ? 3 : 0);
  if (!probe) notes.push('no cache probe: sizes as the CPU reports them (or a typical x86-64), latencies typical of current x86-64');
  else if (lat!.caches.length < count && lat!.memory) {
    // Past the last level it found, the probe's loads went to memory: one core has no more levels.
    notes.push(`the cache probe found ${lat!.caches.length} cache level(s) before memory where ${from} reports ${data.length}: the model has ${lat!.caches.length}`);
    count = lat!.caches.length;
  } else if (lat!.caches.length < count) notes.push(`the cache probe found ${lat!.caches.length} cache level(s) where ${from} reports ${data.length}: the others keep the reported geometry and typical latencies`);
  const caches: CacheLevelProfile[] = [];
  for (let level = 1; level <= Math.min(3, count); level++) {
    const r = data.find((c) => c.level === level);
    const p = lat?.caches[level - 1];
    const line = r?.line_bytes ?? 64;
    const ways = r?.ways ?? TYPICAL_WAYS[level]!;
    const waysParam = r?.ways ? measured(ways, 'count', from) : assumed(ways, 'count', r ? `${from} does not report it: typical of this level` : 'nothing reports caches here: typical of this level');
    let size: Param;
    if (p?.capacity != null && (!r || r.size_bytes > AGREE * p.capacity || r.size_bytes * AGREE < p.capacity)) {
      const bytes = modelSize(p.capacity, ways, line);
      size = measured(bytes, 'bytes', `${probeFrom}: latency steps up at ${sizeLabel(p.capacity)}`, r ? `${from} reports ${sizeLabel(r.size_bytes)}; one core sees ${sizeLabel(p.capacity)} (a shared or virtualised cache), modelled as ${sizeLabel(bytes)}` : `modelled as ${sizeLabel(bytes)}`);
    } else if (r && !p && r.ways === null && r.size_bytes > UNBELIEVED_BYTES) {
      size = assumed(TYPICAL_SIZES[level]!, 'bytes', `${from} reports ${sizeLabel(r.size_bytes)} with no associativity (a hypervisor's made-up cpuid leaf) and no cache probe measured it: a typical x86-64 size`);
    } else if (r) {
      const bytes = modelSize(r.size_bytes, ways, line);
      const agrees = p?.capacity != null ? `; the cache probe's latency steps up at ${sizeLabel(p.capacity)}` : '';
      size = measured(bytes, 'bytes', `${from}${agrees}`, bytes !== r.size_bytes ? `reported ${r.size_bytes} bytes, not a power-of-two number of ${ways}-way sets; modelled as ${bytes}` : undefined);
    } else {
      size = assumed(TYPICAL_SIZES[level]!, 'bytes', 'nothing reports or measures this level: a typical x86-64');
    }
    const hit = p ? measured(Number(((p.ns * clockHz) / 1e9).toPrecision(3)), 'cycles', `${probeFrom}: ${p.ns.toFixed(2)} ns per load on its plateau`) : assumed(HIT_CYCLES[level] ?? 46, 'cycles', 'typical load-to-use latency of this level on current x86-64 (vendor optimisation manuals); not measured');
    caches.push({
      name: level === 1 ? 'L1D' : `L${level}`,
      shared: r?.shared_cpu_list ? /[-,]/.test(r.shared_cpu_list) : level === 3,
      size_bytes: size,
      ways: waysParam,
      line_bytes: r?.line_bytes ? measured(line, 'bytes', from) : assumed(64, 'bytes', 'the x86-64 line'),
      hit_cycles: hit,
      stream_cycles_per_line: assumed(2 * level, 'cycles', 'placeholder: fitted from the copy path (read(2) of /dev/zero)'),
    });
  }
  const memoryLatency = lat?.memory ? measured(Number(lat.memory.ns.toPrecision(3)), 'ns', `${probeFrom}: the plateau beyond the last cache`) : null;
  return { caches, memoryLatency, notes };
}

/**
 * The last-level cache as one core sees it: when the read sweep runs at memory speed
 * from a size below what /sys reports (a VM's L3 shared with other guests, or split
 * per core complex), the largest size still read at cache speed is its effective
 * capacity. Returns null when the sweep shows no such knee.
 */
export function effectiveLlc(sweep: { size_bytes: number; ns: number }[], sysBytes: number, l2Bytes: number): { effective_bytes: number; evidence: string } | null {
  const pts = sweep.filter((p) => p.size_bytes >= 2 * l2Bytes && p.ns > 0).sort((a, b) => a.size_bytes - b.size_bytes);
  if (pts.length < 2) return null;
  const base = pts[0]!.ns / pts[0]!.size_bytes;
  const slow = (i: number) => pts[i]!.ns / pts[i]!.size_bytes > 2 * base;
  for (let i = 1; i < pts.length; i++) {
    const perByte = pts[i]!.ns / pts[i]!.size_bytes;
    // The knee: this size and every larger one at memory speed (one slow point alone may be noise).
    if (pts.slice(i).every((_, j) => slow(i + j))) {
      const fast = pts[i - 1]!.size_bytes;
      if (fast >= sysBytes) return null;
      return {
        effective_bytes: fast,
        evidence: `read sweep: ${sizeLabel(fast)} cleared at ${(pts[i - 1]!.ns / pts[i - 1]!.size_bytes * 64).toFixed(2)} ns/line, ${sizeLabel(pts[i]!.size_bytes)} at ${(perByte * 64).toFixed(2)} ns/line (memory speed); /sys reports ${sizeLabel(sysBytes)}`,
      };
    }
  }
  return null;
}
