// Property tests: random access streams through CacheHierarchy against a small,
// obviously-correct reference model (arrays of MRU-ordered entries per set), and
// accessRange against per-line access().
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CacheHierarchyConfig } from '../src/kernel/machine/cache-config.js';
import { AccessKind, CacheHierarchy, type LevelStats, type MemoryStats } from '../src/kernel/machine/cache.js';

// ---- the reference model ----------------------------------------------------------
//
// Same documented semantics as cache.ts, written for clarity, not speed:
// lookup L1..Ln; a level that misses evicts its least recently used entry if the set
// is full (counting an eviction, and a writeback if dirty -- the dirty line then
// marks the nearest outer level holding it dirty, or goes to memory) and inserts the
// line as most recently used; a hit moves the entry to the front. A write dirties the
// L1 entry and removes the line from the other CPUs' private levels. A non-temporal
// write removes the line from every level and every CPU, allocating nothing.

interface Entry {
  line: number;
  dirty: boolean;
}

const kinds = [AccessKind.Read, AccessKind.Write, AccessKind.WriteNonTemporal] as const;
type Kind = (typeof kinds)[number];

function zero(): LevelStats {
  return { accesses: 0, hits: 0, misses: 0, evictions: 0, writebacks: 0, invalidations: 0 };
}

class RefLevel {
  /** instances[inst][set] = entries, most recently used first. */
  readonly instances: Entry[][][];
  readonly stats: LevelStats[];
  constructor(
    readonly sets: number,
    readonly ways: number,
    readonly shared: boolean,
    cpus: number,
  ) {
    this.instances = Array.from({ length: shared ? 1 : cpus }, () => Array.from({ length: sets }, () => []));
    this.stats = Array.from({ length: cpus }, zero);
  }
  set(cpu: number, line: number): Entry[] {
    return this.instances[this.shared ? 0 : cpu]![line % this.sets]!;
  }
}

class RefHierarchy {
  readonly levels: RefLevel[];
  readonly mem: MemoryStats = { reads: 0, writebacks: 0, nonTemporalWrites: 0 };
  lastServedBy = 0;
  constructor(readonly config: CacheHierarchyConfig) {
    this.levels = config.levels.map((l) => new RefLevel(l.sizeBytes / (l.ways * l.lineBytes), l.ways, l.shared, config.cpus));
  }
  get lineBytes(): number {
    return this.config.levels[0]!.lineBytes;
  }

  private writeBack(cpu: number, line: number, from: number): void {
    for (let k = from; k < this.levels.length; k++) {
      const e = this.levels[k]!.set(cpu, line).find((x) => x.line === line);
      if (e) {
        e.dirty = true;
        return;
      }
    }
    this.mem.writebacks++;
  }

  private remove(level: RefLevel, inst: number, line: number, statCpu: number): void {
    const set = level.instances[inst]![line % level.sets]!;
    const i = set.findIndex((x) => x.line === line);
    if (i < 0) return;
    level.stats[statCpu]!.invalidations++;
    if (set[i]!.dirty) level.stats[statCpu]!.writebacks++;
    set.splice(i, 1);
  }

  /** Returns the serving level (levels.length = memory). */
  line(cpu: number, line: number, kind: Kind): number {
    const n = this.levels.length;
    if (kind === AccessKind.WriteNonTemporal) {
      for (const L of this.levels) {
        if (L.shared) this.remove(L, 0, line, cpu);
        else for (let c = 0; c < this.config.cpus; c++) this.remove(L, c, line, c);
      }
      this.mem.nonTemporalWrites++;
      return (this.lastServedBy = n);
    }
    let served = n;
    for (let k = 0; k < n; k++) {
      const L = this.levels[k]!;
      const set = L.set(cpu, line);
      const st = L.stats[cpu]!;
      st.accesses++;
      const i = set.findIndex((x) => x.line === line);
      if (i >= 0) {
        st.hits++;
        set.unshift(...set.splice(i, 1));
        served = k;
        break;
      }
      st.misses++;
      if (set.length === L.ways) {
        const victim = set.pop()!;
        st.evictions++;
        if (victim.dirty) {
          st.writebacks++;
          this.writeBack(cpu, victim.line, k + 1);
        }
      }
      set.unshift({ line, dirty: false });
    }
    if (served === n) this.mem.reads++;
    if (kind === AccessKind.Write) {
      this.levels[0]!.set(cpu, line)[0]!.dirty = true;
      this.levels.forEach((L) => {
        if (!L.shared) for (let c = 0; c < this.config.cpus; c++) if (c !== cpu) this.remove(L, c, line, c);
      });
    }
    return (this.lastServedBy = served);
  }

