// Known answers for the data-cache model (src/kernel/machine/cache.ts).
import { describe, expect, it } from 'vitest';
import { validateCacheHierarchyConfig, type CacheHierarchyConfig, type CacheLevelConfig } from '../src/kernel/machine/cache-config.js';
import { AccessKind, CacheHierarchy } from '../src/kernel/machine/cache.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const LINE = 64;

function level(name: string, sizeBytes: number, ways: number, shared: boolean): CacheLevelConfig {
  return { name, sizeBytes, ways, lineBytes: LINE, shared };
}

const L1D = level('L1D', 32 * KiB, 8, false);
const L2 = level('L2', 256 * KiB, 8, false);
const L3 = level('L3', 8 * MiB, 16, true);

/** Lecture-like: 32 KiB 8-way L1D and 256 KiB 8-way L2 per CPU, 8 MiB 16-way shared L3. */
function lectureLike(cpus = 2): CacheHierarchy {
  return new CacheHierarchy({ cpus, levels: [L1D, L2, L3] });
}

/** accessRange(): the lines of the range served by each level (memory last). */
function range(h: CacheHierarchy, cpu: number, addr: number, bytes: number, kind: AccessKind): number[] {
  const served = new Array<number>(h.levelCount + 1).fill(0);
  h.accessRange(cpu, addr, bytes, kind, served);
  return served;
}

/** Reads every line of [addr, addr+bytes) with dependent accesses; returns how many were served by each level. */
function readPass(h: CacheHierarchy, cpu: number, addr: number, bytes: number): number[] {
  const served = new Array<number>(h.levelCount + 1).fill(0);
  for (let a = addr; a < addr + bytes; a += h.lineBytes) {
    h.access(cpu, a, AccessKind.Read);
    served[h.lastServedBy]!++;
  }
  return served;
}

function expectCountersAddUp(h: CacheHierarchy): void {
  const byLevel = h.statsByLevel();
  for (let k = 0; k < byLevel.length; k++) {
    const lv = byLevel[k]!;
    for (const s of [...lv.perCpu, lv.total]) expect(s.accesses).toBe(s.hits + s.misses);
    for (let c = 0; c < h.cpus; c++) {
      // misses at level k are the lookups of level k+1 (per requesting CPU), and of memory after the last level
      const next = k + 1 < byLevel.length ? byLevel[k + 1]!.perCpu[c]!.accesses : undefined;
      if (next !== undefined) expect(lv.perCpu[c]!.misses).toBe(next);
    }
  }
  expect(byLevel[byLevel.length - 1]!.total.misses).toBe(h.memoryStats().reads);
}

