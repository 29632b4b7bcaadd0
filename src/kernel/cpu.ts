// One modelled CPU: a time cursor that the code running on it advances by
// charging cost terms, the mode it runs in (user, kernel, interrupt), a modelled
// kernel call stack (what DTrace's stack() and profile-N see), the thread on it,
// and its event timer: the periodic clocks and the callouts that interrupt
// whatever runs.
//
// How time flows (README.md, "How time flows", has the whole story). The engine's clock is the
// clock of the run; each CPU is a process of the engine (./cpu-process.ts) that
// runs the thread on it. Between two of its events a CPU runs ahead of the engine
// on this cursor: a system call is a straight-line sequence of tens of steps on one
// CPU, and nothing else can run on that CPU in between, so the thread hands the
// time it spent to the engine only at its boundaries (flush()), and the engine's
// clock and the cursor agree wherever processes meet. The one kind of engine event
// a running CPU must honour inside a step is its own event timer (FreeBSD's
// one-shot eventtimer, kern_clocksource.c): the next hardclock (hz), statclock
// (stathz), DTrace profile-N tick or callout. Its times are known in advance, so
// the cursor finds each one it crosses and runs the interrupt there, at the exact
// picosecond inside whatever step was running, as a real tick lands in the middle
// of a copy; the engine never sees those. While the CPU is idle the engine holds
// its event timer (armed for the next callout; an idle CPU skips the periodic
// ticks, as FreeBSD's does) and a wake-up from elsewhere re-arms it.

import { AccessKind, type CacheHierarchy } from './machine/cache.js';
import { REGION } from './machine/layout.js';
import { Tlb } from './machine/tlb.js';
import type { CostBook, Usage } from './meter.js';
import { STEADY, type SteadyDecl } from './steady/declare.js';

export const enum Mode {
  User = 0,
  Kernel = 1,
  Interrupt = 2,
}

/** statclock's per-thread tick counts, as FreeBSD keeps them (td_uticks etc.). */
export interface TickCounts {
  user: number;
  system: number;
  interrupt: number;
}

/** What a CPU needs of the thread running on it (kernel/proc.ts's Thread is one). */
export interface OnCpuThread {
  /** statclock's tick counts: charged to whichever thread a tick interrupts. */
  readonly ticks: TickCounts;
}

/** Hears each stream of lines a CPU makes (Cpu.streams), before and after it, with the lines each level served. */
export interface StreamObserver {
  begin(cpu: Cpu, addr: number, bytes: number, kind: AccessKind): void;
  end(cpu: Cpu, served: Float64Array): void;
}

/** A function to run in interrupt context at a time of a CPU's choosing (callout(9)). */
export type CalloutFn = (cpu: Cpu) => void;

interface Callout {
  at: number;
  seq: number;
  fn: CalloutFn;
}

/** What the periodic clocks do when they fire; the kernel implements it. */
export interface ClockHandler {
  hardclock(cpu: Cpu): void;
  statclock(cpu: Cpu): void;
  profileTick(cpu: Cpu): void;
}

export interface ClockRates {
  hz: number;
  stathz: number;
  /** DTrace profile-N rate while a profile script is enabled, else 0. */
  profileHz: number;
}

const PS_PER_S = 1e12;

