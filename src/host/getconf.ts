// getconf(1), for the cache geometry when /sys has none (some VMs): glibc answers
// _SC_LEVEL1_DCACHE_SIZE and the rest from the CPU's own cpuid leaves, so it works
// where the kernel exposes no cache directory. What the CPU reports under a
// hypervisor is what the hypervisor lets it say: sizes are taken as reported, and
// l41sim's cache probe measures what one core actually sees.

import { spawnSync } from 'node:child_process';
import type { CacheInfo } from './procfs.js';

const LEVELS: [key: string, level: number, type: string][] = [
  ['LEVEL1_DCACHE', 1, 'Data'],
  ['LEVEL1_ICACHE', 1, 'Instruction'],
  ['LEVEL2_CACHE', 2, 'Unified'],
  ['LEVEL3_CACHE', 3, 'Unified'],
  ['LEVEL4_CACHE', 4, 'Unified'],
];

/** Parse `getconf -a`: the caches it gives a size for, L1 first. Associativity 0 (unreported) is null. */
export function parseGetconfCaches(text: string): CacheInfo[] {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(LEVEL\d_[ID]?CACHE_(?:SIZE|ASSOC|LINESIZE))\s+(\d+)\s*$/.exec(line);
    if (m) values.set(m[1]!, Number(m[2]));
  }
  const out: CacheInfo[] = [];
  for (const [key, level, type] of LEVELS) {
    const size = values.get(`${key}_SIZE`);
    if (!size) continue;
    const ways = values.get(`${key}_ASSOC`) || null;
    const line = values.get(`${key}_LINESIZE`) || null;
    out.push({ level, type, size_bytes: size, ways, line_bytes: line, sets: ways && line ? size / (ways * line) : null, shared_cpu_list: null });
  }
  return out;
}

/** The caches `getconf -a` reports, or null when getconf is missing or reports none. */
export function readGetconfCaches(): CacheInfo[] | null {
  const r = spawnSync('getconf', ['-a'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  const caches = parseGetconfCaches(r.stdout);
  return caches.length > 0 ? caches : null;
}
