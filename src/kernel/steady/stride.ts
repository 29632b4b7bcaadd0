// Fast-forward of loops whose data addresses move: a read or write of a regular file
// at the file's offset (io-static on a cached file, dd from or to a file). No two
// iterations leave the model as they found it (the offset moves on, the caches take
// the file's next lines), so ./fast-forward.ts's check fails; but each iteration is
// the one before with the file's data stream moved on, and that is what this module
// fast-forwards: the moving stream simulated line by line through the cache model,
// everything else advanced by whole iterations.
//
// The condition. The kernel's read and write paths declare, when fast-forward checks an
// iteration, the file whose offset they move, the window of offsets an iteration may
// begin at and behave the same but for its data stream (the same page, no end of file,
// no page boundary inside the copy), and the stream (StrideDecl). The check iteration
// must then show:
//   1. the state, with each declared offset set back to where the iteration found it,
//      compares equal field by field (./snapshot.ts): nothing else changed;
//   2. every first-level cache access outside the streams hit, every line those
//      accesses use is still there at the end, and nothing else happened in any level
//      (no miss, eviction, writeback, invalidation: the caches' counters say so); no
//      TLB missed or was invalidated; no tick fired and no other engine event ran.
// Then iteration j begins in the same state but for the offset (moved on by j times the
// iteration's step, still inside the window) and the caches' hold on the streamed
// lines: it makes the same calls, takes the same branches and touches the same
// lines outside the stream, with the same hits, while its stream touches the
// stream's lines j steps on. Fast-forward simulates exactly that: for each later
// iteration it gives the lines the iteration's other accesses use the LRU stamps
// those accesses would have given them (their places in the iteration, logged by the
// check: first-level hits change nothing but stamps), then runs the stream through
// the cache model at its place in the iteration, so every level's state and counters
// are what the exact run's would be. A stream whose miss would evict one of those
// lines ends the jump before its iteration (the lines' hits are what the jump relies
// on); so do the window's end, the next tick or engine event (judged on an upper
// bound of the iteration's time), and the binades of ./fast-forward.ts's exactness
// rules. The cursor, the meter, the step ledger and the counters move on by the
// check iteration's change less its stream's, plus each stream's own cost, added in
// whole ulps as the exact run's additions are (ties refused).

import type { Cpu, StreamObserver } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import { HIT, NSTAT } from '../machine/cache-level.js';
import { AccessKind } from '../machine/cache.js';
import type { SpanTotals } from '../steps.js';
import type { StrideDecl, StrideDeclarations } from './declare.js';
import { binade, exactLimit, exactSteps, isTie } from './exact.js';
import { setOutput, type Snapshot } from './snapshot.js';

/** One stream of lines inside a declared stream, as the check iteration made it. */
export interface SubStream {
  decl: number;
  /** Bytes from the declared stream's start, and its bytes. */
  rel: number;
  bytes: number;
  /** The first level's clock before and after it, the cursor before and after it. */
  clock0: number;
  clock1: number;
  t0: number;
  t1: number;
  /** Lines served by each level, and the caches' counters before and after. */
  served: Float64Array;
  counters0: Float64Array;
  counters1: Float64Array;
  /** Where its time is added: each open span's totals and running step. */
  spans: { totals: SpanTotals; step: string | undefined }[];
}

/** Collects, while fast-forward checks an iteration, the kernel's declarations and the streams inside them. */
export class StrideRecorder implements StreamObserver, StrideDeclarations {
  readonly decls: StrideDecl[] = [];
  readonly streams: SubStream[] = [];
  /** A stream the recorder could not follow (one straddling two declarations, a second declaration of one file). */
  broken = false;
  private pending: SubStream | null = null;

  constructor(private readonly k: Kernel) {}

  /** The kernel's read or write path declares a moving stream (see StrideDecl). */
  declare(d: StrideDecl): void {
    if (this.decls.some((x) => x.file === d.file)) this.broken = true;
    this.decls.push(d);
  }

  begin(cpu: Cpu, addr: number, bytes: number, kind: AccessKind): void {
    const i = this.decls.findIndex((d) => addr < d.addr + d.bytes && addr + bytes > d.addr);
    if (i < 0) return;
    const d = this.decls[i]!;
    if (d.kind !== kind || addr < d.addr || addr + bytes > d.addr + d.bytes) {
      this.broken = true;
      return;
    }
    const caches = this.k.caches;
    this.pending = {
      decl: i,
      rel: addr - d.addr,
      bytes,
      clock0: caches.firstLevelClock,
      clock1: 0,
      t0: cpu.t,
      t1: 0,
      served: new Float64Array(0),
      counters0: caches.counters(),
      counters1: new Float64Array(0),
      spans: this.k.steps.openTotals(),
    };
  }

