// The fast-path check (the lecture's "making nothing fast", measured): a null
// system call (getppid) made back to back with every hook off, its time split
// into the MD entry and return, the guards (each hook's flag-word test), the
// bookkeeping of syscallenter/syscallret/userret, and the body (sy_call), each
// with its share of the call. Then the same call right after a 10 MiB copy
// (read(2) of /dev/zero into a buffer touched once before, so nothing faults),
// which evicts the flag words: the same table shows what the misses cost, step by
// step. Optionally each hook switched on alone, and where its cost lands.
//
// Per-step times come from the kernel's StepLedger: a snapshot of the getppid
// totals before and after each timed call gives that call's top-level steps. Span
// time that no step covers (code fetched between steps) is shown as the trace
// export shows it, the pseudo-step '(outside steps)', so the rows always add up
// to the call. The loads each step made, by the cache level that served them, come
// from the meter: the probe observes the step ledger (StepLedger.observe) and
// snapshots the usage counts as each top-level step of a timed call opens and
// closes (instrumentation only; nothing the model charges changes). What each step
// is (its kind, the hook a guard tests for) is the kernel's step table's to say.
//
// Clock interrupts: a hardclock tick that lands inside a timed call would add
// its handler to whichever step it interrupted. The ticks still fire (the
// signals and suspend hooks post their work from them), but this measurement
// prices clock_intr at 0 (CostBook.setPsPer), so every timed call is the
// syscall path's own cost.

import type { Profile } from '../costmodel/profile.js';
import { bootKernel } from '../kernel/boot.js';
import { FEATURE_NAMES, type Feature } from '../kernel/features.js';
import { FEATURE_KERNELS, STEP_TABLES, checkFeatures } from '../kernel/hooks.js';
import type { Kernel } from '../kernel/kernel.js';
import { OUTSIDE_STEPS, STEP_KINDS, type StepKind } from '../kernel/step-table.js';
import type { SpanView, StepObserver } from '../kernel/steps.js';
import { FREEBSD_LAYOUT } from './dd/freebsd.js';
import { runProgram, UserProcess, type Program } from './runtime.js';
import type { FileDecl } from '../kernel/vfs.js';


export interface FastpathSpec {
  profile: Profile;
  seed: string;
  /** Hooks on for the main measurement (default: none, the fast path). */
  features: ReadonlySet<Feature>;
  /** DTrace scripts running (dtrace/scripts.ts); none by default. */
  scripts?: readonly string[];
  /** Data files on the machine besides the profile's (--file). */
  files?: readonly FileDecl[];
  /** Back-to-back warm calls (the first `warmup` of them are not averaged). */
  calls?: number;
  warmup?: number;
  /** Bytes of the copy before each cold call (default 10 MiB); 0 skips the cold measurement. */
  copyBytes?: number;
  /** Cold calls, each right after its own copy. */
  coldRounds?: number;
  /** Also measure each hook switched on alone (warm). */
  each?: boolean;
  /**
   * User-mode time between the warm calls, ns (default 0: back to back). Spent as
   * user work that touches no memory, so the caches stay warm; it lets the clock
   * tick between calls, which the tick-driven hooks (signals, suspend) need.
   */
  userGapNs?: number;
}

/** Loads (and stores, code fetches, page-walk loads) by the cache level that served them. */
export type LoadsByLevel = Record<string, number>;

export interface StepRow {
  step: string;
  kind: StepKind;
  hook: string | null;
  warm_ns: number;
  warm_share: number;
  warm_loads: LoadsByLevel;
  warm_tlb_misses: number;
  cold_ns: number | null;
  cold_share: number | null;
  cold_loads: LoadsByLevel | null;
  cold_tlb_misses: number | null;
  /** cold_ns - warm_ns: what the misses cost this step. */
  cold_extra_ns: number | null;
}

export interface KindTotals {
  kind: StepKind;
  steps: number;
  warm_ns: number;
  warm_share: number;
  cold_ns: number | null;
  cold_share: number | null;
}

export interface CallStats {
  /** Calls averaged. */
  calls: number;
  mean_ns: number;
  min_ns: number;
  max_ns: number;
  last_ns: number;
  tlb_misses: number;
}

