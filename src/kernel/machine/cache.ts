// The modelled data-cache hierarchy: real sets, ways and LRU replacement, per level,
// per CPU where the level is private.
//
// What is modelled, and what is not (each choice is the simplest one that keeps the
// lecture's question -- "is the flag word still in the cache after a big copy?" --
// answered by the model rather than assumed):
//
// - Lookup: a cacheable access looks up level 0 (L1), then 1, ... then memory. The
//   first level holding the line serves it. Only that level's LRU state is updated;
//   a hit in L1 does not refresh the line's age in L2/L3 (real hardware does not see
//   L1 hits outside the core either).
// - Fill ("mostly inclusive"): the line is filled into every level that missed. Each
//   level takes it as soon as it misses (innermost first), so a dirty victim's
//   writeback reaches the outer levels before they are looked up for the new line;
//   this order only matters for which level a writeback lands in, never for hits,
//   misses or cycles. An eviction from an outer level does NOT
//   back-invalidate inner levels: that keeps the model one pass per access, and for
//   a single CPU every line reaching an outer level also went through the inner ones,
//   so the difference only shows for lines that are hot in L1 while aging out of a
//   shared outer level -- a second-order effect for the workloads modelled here.
//   Likewise an L1 copy may outlive its L2 copy (non-inclusive in that direction).
// - Replacement: true LRU within a set (per-way age stamps; an empty way is always
//   used before a valid line is evicted).
// - Write policy: write-back, write-allocate. A write makes the level-0 copy dirty;
//   outer copies keep their own dirty bits. Evicting a dirty line counts a writeback
//   at the evicting level and marks the line dirty in the nearest outer level that
//   still holds it (without touching its LRU state or counting an access there); if
//   none does, it counts a writeback to memory (memoryStats()). Writebacks are not
//   priced: write buffers absorb them for dependent loads, and for streaming writes
//   the memory stream-write cost per line already accounts for the bandwidth the
//   eventual writeback uses.
// - Coherence (cpus > 1): a Write invalidates the line in the other CPUs' private
//   levels (write-invalidate, as MESI does); a dirty copy invalidated that way counts
//   a writeback at its level (its data goes to the writer) and nothing else. Reads
//   share freely. The invalidation itself is not priced.
// - Non-temporal writes (AccessKind.WriteNonTemporal, amd64's movnti in pagezero):
//   not a cache lookup. The line is invalidated at every level and in every CPU's
//   private levels if present (counted in `invalidations`, plus a writeback if it
//   was dirty), nothing is allocated, and memory serves the store. It counts in no
//   level's accesses/hits/misses, so at every level
//   accesses = hits + misses and misses(i) = accesses(i+1) hold exactly; it counts in
//   memoryStats().nonTemporalWrites.
// - Cost: this model answers which level served each access; the CPU (../cpu.ts)
//   prices it from the profile's latency and streaming cost of that level.
// - Statistics: every level keeps counters per CPU. For a private level the counters
//   of CPU c are those of c's instance; for a shared level they are the events caused
//   by CPU c's accesses (evictions and writebacks included). total = sum over CPUs.
//
// Speed: tags, ages and dirty bits are flat typed arrays indexed
// (instance * sets + set) * ways + way; an access allocates nothing. Line numbers
// (address / line size) are held as doubles, so addresses up to 2^53 are exact; no
// 32-bit bit operations are applied to addresses. accessRange() runs the same
// per-line lookup as access() (no separate bulk algorithm), so the two agree by
// construction; at ~3-10 M lines/s a 16 MiB copy (2 x 262144 lines) takes ~0.1 s
// (bench/cache.bench.ts, bench/RESULTS.md).

import { validateCacheHierarchyConfig, type CacheHierarchyConfig } from './cache-config.js';
import { EMPTY, EVICT, HIT, INVAL, Level, MISS, NSTAT, WB } from './cache-level.js';

/** What an access does to the line. */
export const enum AccessKind {
  /** A load: looks the line up and allocates it on a miss. */
  Read = 0,
  /** A store: write-allocate, marks the level-0 copy dirty, invalidates other CPUs' private copies. */
  Write = 1,
  /** A streaming store that bypasses the caches (amd64 pagezero's movnti): invalidates the line at every level if present, is served by memory, allocates nothing. */
  WriteNonTemporal = 2,
}