  access(cpu: number, addr: number, kind: Kind): number {
    return this.line(cpu, Math.floor(addr / this.lineBytes), kind);
  }

  /** Lines served by each level (memory last). */
  accessRange(cpu: number, addr: number, bytes: number, kind: Kind): number[] {
    const served = new Array<number>(this.levels.length + 1).fill(0);
    const last = bytes === 0 ? -1 : Math.floor((addr + bytes - 1) / this.lineBytes);
    for (let line = Math.floor(addr / this.lineBytes); line <= last; line++) served[this.line(cpu, line, kind)]!++;
    return served;
  }

  whereIs(cpu: number, addr: number): number {
    const line = Math.floor(addr / this.lineBytes);
    const k = this.levels.findIndex((L) => L.set(cpu, line).some((x) => x.line === line));
    return k < 0 ? this.levels.length : k;
  }

  lineState(level: number, cpu: number, addr: number): { present: boolean; dirty: boolean } {
    const line = Math.floor(addr / this.lineBytes);
    const e = this.levels[level]!.set(cpu, line).find((x) => x.line === line);
    return { present: e !== undefined, dirty: e?.dirty ?? false };
  }
}

// ---- generators ---------------------------------------------------------------------

const arbLevel = (lineBytes: number) =>
  fc.record({
    sets: fc.constantFrom(1, 2, 3, 4, 8),
    ways: fc.integer({ min: 1, max: 5 }),
    shared: fc.boolean(),
  }).map((l) => ({ lineBytes, ...l }));

const arbConfig: fc.Arbitrary<CacheHierarchyConfig> = fc
  .record({
    cpus: fc.integer({ min: 1, max: 3 }),
    lineBytes: fc.constantFrom(16, 64),
    n: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ cpus, lineBytes, n }) =>
    fc.array(arbLevel(lineBytes), { minLength: n, maxLength: n }).map((ls) => ({
      cpus,
      levels: ls.map((l, i) => ({
        name: `L${i + 1}`,
        sizeBytes: l.sets * l.ways * l.lineBytes,
        ways: l.ways,
        lineBytes: l.lineBytes,
        shared: l.shared,
      })),
    })),
  );

/** A small pool of lines (so sets conflict and lines recur), some far above 2^32. */
const arbLineNo = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 }).map((i) => 2 ** 40 + i * 3) },
);

interface Op {
  cpu: number;
  line: number;
  offset: number;
  kind: Kind;
  /** undefined: access(); otherwise accessRange() with this many bytes. */
  bytes: number | undefined;
}

const arbOp = (cpus: number): fc.Arbitrary<Op> =>
  fc.record({
    cpu: fc.integer({ min: 0, max: cpus - 1 }),
    line: arbLineNo,
    offset: fc.integer({ min: 0, max: 15 }),
    kind: fc.constantFrom<Kind>(AccessKind.Read, AccessKind.Read, AccessKind.Write, AccessKind.WriteNonTemporal),
    bytes: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined, freq: 3 }),
  });

const arbScenario = arbConfig.chain((config) =>
  fc.record({
    config: fc.constant(config),
    ops: fc.array(arbOp(config.cpus), { minLength: 1, maxLength: 250 }),
    stampLimit: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined, freq: 3 }),
  }),
);