export interface HookRow {
  hook: string;
  /** User-mode time between the calls (tick-driven hooks need ticks between calls to post their work). */
  gap_us: number;
  /** Extra ns of the process's first syscall (one-shot hooks such as vfork fire there). */
  first_call_delta_ns: number;
  total_ns: number;
  /** Extra ns per call over the fast path. */
  delta_ns: number;
  delta_share: number;
  /** Steps whose time grew, largest first, with the growth in ns. */
  lands_in: { step: string; delta_ns: number }[];
  /** Steps whose time shrank (should be none), with the change in ns. */
  cheaper: { step: string; delta_ns: number }[];
}

export interface FastpathReport {
  workload: 'fastpath';
  profile: string;
  seed: string;
  syscall: string;
  features: string[];
  scripts: string[];
  /** Cache levels, innermost first, then 'mem': the keys of the loads tables. */
  levels: string[];
  warm: CallStats & { warmup: number };
  cold: (CallStats & { copy_bytes: number; copy: string }) | null;
  steps: StepRow[];
  kinds: KindTotals[];
  guards: { steps: number; warm_ns: number; warm_share: number; cold_ns: number | null; cold_share: number | null };
  hooks: HookRow[] | null;
  notes: string[];
}

/** One timed call: its span time, its top-level steps' times, and each step's meter usage. */
export interface CallSample {
  ps: number;
  /** Top-level step -> ps in this call (from the step ledger). */
  steps: Map<string, number>;
  /** Top-level step -> loads served by each level (L1 first, memory last), then TLB misses, in this call (TRACKED order). */
  usage: Map<string, Float64Array>;
  /** The same for the whole call, entry to return. */
  total: Float64Array;
}



/** The measurement of one run: warm and cold samples. */
export interface FastpathRun {
  kernel: Kernel;
  syscall: string;
  warm: CallSample[];
  cold: CallSample[];
}

const MIB = 1024 * 1024;

/** The null syscall the path models: getppid (FreeBSD's sysent has it), else getpid. */
export function nullSyscall(k: Kernel): string {
  const names = k.path.syscallNames;
  if (names.includes('getppid')) return 'getppid';
  if (names.includes('getpid')) return 'getpid';
  throw new Error(`profile '${k.profile.name}': its kernel path models neither getppid nor getpid`);
}

/**
 * Run the measurement program once: setup (open /dev/zero, map and touch the copy
 * buffer), `calls` back-to-back null calls, then `coldRounds` x (copy, null call).
 */
export function runFastpath(spec: FastpathSpec): FastpathRun {
  const { profile } = spec;
  checkFeatures(profile.kernel, spec.features, profile.name);
  const calls = spec.calls ?? 100;
  const copyBytes = spec.copyBytes ?? 10 * MIB;
  const coldRounds = copyBytes > 0 ? (spec.coldRounds ?? 3) : 0;
  if (!Number.isSafeInteger(calls) || calls < 1) throw new Error(`fastpath: calls must be a positive integer (got ${calls})`);
  const k = bootKernel(profile, { seed: spec.seed, features: spec.features, scripts: spec.scripts ?? [], files: spec.files ?? [] });
  k.book.setPsPer('clock_intr', 0);
  const syscall = nullSyscall(k);
  const layout = profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
  const u = new UserProcess(k, 'fastpath', layout);
  const probe = new StepProbe(k, syscall);
  const warm: CallSample[] = [];
  const cold: CallSample[] = [];
  function* program(up: UserProcess): Program {
    let fd = -1;
    let buf = 0;
    // The stack page in use (where syscall arguments beyond the registers are pushed): resident.
    yield* up.store(up.stackTop - k.pageBytes, k.pageBytes);
    if (coldRounds > 0) {
      fd = yield* up.sys('openat', { path: '/dev/zero', pathVa: -1, flags: 'r' });
      buf = yield* up.sys('mmap', { len: copyBytes, prot: 'rw', fd: -1, name: 'copy buffer' });
      // Touch the buffer once in user mode: its first-touch faults happen here, not later.
      yield* up.store(buf, copyBytes);
    }
    // Capsicum: the process enters capability mode first (the null call is allowed in it).
    if (k.has('capsicum')) yield* up.sys('cap_enter');
    const gap = spec.userGapNs ?? 0;
    const stubPs = k.book.psPer[k.book.id('user_syscall_stub')]!;
    for (let i = 0; i < calls; i++) {
      if (i > 0 && gap > 0) yield* up.work('user_syscall_stub', Math.max(1, Math.round((gap * 1000) / stubPs)));
      warm.push(yield* probe.timed(up));
    }
    for (let i = 0; i < coldRounds; i++) {
      yield* up.sys('read', { fd, bufVa: buf, len: copyBytes });
      cold.push(yield* probe.timed(up));
    }
    yield* up.sys('exit', { status: 0 });
  }
  runProgram(k, u, program, { maxEvents: 10_000_000 });
  return { kernel: k, syscall, warm, cold };
}