/** Counters of one level (for one CPU or in total). accesses = hits + misses always. */
export interface LevelStats {
  /** Cacheable lookups that reached this level. */
  accesses: number;
  hits: number;
  misses: number;
  /** Valid lines replaced by a fill. */
  evictions: number;
  /** Dirty lines that left this level (evicted or invalidated). */
  writebacks: number;
  /** Lines removed by another CPU's write or by a non-temporal write (not counted as evictions). */
  invalidations: number;
}

/** Traffic that reached memory. */
export interface MemoryStats {
  /** Cacheable lookups served by memory (= misses at the last level). */
  reads: number;
  /** Dirty lines evicted with no outer level holding them. */
  writebacks: number;
  /** Lines written by non-temporal stores. */
  nonTemporalWrites: number;
}

/** Lines per chunk of CacheHierarchy.filledChunks (a 4 KiB page of 64-byte lines). */
const CHUNK_LINES = 64;
/** LRU stamps are int32; the clock is renumbered before it passes this. */
const MAX_STAMP = 0x7fff_fff0;

/** Knobs that do not change the model's behaviour. */
export interface CacheHierarchyOptions {
  /** Renumber LRU stamps when a level's clock reaches this (default ~2^31). Small values exercise renumbering in tests. */
  stampLimit?: number;
}

function statsAt(a: Float64Array, off: number): LevelStats {
  return {
    accesses: a[off + HIT]! + a[off + MISS]!,
    hits: a[off + HIT]!,
    misses: a[off + MISS]!,
    evictions: a[off + EVICT]!,
    writebacks: a[off + WB]!,
    invalidations: a[off + INVAL]!,
  };
}

/**
 * A set-associative, LRU, write-back data-cache hierarchy shared by `cpus` CPUs,
 * answering for each access which level served it.
 */
export class CacheHierarchy {
  /** Line size in bytes, common to all levels. */
  readonly lineBytes: number;
  /** Number of CPUs. */
  readonly cpus: number;
  private readonly invLineBytes: number;
  private readonly levels: Level[];
  private served = 0;
  /**
   * Chunks of CHUNK_LINES lines of which some line has ever been filled into some
   * level (a superset of the chunks with a cached line): a non-temporal store to a
   * line of any other chunk has nothing to invalidate. The chunk of the last fill
   * is remembered so a stream adds each chunk once.
   */
  private readonly filledChunks = new Set<number>();
  private lastFilledChunk = -1;
  private memReads = 0;
  private memWritebacks = 0;
  private memNonTemporal = 0;

  /** @throws Error naming the offending field if the configuration is invalid. */
  constructor(config: CacheHierarchyConfig, options: CacheHierarchyOptions = {}) {
    validateCacheHierarchyConfig(config);
    this.cpus = config.cpus;
    this.lineBytes = config.levels[0]!.lineBytes;
    this.invLineBytes = 1 / this.lineBytes;
    const stampLimit = options.stampLimit ?? MAX_STAMP;
    if (!Number.isInteger(stampLimit) || stampLimit < 1 || stampLimit > MAX_STAMP) {
      throw new RangeError(`options.stampLimit: ${stampLimit} is out of range; expected an integer 1..${MAX_STAMP}`);
    }
    this.levels = config.levels.map((l) => new Level(l, config.cpus, stampLimit));
  }

  /** Number of cache levels (memory is level index levelCount). */
  get levelCount(): number {
    return this.levels.length;
  }

  /** Level names, innermost first. */
  get levelNames(): string[] {
    return this.levels.map((l) => l.name);
  }

  /** The level index that served the most recent access() or the last line of accessRange() (0 = first level ... levelCount = memory). */
  get lastServedBy(): number {
    return this.served;
  }

