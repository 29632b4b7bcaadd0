// The meter: every picosecond the model spends is charged to a named cost term
// (a profile unit cost, or a cache level's latency/stream cost), and the meter
// counts how many times each term was charged. So any time interval of a run is
// exactly sum(count x unit cost) over the terms, which is what calibration fits.

import { COST_NAMES, type CostName } from '../costmodel/costs.js';
import type { Param } from '../costmodel/param.js';
import type { Profile } from '../costmodel/profile.js';
import { STEADY, type SteadyDecl } from './steady/declare.js';

/** Cost terms that come from the machine rather than from `costs`. */
export type MachineTerm = `${string}.hit` | `${string}.stream` | 'mem.latency' | 'mem.stream_read' | 'mem.stream_write' | 'first_touch' | 'tlb.miss';
export type TermName = CostName | MachineTerm;

export class CostBook {
  readonly names: TermName[] = [];
  readonly params: Param[] = [];
  /** Picoseconds per occurrence of each term. */
  readonly psPer: number[] = [];
  private readonly index = new Map<TermName, number>();
  /** Term ids per cache level (L1 first; the last entry is memory). */
  readonly levelLatency: number[] = [];
  readonly levelStreamRead: number[] = [];
  readonly levelStreamWrite: number[] = [];
  readonly psPerCycle: number;

  constructor(readonly profile: Profile) {
    const m = profile.machine;
    this.psPerCycle = 1e12 / m.clock_hz.value;
    for (const name of COST_NAMES) {
      const p = profile.costs[name];
      if (p) this.add(name, p);
    }
    for (const level of m.caches) {
      const hit = this.add(`${level.name}.hit`, level.hit_cycles);
      const stream = this.add(`${level.name}.stream`, level.stream_cycles_per_line);
      this.levelLatency.push(hit);
      this.levelStreamRead.push(stream);
      this.levelStreamWrite.push(stream);
    }
    this.levelLatency.push(this.add('mem.latency', m.memory.latency_ns));
    this.levelStreamRead.push(this.add('mem.stream_read', m.memory.stream_read_ns_per_line));
    this.levelStreamWrite.push(this.add('mem.stream_write', m.memory.stream_write_ns_per_line));
    this.add('first_touch', m.first_touch_ns);
    this.add('tlb.miss', m.tlb.miss_ns);
  }

  private add(name: TermName, p: Param): number {
    const id = this.names.length;
    this.names.push(name);
    this.params.push(p);
    this.psPer.push(p.unit === 'cycles' ? p.value * this.psPerCycle : p.value * 1000);
    this.index.set(name, id);
    return id;
  }

  id(name: TermName): number {
    const id = this.index.get(name);
    if (id === undefined) throw new Error(`cost term '${name}' is not in profile '${this.profile.name}'`);
    return id;
  }

  get size(): number {
    return this.names.length;
  }

  /** Re-price a term (calibration re-runs the model with trial values). */
  setPsPer(name: TermName, ps: number): void {
    this.psPer[this.id(name)] = ps;
  }
}

/** Occurrence counts per term; snapshots taken at probe sites give interval usage. */
export class Usage {
  static readonly [STEADY]: SteadyDecl = { outputs: ['counts'], skip: ['book'] };
  readonly counts: Float64Array;
  constructor(readonly book: CostBook) {
    this.counts = new Float64Array(book.size);
  }
  snapshot(): Float64Array {
    return this.counts.slice();
  }
  /** Named usage between two snapshots, for calibration. */
  static between(book: CostBook, from: Float64Array, to: Float64Array): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < book.size; i++) {
      const d = to[i]! - from[i]!;
      if (d !== 0) out[book.names[i]!] = d;
    }
    return out;
  }
}