/** Times one call of the null syscall, step by step (ledger) and load by load (meter). */
class StepProbe implements StepObserver {
  private active = false;
  private current = new Map<string, Float64Array>();
  /** The usage counts when the open top-level step began. */
  private before: number[] = [];
  /** The meter terms tracked per step: each cache level's and memory's load latency, then TLB misses. */
  readonly ids: number[];

  constructor(
    private readonly k: Kernel,
    private readonly name: string,
  ) {
    this.ids = [...k.book.levelLatency, k.book.id('tlb.miss')];
    k.steps.observe(this);
  }

  /** The top-level steps of the timed call itself (not those of a fault taken inside it). */
  private timing(span: SpanView): boolean {
    return this.active && !span.nested;
  }

  stepOpened(span: SpanView): void {
    if (!this.timing(span)) return;
    const counts = this.k.usage.counts;
    this.before = this.ids.map((id) => counts[id]!);
  }

  stepClosed(span: SpanView, step: string): void {
    if (!this.timing(span)) return;
    const counts = this.k.usage.counts;
    let d = this.current.get(step);
    if (!d) this.current.set(step, (d = new Float64Array(this.ids.length)));
    for (let i = 0; i < this.ids.length; i++) d[i] = d[i]! + counts[this.ids[i]!]! - this.before[i]!;
  }

  /** One call of the null syscall from user mode (the libc stub, then the kernel path), as UserProcess.sys makes it. */
  *timed(u: UserProcess): Generator<number, CallSample, unknown> {
    const k = this.k;
    const td = u.td;
    const totals = () => k.steps.syscalls.get(this.name);
    const before = totals();
    const ps0 = before?.ps ?? 0;
    const steps0 = new Map(before?.steps ?? []);
    this.current = new Map();
    k.charge(td, 'user_syscall_stub');
    const counts = k.usage.counts;
    const usage0 = this.ids.map((id) => counts[id]!);
    this.active = true;
    try {
      k.path.syscall(td, this.name, {});
    } finally {
      this.active = false;
    }
    const usage = Float64Array.from(this.ids, (id, i) => counts[id]! - usage0[i]!);
    yield td.cpu.flush();
    // A signal delivered on the way out (the signals hook): its handler runs, then sigreturn (untimed).
    while (td.pendingHandlers > 0) {
      td.pendingHandlers--;
      k.charge(td, 'user_syscall_stub');
      yield* u.sys('sigreturn', { ucVa: u.stackTop - 1024 });
    }
    const after = totals()!;
    const steps = new Map<string, number>();
    let stepsPs = 0;
    for (const [s, ps] of after.steps) {
      steps.set(s, ps - (steps0.get(s) ?? 0));
      stepsPs += ps - (steps0.get(s) ?? 0);
    }
    const ps = after.ps - ps0;
    // Time in the span but in no top-level step (code fetched between steps): shown
    // as the trace export shows it, a pseudo-step, so the rows add up to the call.
    if (Math.abs(ps - stepsPs) > 1e-6 * ps) {
      steps.set(OUTSIDE_STEPS, ps - stepsPs);
      const rest = usage.slice();
      for (const u of this.current.values()) for (let i = 0; i < rest.length; i++) rest[i] = rest[i]! - u[i]!;
      this.current.set(OUTSIDE_STEPS, rest);
    }
    return { ps, steps, usage: this.current, total: usage };
  }
}

/** Loads by level in a tracked-usage vector (StepProbe.ids order: levels, then TLB misses). */
function loadsOf(k: Kernel, usage: Float64Array | undefined): LoadsByLevel {
  const out: LoadsByLevel = {};
  levelNames(k).forEach((name, i) => (out[name] = usage ? usage[i]! : 0));
  return out;
}

function tlbOf(k: Kernel, usage: Float64Array | undefined): number {
  return usage ? usage[k.book.levelLatency.length]! : 0;
}

function levelNames(k: Kernel): string[] {
  return [...k.profile.machine.caches.map((c) => c.name), 'mem'];
}

function tlbMisses(k: Kernel, samples: CallSample[]): number {
  const i = k.book.levelLatency.length;
  let n = 0;
  for (const s of samples) n += s.total[i]!;
  return samples.length > 0 ? n / samples.length : 0;
}