  /**
   * One access (e.g. a guard word load). Returns the level that served it: 0 for
   * the first level ... levelCount for memory (always memory for a non-temporal write).
   * @throws RangeError for a CPU or address out of range.
   */
  access(cpu: number, addr: number, kind: AccessKind): number {
    this.checkCpu(cpu);
    this.checkAddr(addr);
    const line = Math.floor(addr * this.invLineBytes); // exact: lineBytes is a power of two
    if (kind === AccessKind.WriteNonTemporal) {
      this.nonTemporal(cpu, line);
      return this.served;
    }
    const write = kind === AccessKind.Write;
    // The common case, a hit in the first level, without run()'s per-level set-up:
    // the same state changes and counts as run() makes for a first-level hit.
    const L = this.levels[0]!;
    const sets = L.sets;
    let set = line - Math.floor(line * L.invSets) * sets;
    set = set < 0 ? set + sets : set >= sets ? set - sets : set;
    const row = (L.shared ? 0 : cpu) * sets + set;
    const base = row * L.ways;
    const end = base + L.ways;
    const tags = L.tags;
    let i = base;
    while (i < end && tags[i] !== line) i++;
    if (i === end) return this.run(cpu, line, line, write, undefined);
    if (L.journaling !== 0) L.save(row);
    if (L.clock >= L.stampLimit) L.renumber();
    L.stats[cpu * NSTAT + HIT]!++;
    L.stamps[i] = ++L.clock;
    if (L.log !== null) L.log.push(row, line, L.clock);
    if (write) {
      L.dirty[i] = 1;
      if (this.cpus > 1) this.invalidateOthers(cpu, line);
    }
    this.served = 0;
    return 0;
  }

  /**
   * A streaming access to every line overlapping [addr, addr+bytes): copy source
   * (Read), destination (Write), zero-fill (Write or WriteNonTemporal). Same state
   * changes and counts as access() per line, in ascending address order; adds to
   * `served[k]` the number of lines served by level k (served[levelCount] = memory;
   * every non-temporal line counts there), for a caller that prices lines by serving
   * level. `served` needs levelCount + 1 entries. Returns the number of lines.
   * @throws RangeError for a CPU, address or length out of range, or a short `served`.
   */
  accessRange(cpu: number, addr: number, bytes: number, kind: AccessKind, served: Float64Array | number[]): number {
    const n = this.levels.length;
    this.checkCpu(cpu);
    this.checkAddr(addr);
    this.checkBytes(addr, bytes);
    if (served.length < n + 1) throw new RangeError(`served: length ${served.length}; expected at least ${n + 1} (levels + memory)`);
    if (bytes === 0) return 0;
    const first = Math.floor(addr * this.invLineBytes);
    const last = Math.floor((addr + bytes - 1) * this.invLineBytes);
    if (kind === AccessKind.WriteNonTemporal) {
      // Lines of a chunk no access ever filled are in no level: nothing to invalidate.
      for (let line = first; line <= last; ) {
        const chunkEnd = Math.min(last, (Math.floor(line / CHUNK_LINES) + 1) * CHUNK_LINES - 1);
        if (this.filledChunks.has(Math.floor(line / CHUNK_LINES))) {
          for (; line <= chunkEnd; line++) this.nonTemporal(cpu, line);
        } else {
          this.memNonTemporal += chunkEnd - line + 1;
          this.served = n;
          line = chunkEnd + 1;
        }
      }
      served[n]! += last - first + 1;
    } else {
      this.run(cpu, first, last, kind === AccessKind.Write, served);
    }
    return last - first + 1;
  }

  /**
   * The innermost level holding the line of `addr` as seen by `cpu` (levelCount if
   * none). Changes no state and counts nothing: for tests and explanations.
   */
  whereIs(cpu: number, addr: number): number {
    this.checkCpu(cpu);
    this.checkAddr(addr);
    const line = Math.floor(addr / this.lineBytes);
    const n = this.levels.length;
    for (let k = 0; k < n; k++) {
      const L = this.levels[k]!;
      if (L.find(L.shared ? 0 : cpu, line) >= 0) return k;
    }
    return n;
  }

  /** Whether `level` (for `cpu`'s instance if private) holds the line of `addr`, and whether it is dirty there. Changes no state. */
  lineState(level: number, cpu: number, addr: number): { present: boolean; dirty: boolean } {
    const L = this.level(level);
    this.checkCpu(cpu);
    this.checkAddr(addr);
    const i = L.find(L.shared ? 0 : cpu, Math.floor(addr / this.lineBytes));
    return { present: i >= 0, dirty: i >= 0 && L.dirty[i] === 1 };
  }

