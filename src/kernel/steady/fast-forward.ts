// Steady-state fast-forward: a loop whose iterations repeat exactly is advanced by
// whole iterations instead of simulated one by one.
//
// The condition. A loop iteration (UserProcess.repeat) is a deterministic function
// of the model's state at its start: the kernel's objects (flags, descriptors and
// file offsets, maps and pages, the buffer cache, DTrace's variables), the caches,
// the TLB, the CPU's clock schedule, and the thread's place in its code (the loop
// head, by construction). Fast-forward simulates one iteration in full and checks
// that it left that state as it found it:
//   1. every object reachable from the process compares equal, field by field
//      (./snapshot.ts), except the outputs the classes declare (./declare.ts);
//   2. every cache set the iteration changed holds the same lines, dirty bits and
//      LRU order as before (the journal, machine/cache-level.ts), and no TLB took a
//      miss or an invalidation (a hit only sets a referenced bit that is already set
//      after the first of the iterations, and reads nothing else);
//   3. no engine event other than this CPU's own hand-overs ran, and no clock tick
//      or callout fired (the tick times are part of the state in 1).
// Then the next iteration starts from the same state, so it makes the same system
// calls with the same arguments, takes the same branches, touches the same lines
// with the same outcomes and charges the same cost terms; so does every later one,
// by induction, until something outside the loop intervenes. That is the next
// clock tick or callout on this CPU (its time is known: fast-forward stops before
// the iteration that reaches it, which is simulated in full, and the loop is
// checked again afterwards), the next event of any other engine process (a
// wake-up, another CPU's work: fast-forward stops before it is due), or the end of
// the loop. Fast-forwarding k iterations adds k times the iteration's change to the
// cursor, to every declared output (counters, time totals, DTrace aggregations),
// and to the caches' and TLBs' counters; the state itself is left as it is, which
// is what the k iterations would have left.
//
// Exactness. Counts change by whole numbers and stay exact. Times are doubles, and
// the exact run adds an iteration's costs to them one at a time, rounding each
// sum; fast-forward reproduces those sums bit for bit, not approximately:
//   - The cursor (Cpu.t): while t stays in one binade [2^e, 2^(e+1)), every double
//     there is a multiple of u = 2^(e-52), and t + dt rounds to t + u * round(dt/u),
//     an increment that does not depend on t unless dt/u ends in exactly one half
//     (a tie, which rounds to even). So if t stays in its binade and no cost of the
//     iteration is a tie, each iteration adds the same whole number of u's, and
//     t + k * (t_end - t_start) is exactly what k iterations of additions give.
//   - Outputs: each is a count (whole increments) or a sum of durations measured on
//     the cursor, so every increment is a multiple of u (u <= 1 for any time the
//     engine represents). If the output is itself a multiple of u, every partial sum
//     is a multiple of u below 2^(e+1), so exactly representable: no addition
//     rounds. Otherwise it stays in its own binade, whose spacing is finer than u,
//     and again no addition rounds. Either way v + k * (per-iteration change) is
//     the exact run's value.
// Fast-forward stops short of any binade boundary these rules need (the crossing
// iteration is simulated in full) and refuses an iteration with a tie.
//
// Which loops fast-forward. Those whose iterations repeat exactly: dd with bs= between
// devices (the lecture's /dev/zero to /dev/null), io-static on /dev/zero or /dev/null,
// any loop of calls on nothing that moves (a getppid loop), with any hooks on and with
// D scripts whose aggregations only count (lockstat, dtmalloc, profile-N, which fires
// on ticks). And, through ./stride.ts, those that read or write a regular file at its
// offset (io-static on a cached file, dd from or to one): within each page of the file
// the reads move on but are otherwise the same. Which do not, and are simulated in
// full: iterations that take a DTrace timestamp (self->start differs each time: the
// lecture's syscall-time and traps scripts), dd reblocking (ibs != obs: each read lands
// after what the last one left), a file read or write that straddles a page or
// extends the file, the first-touch fault loop of a fresh buffer (each fault maps a
// new page), a timeline still being recorded (--trace-out), a check that meets a
// WeakMap, and the fast-path measurement, which times each call on its own. The
// iterations between two checks, a tick and the check after it, are simulated in
// full too. --exact turns fast-forward off.