interface Averaged {
  ps: number;
  steps: Map<string, number>;
  usage: Map<string, Float64Array>;
  stats: CallStats;
}

function average(k: Kernel, samples: CallSample[]): Averaged {
  const n = samples.length;
  const steps = new Map<string, number>();
  const usage = new Map<string, Float64Array>();
  let ps = 0;
  for (const s of samples) {
    ps += s.ps;
    for (const [name, v] of s.steps) steps.set(name, (steps.get(name) ?? 0) + v);
    for (const [name, u] of s.usage) {
      const acc = usage.get(name) ?? new Float64Array(u.length);
      for (let i = 0; i < u.length; i++) acc[i] = acc[i]! + u[i]!;
      usage.set(name, acc);
    }
  }
  for (const [name, v] of steps) steps.set(name, v / n);
  for (const u of usage.values()) for (let i = 0; i < u.length; i++) u[i] = u[i]! / n;
  const ns = samples.map((s) => s.ps / 1000);
  return {
    ps: ps / n,
    steps,
    usage,
    stats: { calls: n, mean_ns: ps / n / 1000, min_ns: Math.min(...ns), max_ns: Math.max(...ns), last_ns: ns[ns.length - 1]!, tlb_misses: tlbMisses(k, samples) },
  };
}

/** The warm calls averaged: all but the first `warmup`. */
function warmSamples(run: FastpathRun, warmup: number): CallSample[] {
  const w = Math.min(warmup, run.warm.length - 1);
  return run.warm.slice(w);
}

export const DEFAULT_WARMUP = 2;

/** Measure and tabulate (FastpathSpec), optionally with each hook alone. */
export function fastpathReport(spec: FastpathSpec): { report: FastpathReport; run: FastpathRun } {
  const run = runFastpath(spec);
  const k = run.kernel;
  const warmup = spec.warmup ?? DEFAULT_WARMUP;
  const warm = average(k, warmSamples(run, warmup));
  const cold = run.cold.length > 0 ? average(k, run.cold) : null;
  const order = [...warm.steps.keys()];
  for (const s of cold?.steps.keys() ?? []) if (!order.includes(s)) order.push(s);
  const table = STEP_TABLES[spec.profile.kernel];
  const steps: StepRow[] = order.map((step) => {
    const c = table.get(step);
    const w = warm.steps.get(step) ?? 0;
    const cps = cold ? (cold.steps.get(step) ?? 0) : null;
    return {
      step,
      kind: c.kind,
      // The pseudo-step for time outside every step says what that time is.
      hook: c.guard?.hook ?? (step === OUTSIDE_STEPS ? c.does : null),
      warm_ns: w / 1000,
      warm_share: warm.ps > 0 ? w / warm.ps : 0,
      warm_loads: loadsOf(k, warm.usage.get(step)),
      warm_tlb_misses: tlbOf(k, warm.usage.get(step)),
      cold_ns: cps === null ? null : cps / 1000,
      cold_share: cps === null || !cold ? null : cps / cold.ps,
      cold_loads: cold ? loadsOf(k, cold.usage.get(step)) : null,
      cold_tlb_misses: cold ? tlbOf(k, cold.usage.get(step)) : null,
      cold_extra_ns: cps === null ? null : (cps - w) / 1000,
    };
  });
  const kinds: KindTotals[] = STEP_KINDS.map((kind) => {
    const rows = steps.filter((r) => r.kind === kind);
    const wns = rows.reduce((a, r) => a + r.warm_ns, 0);
    const cns = cold ? rows.reduce((a, r) => a + (r.cold_ns ?? 0), 0) : null;
    return {
      kind,
      steps: rows.length,
      warm_ns: wns,
      warm_share: warm.stats.mean_ns > 0 ? wns / warm.stats.mean_ns : 0,
      cold_ns: cns,
      cold_share: cns === null || !cold ? null : cns / cold.stats.mean_ns,
    };
  });
  const g = kinds.find((t) => t.kind === 'guard')!;
  const copyBytes = spec.copyBytes ?? 10 * MIB;
  const report: FastpathReport = {
    workload: 'fastpath',
    profile: spec.profile.name,
    seed: spec.seed,
    syscall: run.syscall,
    features: [...spec.features].sort(),
    scripts: [...(spec.scripts ?? [])],
    levels: levelNames(k),
    warm: { ...warm.stats, warmup: Math.min(warmup, run.warm.length - 1) },
    cold: cold ? { ...cold.stats, copy_bytes: copyBytes, copy: `read(/dev/zero) of ${formatBytes(copyBytes)} into a resident buffer` } : null,
    steps,
    kinds,
    guards: { steps: g.steps, warm_ns: g.warm_ns, warm_share: g.warm_share, cold_ns: g.cold_ns, cold_share: g.cold_share },
    hooks: spec.each ? hookRows(spec) : null,
    notes: [
      `warm: mean of calls ${Math.min(warmup, run.warm.length - 1) + 1}..${run.warm.length} of ${run.warm.length} back-to-back ${run.syscall}() calls`,
      cold ? `cold: mean of ${run.cold.length} calls, each right after a read(2) of ${formatBytes(copyBytes)} from /dev/zero into a buffer touched once before (no faults)` : 'cold: not measured',
      'clock interrupts are priced at 0 for this measurement (they still fire): a tick inside a timed call would otherwise land in whichever step it interrupted',
      "shares are of the whole syscall (entry to return, as the kernel's step ledger times it); the user-mode libc stub is not included",
    ],
  };
  return { report, run };
}