  /** Counters of `level`: for one CPU if given, else the total over CPUs. */
  stats(level: number, cpu?: number): LevelStats {
    const L = this.level(level);
    if (cpu !== undefined) {
      this.checkCpu(cpu);
      return statsAt(L.stats, cpu * NSTAT);
    }
    const t = new Float64Array(NSTAT);
    for (let c = 0; c < this.cpus; c++) for (let s = 0; s < NSTAT; s++) t[s]! += L.stats[c * NSTAT + s]!;
    return statsAt(t, 0);
  }

  /** Counters of every level, per CPU and in total. */
  statsByLevel(): { name: string; perCpu: LevelStats[]; total: LevelStats }[] {
    return this.levels.map((L, k) => ({
      name: L.name,
      perCpu: Array.from({ length: this.cpus }, (_, c) => statsAt(L.stats, c * NSTAT)),
      total: this.stats(k),
    }));
  }

  /** Traffic that reached memory. */
  memoryStats(): MemoryStats {
    return { reads: this.memReads, writebacks: this.memWritebacks, nonTemporalWrites: this.memNonTemporal };
  }

  /** Zeroes every counter; cache contents are kept. */
  resetStats(): void {
    for (const L of this.levels) L.stats.fill(0);
    this.memReads = 0;
    this.memWritebacks = 0;
    this.memNonTemporal = 0;
  }

  /** Drops every line, dirty or not, without counting writebacks (cold caches, e.g. for a cold-start run). Counters are kept. */
  invalidateAll(): void {
    for (const L of this.levels) L.clear();
    this.served = 0;
  }

  /**
   * Start a journal of the sets that accesses change (Level: the journal), for
   * fast-forward's check that a stretch of accesses left the caches as it found them.
   */
  startJournal(): void {
    for (const L of this.levels) L.startJournal();
  }

  /** End the journal; returns whether every set changed since it started is equivalent to how it was then (Level.unchanged). */
  stopJournal(): boolean {
    let same = true;
    for (const L of this.levels) {
      if (same && !L.unchanged()) same = false;
      L.stopJournal();
    }
    return same;
  }

  /** The counters and memory traffic, as one vector (per level and CPU, then memory): what fast-forward multiplies. */
  counters(): Float64Array {
    const out: number[] = [];
    for (const L of this.levels) out.push(...L.stats);
    out.push(this.memReads, this.memWritebacks, this.memNonTemporal);
    return Float64Array.from(out);
  }

  /** Add `times` x `delta` (a difference of two counters() vectors) to the counters. */
  addCounters(delta: Float64Array, times: number): void {
    let i = 0;
    for (const L of this.levels) for (let j = 0; j < L.stats.length; j++) L.stats[j] = L.stats[j]! + times * delta[i++]!;
    this.memReads += times * delta[i++]!;
    this.memWritebacks += times * delta[i++]!;
    this.memNonTemporal += times * delta[i++]!;
  }

  // ---- the first level, for fast-forward of loops whose data addresses move (../steady/stride.ts) ----

  /** Start logging the first level's accesses (Level.log); stopFirstLevelLog() ends it and returns the log. */
  startFirstLevelLog(): void {
    this.levels[0]!.log = [];
  }

  stopFirstLevelLog(): number[] {
    const log = this.levels[0]!.log ?? [];
    this.levels[0]!.log = null;
    return log;
  }

  /** The first level's LRU clock: the stamp its latest access left (renumbering restarts it, which stamp order survives). */
  get firstLevelClock(): number {
    return this.levels[0]!.clock;
  }

  set firstLevelClock(value: number) {
    this.levels[0]!.clock = value;
  }

  /** The largest clock value the first level reaches before it renumbers its stamps. */
  get firstLevelStampLimit(): number {
    return this.levels[0]!.stampLimit;
  }

