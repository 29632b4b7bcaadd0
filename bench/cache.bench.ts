// Cache-model throughput: streaming copies and random dependent accesses through a
// lecture-like hierarchy (32 KiB 8-way L1D and 256 KiB 8-way L2 per CPU, 8 MiB
// 16-way shared L3, 64 B lines, 2 CPUs). Prints medians over repeats, wall time and
// process CPU time (the latter is steadier on a shared machine).
import { performance } from 'node:perf_hooks';
import type { CacheHierarchyConfig } from '../src/kernel/machine/cache-config.js';
import { AccessKind, CacheHierarchy } from '../src/kernel/machine/cache.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const geometry: CacheHierarchyConfig = {
  cpus: 2,
  levels: [
    { name: 'L1D', sizeBytes: 32 * KiB, ways: 8, lineBytes: 64, shared: false },
    { name: 'L2', sizeBytes: 256 * KiB, ways: 8, lineBytes: 64, shared: false },
    { name: 'L3', sizeBytes: 8 * MiB, ways: 16, lineBytes: 64, shared: true },
  ],
};
/** Lines served by each level and memory, summed over a run (the accessRange calls' tally). */
const served = new Float64Array(4);

const REPEATS = 7;

interface Timing {
  wall_ms: number;
  cpu_ms: number;
}

/** Runs `body` on a fresh hierarchy REPEATS times after one warm-up; returns the median wall and CPU times. */
function measure(setup: (h: CacheHierarchy) => void, body: (h: CacheHierarchy) => number): Timing & { walls: number[]; min_wall_ms: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  let sink = 0;
  for (let r = 0; r <= REPEATS; r++) {
    const h = new CacheHierarchy(geometry);
    setup(h);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    sink += body(h);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (r > 0) {
      walls.push(wall);
      cpus.push((c.user + c.system) / 1000);
    }
  }
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return { wall_ms: median(walls), cpu_ms: median(cpus), walls, min_wall_ms: Math.min(...walls) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const f1 = (x: number): string => x.toFixed(1);

function report(label: string, t: Timing & { walls: number[]; min_wall_ms: number }, accesses: number): void {
  const rate = (ms: number): string => f1(accesses / ms / 1000).padStart(5);
  console.log(
    `${label.padEnd(34)} median ${f1(t.wall_ms).padStart(6)} ms wall = ${rate(t.wall_ms)} M acc/s (cpu ${f1(t.cpu_ms).padStart(6)} ms)  best ${f1(t.min_wall_ms).padStart(6)} ms = ${rate(t.min_wall_ms)} M acc/s   runs ms: ${t.walls.map((x) => x.toFixed(0)).join(' ')}`,
  );
}

export default async function (): Promise<void> {
  const copyBytes = 16 * MiB;
  const src = 0x1_0000_0000; // above 2^32: line numbers, not 32-bit masks
  const dst = src + 64 * MiB;
  const copyLines = (2 * copyBytes) / 64;
  const none = (): void => {};

  console.log(`geometry: 2 CPUs; 32 KiB 8-way L1D + 256 KiB 8-way L2 per CPU; 8 MiB 16-way shared L3; 64 B lines`);
  console.log(`median of ${REPEATS} runs after 1 warm-up; "acc" = one line looked up through the hierarchy`);

  report(
    '16 MiB copy, two accessRange calls',
    measure(none, (h) => h.accessRange(0, src, copyBytes, AccessKind.Read, served) + h.accessRange(0, dst, copyBytes, AccessKind.Write, served)),
    copyLines,
  );
  report(
    '16 MiB copy, 4 KiB chunks',
    measure(none, (h) => {
      let c = 0;
      for (let off = 0; off < copyBytes; off += 4096) {
        c += h.accessRange(0, src + off, 4096, AccessKind.Read, served);
        c += h.accessRange(0, dst + off, 4096, AccessKind.Write, served);
      }
      return c;
    }),
    copyLines,
  );
  report(
    '16 MiB copy, access() per line',
    measure(none, (h) => {
      // interleaved line by line, as a copy loop (and src/kernel/cpu.ts copy()) issues them
      let c = 0;
      for (let off = 0; off < copyBytes; off += 64) {
        c += h.access(0, src + off, AccessKind.Read);
        c += h.access(0, dst + off, AccessKind.Write);
      }
      return c;
    }),
    copyLines,
  );
  report(
    '16 MiB zero-fill, non-temporal',
    measure(
      (h) => h.accessRange(0, dst, 1 * MiB, AccessKind.Read, served),
      (h) => h.accessRange(0, dst, copyBytes, AccessKind.WriteNonTemporal, served),
    ),
    copyBytes / 64,
  );

  // Random dependent accesses, 3 reads : 1 write, from a precomputed list.
  const randomAddrs = (n: number, footprint: number): Float64Array => {
    const a = new Float64Array(n);
    let x = 0x9e3779b9;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      a[i] = src + ((x >>> 0) % footprint);
    }
    return a;
  };
  const run = (addrs: Float64Array, cpuMask: number) => (h: CacheHierarchy) => {
    let c = 0;
    for (let i = 0; i < addrs.length; i++) c += h.access(i & cpuMask, addrs[i]!, (i & 3) === 3 ? AccessKind.Write : AccessKind.Read);
    return c;
  };
  // guard-word-like: a small hot set on one CPU, nearly all L1 hits
  const hot = randomAddrs(2_000_000, 16 * KiB);
  report('random access(), 16 KiB, 1 CPU', measure(none, run(hot, 0)), hot.length);
  // worst case: a footprint far larger than L3, both CPUs (writes invalidate the other CPU's copies)
  const cold = randomAddrs(1_000_000, 64 * MiB);
  report('random access(), 64 MiB, 2 CPUs', measure(none, run(cold, 1)), cold.length);
}