describe('CacheHierarchy: known answers', () => {
  it('a second pass over a buffer half the L1 size hits entirely in L1', () => {
    const h = lectureLike();
    const base = 0x10_0000;
    const first = readPass(h, 0, base, 16 * KiB);
    expect(first[h.levelCount]).toBe((16 * KiB) / LINE); // cold: all from memory
    h.resetStats();
    const second = readPass(h, 0, base, 16 * KiB);
    expect(second[0]).toBe((16 * KiB) / LINE);
    expect(h.stats(0, 0)).toMatchObject({ accesses: 256, hits: 256, misses: 0, evictions: 0 });
    expect(h.stats(1).accesses).toBe(0);
    // streaming the same way is served by L1 too
    expect(range(h, 0, base, 16 * KiB, AccessKind.Read)).toEqual([256, 0, 0, 0]);
  });

  it('a pass over a buffer twice the L2 size (no larger level) misses on every line of the second pass (LRU)', () => {
    const h = new CacheHierarchy({ cpus: 1, levels: [L1D, L2] });
    const bytes = 2 * L2.sizeBytes;
    readPass(h, 0, 0, bytes);
    h.resetStats();
    const second = readPass(h, 0, 0, bytes);
    const lines = bytes / LINE;
    expect(second).toEqual([0, 0, lines]);
    expect(h.stats(0)).toMatchObject({ accesses: lines, hits: 0, misses: lines, evictions: lines });
    expect(h.stats(1)).toMatchObject({ accesses: lines, hits: 0, misses: lines, evictions: lines });
    // and the streaming form finds every line in memory too
    expect(range(h, 0, 0, bytes, AccessKind.Read)).toEqual([0, 0, lines]);
  });

  it('addresses mapping to one set, more of them than ways, evict each other', () => {
    const oneLevel = (ways: number): CacheHierarchy =>
      new CacheHierarchy({ cpus: 1, levels: [level('L1D', 4 * KiB, ways, false)] });
    // direct-mapped: two addresses one cache size apart share the set
    const dm = oneLevel(1);
    const a = 0x1000;
    const b = a + 4 * KiB;
    for (let round = 0; round < 4; round++) {
      expect(dm.access(0, a, AccessKind.Read)).toBe(1); // memory
      expect(dm.access(0, b, AccessKind.Read)).toBe(1);
    }
    expect(dm.stats(0)).toMatchObject({ accesses: 8, hits: 0, misses: 8, evictions: 7 });
    // 4-way: five lines of one set, cycled, always miss under LRU; four fit and then hit
    const h = oneLevel(4);
    const setStride = 4 * KiB / 4; // sets * line
    const five = [0, 1, 2, 3, 4].map((i) => 0x40 + i * setStride);
    for (let round = 0; round < 3; round++) for (const x of five) h.access(0, x, AccessKind.Read);
    expect(h.stats(0)).toMatchObject({ hits: 0, misses: 15, evictions: 11 });
    h.resetStats();
    h.invalidateAll();
    for (let round = 0; round < 3; round++) for (const x of five.slice(0, 4)) h.access(0, x, AccessKind.Read);
    expect(h.stats(0)).toMatchObject({ hits: 8, misses: 4, evictions: 0 });
  });

  it('counters add up at every level and per CPU', () => {
    const h = lectureLike(2);
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const cpu = x & 1;
      const addr = (x % (4 * MiB)) + (cpu ? 2 ** 40 : 0);
      h.access(cpu, addr, x % 5 === 0 ? AccessKind.Write : AccessKind.Read);
      if (i % 1000 === 0) range(h, cpu, addr, 64 * KiB, i % 2000 ? AccessKind.Read : AccessKind.Write);
    }
    expectCountersAddUp(h);
    const t = h.stats(0);
    expect(t.accesses).toBeGreaterThan(20_000);
    expect(t.hits).toBeGreaterThan(0);
    expect(t.misses).toBeGreaterThan(0);
    expect(h.stats(0, 0).accesses + h.stats(0, 1).accesses).toBe(t.accesses);
  });

  it('a flag word read right after a 10 MiB copy misses; read again it hits', () => {
    const h = lectureLike();
    const flagAddr = 0xf800_0012_3440; // a kernel-ish address above 2^32
    h.access(0, flagAddr, AccessKind.Read);
    expect(h.access(0, flagAddr, AccessKind.Read)).toBe(0);
    expect(h.lastServedBy).toBe(0);
    const src = 0x2000_0000;
    const dst = 0x4000_0000;
    const bytes = 10 * MiB;
    for (let off = 0; off < bytes; off += 4096) {
      range(h, 0, src + off, 4096, AccessKind.Read);
      range(h, 0, dst + off, 4096, AccessKind.Write);
    }
    expect(h.access(0, flagAddr, AccessKind.Read)).toBe(h.levelCount);
    expect(h.lastServedBy).toBe(h.levelCount);
    expect(h.access(0, flagAddr, AccessKind.Read)).toBe(0);
    expect(h.lastServedBy).toBe(0);
  });

  it('a copy smaller than L2 evicts the flag from L1 only', () => {
    const h = lectureLike();
    h.access(0, 0x100, AccessKind.Read);
    range(h, 0, 0x10_0000, 64 * KiB, AccessKind.Read);
    expect(h.whereIs(0, 0x100)).toBe(1);
    expect(h.access(0, 0x100, AccessKind.Read)).toBe(1);
  });

  it('WriteNonTemporal leaves lines absent everywhere and allocates nothing', () => {
    const h = lectureLike(2);
    const buf = 0x80_0000;
    range(h, 0, buf, 8 * KiB, AccessKind.Write); // present and dirty on CPU 0
    range(h, 1, buf, 4 * KiB, AccessKind.Read); // and half of it on CPU 1
    expect(h.whereIs(0, buf)).toBe(0);
    expect(h.whereIs(1, buf)).toBe(0);
    h.resetStats();
    expect(range(h, 0, buf, 8 * KiB, AccessKind.WriteNonTemporal)).toEqual([0, 0, 0, 128]);
    expect(h.lastServedBy).toBe(h.levelCount);
    for (let a = buf; a < buf + 8 * KiB; a += LINE) {
      expect(h.whereIs(0, a)).toBe(h.levelCount);
      expect(h.whereIs(1, a)).toBe(h.levelCount);
    }
    expect(h.memoryStats().nonTemporalWrites).toBe(128);
    // NT stores are not lookups
    for (let k = 0; k < h.levelCount; k++) expect(h.stats(k).accesses).toBe(0);
    // what they removed: 128 lines in CPU 0's L1/L2 and L3, 64 in CPU 1's L1/L2 (already in L3)
    expect(h.stats(0, 0).invalidations).toBe(128);
    expect(h.stats(0, 1).invalidations).toBe(64);
    expect(h.stats(2).invalidations).toBe(128);
    // the CPU 0 L1 copies were dirty (written) -> writebacks counted where they were dropped
    expect(h.stats(0, 0).writebacks).toBe(128);
    // on absent lines: nothing allocated, nothing counted but the write
    const fresh = new CacheHierarchy({ cpus: 1, levels: [L1D] });
    expect(fresh.access(0, 0x40, AccessKind.WriteNonTemporal)).toBe(1); // memory
    expect(fresh.whereIs(0, 0x40)).toBe(1);
    expect(fresh.stats(0)).toMatchObject({ accesses: 0, evictions: 0, invalidations: 0 });
  });

  it('write-back: a dirty line evicted from L1 marks its L2 copy dirty; evicted from the last level it goes to memory', () => {
    const h = new CacheHierarchy({ cpus: 1, levels: [level('L1D', 1 * KiB, 1, false), level('L2', 4 * KiB, 1, false)] });
    h.access(0, 0, AccessKind.Write);
    expect(h.lineState(0, 0, 0)).toEqual({ present: true, dirty: true });
    expect(h.lineState(1, 0, 0)).toEqual({ present: true, dirty: false });
    h.access(0, 1 * KiB, AccessKind.Read); // same L1 set, different L2 set
    expect(h.stats(0)).toMatchObject({ evictions: 1, writebacks: 1 });
    expect(h.lineState(0, 0, 0).present).toBe(false);
    expect(h.lineState(1, 0, 0)).toEqual({ present: true, dirty: true });
    expect(h.memoryStats().writebacks).toBe(0);
    h.access(0, 4 * KiB, AccessKind.Read); // same L1 and L2 set as line 0
    expect(h.stats(1)).toMatchObject({ evictions: 1, writebacks: 1 });
    expect(h.memoryStats().writebacks).toBe(1);
    expect(h.whereIs(0, 0)).toBe(2);
  });

  it('a write on one CPU invalidates the other CPU private copies; shared levels keep theirs', () => {
    const h = lectureLike(2);
    h.access(0, 0x5000, AccessKind.Read);
    h.access(1, 0x5000, AccessKind.Read);
    expect(h.whereIs(0, 0x5000)).toBe(0);
    h.access(1, 0x5000, AccessKind.Write);
    expect(h.whereIs(0, 0x5000)).toBe(2); // only the shared L3 copy is left for CPU 0
    expect(h.stats(0, 0).invalidations).toBe(1);
    expect(h.stats(1, 0).invalidations).toBe(1);
    expect(h.access(0, 0x5000, AccessKind.Read)).toBe(2); // L3
  });

  it('serves each line from the level that holds it, and counts a range line by line', () => {
    const h = lectureLike(1);
    expect(h.access(0, 0x123, AccessKind.Read)).toBe(h.levelCount);
    expect(h.access(0, 0x100, AccessKind.Read)).toBe(0); // same 64 B line
    // a range straddling lines touches each overlapping line once: 0x13f..0x140 = 2 lines
    h.resetStats();
    expect(range(h, 0, 0x13f, 2, AccessKind.Read)).toEqual([1, 0, 0, 1]);
    expect(h.stats(0).accesses).toBe(2);
    const served = [0, 0, 0, 0];
    expect(h.accessRange(0, 0x200, 0, AccessKind.Write, served)).toBe(0);
    expect(served).toEqual([0, 0, 0, 0]);
    expect(h.stats(0).accesses).toBe(2);
    expect(h.accessRange(0, 0x1000, 64, AccessKind.Write, served)).toBe(1);
    expect(served).toEqual([0, 0, 0, 1]);
  });

  it('handles addresses far above 2^32 (line numbers, not 32-bit masks)', () => {
    const h = lectureLike(1);
    const hi = 2 ** 47 + 0x40;
    const alias = 0x40; // same low 32 bits
    h.access(0, hi, AccessKind.Read);
    expect(h.whereIs(0, alias)).toBe(h.levelCount);
    h.access(0, alias, AccessKind.Read);
    expect(h.access(0, hi, AccessKind.Read)).toBe(0);
    expect(h.access(0, 2 ** 48 - 1, AccessKind.Read)).toBe(h.levelCount);
    expect(h.whereIs(0, 2 ** 48 - 64)).toBe(0);
  });

  it('invalidateAll makes the caches cold; resetStats zeroes counters but keeps lines', () => {
    const h = lectureLike();
    range(h, 0, 0, 4 * KiB, AccessKind.Write);
    h.resetStats();
    expect(h.stats(0)).toEqual({ accesses: 0, hits: 0, misses: 0, evictions: 0, writebacks: 0, invalidations: 0 });
    expect(h.memoryStats()).toEqual({ reads: 0, writebacks: 0, nonTemporalWrites: 0 });
    expect(h.whereIs(0, 0)).toBe(0);
    h.invalidateAll();
    expect(h.whereIs(0, 0)).toBe(h.levelCount);
    expect(h.access(0, 0, AccessKind.Read)).toBe(h.levelCount);
  });

  it('statsByLevel names the levels and reports per CPU and in total', () => {
    const h = lectureLike(2);
    h.access(0, 0, AccessKind.Read);
    h.access(1, 0, AccessKind.Read);
    h.access(1, 64, AccessKind.Read);
    const s = h.statsByLevel();
    expect(s.map((x) => x.name)).toEqual(['L1D', 'L2', 'L3']);
    expect(s[0]!.perCpu.map((x) => x.accesses)).toEqual([1, 2]);
    expect(s[0]!.total.misses).toBe(3);
    expect(s[2]!.perCpu.map((x) => x.hits)).toEqual([0, 1]); // CPU 1 found CPU 0's line in the shared L3
    expect(s[2]!.total).toMatchObject({ accesses: 3, hits: 1, misses: 2 });
    expect(h.levelNames).toEqual(['L1D', 'L2', 'L3']);
  });

  it('renumbering the LRU stamps does not change any decision', () => {
    const run = (stampLimit?: number): unknown[] => {
      const h = new CacheHierarchy({ cpus: 2, levels: [level('L1D', 1 * KiB, 4, false), level('L2', 4 * KiB, 4, true)] }, stampLimit === undefined ? {} : { stampLimit });
      const out: unknown[] = [];
      let x = 7;
      for (let i = 0; i < 5000; i++) {
        x = (x * 48271) % 2147483647;
        out.push(h.access(x & 1, (x % 97) * 64, x % 3 === 0 ? AccessKind.Write : AccessKind.Read));
      }
      out.push(h.statsByLevel(), h.memoryStats());
      return out;
    };
    expect(run(3)).toEqual(run());
    expect(run(17)).toEqual(run());
  });
});