export class Cpu {
  static readonly [STEADY]: SteadyDecl = {
    // The cursor and the hand-overs are fast-forward's own to check and advance; the
    // TLB and the caches are checked by their journals; the rest are the book's and
    // the meter's arrays (held here for speed), the clock handler, and scratch.
    skip: ['t', 'committed', 'flushes', 'journal', 'streams', 'tlb', 'caches', 'book', 'clocks', 'psPer', 'counts', 'levelLatency', 'served'],
    outputs: ['idlePs'],
  };
  /** Current time on this CPU, in ps (fractional; rounded only when handed to the engine). */
  t = 0;
  private committed = 0;
  /** Hand-overs of time to the engine (flush()), counted for fast-forward's check that nothing else ran. */
  flushes = 0;
  /** While fast-forward checks an iteration: every amount the cursor advanced by, in order. */
  journal: number[] | null = null;
  /** While fast-forward checks an iteration: told of every stream of lines (./steady/stride.ts watches the moving ones). */
  streams: StreamObserver | null = null;
  mode: Mode = Mode.User;
  /** Modelled kernel call stack, outermost first. */
  readonly stack: string[] = [];
  /** The thread on this CPU (pc_curthread), or null while the CPU is idle. */
  curthread: OnCpuThread | null = null;
  /** Time spent idle (no thread on the CPU), ps: the cursor is busy time plus this. */
  idlePs = 0;
  private inInterrupt = false;
  /** Pending callouts, earliest first (ties in the order they were set). */
  private readonly callouts: Callout[] = [];
  private calloutSeq = 0;
  private nextCallout = Infinity;
  private nextHard: number;
  private nextStat: number;
  private nextProf: number;
  private nextTick: number;
  readonly tlb: Tlb;
  /** Lines served per level by the current stream (scratch). */
  private readonly served: Float64Array;
  private lastTlbKey = NaN;
  private readonly kernelPageBytes: number;
  private readonly walkLoads: number;
  private readonly tlbMiss: number;
  private readonly hardPs: number;
  /** The book's and the meter's arrays, held directly: charge() is the hottest call of the model. */
  private readonly psPer: number[];
  private readonly counts: Float64Array;
  private readonly levelLatency: readonly number[];
  private readonly statPs: number;
  private readonly profPs: number;

  constructor(
    readonly id: number,
    private readonly caches: CacheHierarchy,
    private readonly book: CostBook,
    usage: Usage,
    rates: ClockRates,
    /** Phase of the clocks relative to time 0, each in [0,1) of its period. */
    phase: { hard: number; stat: number; prof: number },
    private readonly clocks: ClockHandler,
    tlb: { entries: number; kernelPageBytes: number; walkLoads: number },
  ) {
    this.tlb = new Tlb(tlb.entries);
    this.served = new Float64Array(caches.levelCount + 1);
    this.kernelPageBytes = tlb.kernelPageBytes;
    this.walkLoads = tlb.walkLoads;
    this.tlbMiss = book.id('tlb.miss');
    this.psPer = book.psPer;
    this.counts = usage.counts;
    this.levelLatency = book.levelLatency;
    this.hardPs = PS_PER_S / rates.hz;
    this.statPs = PS_PER_S / rates.stathz;
    this.profPs = rates.profileHz > 0 ? PS_PER_S / rates.profileHz : Infinity;
    this.nextHard = phase.hard * this.hardPs;
    this.nextStat = phase.stat * this.statPs;
    this.nextProf = rates.profileHz > 0 ? phase.prof * this.profPs : Infinity;
    this.nextTick = Math.min(this.nextHard, this.nextStat, this.nextProf);
  }

  /** Spend `n` occurrences of a cost term on this CPU. */
  charge(term: number, n = 1): void {
    const counts = this.counts;
    counts[term] = counts[term]! + n;
    this.advance(n * this.psPer[term]!);
  }

  /**
   * Translate: kernel data and text through large pages, page frames through 4 KiB
   * user pages (or `pageBytes`). A miss pays a page walk. Consecutive accesses to
   * one page skip the lookup (they would hit).
   */
  translate(addr: number, pageBytes = addr < REGION.frames ? this.kernelPageBytes : 4096): void {
    const key = this.tlbKey(addr, pageBytes);
    if (key === this.lastTlbKey) return;
    this.lastTlbKey = key;
    if (!this.tlb.lookup(key)) this.walk(key);
  }

  /** A TLB entry is named by its page's base address (kernel and user pages never share one). */
  private tlbKey(addr: number, pageBytes: number): number {
    return Math.floor(addr / pageBytes) * pageBytes;
  }

  /** Invalidate the TLB entry of the page at `addr` (a mapping removed, or a temporary mapping reused). */
  invalidatePage(addr: number, pageBytes = 4096): void {
    const key = this.tlbKey(addr, pageBytes);
    this.tlb.invalidate(key);
    if (key === this.lastTlbKey) this.lastTlbKey = Number.NaN;
  }