  end(cpu: Cpu, served: Float64Array): void {
    const s = this.pending;
    if (s === null) return;
    this.pending = null;
    s.clock1 = this.k.caches.firstLevelClock;
    s.t1 = cpu.t;
    s.served = served.slice();
    s.counters1 = this.k.caches.counters();
    this.streams.push(s);
  }
}

/**
 * The fewest iterations a window must leave after the check for a jump to be tried:
 * a check costs two walks of the state, each about as much as a few iterations
 * (a file read of a quarter page is left to be simulated).
 */
const MIN_JUMP = 8;

/**
 * The cheap half of the header's check, made before the state is walked: each
 * declaration moved its offset on (`moved`: the offsets the iteration left) and its
 * streams cover it in order; and the caches' counters moved, outside the streams, by
 * first-level hits only. Returns those hits (the caches' counters' change less the
 * streams'), or null if the iteration does not qualify.
 */
export function streamsExplain(k: Kernel, rec: StrideRecorder, moved: number[], caches0: Float64Array): Float64Array | null {
  const decls = rec.decls;
  const streams = rec.streams;
  if (rec.broken || streams.length === 0) return null;
  for (let i = 0; i < decls.length; i++) {
    const d = decls[i]!;
    const step = moved[i]! - d.start;
    if (!(step > 0) || d.start + MIN_JUMP * step > d.hi) return null;
    let at = 0;
    for (const s of streams) {
      if (s.decl !== i) continue;
      if (s.rel !== at) return null;
      at += s.bytes;
    }
    if (at !== decls[i]!.bytes) return null;
  }
  const counters1 = k.caches.counters();
  const outside = counters1.map((v, i) => v - caches0[i]! - streams.reduce((a, s) => a + s.counters1[i]! - s.counters0[i]!, 0));
  for (let i = 0; i < outside.length; i++) {
    if (outside[i] !== 0 && !(i < k.cpus.length * NSTAT && i % NSTAT === HIT)) return null;
  }
  return outside;
}

/** What the check iteration left for the stride jump to work from. */
export interface StrideCheck {
  k: Kernel;
  cpu: Cpu;
  /** The state at the iteration's start, and at its end with the declared offsets set back (compared equal by the caller). */
  before: Snapshot;
  after: Snapshot;
  /** The offsets the iteration left, one per declaration, and the first-level hits outside its streams (streamsExplain). */
  moved: number[];
  hits: Float64Array;
  /** The cursor and the first level's clock at the iteration's start. */
  t0: number;
  clock0: number;
  /** Each CPU's TLB hits before and after the iteration. */
  tlbHits0: number[];
  tlbHits1: number[];
  /** The first level's access log and every advance of the cursor, over the iteration. */
  log: number[];
  costs: number[];
  remaining: number;
  nextEvent: number;
}

/** A line the iteration's other accesses use, and its place in the iteration (its stamp less the clock at the start). */
interface Pinned {
  line: number;
  place: number;
}

/** A stream as each later iteration makes it. */
interface Moving {
  decl: StrideDecl;
  /** Its address in the check iteration, and how far it moves each iteration. */
  addr: number;
  step: number;
  bytes: number;
  /** Its place in the iteration (the first level's accesses before it) and its lines. */
  place: number;
  lines: number;
  terms: readonly number[];
  /** The outputs its time is added to (the open spans' totals and running steps). */
  timeLeaves: number[];
}

/**
 * The stride jump (the header's condition): how many iterations after the check one
 * repeat it with their streams moved on, simulated as the header says; 0 if the
 * check iteration does not qualify. Leaves the model as those iterations would have.
 */