describe('CacheHierarchy: configuration and argument checks', () => {
  const good: CacheHierarchyConfig = { cpus: 2, levels: [L1D, L2, L3] };
  const withLevel = (i: number, patch: Partial<CacheLevelConfig>): CacheHierarchyConfig => ({
    ...good,
    levels: good.levels.map((l, j) => (j === i ? { ...l, ...patch } : l)),
  });

  it('accepts the lecture-like geometry and non-power-of-two ways/sets', () => {
    expect(() => validateCacheHierarchyConfig(good)).not.toThrow();
    // 48 KiB 12-way L1D, 30 MiB 20-way L3: real parts
    expect(() => new CacheHierarchy(withLevel(0, { sizeBytes: 48 * KiB, ways: 12 }))).not.toThrow();
    const h = new CacheHierarchy(withLevel(2, { sizeBytes: 30 * MiB, ways: 20 }));
    range(h, 0, 0, 1 * MiB, AccessKind.Read);
    // 1 MiB is larger than L2: the first 16 KiB now come from the 20-way L3
    expect(range(h, 0, 0, 16 * KiB, AccessKind.Read)).toEqual([0, 0, 256, 0]);
  });

  it.each([
    [withLevel(1, { lineBytes: 48 }), /^levels\[1\]\.lineBytes: 48 is not a power of two/],
    [withLevel(1, { lineBytes: 128 }), /^levels\[1\]\.lineBytes: .*differs/],
    [withLevel(0, { sizeBytes: 1000 }), /^levels\[0\]\.sizeBytes: .*sets/],
    [withLevel(0, { ways: 0 }), /^levels\[0\]\.ways: /],
    [withLevel(2, { ways: 2.5 }), /^levels\[2\]\.ways: /],
    [withLevel(0, { shared: 'yes' as unknown as boolean }), /^levels\[0\]\.shared: /],
    [withLevel(0, { name: '' }), /^levels\[0\]\.name: /],
    [{ ...good, cpus: 0 }, /^cpus: /],
    [{ ...good, levels: [] }, /^levels: /],
  ])('rejects a bad field (%#)', (config, message) => {
    expect(() => new CacheHierarchy(config)).toThrow(message);
  });

  it('rejects CPUs, addresses and lengths out of range', () => {
    const h = new CacheHierarchy(good);
    expect(() => h.access(2, 0, AccessKind.Read)).toThrow(/^cpu: /);
    expect(() => h.access(-1, 0, AccessKind.Read)).toThrow(/^cpu: /);
    expect(() => h.access(0, -64, AccessKind.Read)).toThrow(/^addr: /);
    expect(() => range(h, 0, 0, -1, AccessKind.Read)).toThrow(/^bytes: /);
    expect(() => h.accessRange(0, 0, 64, AccessKind.Read, [0, 0])).toThrow(/^served: /);
    expect(() => h.stats(3)).toThrow(/^level: /);
    expect(() => h.stats(0, 5)).toThrow(/^cpu: /);
  });
});