  /**
   * Stream over [addr, addr+bytes) through a mapping other than its own: translate
   * `via` (one page of `viaPageBytes`), then touch the lines. ARM's pmap_zero_page
   * maps each frame at one temporary kernel address (CMAP2) and flushes that entry.
   */
  streamVia(via: number, viaPageBytes: number, addr: number, bytes: number, kind: AccessKind): void {
    this.translate(via, viaPageBytes);
    this.streamLines(addr, bytes, kind);
  }

  /**
   * A page walk: the walker's fixed work, then one dependent load per level of the
   * page-table entries that map `key`, through the data caches. Neighbouring pages
   * share their entries' lines (8 entries a line), so a sequential copy mostly hits;
   * after a big copy the kernel's entries are cold and each level pays memory.
   */
  private walk(key: number): void {
    this.charge(this.tlbMiss);
    const lb = this.caches.lineBytes;
    let index = key / 4096;
    const space = key < REGION.frames ? 1 : 0;
    for (let level = 0; level < this.walkLoads; level++) {
      index = Math.floor(index / 8);
      const addr = REGION.pageTables + (space * 64 + level) * 2 ** 32 + index * lb;
      this.charge(this.levelLatency[this.caches.access(this.id, addr, AccessKind.Read)]!);
      index = Math.floor(index / 64);
    }
  }

  /** A dependent load (a guard word, a pointer): pays the latency of the level that serves it. */
  load(addr: number): void {
    this.translate(addr);
    this.charge(this.levelLatency[this.caches.access(this.id, addr, AccessKind.Read)]!);
  }

  /** A store to one word (read-for-ownership latency if the line is not cached). */
  store(addr: number): void {
    this.translate(addr);
    this.charge(this.levelLatency[this.caches.access(this.id, addr, AccessKind.Write)]!);
  }

  /** Fetch `lines` lines of code at `addr` (instruction fetch through the hierarchy). */
  fetch(addr: number, lines: number): void {
    const lb = this.caches.lineBytes;
    for (let i = 0; i < lines; i++) this.load(addr + i * lb);
  }

  /**
   * Stream over [addr, addr+bytes) line by line: copy sources (Read), destinations
   * (Write), zero fills (Write, or WriteNonTemporal for non-temporal stores). Each
   * line costs the stream cost of the level that served it.
   */
  stream(addr: number, bytes: number, kind: AccessKind, tlbPageBytes?: number): void {
    if (bytes <= 0) return;
    const page = tlbPageBytes ?? (addr < REGION.frames ? this.kernelPageBytes : 4096);
    for (let p = Math.floor(addr / page); p <= Math.floor((addr + bytes - 1) / page); p++) this.translate(p * page, page);
    this.streamLines(addr, bytes, kind);
  }

  /** The cache side of stream(), once translation is done: each line costs the stream cost of the level that served it. */
  private streamLines(addr: number, bytes: number, kind: AccessKind): void {
    const served = this.served;
    served.fill(0);
    this.streams?.begin(this, addr, bytes, kind);
    this.caches.accessRange(this.id, addr, bytes, kind, served);
    const terms = kind === AccessKind.Read ? this.book.levelStreamRead : this.book.levelStreamWrite;
    for (let k = 0; k < served.length; k++) if (served[k]! > 0) this.charge(terms[k]!, served[k]);
    this.streams?.end(this, served);
  }

  /** Copy `bytes` from src to dst through the caches. */
  copy(dst: number, src: number, bytes: number): void {
    // In pieces that stay within one source and one destination page: read the
    // piece, then write it (a copy loop's lines, a page at a time).
    let off = 0;
    while (off < bytes) {
      const n = Math.min(bytes - off, 4096 - ((src + off) % 4096), 4096 - ((dst + off) % 4096));
      this.translate(src + off);
      this.translate(dst + off);
      this.streamLines(src + off, n, AccessKind.Read);
      this.streamLines(dst + off, n, AccessKind.Write);
      off += n;
    }
  }

  enter(fn: string): void {
    this.stack.push(fn);
  }

  leave(): void {
    this.stack.pop();
  }

  /** The time not yet handed to the engine, rounded to whole ps; marks it handed. */
  flush(): number {
    this.flushes++;
    const now = Math.round(this.t);
    const d = now - this.committed;
    this.committed = now;
    return d;
  }

  /** The cursor rounded to whole ns, as DTrace's `timestamp` reads it. */
  get timestampNs(): number {
    return Math.round(this.t / 1000);
  }