/** Hooks whose work the clock posts (a tick sets the AST flags): measured with user time between calls. */
export const TICK_HOOKS: readonly Feature[] = ['signals', 'suspend'];

/** User time between calls for the tick-driven hooks: the calls span 2.5 periods of the 100 Hz signal. */
function tickGapNs(calls: number): number {
  return Math.ceil(25e6 / Math.max(1, calls - 1));
}

/** Each hook of the profile's kernel switched on alone (warm), against the fast path measured the same way. */
function hookRows(spec: FastpathSpec): HookRow[] {
  const kernel = spec.profile.kernel;
  const scripts = spec.scripts ?? [];
  const hooks: { name: string; features: Set<Feature>; scripts: string[]; gapNs: number }[] = FEATURE_NAMES.filter(
    (f) => FEATURE_KERNELS[f].includes(kernel) && !spec.features.has(f),
  ).map((f) => ({ name: f, features: new Set([...spec.features, f]), scripts: [...scripts], gapNs: TICK_HOOKS.includes(f) ? tickGapNs(spec.calls ?? 100) : 0 }));
  if (!scripts.includes('syscall-time')) {
    hooks.push({ name: 'dtrace (syscall-time script)', features: new Set(spec.features), scripts: [...scripts, 'syscall-time'], gapNs: 0 });
  }
  const warmup = spec.warmup ?? DEFAULT_WARMUP;
  const measure = (features: Set<Feature>, s: string[], gapNs: number) => {
    const run = runFastpath({ ...spec, features, scripts: s, copyBytes: 0, each: false, userGapNs: gapNs });
    return { avg: average(run.kernel, warmSamples(run, warmup)), first: run.warm[0]! };
  };
  const bases = new Map<number, ReturnType<typeof measure>>();
  const baseFor = (gapNs: number) => {
    let b = bases.get(gapNs);
    if (!b) bases.set(gapNs, (b = measure(new Set(spec.features), [...scripts], gapNs)));
    return b;
  };
  return hooks.map((h) => {
    const base = baseFor(h.gapNs);
    const { avg: w, first } = measure(h.features, h.scripts, h.gapNs);
    const names = new Set([...base.avg.steps.keys(), ...w.steps.keys()]);
    const deltas = [...names].map((step) => ({ step, delta_ns: ((w.steps.get(step) ?? 0) - (base.avg.steps.get(step) ?? 0)) / 1000 }));
    const eps = 1e-9;
    return {
      hook: h.name,
      gap_us: h.gapNs / 1000,
      total_ns: w.ps / 1000,
      delta_ns: (w.ps - base.avg.ps) / 1000,
      delta_share: base.avg.ps > 0 ? (w.ps - base.avg.ps) / base.avg.ps : 0,
      first_call_delta_ns: (first.ps - base.first.ps) / 1000,
      lands_in: deltas.filter((d) => d.delta_ns > eps).sort((a, b) => b.delta_ns - a.delta_ns),
      cheaper: deltas.filter((d) => d.delta_ns < -eps).sort((a, b) => a.delta_ns - b.delta_ns),
    };
  });
}

function formatBytes(n: number): string {
  return n % MIB === 0 ? `${n / MIB} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

// ---- Human output ------------------------------------------------------------------

const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(1)}%`);
const ns = (x: number | null) => (x === null ? '' : x.toFixed(1));

