// One level of the cache hierarchy (./cache.ts): its sets, ways and LRU stamps, and
// its counters, for every instance (one per CPU for a private level, one if shared).

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
}