export function advanceStrides(c: StrideCheck, rec: StrideRecorder): number {
  const { k, cpu, before, after } = c;
  const caches = k.caches;
  const book = k.book;
  const C = caches.firstLevelClock - c.clock0;
  if (!(C > 0) || c.log.length !== 3 * C) return 0;
  // The lines the other accesses use, by first-level set, with their last places in the
  // iteration (the log read backwards: a line's first sighting is its last access).
  const pinned = new Map<number, Pinned[]>();
  for (let i = c.log.length - 3; i >= 0; i -= 3) {
    const stamp = c.log[i + 2]!;
    if (rec.streams.some((s) => stamp > s.clock0 && stamp <= s.clock1)) continue;
    const row = c.log[i]!;
    const line = c.log[i + 1]!;
    let list = pinned.get(row);
    if (list === undefined) pinned.set(row, (list = []));
    if (list.some((p) => p.line === line)) continue;
    if (caches.firstLevelVictim(cpu.id, line) !== -2) return 0; // evicted by the iteration's own stream
    list.push({ line, place: stamp - c.clock0 });
  }

  // The cursor: one binade, no ties (of any charge a stream could make: 1..all its lines from one level).
  const e = binade(c.t0);
  const u = 2 ** (e - 52);
  const top = 2 ** (e + 1);
  if (binade(cpu.t) !== e || c.costs.some((x) => isTie(x, u))) return 0;
  const leaf = leafIndex(after, new Set([k.usage.counts, ...rec.streams.flatMap((s) => s.spans.flatMap((o) => [o.totals, o.totals.steps]))]));
  const countsLeaf = (term: number) => leaf.get(k.usage.counts)?.get(term);
  const moving: Moving[] = rec.streams.map((s) => {
    const d = rec.decls[s.decl]!;
    return {
      decl: d,
      addr: d.addr + s.rel,
      step: c.moved[s.decl]! - d.start,
      bytes: s.bytes,
      place: s.clock0 - c.clock0,
      lines: s.clock1 - s.clock0,
      terms: d.kind === AccessKind.Read ? book.levelStreamRead : book.levelStreamWrite,
      timeLeaves: s.spans.flatMap((o) => [leaf.get(o.totals)?.get('ps'), o.step === undefined ? undefined : leaf.get(o.totals.steps)?.get(o.step)]).filter((x): x is number => x !== undefined),
    };
  });
  for (const m of moving) for (const term of m.terms) for (let n = 1; n <= m.lines; n++) if (isTie(n * book.psPer[term]!, u)) return 0;

  // Each output's change over the check iteration less its streams': what every iteration adds besides its streams.
  const outputs = after.outputCount;
  const inv = new Map<number, number>();
  for (let i = 0; i < outputs; i++) if (after.outputs[i] !== before.outputs[i]) inv.set(i, after.outputs[i]! - before.outputs[i]!);
  const less = (at: number, d: number) => inv.set(at, (inv.get(at) ?? 0) - d);
  let invUlps = (cpu.t - c.t0) / u;
  rec.streams.forEach((s, si) => {
    s.served.forEach((n, level) => {
      const at = n > 0 ? countsLeaf(moving[si]!.terms[level]!) : undefined;
      if (at !== undefined) less(at, n);
    });
    for (const at of moving[si]!.timeLeaves) less(at, s.t1 - s.t0);
    invUlps -= (s.t1 - s.t0) / u;
  });
  if ([...inv.values()].some((d) => d < 0) || !Number.isInteger(invUlps)) return 0;
  // The outputs the streams add to, with the most an iteration's streams can add to each (every line from the slowest level).
  const maxStreamUlps = moving.reduce((a, m) => a + Math.ceil((m.lines * Math.max(...m.terms.map((t) => book.psPer[t]!))) / u) + m.terms.length, 0);
  const streamed = new Map<number, number>();
  for (const m of moving) {
    for (const term of m.terms) {
      const at = countsLeaf(term);
      if (at !== undefined) streamed.set(at, (streamed.get(at) ?? 0) + m.lines);
    }
    for (const at of m.timeLeaves) streamed.set(at, (streamed.get(at) ?? 0) + maxStreamUlps * u);
  }
  // Every other changing output stays exact for as many iterations as its change allows (exactSteps); a streamed one is followed iteration by iteration.
  let most = c.remaining;
  for (const at of inv.keys()) if (!streamed.has(at)) most = Math.min(most, exactSteps(before.outputs[at]!, after.outputs[at]!, u, top));
  const followed = [...streamed.keys()];
  const value = followed.map((at) => after.outputs[at]!);
  const each = followed.map((at) => inv.get(at) ?? 0);
  const bound = followed.map((at, i) => each[i]! + streamed.get(at)!);
  const limit = followed.map((at) => exactLimit(before.outputs[at]!, u, top));
  // Where in `value` each stream's costs go: its levels' meter counts, and its time.
  const countAt = moving.map((m) => m.terms.map((t) => followed.indexOf(countsLeaf(t) ?? -1)));
  const timeAt = moving.map((m) => m.timeLeaves.map((at) => followed.indexOf(at)));

  // Iteration by iteration: the window, the bounds, the streams' misses, then the streams themselves.
  const served = new Float64Array(caches.levelCount + 1);
  const rows = new Set<number>();
  let ulps = 0; // the cursor's advance past the check iteration, in u
  let j = 0;
  for (; j < most; j++) {
    const next = j + 1;
    if (rec.decls.some((d, i) => d.start + next * (c.moved[i]! - d.start) > d.hi)) break;
    const t = cpu.t + (ulps + invUlps + maxStreamUlps) * u;
    if (!(t < top && t < cpu.nextTickAt && Math.round(t) < c.nextEvent)) break;
    if (c.clock0 + (next + 2) * C >= caches.firstLevelStampLimit) break;
    let exact = true;
    for (let i = 0; i < value.length; i++) if (!(value[i]! + bound[i]! < limit[i]!)) exact = false;
    if (!exact) break;
    // Its stream lines: as many as the check's, each in a first-level set of its own, none evicting a pinned line.
    const base = c.clock0 + next * C;
    let fits = true;
    rows.clear();
    for (const m of moving) {
      const addr = m.addr + next * m.step;
      const first = Math.floor(addr / caches.lineBytes);
      const lastLine = Math.floor((addr + m.bytes - 1) / caches.lineBytes);
      if (lastLine - first + 1 !== m.lines) fits = false;
      for (let line = first; line <= lastLine && fits; line++) {
        const row = caches.firstLevelRow(cpu.id, line);
        if (rows.has(row)) fits = false;
        rows.add(row);
        const list = pinned.get(row);
        if (list === undefined) continue;
        for (const p of list) caches.restamp(cpu.id, p.line, (p.place <= m.place ? base : base - C) + p.place);
        const victim = caches.firstLevelVictim(cpu.id, line);
        if (victim >= 0 && list.some((p) => p.line === victim)) fits = false;
      }
    }
    if (!fits) break;
    for (let mi = 0; mi < moving.length; mi++) {
      const m = moving[mi]!;
      caches.firstLevelClock = base + m.place;
      served.fill(0);
      caches.accessRange(cpu.id, m.addr + next * m.step, m.bytes, m.decl.kind, served);
      let streamUlps = 0;
      for (let level = 0; level < served.length; level++) {
        const n = served[level]!;
        if (n === 0) continue;
        streamUlps += Math.round((n * book.psPer[m.terms[level]!]!) / u);
        const at = countAt[mi]![level]!;
        if (at >= 0) value[at]! += n;
      }
      ulps += streamUlps;
      for (const at of timeAt[mi]!) value[at]! += streamUlps * u;
    }
    ulps += invUlps;
    for (let i = 0; i < value.length; i++) value[i]! += each[i]!;
  }
  // The pinned lines' stamps and the first level's clock as the last iteration left them; the rest moves on.
  for (const list of pinned.values()) for (const p of list) caches.restamp(cpu.id, p.line, c.clock0 + j * C + p.place);
  caches.firstLevelClock = c.clock0 + (j + 1) * C;
  if (j === 0) return 0;
  rec.decls.forEach((d, i) => (d.file.offset = c.moved[i]! + j * (c.moved[i]! - d.start)));
  cpu.t = cpu.t + ulps * u;
  for (const [at, d] of inv) if (!streamed.has(at)) setOutput(after, at, after.outputs[at]! + j * d);
  followed.forEach((at, i) => setOutput(after, at, value[i]!));
  caches.addCounters(c.hits, j);
  k.cpus.forEach((x, i) => (x.tlb.hits += j * (c.tlbHits1[i]! - c.tlbHits0[i]!)));
  return j;
}

/** The index in a snapshot of each output in one of `containers`, by container and key. */
function leafIndex(s: Snapshot, containers: Set<unknown>): Map<unknown, Map<unknown, number>> {
  const out = new Map<unknown, Map<unknown, number>>();
  for (let i = 0; i < s.outputCount; i++) {
    const container = s.outputAt[2 * i];
    if (!containers.has(container)) continue;
    let m = out.get(container);
    if (!m) out.set(container, (m = new Map()));
    m.set(s.outputAt[2 * i + 1], i);
  }
  return out;
}