/** Loads below L1 as "L2/L3/mem" counts (what a cold step pays for). */
function misses(loads: LoadsByLevel | null, levels: string[]): string {
  if (!loads) return '';
  return levels
    .slice(1)
    .map((l) => String(Math.round(loads[l] ?? 0)))
    .join('/');
}

export function formatFastpath(r: FastpathReport): string {
  const out: string[] = [];
  const hooks = r.features.length > 0 ? r.features.join(',') : 'none';
  out.push(`# fast path: ${r.syscall}() on profile ${r.profile} (seed ${r.seed}); hooks on: ${hooks}${r.scripts.length ? `; dtrace: ${r.scripts.join(',')}` : ''}`);
  for (const n of r.notes) out.push(`#   ${n}`);
  out.push('');
  const missHead = `misses ${r.levels.slice(1).join('/')}`;
  const head = [
    'step'.padEnd(24),
    'kind'.padEnd(11),
    'warm ns'.padStart(9),
    'share'.padStart(7),
    'cold ns'.padStart(9),
    'share'.padStart(7),
    'cold-warm'.padStart(10),
    `  ${missHead}`.padEnd(22),
    'hook',
  ];
  out.push(head.join(' '));
  for (const s of r.steps) {
    out.push(
      [
        s.step.padEnd(24),
        s.kind.padEnd(11),
        ns(s.warm_ns).padStart(9),
        pct(s.warm_share).padStart(7),
        ns(s.cold_ns).padStart(9),
        pct(s.cold_share).padStart(7),
        ns(s.cold_extra_ns).padStart(10),
        `  ${misses(s.cold_loads ?? s.warm_loads, r.levels)}`.padEnd(22),
        s.hook ?? '',
      ].join(' '),
    );
  }
  out.push('');
  const coldTotal = r.cold ? r.cold.mean_ns : null;
  out.push(
    ['total'.padEnd(24), ''.padEnd(11), ns(r.warm.mean_ns).padStart(9), '100.0%'.padStart(7), ns(coldTotal).padStart(9), (r.cold ? '100.0%' : '').padStart(7), ns(coldTotal === null ? null : coldTotal - r.warm.mean_ns).padStart(10)].join(' '),
  );
  for (const t of r.kinds) {
    out.push(
      [`  ${t.kind} (${t.steps})`.padEnd(24), ''.padEnd(11), ns(t.warm_ns).padStart(9), pct(t.warm_share).padStart(7), ns(t.cold_ns).padStart(9), pct(t.cold_share).padStart(7), ns(t.cold_ns === null ? null : t.cold_ns - t.warm_ns).padStart(10)].join(' '),
    );
  }
  out.push('');
  const g = r.guards;
  out.push(
    `the guards (${g.steps} flag tests): ${ns(g.warm_ns)} ns, ${pct(g.warm_share)} of a warm ${r.syscall}()` +
      (g.cold_ns === null ? '' : `; ${ns(g.cold_ns)} ns, ${pct(g.cold_share)} of a cold one (+${ns(g.cold_ns - g.warm_ns)} ns of misses)`),
  );
  if (r.cold) {
    out.push(
      `warm call: ${ns(r.warm.mean_ns)} ns (min ${ns(r.warm.min_ns)}, max ${ns(r.warm.max_ns)}, ${r.warm.tlb_misses.toFixed(1)} TLB misses); ` +
        `cold call: ${ns(r.cold.mean_ns)} ns (${r.cold.tlb_misses.toFixed(1)} TLB misses), ${(r.cold.mean_ns / r.warm.mean_ns).toFixed(1)}x`,
    );
  }
  if (r.hooks) {
    out.push('', `# each hook on alone: a warm ${r.syscall}() (mean per call), extra ns over the fast path measured the same way, and the steps it lands in`);
    for (const h of r.hooks) {
      const lands = h.lands_in.slice(0, 4).map((d) => `${d.step} +${ns(d.delta_ns)}`).join(', ');
      const why = h.first_call_delta_ns > 1e-6 ? `(fires once: +${ns(h.first_call_delta_ns)} ns on the process's first return)` : '(does not fire on these calls)';
      const gap = h.gap_us > 0 ? ` [calls ${h.gap_us.toFixed(0)} us apart in user mode, so clock ticks post its work]` : '';
      out.push(`  ${h.hook.padEnd(30)}${ns(h.total_ns).padStart(10)} ns ${`+${ns(h.delta_ns)}`.padStart(10)} ${pct(h.delta_share).padStart(8)}   ${lands || why}${gap}`);
    }
  }
  return `${out.join('\n')}\n`;
}