  /** The first level's set (instance * sets + set) where `cpu` would hold `line`. */
  firstLevelRow(cpu: number, line: number): number {
    const L = this.levels[0]!;
    return (L.shared ? 0 : cpu) * L.sets + L.setOf(line);
  }

  /** Give `line`, in `cpu`'s first level, the LRU stamp `stamp`; false if it is not there. */
  restamp(cpu: number, line: number, stamp: number): boolean {
    const L = this.levels[0]!;
    const i = L.find(L.shared ? 0 : cpu, line);
    if (i < 0) return false;
    L.stamps[i] = stamp;
    return true;
  }

  /** What an access of `line` by `cpu` would take from its first level: -2 nothing (a hit), -1 an empty way, else the line it would evict. */
  firstLevelVictim(cpu: number, line: number): number {
    const L = this.levels[0]!;
    const base = this.firstLevelRow(cpu, line) * L.ways;
    let v = base;
    for (let i = base; i < base + L.ways; i++) {
      if (L.tags[i] === line) return -2;
      if (L.stamps[i]! < L.stamps[v]!) v = i;
    }
    return L.tags[v] === EMPTY ? -1 : L.tags[v]!;
  }

  // ---- internals ------------------------------------------------------------------

  private level(level: number): Level {
    const L = Number.isInteger(level) ? this.levels[level] : undefined;
    if (L === undefined) throw new RangeError(`level: ${level} is out of range; expected 0..${this.levels.length - 1}`);
    return L;
  }

