// One level of the cache hierarchy (./cache.ts): its sets, ways, LRU stamps and
// counters, for every instance (one per CPU for a private level, one if shared),
// and the level's journal of the sets a stretch of accesses changed.
//
// The journal is how fast-forward (../steady/fast-forward.ts) knows that a loop
// iteration left the cache as it found it. While it is on, the first change to each
// set saves the set's ways (tags, dirty bits, LRU stamps) as they were; unchanged()
// then compares every saved set with its present state. Two states of a set are
// equivalent when, listed from least to most recently used, they hold the same
// lines with the same dirty bits (and so the same number of empty ways, which sort
// first). Which way holds which line does not matter: a look-up finds a line
// wherever it is; a miss fills an empty way if there is one, else evicts the least
// recently used line (LRU reads only the order of the stamps, never their values);
// writebacks and invalidations find lines by tag. So every later access to an
// equivalent set hits or misses, evicts and writes back the same lines, and an
// iteration that leaves every set it changed equivalent to how it found it leaves
// the cache, for the next iteration, as it found it.

import type { CacheLevelConfig } from './cache-config.js';

// Counter slots in a level's per-CPU stats array.
// (accesses are not stored: accesses = hits + misses by construction.)
export const HIT = 0;
export const MISS = 1;
export const EVICT = 2;
export const WB = 3;
export const INVAL = 4;
export const NSTAT = 5;

export const EMPTY = -1;

/** Internal state of one level (all instances). */
export class Level {
  readonly name: string;
  readonly sets: number;
  /** 1 / sets, for setOf(). */
  readonly invSets: number;
  readonly ways: number;
  readonly shared: boolean;
  readonly instances: number;
  /** Line number held by each way, or EMPTY. */
  readonly tags: Float64Array;
  /** Last-use stamp of each way (larger = more recent); EMPTY for an empty way, so it is chosen first. Only the order within a set matters. */
  readonly stamps: Int32Array;
  /** Hint: the way of the next level out where each way's line was last seen (-1 unknown); saves a set scan on writeback. */
  readonly outer: Int32Array;
  readonly dirty: Uint8Array;
  /** Valid lines per instance (lets coherence and non-temporal invalidation skip empty instances). */
  readonly valid: Int32Array;
  /** Per-CPU counters, NSTAT per CPU. */
  readonly stats: Float64Array;
  /** Monotonic use counter for the LRU stamps; renumbered when it reaches stampLimit. */
  clock = 0;
  readonly stampLimit: number;
  /**
   * While fast-forward checks a loop whose data addresses move (../steady/stride.ts),
   * every access to this level, in order: its set (instance * sets + set), its line
   * and the stamp it left, three numbers each; null otherwise.
   */
  log: number[] | null = null;
  /** The journal's generation while it is on (0: off), and the generation in which each set (instance * sets + set) was last saved. */
  journaling = 0;
  private readonly savedIn: Int32Array;
  /** Sets saved by the journal, and their ways as they were: tags, then stamps, then dirty bits, `ways` of each per set. */
  private readonly savedSets: number[] = [];
  private saved = new Float64Array(0);
  /** Scratch for unchanged(): a set's ways in LRU order, as saved and as now. */
  private readonly orderWas: Int32Array;
  private readonly orderNow: Int32Array;

  constructor(c: CacheLevelConfig, cpus: number, stampLimit: number) {
    this.stampLimit = stampLimit;
    this.name = c.name;
    this.ways = c.ways;
    this.sets = Math.round(c.sizeBytes / (c.ways * c.lineBytes)) | 0;
    this.invSets = 1 / this.sets;
    this.shared = c.shared;
    this.instances = c.shared ? 1 : cpus;
    const n = this.instances * this.sets * this.ways;
    this.tags = new Float64Array(n).fill(EMPTY);
    this.stamps = new Int32Array(n).fill(EMPTY);
    this.outer = new Int32Array(n).fill(-1);
    this.dirty = new Uint8Array(n);
    this.valid = new Int32Array(this.instances);
    this.stats = new Float64Array(cpus * NSTAT);
    this.savedIn = new Int32Array(this.instances * this.sets);
    this.orderWas = new Int32Array(this.ways);
    this.orderNow = new Int32Array(this.ways);
  }

