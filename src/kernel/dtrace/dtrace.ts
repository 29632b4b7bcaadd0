// The DTrace model: enabled clauses at the modelled probe sites, their predicates,
// actions and aggregations, and the probe effect. A disabled probe costs nothing
// here beyond its site's own guard (which the kernel path pays: systrace's
// function-pointer test; fbt sites are patched only when enabled). An enabled
// probe costs dispatch, then per clause a predicate and its actions; the
// `timestamp` a clause reads is taken after dispatch, so a traced interval
// includes part of the probe effect, as on the real machine.

import type { Profile } from '../../costmodel/profile.js';
import type { Cpu } from '../cpu.js';
import type { KernelMemory } from '../machine/layout.js';
import type { CostBook, Usage } from '../meter.js';
import type { Thread } from '../proc.js';
import { SCRIPTS, type Action, type Clause, type Term } from './scripts.js';

/** What DTrace needs of the kernel it runs in (the Kernel is one). */
export interface DTraceHost {
  readonly profile: Profile;
  readonly mem: KernelMemory;
  readonly lineBytes: number;
  readonly book: CostBook;
  readonly usage: Usage;
  /** The thread running on `cpu`, for the profile provider's execname. */
  threadOn(cpu: Cpu): Thread | undefined;
}

export class UnknownScriptError extends Error {}

/** Aggregation values: a plain number (count, sum) or power-of-two buckets (quantize). */
export type AggValue = number | Map<number, number>;

export class DTrace {
  private readonly syscallEntry: Clause[] = [];
  private readonly syscallReturn: Clause[] = [];
  private readonly fbtEntry = new Map<string, Clause[]>();
  private readonly fbtReturn = new Map<string, Clause[]>();
  private readonly lockstatClauses: Clause[] = [];
  private readonly profileClauses: Clause[] = [];
  private readonly dtmallocClauses: Clause[] = [];
  readonly profileHz: number = 0;
  /** Some fbt probe is enabled (the kernel skips the fbt sites' look-up otherwise). */
  readonly fbtEnabled: boolean;
  /** Aggregations: name -> key ('' for none, probefunc, or stack frames joined by ';') -> value. */
  readonly aggregations = new Map<string, Map<string, AggValue>>();
  /** Firings by provider, for reports. */
  readonly firings = { syscall: 0, fbt: 0, lockstat: 0, profile: 0, dtmalloc: 0 };
  private readonly ids: { probe: number; predicate: number; action: number; stack: number };
  private length = 0;
  /**
   * DTrace's own data, at addresses, so a firing pays for the lines it touches:
   * the probe and its ECB list, each clause's ECB and DIF, and each action's
   * dynamic variable or aggregation buffer. After a big copy they are cold too.
   */
  private readonly probeLines: number;
  private readonly clauseLines = new Map<Clause, number>();
  /**
   * Calibration support: when on, every `sum(length)` also sums the cost-term
   * usage of the timed interval (meter snapshots at the two timestamps), so a fit
   * can say exactly which unit costs a DTrace figure is made of.
   */
  recordUsage = false;
  readonly usageAggregations = new Map<string, Map<string, Float64Array>>();
  private readonly startUsage = new WeakMap<Thread, Float64Array>();
  private lengthUsage: Float64Array | undefined;

  constructor(
    private readonly k: DTraceHost,
    scriptNames: readonly string[],
    /** The kernel's page-fault handler, which the lecture's fbt::trap names: abort_handler on ARMv7, exc_page_fault on Linux. */
    private readonly trapFn = k.profile.kernel === 'linux' ? 'exc_page_fault' : k.profile.machine.isa === 'armv7' ? 'abort_handler' : 'trap',
  ) {
    this.probeLines = k.mem.alloc('dtrace', 2 * k.lineBytes);
    this.ids = { probe: k.book.id('dtrace_probe'), predicate: k.book.id('dtrace_predicate'), action: k.book.id('dtrace_action'), stack: k.book.id('dtrace_stack') };
    for (const name of scriptNames) {
      const script = SCRIPTS[name];
      if (!script) throw new UnknownScriptError(name);
      for (const clause of script.clauses) {
        this.clauseLines.set(clause, k.mem.alloc('dtrace', (1 + clause.actions.length) * k.lineBytes));
        const p = clause.probe;
        if (p.provider === 'syscall') (p.name === 'entry' ? this.syscallEntry : this.syscallReturn).push(clause);
        else if (p.provider === 'fbt') {
          const table = p.name === 'entry' ? this.fbtEntry : this.fbtReturn;
          const fn = p.func === 'trap' ? this.trapFn : p.func;
          table.set(fn, [...(table.get(fn) ?? []), clause]);
        } else if (p.provider === 'lockstat') this.lockstatClauses.push(clause);
        else if (p.provider === 'profile') {
          this.profileClauses.push(clause);
          this.profileHz = p.hz;
        } else this.dtmallocClauses.push(clause);
      }
    }
    this.fbtEnabled = this.fbtEntry.size > 0 || this.fbtReturn.size > 0;
  }

  /** systrace_probe_func != NULL: some syscall probe is enabled. */
  get syscallProbesEnabled(): boolean {
    return this.syscallEntry.length > 0 || this.syscallReturn.length > 0;
  }

