// Compare two runs of one workload, a baseline and a variant (hooks on or off, a
// different profile, a cold cache): per system call and per step, the time of
// each and the difference, absolute and relative. It tells the fast-path story of
// the lecture: with the hooks off, what the guarded steps (a flag test each) cost
// per system call and what share of the call that is; with a hook on, which steps
// its cost lands in.
//
// The periodic clock interrupts land wherever the CPU happens to be, so a run that
// takes a little longer has its ticks in other calls; compared call by call, that
// placement is noise, not the variant's cost. So the times here exclude the clock
// interrupts (which the step ledger notes per span and step), which are shown on
// their own.

import type { KernelFlavour } from '../costmodel/costs.js';
import { STEP_TABLES } from '../kernel/hooks.js';
import { OUTSIDE_STEPS } from '../kernel/step-table.js';
import type { InterruptTotals, SpanTotals, StepLedger } from '../kernel/steps.js';

export interface CallRow {
  name: string;
  baseline: { count: number; ns_per_call: number };
  variant: { count: number; ns_per_call: number };
  diff_ns: number;
  /** diff / baseline (null when the baseline is 0 or absent). */
  rel: number | null;
}

export interface StepRow {
  step: string;
  /** The hook this step guards, if it is a guarded step. */
  guards: string | null;
  baseline_ns: number;
  variant_ns: number;
  diff_ns: number;
  rel: number | null;
}

export interface FastPath {
  /** Mean time of the guarded steps per system call, and their share of a mean system call. */
  guard_ns_per_syscall: number;
  syscall_ns: number;
  share: number;
  by_syscall: { name: string; guard_ns: number; syscall_ns: number; share: number }[];
}

export interface SideSummary {
  profile: string;
  features: string[];
  cold_cache: boolean;
  headline: Record<string, number>;
}

export interface CompareReport {
  workload: string;
  command: string;
  seed: string;
  kernel: KernelFlavour;
  baseline: SideSummary;
  variant: SideSummary;
  headline: { name: string; baseline: number; variant: number; diff: number; rel: number | null }[];
  /** Clock interrupts of each run (left out of every other figure): count and time, in all and inside system calls. */
  interrupts: { baseline: InterruptSummary; variant: InterruptSummary };
  /** Per system call: mean time per call. The last row, "all", is every call. */
  syscalls: CallRow[];
  /** Per step, over all system calls: mean time per system call. */
  steps: StepRow[];
  /** Traps (page faults): per trap name, mean time per trap. */
  traps: CallRow[];
  fast_path: { guarded_steps: string[]; baseline: FastPath; variant: FastPath };
  /** Where the variant's extra (or saved) time goes: steps by absolute change of total time, over syscalls and traps. */
  where: { step: string; in: 'syscalls' | 'traps'; diff_total_ns: number; share_of_change: number }[];
}

export interface InterruptSummary {
  count: number;
  time_ns: number;
  in_syscalls_ns: number;
}

export interface Side {
  ledger: StepLedger;
  summary: SideSummary;
}

/** A ledger's span table with the clock-interrupt time (noted by the ledger) taken out of spans and steps. */
function withoutInterrupts(table: Map<string, SpanTotals>): Map<string, SpanTotals> {
  const out = new Map<string, SpanTotals>();
  for (const [name, t] of table) {
    const steps = new Map(t.steps);
    for (const [s, v] of t.stepInterruptPs) if (steps.has(s)) steps.set(s, steps.get(s)! - v);
    // Interrupt time outside every step comes out of the span only (totals() derives OUTSIDE_STEPS from it).
    out.set(name, { ...t, ps: t.ps - t.interruptPs, steps });
  }
  return out;
}

const rel = (diff: number, base: number): number | null => (base !== 0 ? diff / base : null);

function totals(table: Map<string, SpanTotals>): { count: number; ps: number; steps: Map<string, number> } {
  let count = 0;
  let ps = 0;
  const steps = new Map<string, number>();
  for (const t of table.values()) {
    count += t.count;
    ps += t.ps;
    let inSteps = 0;
    for (const [s, v] of t.steps) {
      steps.set(s, (steps.get(s) ?? 0) + v);
      inSteps += v;
    }
    steps.set(OUTSIDE_STEPS, (steps.get(OUTSIDE_STEPS) ?? 0) + (t.ps - inSteps));
  }
  return { count, ps, steps };
}