import type { Simulation } from '../../events/simulation.js';
import type { Cpu } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import { binade, exactSteps, isTie } from './exact.js';
import { Snapshotter, sameState, setOutput, type Snapshot } from './snapshot.js';
import { StrideRecorder, advanceStrides, streamsExplain } from './stride.js';

/** Iterations between checks of a loop that is not steady grow to at most this. */
const MAX_BACKOFF = 64;

interface Start {
  snap: Snapshot;
  t: number;
  flushes: number;
  events: number;
  caches: Float64Array;
  tlbs: number[];
  /** The first level's LRU clock, and the recorder of the streams that move (./stride.ts). */
  clock: number;
  strides: StrideRecorder;
}

export class FastForward {
  private start: Start | null = null;
  /** Iterations to simulate unchecked before the next check, and how that wait grows after a failed check. */
  private wait = 0;
  private backoff = 0;
  /** Set once the state holds something that cannot be compared: no more checks. */
  private refused: string | null = null;
  private readonly snapshots: Snapshotter;

  constructor(
    private readonly k: Kernel,
    private readonly cpu: Cpu,
    /** Where the walk of the state starts: the process (its thread, its kernel, its user-side records). */
    root: object,
    private readonly sim: Simulation,
  ) {
    this.snapshots = new Snapshotter(root);
  }

  /** Why fast-forward stopped checking this loop for good, if it did. */
  get refusal(): string | null {
    return this.refused;
  }

  /** Before an iteration: if it is to be checked, take the state and start the journals. */
  begin(): void {
    this.start = null;
    if (this.refused !== null) return;
    if (this.wait > 0) {
      this.wait--;
      return;
    }
    const snap = this.snapshots.take();
    if (typeof snap === 'string') {
      this.refused = snap;
      return;
    }
    const cpu = this.cpu;
    const caches = this.k.caches;
    const strides = new StrideRecorder(this.k);
    this.start = { snap, t: cpu.t, flushes: cpu.flushes, events: this.sim.eventCount, caches: caches.counters(), tlbs: this.tlbCounters(), clock: caches.firstLevelClock, strides };
    caches.startJournal();
    caches.startFirstLevelLog();
    cpu.journal = [];
    cpu.streams = strides;
    this.k.strides = strides;
  }

  /**
   * After the iteration begin() started: if it was checked and left the state as it
   * found it, advance as many further iterations as are sure to repeat it, at most
   * `remaining`; returns how many it advanced (0 if none).
   */
  end(remaining: number): number {
    const start = this.start;
    if (start === null) return 0;
    this.start = null;
    const cpu = this.cpu;
    const costs = cpu.journal!;
    cpu.journal = null;
    cpu.streams = null;
    this.k.strides = null;
    const cachesSame = this.k.caches.stopJournal();
    const log = this.k.caches.stopFirstLevelLog();
    const stats = this.k.fastForward;
    stats.checks++;
    let k = 0;
    if (remaining > 0 && this.quiet(start)) {
      if (start.strides.decls.length > 0) k = this.strideJump(start, costs, log, remaining);
      else if (cachesSame) k = this.jumpLength(start, costs, remaining);
    }
    if (k === 0) {
      this.wait = this.backoff;
      this.backoff = Math.min(MAX_BACKOFF, Math.max(1, 2 * this.backoff));
      return 0;
    }
    // The next iteration reaches whatever stopped the jump (a tick, an event): it is simulated unchecked.
    this.wait = 1;
    this.backoff = 0;
    stats.jumps++;
    stats.skipped += k;
    return k;
  }

  /** 3. Nothing but this CPU's own hand-overs ran on the engine; 2. (in part) no TLB missed or was invalidated. */
  private quiet(start: Start): boolean {
    if (this.sim.eventCount - start.events !== this.cpu.flushes - start.flushes) return false;
    const tlbs = this.tlbCounters();
    for (let c = 0; c < this.k.cpus.length; c++) if (tlbs[3 * c + 1] !== start.tlbs[3 * c + 1] || tlbs[3 * c + 2] !== start.tlbs[3 * c + 2]) return false;
    return true;
  }