  private checkCpu(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.cpus && (cpu | 0) === cpu)) {
      throw new RangeError(`cpu: ${cpu} is out of range; expected an integer 0..${this.cpus - 1}`);
    }
  }

  private checkBytes(addr: number, bytes: number): void {
    if (!(bytes >= 0) || !Number.isSafeInteger(bytes) || addr + bytes > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`bytes: ${bytes} is out of range; expected an integer >= 0 with addr + bytes <= 2^53`);
    }
  }

  private checkAddr(addr: number): void {
    if (!(addr >= 0 && addr <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`addr: ${addr} is out of range; expected an integer 0..2^53-1`);
    }
  }

  /**
   * Cacheable accesses by `cpu` to lines first..last in order (one line for access()).
   * For each line: look it up inner to outer; each level that misses evicts its LRU
   * way and takes the line at once (so a dirty victim's writeback reaches the outer
   * levels before they are looked up for this line); mark the level-0 copy dirty on a
   * write. Adds 1 to servedCount[k] (if given) for the serving level k of each line,
   * and records and returns the last line's serving level.
   *
   * One function with the line loop inside, so the hot path does not depend on the
   * JIT inlining a per-line helper.
   */
  private run(cpu: number, first: number, last: number, write: boolean, servedCount: Float64Array | number[] | undefined): number {
    const levels = this.levels;
    const n = levels.length;
    const so = cpu * NSTAT;
    const coherent = write && this.cpus > 1;
    let k = 0;
    for (let line = first; line <= last; line++) {
      let l1slot = 0;
      let inner: Level | undefined; // the level just filled, and its way
      let innerSlot = -1;
      for (k = 0; k < n; k++) {
        const L = levels[k]!;
        const sets = L.sets;
        const ways = L.ways;
        const inst = L.shared ? 0 : cpu;
        // line mod sets, exactly (see Level.setOf)
        let set = line - Math.floor(line * L.invSets) * sets;
        set = set < 0 ? set + sets : set >= sets ? set - sets : set;
        const row = inst * sets + set;
        const base = row * ways;
        const end = base + ways;
        const tags = L.tags;
        const stamps = L.stamps;
        let i = base;
        while (i < end && tags[i] !== line) i++;
        if (L.journaling !== 0) L.save(row);
        if (L.clock >= L.stampLimit) L.renumber();
        if (i < end) {
          L.stats[so + HIT]!++;
          stamps[i] = ++L.clock;
          if (L.log !== null) L.log.push(row, line, L.clock);
          if (k === 0) l1slot = i;
          if (inner !== undefined) inner.outer[innerSlot] = i;
          break;
        }
        L.stats[so + MISS]!++;
        if (k === 0) {
          const chunk = Math.floor(line / CHUNK_LINES);
          if (chunk !== this.lastFilledChunk) {
            this.filledChunks.add(chunk);
            this.lastFilledChunk = chunk;
          }
        }
        // Victim: the least recently used way; an empty way has stamp EMPTY, below any use.
        let v = base;
        let oldest = stamps[base]!;
        for (let j = base + 1; j < end; j++) {
          const st = stamps[j]!;
          if (st < oldest) {
            oldest = st;
            v = j;
          }
        }
        const old = tags[v]!;
        if (old !== EMPTY) {
          L.stats[so + EVICT]!++;
          if (L.dirty[v] === 1) {
            L.stats[so + WB]!++;
            this.writeBack(cpu, old, k + 1, L.outer[v]!);
          }
        } else {
          L.valid[inst]!++;
        }
        tags[v] = line;
        stamps[v] = ++L.clock;
        if (L.log !== null) L.log.push(row, line, L.clock);
        L.dirty[v] = 0;
        // L.outer[v] stays stale until the next level resolves: hints are verified before use
        if (k === 0) l1slot = v;
        if (inner !== undefined) inner.outer[innerSlot] = v;
        inner = L;
        innerSlot = v;
      }
      if (k === n) this.memReads++;
      if (write) levels[0]!.dirty[l1slot] = 1;
      if (coherent) this.invalidateOthers(cpu, line);
      if (servedCount) servedCount[k]!++;
    }
    this.served = k;
    return k;
  }

  /**
   * A dirty `line` leaves level from-1: mark it dirty in the nearest outer level
   * holding it, else write it to memory. `hint` is the way of level `from` where the
   * line was last seen (checked before scanning the set).
   */
  private writeBack(cpu: number, line: number, from: number, hint: number): void {
    const levels = this.levels;
    if (from >= levels.length) {
      this.memWritebacks++;
      return;
    }
    if (hint >= 0) {
      const L = levels[from]!;
      // a line can only be in its own set, so a tag match in the right instance suffices
      const size = L.sets * L.ways;
      const first = (L.shared ? 0 : cpu) * size;
      if (hint >= first && hint < first + size && L.tags[hint] === line) {
        if (L.journaling !== 0) L.save(Math.floor(hint / L.ways));
        L.dirty[hint] = 1;
        return;
      }
    }
    for (let k = from; k < levels.length; k++) {
      const L = levels[k]!;
      const i = L.find(L.shared ? 0 : cpu, line);
      if (i >= 0) {
        if (L.journaling !== 0) L.save(Math.floor(i / L.ways));
        L.dirty[i] = 1;
        return;
      }
    }
    this.memWritebacks++;
  }

  /** Write-invalidate: remove `line` from the private levels of every CPU but `cpu`. */
  private invalidateOthers(cpu: number, line: number): void {
    const levels = this.levels;
    for (let k = 0; k < levels.length; k++) {
      const L = levels[k]!;
      if (L.shared) continue;
      for (let c = 0; c < this.cpus; c++) if (c !== cpu) this.drop(L, c, line, c);
    }
  }

  /** Remove `line` from instance `inst` of level L if present, counting it against CPU `statCpu`. */
  private drop(L: Level, inst: number, line: number, statCpu: number): void {
    if (L.valid[inst] === 0) return;
    const i = L.find(inst, line);
    if (i < 0) return;
    if (L.journaling !== 0) L.save(Math.floor(i / L.ways));
    const so = statCpu * NSTAT;
    L.stats[so + INVAL]!++;
    if (L.dirty[i] === 1) L.stats[so + WB]!++;
    L.tags[i] = EMPTY;
    L.stamps[i] = EMPTY;
    L.dirty[i] = 0;
    L.valid[inst]!--;
  }

  /** A non-temporal store of `line` by `cpu`: invalidate it everywhere, allocate nothing. */
  private nonTemporal(cpu: number, line: number): void {
    const levels = this.levels;
    for (let k = 0; k < levels.length; k++) {
      const L = levels[k]!;
      if (L.shared) this.drop(L, 0, line, cpu);
      else for (let c = 0; c < this.cpus; c++) this.drop(L, c, line, c);
    }
    this.memNonTemporal++;
    this.served = levels.length;
  }
}