function callRows(a: Map<string, SpanTotals>, b: Map<string, SpanTotals>, withAll: boolean): CallRow[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const row = (name: string, ta: { count: number; ps: number } | undefined, tb: { count: number; ps: number } | undefined): CallRow => {
    const base = ta && ta.count > 0 ? ta.ps / ta.count / 1000 : 0;
    const v = tb && tb.count > 0 ? tb.ps / tb.count / 1000 : 0;
    return { name, baseline: { count: ta?.count ?? 0, ns_per_call: base }, variant: { count: tb?.count ?? 0, ns_per_call: v }, diff_ns: v - base, rel: ta && ta.count > 0 ? rel(v - base, base) : null };
  };
  const rows = names.map((n) => row(n, a.get(n), b.get(n)));
  if (withAll) rows.push(row('all', totals(a), totals(b)));
  return rows;
}

function fastPath(table: Map<string, SpanTotals>, guarded: Record<string, string>): FastPath {
  const t = totals(table);
  let guardPs = 0;
  for (const [s, v] of t.steps) if (s in guarded) guardPs += v;
  const by = [...table].sort((x, y) => x[0].localeCompare(y[0])).map(([name, s]) => {
    let g = 0;
    for (const [step, v] of s.steps) if (step in guarded) g += v;
    return { name, guard_ns: g / s.count / 1000, syscall_ns: s.ps / s.count / 1000, share: s.ps > 0 ? g / s.ps : 0 };
  });
  return {
    guard_ns_per_syscall: t.count > 0 ? guardPs / t.count / 1000 : 0,
    syscall_ns: t.count > 0 ? t.ps / t.count / 1000 : 0,
    share: t.ps > 0 ? guardPs / t.ps : 0,
    by_syscall: by,
  };
}

export function compareRuns(meta: { workload: string; command: string; seed: string; kernel: KernelFlavour }, base: Side, variant: Side): CompareReport {
  // The steps whose body is a guard on a hook's flag word (and that hook's slow path when it is on).
  const guarded = STEP_TABLES[meta.kernel].guarded();
  const clean = (s: Side) => ({ syscalls: withoutInterrupts(s.ledger.syscalls), traps: withoutInterrupts(s.ledger.traps) });
  const a = clean(base);
  const b = clean(variant);
  const ta = totals(a.syscalls);
  const tb = totals(b.syscalls);
  const stepNames = [...new Set([...ta.steps.keys(), ...tb.steps.keys()])];
  // Steps in path order as the baseline saw them (Map insertion order), the variant's new ones after.
  const steps: StepRow[] = stepNames.map((s) => {
    const x = ta.count > 0 ? (ta.steps.get(s) ?? 0) / ta.count / 1000 : 0;
    const y = tb.count > 0 ? (tb.steps.get(s) ?? 0) / tb.count / 1000 : 0;
    return { step: s, guards: guarded[s] ?? null, baseline_ns: x, variant_ns: y, diff_ns: y - x, rel: rel(y - x, x) };
  });
  const where: CompareReport['where'] = [];
  const addWhere = (kind: 'syscalls' | 'traps', sa: Map<string, number>, sb: Map<string, number>) => {
    for (const s of new Set([...sa.keys(), ...sb.keys()])) {
      const d = ((sb.get(s) ?? 0) - (sa.get(s) ?? 0)) / 1000;
      if (d !== 0) where.push({ step: s, in: kind, diff_total_ns: d, share_of_change: 0 });
    }
  };
  addWhere('syscalls', ta.steps, tb.steps);
  const xa = totals(a.traps);
  const xb = totals(b.traps);
  addWhere('traps', xa.steps, xb.steps);
  const change = (tb.ps + xb.ps - ta.ps - xa.ps) / 1000;
  for (const w of where) w.share_of_change = change !== 0 ? w.diff_total_ns / change : 0;
  where.sort((p, q) => Math.abs(q.diff_total_ns) - Math.abs(p.diff_total_ns));
  const headline = Object.keys(base.summary.headline).map((name) => {
    const x = base.summary.headline[name]!;
    const y = variant.summary.headline[name] ?? 0;
    return { name, baseline: x, variant: y, diff: y - x, rel: rel(y - x, x) };
  });
  return {
    ...meta,
    baseline: base.summary,
    variant: variant.summary,
    headline,
    interrupts: { baseline: intrSummary(base.ledger.interrupts), variant: intrSummary(variant.ledger.interrupts) },
    syscalls: callRows(a.syscalls, b.syscalls, true),
    steps,
    traps: callRows(a.traps, b.traps, false),
    fast_path: { guarded_steps: Object.keys(guarded), baseline: fastPath(a.syscalls, guarded), variant: fastPath(b.syscalls, guarded) },
    where: where.slice(0, 12),
  };
}