  get lockstatEnabled(): boolean {
    return this.lockstatClauses.length > 0;
  }

  syscall(td: Thread, which: 'entry' | 'return', probefunc: string): void {
    const clauses = which === 'entry' ? this.syscallEntry : this.syscallReturn;
    if (clauses.length > 0) this.fire(td.cpu, td, clauses, probefunc, 'syscall');
  }

  fbt(td: Thread, fn: string, which: 'entry' | 'return'): void {
    const clauses = (which === 'entry' ? this.fbtEntry : this.fbtReturn).get(fn);
    if (clauses) this.fire(td.cpu, td, clauses, fn, 'fbt');
  }

  lockstat(td: Thread): void {
    if (this.lockstatClauses.length > 0) this.fire(td.cpu, td, this.lockstatClauses, 'lockstat', 'lockstat');
  }

  /** Lock events of other threads on this CPU (execname is not dd's). */
  backgroundLockstat(cpu: Cpu, n: number): void {
    if (this.lockstatClauses.length === 0) return;
    for (let i = 0; i < n; i++) this.fire(cpu, undefined, this.lockstatClauses, 'lockstat', 'lockstat');
  }

  dtmalloc(td: Thread): void {
    if (this.dtmallocClauses.length > 0) this.fire(td.cpu, td, this.dtmallocClauses, 'malloc', 'dtmalloc');
  }

  profileTick(cpu: Cpu): void {
    if (this.profileClauses.length > 0) this.fire(cpu, this.k.threadOn(cpu), this.profileClauses, 'profile', 'profile');
  }

  private fire(cpu: Cpu, td: Thread | undefined, clauses: Clause[], probefunc: string, provider: keyof DTrace['firings']): void {
    this.firings[provider]++;
    cpu.charge(this.ids.probe);
    cpu.load(this.probeLines);
    cpu.load(this.probeLines + this.k.lineBytes);
    const timestamp = cpu.timestampNs;
    const usage = this.recordUsage ? this.k.usage.snapshot() : undefined;
    for (const clause of clauses) {
      const lines = this.clauseLines.get(clause)!;
      cpu.load(lines);
      if (clause.predicate.length > 0) {
        cpu.charge(this.ids.predicate);
        if (!clause.predicate.every((term) => this.test(term, td))) continue;
      }
      clause.actions.forEach((action, i) => {
        cpu.store(lines + (i + 1) * this.k.lineBytes);
        this.act(action, cpu, td, probefunc, timestamp, usage);
      });
    }
  }

  private test(term: Term, td: Thread | undefined): boolean {
    if (!td) return false;
    if ('execname' in term) return td.proc.comm === term.execname;
    const v = td.dtraceSelf.get(term.self) ?? 0;
    return term.op === '==' ? v === term.value : v !== term.value;
  }

  private act(action: Action, cpu: Cpu, td: Thread | undefined, probefunc: string, timestamp: number, usage: Float64Array | undefined): void {
    cpu.charge(this.ids.action);
    if ('set' in action) {
      if (action.set === 'length') {
        this.length = timestamp - (td?.dtraceSelf.get('start') ?? 0);
        const from = td && this.startUsage.get(td);
        this.lengthUsage = usage && from ? usage.map((v, i) => v - from[i]!) : undefined;
      } else if (action.set.startsWith('self->') && td) {
        td.dtraceSelf.set(action.set.slice(6), action.to === 'timestamp' ? timestamp : (action.to as number));
        if (action.set === 'self->start' && usage) this.startUsage.set(td, usage);
      }
      return;
    }
    let key = '';
    if (action.key === 'probefunc') key = probefunc;
    else if (action.key === 'stack') {
      cpu.charge(this.ids.stack);
      key = cpu.stack.slice().reverse().join(';');
    }
    let agg = this.aggregations.get(action.agg);
    if (!agg) this.aggregations.set(action.agg, (agg = new Map()));
    if (action.fn === 'count') agg.set(key, ((agg.get(key) as number | undefined) ?? 0) + 1);
    else if (action.fn === 'sum') {
      agg.set(key, ((agg.get(key) as number | undefined) ?? 0) + this.length);
      if (this.lengthUsage) this.addUsage(action.agg, key, this.lengthUsage);
    }
    else {
      let buckets = agg.get(key) as Map<number, number> | undefined;
      if (!buckets) agg.set(key, (buckets = new Map()));
      const b = this.length <= 0 ? 0 : 2 ** Math.floor(Math.log2(this.length));
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
  }

  private addUsage(agg: string, key: string, u: Float64Array): void {
    let m = this.usageAggregations.get(agg);
    if (!m) this.usageAggregations.set(agg, (m = new Map()));
    const sum = m.get(key);
    if (sum) for (let i = 0; i < u.length; i++) sum[i] = sum[i]! + u[i]!;
    else m.set(key, u.slice());
  }

  /** A scalar aggregation's value (count or sum with no key), or 0 if it never fired. */
  scalar(agg: string): number {
    return (this.aggregations.get(agg)?.get('') as number | undefined) ?? 0;
  }

  /** A keyed aggregation as [key, value] pairs, largest first. */
  keyed(agg: string): [string, number][] {
    const m = this.aggregations.get(agg);
    if (!m) return [];
    return [...m.entries()].filter((e): e is [string, number] => typeof e[1] === 'number').sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }
}