  /**
   * Move the idle CPU to an engine time: the periodic ticks in between are skipped
   * (a tickless idle CPU), and the callouts due by then run now, in interrupt
   * context (their cost moves the cursor on; flush() hands it to the engine).
   */
  idleUntil(time: number): void {
    if (time > this.t) {
      this.idlePs += time - this.t;
      this.t = time;
      this.committed = Math.round(time);
      this.skipTicksTo(time);
    }
    if (this.nextCallout <= this.t) this.interrupt();
  }

  /** When the next clock tick or callout interrupts this CPU while it runs (ps). */
  get nextTickAt(): number {
    return this.nextTick;
  }

  /** When the event timer must next fire for a callout (ps; Infinity if none is set). The periodic ticks are not included: an idle CPU skips them. */
  get nextCalloutAt(): number {
    return this.nextCallout;
  }

  /**
   * callout_reset: run `fn` in interrupt context when this CPU's clock reaches
   * `at` (ps, not before the cursor): inside whatever step is running then, or,
   * if the CPU is idle, when the engine fires its event timer.
   */
  callout(at: number, fn: CalloutFn): void {
    if (!(at >= this.t)) throw new RangeError(`cpu${this.id}: a callout must be set for a time not before the CPU's clock (${this.t} ps), got ${at}`);
    const c: Callout = { at, seq: this.calloutSeq++, fn };
    let i = this.callouts.length;
    while (i > 0 && this.callouts[i - 1]!.at > at) i--;
    this.callouts.splice(i, 0, c);
    this.nextCallout = this.callouts[0]!.at;
    this.nextTick = Math.min(this.nextTick, this.nextCallout);
  }

  private advance(dt: number): void {
    if (this.journal !== null) this.journal.push(dt);
    let end = this.t + dt;
    if (this.inInterrupt) {
      this.t = end;
      return;
    }
    while (this.nextTick <= end) {
      const remaining = end - this.nextTick;
      this.t = this.nextTick;
      this.interrupt();
      end = this.t + remaining;
    }
    this.t = end;
  }

  /** Run the clocks and callouts due at this.t; their handlers charge their own costs (time moves on). */
  private interrupt(): void {
    const at = this.t;
    const saved = this.mode;
    this.inInterrupt = true;
    if (this.nextStat <= at) {
      // statclock samples the interrupted context (FreeBSD statclock(usermode)).
      this.nextStat += this.statPs;
      // (With no thread on the CPU there is nothing to charge: an idle CPU's ticks are skipped.)
      const ticks = this.curthread?.ticks;
      if (ticks !== undefined) {
        if (saved === Mode.User) ticks.user++;
        else if (saved === Mode.Interrupt) ticks.interrupt++;
        else ticks.system++;
      }
      this.clocks.statclock(this);
    }
    if (this.nextProf <= at) {
      this.nextProf += this.profPs;
      this.clocks.profileTick(this);
    }
    if (this.nextHard <= at) {
      this.nextHard += this.hardPs;
      this.mode = Mode.Interrupt;
      this.clocks.hardclock(this);
    }
    if (this.nextCallout <= at) this.runCallouts(at);
    this.mode = saved;
    this.inInterrupt = false;
    this.nextTick = Math.min(this.nextHard, this.nextStat, this.nextProf, this.nextCallout);
  }

  /** softclock's direct-dispatch work: each callout due at `at`, in interrupt mode, earliest first. */
  private runCallouts(at: number): void {
    this.mode = Mode.Interrupt;
    while (this.callouts.length > 0 && this.callouts[0]!.at <= at) this.callouts.shift()!.fn(this);
    this.nextCallout = this.callouts.length > 0 ? this.callouts[0]!.at : Infinity;
  }

  private skipTicksTo(time: number): void {
    const skip = (next: number, period: number) => (next <= time ? next + Math.ceil((time - next) / period) * period : next);
    this.nextHard = skip(this.nextHard, this.hardPs);
    this.nextStat = skip(this.nextStat, this.statPs);
    this.nextProf = skip(this.nextProf, this.profPs);
    this.nextTick = Math.min(this.nextHard, this.nextStat, this.nextProf, this.nextCallout);
  }
}