function intrSummary(i: InterruptTotals): InterruptSummary {
  return { count: i.ticks, time_ns: i.ps / 1000, in_syscalls_ns: i.inSyscallsPs / 1000 };
}

function fmtNs(n: number): string {
  return n.toFixed(1);
}

function fmtDiff(n: number): string {
  return `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;
}

function fmtRel(r: number | null): string {
  if (r === null) return 'new';
  const p = r * 100;
  return `${p >= 0 ? '+' : ''}${Math.abs(p) >= 100 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function fmtValue(n: number): string {
  return Math.abs(n) >= 1000 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(3) : n.toPrecision(4);
}

/** The report as text tables. */
export function formatCompare(r: CompareReport): string {
  const out: string[] = [];
  const hooks = (s: SideSummary) => (s.features.length === 0 ? 'none' : s.features.join('+'));
  const added = r.variant.features.filter((f) => !r.baseline.features.includes(f));
  const removed = r.baseline.features.filter((f) => !r.variant.features.includes(f));
  const delta = [...added.map((f) => `+${f}`), ...removed.map((f) => `-${f}`)];
  if (r.variant.profile !== r.baseline.profile) delta.push(`profile ${r.variant.profile}`);
  if (r.variant.cold_cache !== r.baseline.cold_cache) delta.push(r.variant.cold_cache ? 'cold cache' : 'warm cache');
  out.push(`# compare: ${r.command}   (seed ${r.seed})`);
  out.push(`#   baseline: profile ${r.baseline.profile}, hooks ${hooks(r.baseline)}${r.baseline.cold_cache ? ', cold cache' : ''}`);
  out.push(`#   variant:  profile ${r.variant.profile}, hooks ${hooks(r.variant)}${r.variant.cold_cache ? ', cold cache' : ''}   (${delta.length === 0 ? 'no change' : delta.join(', ')})`);
  out.push('');
  for (const h of r.headline) out.push(`${r.workload} ${h.name}: ${fmtValue(h.baseline)} -> ${fmtValue(h.variant)}   (${h.diff >= 0 ? '+' : ''}${fmtValue(h.diff)}, ${fmtRel(h.rel)})`);
  out.push('');
  const w = Math.max(24, ...r.syscalls.map((c) => c.name.length + 2), ...r.steps.map((s) => s.step.length + 4));
  const head = (title: string, cols: string[]) => out.push(`${title.padEnd(w)}${cols.map((c, i) => c.padStart(i === 0 ? 8 : 12)).join('')}`);
  head('system calls (ns per call)', ['count', 'baseline', 'variant', 'diff', 'rel']);
  for (const c of r.syscalls) {
    const count = c.baseline.count === c.variant.count ? String(c.baseline.count) : `${c.baseline.count}/${c.variant.count}`;
    out.push(`  ${c.name.padEnd(w - 2)}${count.padStart(8)}${fmtNs(c.baseline.ns_per_call).padStart(12)}${fmtNs(c.variant.ns_per_call).padStart(12)}${fmtDiff(c.diff_ns).padStart(12)}${fmtRel(c.rel).padStart(12)}`);
  }
  out.push('');
  const n = r.syscalls.find((c) => c.name === 'all');
  head(`steps (ns per syscall, mean of ${n?.baseline.count ?? 0})`, ['', 'baseline', 'variant', 'diff', 'rel']);
  for (const s of r.steps) {
    if (s.step === OUTSIDE_STEPS && Math.abs(s.baseline_ns) < 0.05 && Math.abs(s.variant_ns) < 0.05) continue;
    out.push(`  ${(s.guards ? 'G ' : '  ') + s.step}`.padEnd(w) + ''.padStart(8) + `${fmtNs(s.baseline_ns).padStart(12)}${fmtNs(s.variant_ns).padStart(12)}${fmtDiff(s.diff_ns).padStart(12)}${fmtRel(s.rel).padStart(12)}`);
  }
  out.push(`  (G: a guarded step: a test of a hook's flag word, and the hook's work when it is on)`);
  if (r.traps.length > 0) {
    out.push('');
    head('traps (ns per trap)', ['count', 'baseline', 'variant', 'diff', 'rel']);
    for (const c of r.traps) {
      const count = c.baseline.count === c.variant.count ? String(c.baseline.count) : `${c.baseline.count}/${c.variant.count}`;
      out.push(`  ${c.name.padEnd(w - 2)}${count.padStart(8)}${fmtNs(c.baseline.ns_per_call).padStart(12)}${fmtNs(c.variant.ns_per_call).padStart(12)}${fmtDiff(c.diff_ns).padStart(12)}${fmtRel(c.rel).padStart(12)}`);
    }
  }
  if (r.interrupts) {
    const i = r.interrupts;
    out.push('');
    out.push(`clock interrupts (left out of the times above): baseline ${i.baseline.count} ticks, ${fmtNs(i.baseline.time_ns)} ns (${fmtNs(i.baseline.in_syscalls_ns)} in syscalls); variant ${i.variant.count} ticks, ${fmtNs(i.variant.time_ns)} ns (${fmtNs(i.variant.in_syscalls_ns)} in syscalls)`);
  }
  out.push('');
  out.push(`# fast path: the ${r.fast_path.guarded_steps.length} guarded steps (G above), per call, and their share of the call`);
  out.push(`${'call'.padEnd(w)}${'baseline guards'.padStart(18)}${'call'.padStart(12)}${'share'.padStart(8)}${'variant guards'.padStart(18)}${'call'.padStart(12)}${'share'.padStart(8)}`);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const fa = r.fast_path.baseline;
  const fb = r.fast_path.variant;
  const names = [...new Set([...fa.by_syscall.map((c) => c.name), ...fb.by_syscall.map((c) => c.name)])].sort();
  for (const n of names) {
    const x = fa.by_syscall.find((c) => c.name === n);
    const y = fb.by_syscall.find((c) => c.name === n);
    const cols = (c: FastPath['by_syscall'][number] | undefined) => (c ? `${fmtNs(c.guard_ns).padStart(18)}${fmtNs(c.syscall_ns).padStart(12)}${pct(c.share).padStart(8)}` : ''.padStart(38));
    out.push(`  ${n.padEnd(w - 2)}${cols(x)}${cols(y)}`);
  }
  out.push(`  ${'all'.padEnd(w - 2)}${fmtNs(fa.guard_ns_per_syscall).padStart(18)}${fmtNs(fa.syscall_ns).padStart(12)}${pct(fa.share).padStart(8)}${fmtNs(fb.guard_ns_per_syscall).padStart(18)}${fmtNs(fb.syscall_ns).padStart(12)}${pct(fb.share).padStart(8)}`);
  if (r.baseline.features.includes('witness')) out.push("  (with WITNESS, STOPEVENT's WITNESS_WARN runs in stopevent_sce/scx on every call: debug-kernel cost inside two guarded steps)");
  if (r.where.length > 0) {
    out.push('');
    out.push('# where the difference lands (total over the run, ns, and share of the whole change)');
    const ww = Math.max(w, ...r.where.map((x) => x.step.length + x.in.length + 5));
    for (const x of r.where) out.push(`  ${`${x.step} (${x.in})`.padEnd(ww)}${fmtDiff(x.diff_total_ns).padStart(16)}${`${(x.share_of_change * 100).toFixed(1)}%`.padStart(10)}`);
  }
  return `${out.join('\n')}\n`;
}
