// Running calibration/probes/cache-geometry.c (built with the machine's compiler,
// ./cc.ts): per working-set size, the latency of a dependent load, and the time of one
// read(2) from /dev/zero (the kernel's clear_user) and of one pread(2) of a cached file
// (its copy_to_user) through whatever level the set fits in.

import { runCProbe } from './cc.js';

export const CACHE_PROBE_SOURCE = 'calibration/probes/cache-geometry.c';

/** [median, lowest] of a probe's repeats. */
export type MedianMin = [median: number, min: number];

export interface CacheProbePoint {
  /** Working-set size. */
  bytes: number;
  /** ns per dependent load. */
  load_ns: MedianMin;
  /** ns per read(2) of `bytes` from /dev/zero into a resident buffer. */
  zero_ns: MedianMin;
  /** ns per pread(2) of `bytes` of a cached file into a resident buffer. */
  copy_ns: MedianMin;
}

export interface CacheProbe {
  compiler: string;
  line_bytes: number;
  page_bytes: number;
  repeats: number;
  pass_us: number;
  points: CacheProbePoint[];
}

export interface CacheProbeOptions {
  repeats: number;
  /** The largest working set, bytes. */
  maxBytes: number;
  /** Working-set sizes per doubling. */
  perDoubling: number;
  /** The shortest timed pass, microseconds. */
  passUs: number;
}

/** Build and run the probe; a string says why it did not run (no compiler, a failed build, no output). */
export function measureCacheProbe(o: CacheProbeOptions): CacheProbe | string {
  const run = runCProbe<Omit<CacheProbe, 'compiler'>>(CACHE_PROBE_SOURCE, [String(o.repeats), String(Math.ceil(o.maxBytes / 1024)), String(o.perDoubling), String(o.passUs)]);
  if (typeof run === 'string') return run;
  if (!Array.isArray(run.output.points) || run.output.points.length < 4) return 'the cache-geometry probe printed too few points';
  return { compiler: run.compiler, ...run.output };
}
