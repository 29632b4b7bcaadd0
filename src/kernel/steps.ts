// Accounting of spans (one system call or trap, entry to return) and of the
// top-level steps inside each. The top-level steps of a span partition its time:
// every picosecond between entry and return is inside exactly one of them, so
// per-step costs sum to the span's time. A trap taken inside a syscall (a fault
// in copyout) is a nested span: its time is inside the syscall's step that took
// it, and it is also recorded as a trap of its own.

export type SpanKind = 'syscall' | 'trap';

export interface SpanTotals {
  count: number;
  ps: number;
  /** Top-level step name -> total ps over all spans of this name. */
  steps: Map<string, number>;
}

/** One event of the exported timeline (Chrome trace "complete" event, times in ps). */
export interface TimelineEvent {
  name: string;
  cat: 'syscall' | 'trap' | 'step' | 'user';
  startPs: number;
  durPs: number;
  depth: number;
}

interface OpenSpan {
  kind: SpanKind;
  name: string;
  t0: number;
  baseDepth: number;
  steps: Map<string, number>;
}

export class StepLedger {
  private depth = 0;
  private readonly open_: OpenSpan[] = [];
  readonly syscalls = new Map<string, SpanTotals>();
  readonly traps = new Map<string, SpanTotals>();
  /** Traps taken while a syscall was open (faults inside copyout), by trap name. */
  nestedTraps = 0;
  readonly timeline: TimelineEvent[] = [];
  timelineDropped = 0;

  constructor(private readonly timelineCap = 0) {}

  beginSpan(kind: SpanKind, name: string, t0: number): void {
    if (kind === 'trap' && this.open_.some((s) => s.kind === 'syscall')) this.nestedTraps++;
    this.open_.push({ kind, name, t0, baseDepth: this.depth, steps: new Map() });
  }

  endSpan(tEnd: number): void {
    const span = this.open_.pop();
    if (!span) throw new Error('endSpan without beginSpan');
    const table = span.kind === 'syscall' ? this.syscalls : this.traps;
    let totals = table.get(span.name);
    if (!totals) table.set(span.name, (totals = { count: 0, ps: 0, steps: new Map() }));
    totals.count++;
    totals.ps += tEnd - span.t0;
    for (const [step, ps] of span.steps) totals.steps.set(step, (totals.steps.get(step) ?? 0) + ps);
    this.record(span.name, span.kind, span.t0, tEnd - span.t0, this.open_.length);
  }

  /** Opens a step; returns whether it is a top-level step of the innermost open span. */
  open(_name: string, _t0: number): boolean {
    this.depth++;
    const span = this.open_[this.open_.length - 1];
    return span !== undefined && this.depth === span.baseDepth + 1;
  }

  close(top: boolean, name: string, dt: number, tEnd: number): void {
    this.depth--;
    if (!top) return;
    const span = this.open_[this.open_.length - 1]!;
    span.steps.set(name, (span.steps.get(name) ?? 0) + dt);
    this.record(name, 'step', tEnd - dt, dt, this.open_.length);
  }

  /** True inside a span but outside any of its top-level steps: time spent now would be in no step. */
  get betweenSteps(): boolean {
    const span = this.open_[this.open_.length - 1];
    return span !== undefined && this.depth === span.baseDepth;
  }

  /** The top-level steps of the innermost open span so far (for tests and the fast-path report). */
  currentSteps(): Map<string, number> | undefined {
    return this.open_[this.open_.length - 1]?.steps;
  }

  recordUser(startPs: number, durPs: number): void {
    this.record('user', 'user', startPs, durPs, 0);
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