  /** Index of the way holding `line` in instance `inst`, or -1. Does not change state. */
  find(inst: number, line: number): number {
    const base = (inst * this.sets + this.setOf(line)) * this.ways;
    const end = base + this.ways;
    const tags = this.tags;
    for (let i = base; i < end; i++) if (tags[i] === line) return i;
    return -1;
  }

  /**
   * line mod sets, without `%`: on a double (line numbers above 2^31, or read back
   * from the tag array) V8 compiles `%` to a call to fmod, several times slower. The
   * product with the reciprocal is exact for a power-of-two set count and within one
   * of the quotient otherwise, which the two corrections fix.
   */
  setOf(line: number): number {
    const sets = this.sets;
    const r = line - Math.floor(line * this.invSets) * sets;
    return r < 0 ? r + sets : r >= sets ? r - sets : r;
  }

  /**
   * Rewrites every set's stamps as their ranks 0..ways-1 (same order, so the same
   * LRU decisions) and restarts the clock above them. Runs once per ~2^31 uses.
   */
  renumber(): void {
    const ways = this.ways;
    const order: number[] = [];
    for (let base = 0; base < this.tags.length; base += ways) {
      order.length = 0;
      for (let i = base; i < base + ways; i++) if (this.stamps[i]! !== EMPTY) order.push(i);
      order.sort((a, b) => this.stamps[a]! - this.stamps[b]!);
      order.forEach((i, rank) => (this.stamps[i] = rank));
    }
    this.clock = ways;
  }

  clear(): void {
    this.tags.fill(EMPTY);
    this.stamps.fill(EMPTY);
    this.outer.fill(-1);
    this.dirty.fill(0);
    this.valid.fill(0);
    this.clock = 0;
  }

  // ---- the journal ---------------------------------------------------------------

  /** Start a journal (ending any earlier one): from now on the first change to each set saves it first. */
  startJournal(): void {
    this.journaling = this.journaling >= 0x3fff_ffff ? 1 : this.journaling + 1;
    if (this.journaling === 1) this.savedIn.fill(0);
    this.savedSets.length = 0;
  }

  stopJournal(): void {
    this.journaling = 0;
  }

  /** Save set `row` (instance * sets + set) as it is, unless this journal already has it. Call before changing the set. */
  save(row: number): void {
    if (this.savedIn[row] === this.journaling) return;
    this.savedIn[row] = this.journaling;
    const w = this.ways;
    const at = this.savedSets.length * 3 * w;
    if (this.saved.length < at + 3 * w) {
      const grown = new Float64Array(Math.max(64 * 3 * w, 2 * this.saved.length));
      grown.set(this.saved);
      this.saved = grown;
    }
    this.savedSets.push(row);
    const base = row * w;
    for (let j = 0; j < w; j++) {
      this.saved[at + j] = this.tags[base + j]!;
      this.saved[at + w + j] = this.stamps[base + j]!;
      this.saved[at + 2 * w + j] = this.dirty[base + j]!;
    }
  }

  /** The number of sets the journal has saved. */
  get journalSets(): number {
    return this.savedSets.length;
  }

  /** Whether every set the journal saved is equivalent now to how it was saved (see the header: same lines, dirty bits and LRU order). */
  unchanged(): boolean {
    const w = this.ways;
    const saved = this.saved;
    const was = this.orderWas;
    const now = this.orderNow;
    for (let s = 0; s < this.savedSets.length; s++) {
      const base = this.savedSets[s]! * w;
      const at = s * 3 * w;
      for (let j = 0; j < w; j++) {
        was[j] = j;
        now[j] = j;
      }
      sortByStamp(was, (j) => saved[at + w + j]!);
      sortByStamp(now, (j) => this.stamps[base + j]!);
      for (let r = 0; r < w; r++) {
        const a = was[r]!;
        const b = now[r]!;
        if (saved[at + a] !== this.tags[base + b] || saved[at + 2 * w + a] !== this.dirty[base + b]) return false;
      }
    }
    return true;
  }
}

/** Sort way numbers by their stamps, least recently used first (insertion sort: a set has a few ways). */
function sortByStamp(ways: Int32Array, stamp: (way: number) => number): void {
  for (let i = 1; i < ways.length; i++) {
    const x = ways[i]!;
    const sx = stamp(x);
    let j = i - 1;
    while (j >= 0 && stamp(ways[j]!) > sx) {
      ways[j + 1] = ways[j]!;
      j--;
    }
    ways[j + 1] = x;
  }
}