  /** A loop whose file offset moves (./stride.ts): the state must be the same once the declared offsets are set back. */
  private strideJump(start: Start, costs: number[], log: number[], remaining: number): number {
    const strides = start.strides;
    const moved = strides.decls.map((d) => d.file.offset);
    const hits = streamsExplain(this.k, strides, moved, start.caches);
    if (hits === null) return 0;
    for (const d of strides.decls) d.file.offset = d.start;
    const after = this.snapshots.take();
    strides.decls.forEach((d, i) => (d.file.offset = moved[i]!));
    if (typeof after === 'string' || !sameState(start.snap, after)) return 0;
    const tlbHits = (t: number[]) => this.k.cpus.map((_, i) => t[3 * i]!);
    return advanceStrides(
      { k: this.k, cpu: this.cpu, before: start.snap, after, moved, hits, t0: start.t, clock0: start.clock, tlbHits0: tlbHits(start.tlbs), tlbHits1: tlbHits(this.tlbCounters()), log, costs, remaining, nextEvent: this.sim.nextPendingTime },
      strides,
    );
  }

  /** How many iterations after the checked one are sure to repeat it (0 if it was not steady); advances them. */
  private jumpLength(start: Start, costs: number[], remaining: number): number {
    const cpu = this.cpu;
    const sim = this.sim;
    const tlbs = this.tlbCounters();
    // 1. The state.
    const after = this.snapshots.take();
    if (typeof after === 'string' || !sameState(start.snap, after)) return 0;

    // The cursor: one binade, no ties, before the next tick and the next engine event.
    const t0 = start.t;
    const t1 = cpu.t;
    const dt = t1 - t0;
    const e = binade(t0);
    if (!(dt > 0) || binade(t1) !== e) return 0;
    const u = 2 ** (e - 52);
    if (costs.some((c) => isTie(c, u))) return 0;
    const top = 2 ** (e + 1);
    let k = Math.min(remaining, Math.floor((top - t1) / dt));
    const nextEvent = sim.nextPendingTime;
    while (k > 0 && !(t1 + k * dt < top && t1 + k * dt < cpu.nextTickAt && Math.round(t1 + k * dt) < nextEvent)) {
      k = Math.min(k - 1, Math.floor((Math.min(cpu.nextTickAt, nextEvent - 0.5) - t1) / dt));
    }
    if (k <= 0) return 0;

    // The outputs: each stays where its sums are exact.
    const changes: number[] = [];
    for (let i = 0; i < after.outputCount; i++) {
      const v0 = start.snap.outputs[i]!;
      const v1 = after.outputs[i]!;
      if (v1 === v0) continue;
      k = Math.min(k, exactSteps(v0, v1, u, top));
      if (k <= 0) return 0;
      changes.push(i);
    }
    const caches = this.k.caches.counters();
    const cacheDelta = caches.map((v, i) => v - start.caches[i]!);
    for (let i = 0; i < caches.length; i++) if (cacheDelta[i] !== 0) k = Math.min(k, exactSteps(start.caches[i]!, caches[i]!, u, top));
    for (let i = 0; i < tlbs.length; i++) if (tlbs[i] !== start.tlbs[i]) k = Math.min(k, exactSteps(start.tlbs[i]!, tlbs[i]!, u, top));
    if (k <= 0) return 0;

    // Advance k iterations.
    cpu.t = t1 + k * dt;
    for (const i of changes) {
      const v1 = after.outputs[i]!;
      setOutput(after, i, v1 + k * (v1 - start.snap.outputs[i]!));
    }
    this.k.caches.addCounters(cacheDelta, k);
    this.k.cpus.forEach((c, i) => (c.tlb.hits += k * (tlbs[3 * i]! - start.tlbs[3 * i]!)));
    return k;
  }

  /** Each CPU's TLB hits, misses and invalidations, three per CPU. */
  private tlbCounters(): number[] {
    const out: number[] = [];
    for (const c of this.k.cpus) out.push(c.tlb.hits, c.tlb.misses, c.tlb.invalidations);
    return out;
  }
}