function addrOf(op: Op, lineBytes: number): number {
  return op.line * lineBytes + op.offset;
}

function snapshot(h: CacheHierarchy | RefHierarchy, config: CacheHierarchyConfig, lines: number[]): unknown {
  const lb = config.levels[0]!.lineBytes;
  const where: number[] = [];
  const state: string[] = [];
  for (let c = 0; c < config.cpus; c++)
    for (const line of lines) {
      where.push(h.whereIs(c, line * lb));
      for (let k = 0; k < config.levels.length; k++) {
        const s = h.lineState(k, c, line * lb);
        state.push(s.present ? (s.dirty ? 'D' : 'C') : '-');
      }
    }
  return { where, state: state.join('') };
}

function statsOf(h: CacheHierarchy): unknown {
  return { levels: h.statsByLevel().map((l) => l.perCpu), memory: h.memoryStats() };
}

function refStatsOf(r: RefHierarchy): unknown {
  return { levels: r.levels.map((l) => l.stats), memory: r.mem };
}

const poolLines = [...Array.from({ length: 41 }, (_, i) => i), ...Array.from({ length: 7 }, (_, i) => 2 ** 40 + i * 3)];

describe('CacheHierarchy against the reference model', () => {
  it('gives the same serving levels, contents and counters for random streams', () => {
    fc.assert(
      fc.property(arbScenario, ({ config, ops, stampLimit }) => {
        const h = new CacheHierarchy(config, stampLimit === undefined ? {} : { stampLimit });
        const r = new RefHierarchy(config);
        const lb = h.lineBytes;
        for (const op of ops) {
          const a = addrOf(op, lb);
          if (op.bytes === undefined) expect(h.access(op.cpu, a, op.kind)).toBe(r.access(op.cpu, a, op.kind));
          else {
            const got = new Array<number>(config.levels.length + 1).fill(0);
            h.accessRange(op.cpu, a, op.bytes, op.kind, got);
            expect(got).toEqual(r.accessRange(op.cpu, a, op.bytes, op.kind));
          }
          if (op.bytes !== 0) expect(h.lastServedBy).toBe(r.lastServedBy);
        }
        expect(statsOf(h)).toEqual(refStatsOf(r));
        expect(snapshot(h, config, poolLines)).toEqual(snapshot(r, config, poolLines));
        // and the totals are the per-CPU sums, accesses = hits + misses
        h.statsByLevel().forEach((l) => {
          expect(l.total.accesses).toBe(l.total.hits + l.total.misses);
          expect(l.total.evictions).toBe(l.perCpu.reduce((s, x) => s + x.evictions, 0));
        });
      }),
      { numRuns: 400 },
    );
  });

  it('accessRange has the same effects as access() per line and counts lines by serving level', () => {
    fc.assert(
      fc.property(arbScenario, ({ config, ops }) => {
        const counted = new CacheHierarchy(config);
        const single = new CacheHierarchy(config);
        const lb = counted.lineBytes;
        const n = config.levels.length;
        for (const op of ops) {
          const a = addrOf(op, lb);
          const bytes = op.bytes ?? 1 + op.offset * 37;
          const got = new Float64Array(n + 1);
          const lines = counted.accessRange(op.cpu, a, bytes, op.kind, got);
          const want = new Float64Array(n + 1);
          const last = bytes === 0 ? -1 : Math.floor((a + bytes - 1) / lb);
          for (let line = Math.floor(a / lb); line <= last; line++) {
            single.access(op.cpu, line * lb, op.kind);
            want[single.lastServedBy]!++;
          }
          expect(lines).toBe(bytes === 0 ? 0 : last - Math.floor(a / lb) + 1);
          expect([...got]).toEqual([...want]);
          if (bytes > 0) expect(counted.lastServedBy).toBe(single.lastServedBy);
        }
        expect(statsOf(counted)).toEqual(statsOf(single));
        expect(snapshot(counted, config, poolLines)).toEqual(snapshot(single, config, poolLines));
      }),
      { numRuns: 300 },
    );
  });
});
