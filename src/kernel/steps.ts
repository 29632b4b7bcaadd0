// Accounting of spans (one system call or trap, entry to return) and of the
// top-level steps inside each. The top-level steps of a span partition its time:
// every picosecond between entry and return is inside exactly one of them, so
// per-step costs sum to the span's time. A trap taken inside a syscall (a fault
// in copyout) is a nested span: its time is inside the syscall's step that took
// it, and it is also recorded as a trap of its own. Every top-level step must be
// declared in the kernel flavour's step table (./step-table.ts): the ledger refuses
// any other. Observers (the fast-path report) hear each top-level step open and
// close, so they can measure it without wrapping the kernel.

import { STEADY, type SteadyDecl } from './steady/declare.js';
import type { StepTable } from './step-table.js';

export type SpanKind = 'syscall' | 'trap';

export interface SpanTotals {
  count: number;
  ps: number;
  /** Top-level step name -> total ps over all spans of this name. */
  steps: Map<string, number>;
  /** Clock-interrupt time inside these spans (already in ps), and inside each of their steps. */
  interruptPs: number;
  stepInterruptPs: Map<string, number>;
}

/** Clock interrupts of a whole run: hardclock ticks, and the time of every interrupt handler. */
export interface InterruptTotals {
  ticks: number;
  ps: number;
  /** The part of `ps` that landed inside a system call. */
  inSyscallsPs: number;
}

/** One event of the exported timeline (Chrome trace "complete" event, times in ps). */
export interface TimelineEvent {
  name: string;
  cat: 'syscall' | 'trap' | 'step' | 'user';
  startPs: number;
  durPs: number;
  depth: number;
}

/** The span a top-level step belongs to, as observers see it. */
export interface SpanView {
  readonly kind: SpanKind;
  readonly name: string;
  /** Inside another span: a fault taken inside a system call. */
  readonly nested: boolean;
}

/** Listens to the top-level steps of every span. */
export interface StepObserver {
  stepOpened(span: SpanView, step: string): void;
  stepClosed(span: SpanView, step: string, t0: number, tEnd: number): void;
}

interface OpenSpan extends SpanView {
  kind: SpanKind;
  name: string;
  t0: number;
  baseDepth: number;
  /** The totals of spans of this name, into which its steps add as they close. */
  totals: SpanTotals;
  /** The top-level step running now, if any. */
  step: string | undefined;
}

export class StepLedger {
  static readonly [STEADY]: SteadyDecl = {
    outputs: ['syscalls', 'traps', 'interrupts', 'nestedTraps', 'timelineDropped'],
    skip: ['table'],
    // Fast-forward writes no timeline: a loop fast-forwards only once the timeline is full (or off).
    sizeOnly: ['timeline'],
  };
  private depth = 0;
  private readonly open_: OpenSpan[] = [];
  readonly syscalls = new Map<string, SpanTotals>();
  readonly traps = new Map<string, SpanTotals>();
  readonly interrupts: InterruptTotals = { ticks: 0, ps: 0, inSyscallsPs: 0 };
  /** Traps taken while a syscall was open (faults inside copyout), by trap name. */
  nestedTraps = 0;
  readonly timeline: TimelineEvent[] = [];
  timelineDropped = 0;

  private readonly observers: StepObserver[] = [];

  constructor(
    /** The kernel flavour's step table: a top-level step it does not declare is an error. */
    readonly table: StepTable,
    private readonly timelineCap = 0,
  ) {}

  /** Tell `o` of every top-level step from now on. */
  observe(o: StepObserver): void {
    this.observers.push(o);
  }

  beginSpan(kind: SpanKind, name: string, t0: number): void {
    if (kind === 'trap' && this.open_.some((s) => s.kind === 'syscall')) this.nestedTraps++;
    const table = kind === 'syscall' ? this.syscalls : this.traps;
    let totals = table.get(name);
    if (!totals) table.set(name, (totals = { count: 0, ps: 0, steps: new Map(), interruptPs: 0, stepInterruptPs: new Map() }));
    this.open_.push({ kind, name, nested: this.open_.length > 0, t0, baseDepth: this.depth, totals, step: undefined });
  }

  endSpan(tEnd: number): void {
    const span = this.open_.pop();
    if (!span) throw new Error('endSpan without beginSpan');
    span.totals.count++;
    span.totals.ps += tEnd - span.t0;
    this.record(span.name, span.kind, span.t0, tEnd - span.t0, this.open_.length);
  }

  /** Opens step `name`; returns whether it is a top-level step of the innermost open span. */
  open(name: string): boolean {
    this.depth++;
    const span = this.open_[this.open_.length - 1];
    const top = span !== undefined && this.depth === span.baseDepth + 1;
    if (top) {
      span.step = name;
      const observers = this.observers;
      for (let i = 0; i < observers.length; i++) observers[i]!.stepOpened(span, name);
    }
    return top;
  }

  /** Closes the step opened at `t0`; the timeline gets `t0` itself (tEnd - dt need not round back to it). */
  close(top: boolean, name: string, t0: number, tEnd: number): void {
    this.depth--;
    if (!top) return;
    const span = this.open_[this.open_.length - 1]!;
    span.step = undefined;
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i]!.stepClosed(span, name, t0, tEnd);
    const steps = span.totals.steps;
    const dt = tEnd - t0;
    const before = steps.get(name);
    // A step is checked against the table the first time a span of its name takes it.
    if (before === undefined) this.table.get(name); // throws UnknownStepError
    steps.set(name, (before ?? 0) + dt);
    if (this.timelineCap > 0) this.record(name, 'step', t0, dt, this.open_.length);
  }

  /**
   * A clock interrupt of `dtPs` ran (a hardclock tick if `tick`): its time is in
   * every open span and in the step each was running, and is noted there too, so
   * a comparison can take out where the ticks happened to land.
   */
  interrupt(dtPs: number, tick: boolean): void {
    const i = this.interrupts;
    if (tick) i.ticks++;
    i.ps += dtPs;
    if (this.open_.some((s) => s.kind === 'syscall')) i.inSyscallsPs += dtPs;
    for (const span of this.open_) {
      span.totals.interruptPs += dtPs;
      if (span.step !== undefined) span.totals.stepInterruptPs.set(span.step, (span.totals.stepInterruptPs.get(span.step) ?? 0) + dtPs);
    }
  }

  /** The open spans' totals, outermost first, each with its top-level step running now: where time spent now will be added. */
  openTotals(): { totals: SpanTotals; step: string | undefined }[] {
    return this.open_.map((s) => ({ totals: s.totals, step: s.step }));
  }

  /** True inside a span but outside any of its top-level steps: time spent now would be in no step. */
  get betweenSteps(): boolean {
    const span = this.open_[this.open_.length - 1];
    return span !== undefined && this.depth === span.baseDepth;
  }

  private record(name: string, cat: TimelineEvent['cat'], startPs: number, durPs: number, depth: number): void {
    if (this.timelineCap === 0) return;
    if (this.timeline.length >= this.timelineCap) {
      this.timelineDropped++;
      return;
    }
    this.timeline.push({ name, cat, startPs, durPs, depth });
  }
}
