// `l41sim calibrate lecture`: refits the lecture (amd64) and BeagleBone profiles
// from the lecture's measurements. Each fit runs the model, reads from the cost
// meter how many times each unit cost was paid inside each measured interval
// (the DTrace-timed syscalls and traps, the whole run for time(1)), and solves
// for the free unit costs by non-negative least squares on relative error. The
// model is rerun with the new values and refitted until the values settle (the
// clock interrupts inside an interval depend on its length).

import { readFileSync } from 'node:fs';
import { fitLinear, type FitResult, type Observation } from '../../costmodel/fit.js';
import { validateProfile } from '../../costmodel/profile.js';
import { repoPath } from '../../costmodel/repo.js';
import { CostBook } from '../../kernel/meter.js';
import { parseOperands } from '../dd/operands.js';
import { lmbenchLatency, type LmbenchTest } from '../lmbench.js';
import { runDd, type DdRun } from '../dd/run.js';
import { profileFeatures } from '../../kernel/hooks.js';
import { psPerUnit, setFitted, sig4, termParam } from './terms.js';

type RawProfile = Record<string, any>;

export interface FitReport {
  profile: string;
  command: string;
  iterations: number;
  params: { term: string; value: number; unit: string; stderr: number | null; residual: number | null; from: string; note: string }[];
  rows: { id: string; measured: number; modelled: number; error: number; unit: string; heldOut: boolean; /** held out, a known miss, or matched by construction */ note: string }[];
  checks: { what: string; measured: string; modelled: string; ok: boolean }[];
  rSquared: number;
  /** Rows the model does not explain, and why. */
  misses: Record<string, string>;
}

export const LECTURE_DATA = 'calibration/data/l41-lecture-dd.json';
export const PROBE_DATA = 'calibration/data/l41-probe-effect-dd.json';

export function loadBase(name: string): RawProfile {
  return JSON.parse(readFileSync(repoPath('calibration', 'base', `${name}.json`), 'utf8'));
}

function loadData(rel: string): any {
  return JSON.parse(readFileSync(repoPath(rel), 'utf8'));
}

const LECTURE_DD = { bs: '10m', count: '1' };
const SEED = 'calibrate';

/** Build an observation: the fixed part from the terms not fitted, usage of the fitted ones. */
function observe(id: string, targetPs: number, usage: Float64Array, book: CostBook, fitted: string[]): Observation {
  let fixed = 0;
  const u: Record<string, number> = {};
  for (let i = 0; i < book.size; i++) {
    const name = book.names[i]!;
    const n = usage[i]!;
    if (n === 0) continue;
    if (fitted.includes(name)) u[name] = n;
    else fixed += n * book.psPer[i]!;
  }
  return { id, target: targetPs, fixed, usage: u };
}

function run(raw: RawProfile, scripts: string[], opText = LECTURE_DD): DdRun {
  const profile = validateProfile(raw, raw.name);
  return runDd(parseOperands(opText), { profile, seed: SEED, features: profileFeatures(profile), scripts, recordUsage: true });
}

/**
 * Relative RMS error of the fitted rows in which a parameter carries at least 5% of
 * the modelled value; undefined when no row depends on it that much (nothing to
 * judge it by).
 */
function paramResidual(term: string, fit: FitResult, obs: Observation[], values: Record<string, number>): number | undefined {
  const errs: number[] = [];
  for (const o of obs) {
    const row = fit.rows.find((r) => r.id === o.id)!;
    if (!row.heldOut && (o.usage[term] ?? 0) * (values[term] ?? 0) >= 0.05 * row.modelled) errs.push(row.error);
  }
  return errs.length === 0 ? undefined : Math.sqrt(errs.reduce((a, e) => a + e * e, 0) / errs.length);
}

/** Write a fit's parameters with their provenance; `note` may say what a value stands for. */
function writeFit(raw: RawProfile, fit: FitResult, obs: Observation[], from: (term: string) => string, note?: (term: string) => string | undefined): void {
  const values = Object.fromEntries(Object.entries(fit.params).map(([k, v]) => [k, v.value]));
  for (const [term, p] of Object.entries(fit.params)) {
    const residual = paramResidual(term, fit, obs, values);
    const notes = [
      note?.(term),
      residual === undefined ? 'no fitted row depends on it enough to judge its residual' : undefined,
      p.stdError !== null && p.stdError >= p.value ? 'not determined by these data: its standard error is as large as its value' : undefined,
    ].filter((n): n is string => n !== undefined);
    setFitted(raw, term, p.value, { from: from(term), residual, stderrPs: p.stdError, note: notes.length ? notes.join('; ') : undefined });
  }
}

/** The lecture's amd64 profile: fitted to its per-syscall table, its trap run, and time(1). */
export const LECTURE_FITTED = [
  'namei_component',
  'vop',
  'file_op',
  'vm_map_op',
  'pmap_enter',
  'dtrace_probe',
  'first_touch',
  'mem.latency',
  'mem.stream_write',
] as const;

/**
 * Rows kept out of the lecture fit. write() right after the 10 MiB read took 29 us
 * in the lecture's run, three times the other small calls; the model's cold caches
 * and TLB after the copy explain a few microseconds of that, not 20, and letting
 * the fit chase it would distort every other row (KNOWN_MISSES). readlink and
 * sigaction are held out to check the fit on rows it did not use: readlink is
 * made of a name lookup like lstat's and access's, sigaction of the path's
 * fixed costs, copies and locks like sigprocmask's.
 */
export const VALIDATION_ROWS = ['syscall_time[readlink]', 'syscall_time[sigaction]'];
export const HELD_OUT = ['syscall_time[write]', ...VALIDATION_ROWS];

/**
 * What the lecture's fitted unit costs stand for. The lecture's machine was slow
 * at everything (a probable virtual machine: 20 us per path component, 43 us per
 * map operation), and the data fit one term per kind of work, so each fitted cost
 * is that operation's cost on that machine including whatever made it slow there,
 * not a portable cost of the operation; the BeagleBone's own figures show how far
 * apart they are.
 */
const LECTURE_NOTE = "the cost on the lecture's machine, including whatever made that machine slow (a probable virtual machine); not a portable cost of the operation";

/**
 * Rows of the lecture's table that the model misses by more than the 25% the
 * issue asks for, and why. They stay visible in the fit report and in the tests;
 * they are not tuned away.
 */
export const KNOWN_MISSES: Record<string, string> = {
  'syscall_time[write]':
    "one call of 29 us right after the 10 MiB read, against 4-8 us for the other small calls. The model gives 7.3 us: 6.1 us for the same first write after a 64 KiB copy (its code is cold either way), and 1.2 us for what the 10 MiB copy evicted. On a real machine a cold path costs ten to twenty times a warm one (calibration/probes/cold-write.c on the host, where the model with the kernel's symbol table gets write's penalty within 15% but getppid's only to a third); the lecture's machine has no symbol table to map, and a larger code footprint does not move this row: the fit trades it against memory latency on the first calls. Held out of the fit.",
};

export function calibrateLecture(bbb: RawProfile, iterations = 4): { raw: RawProfile; report: FitReport } {
  const data = loadData(LECTURE_DATA);
  const raw = loadBase('lecture');
  const w = bbb.costs.witness_lock_op;
  raw.costs.witness_lock_op = {
    value: w.value,
    unit: 'cycles',
    source: 'assumed',
    note: `the bbb profile's fitted value (from ${w.from}), in cycles: the same WITNESS code on another core; the lecture's data cannot separate it from its other per-call costs`,
  };
  // DTrace's clause costs likewise: the BeagleBone's, in cycles (the same DIF interpreter).
  const clockRatio = bbb.machine.clock_hz.value / raw.machine.clock_hz.value;
  for (const term of ['dtrace_predicate', 'dtrace_action', 'dtrace_stack'] as const) {
    const b = bbb.costs[term];
    raw.costs[term] = { value: sig4(b.value * clockRatio), unit: 'ns', source: 'assumed', note: `the bbb profile's ${b.source} value, ${b.value} ns at 1 GHz, as the same cycles at this profile's clock` };
  }
  const fitted = [...LECTURE_FITTED];
  const rowsTable: Record<string, number> = data.syscall_time_by_name.rows;
  let fit!: FitResult;
  let obs: Observation[] = [];
  let iter = 0;
  for (; iter < iterations; iter++) {
    const profile = validateProfile(raw, 'lecture');
    const book = new CostBook(profile);
    const untraced = run(raw, []);
    const table = run(raw, ['syscall-time']);
    const traps = run(raw, ['traps']);
    // The start-up page count is solved exactly from the trap count: every other
    // trap is a junk-fill fault, which the model produces by mechanism.
    const modelledTraps = traps.kernel.dtrace.scalar('traps');
    const startup: number = raw.userland.startup_user_pages.value;
    const solved = Math.max(0, startup + data.traps_run.traps - modelledTraps);
    raw.userland.startup_user_pages = {
      value: solved,
      unit: 'pages',
      source: 'fitted',
      from: `${LECTURE_DATA} traps_run.traps (${data.traps_run.traps}) minus the traps the model takes by mechanism (junk fill, execve)`,
      residual: 0,
      note: 'anonymous pages first touched in user mode by rtld, libc and jemalloc start-up (stack, heap, bss, arena metadata)',
    };
    const sysUsage = table.kernel.dtrace.usageAggregations.get('syscall_time')!;
    obs = Object.entries(rowsTable).map(([name, ns]) => observe(`syscall_time[${name}]`, ns * 1000, sysUsage.get(name) ?? new Float64Array(book.size), book, fitted));
    const trapUsage = traps.kernel.dtrace.usageAggregations;
    obs.push(observe('traps_run.syscall_time', data.traps_run.syscall_time_ns * 1000, trapUsage.get('syscall_time')!.get('')!, book, fitted));
    // The two largest figures carry the tightest tolerances (5% and 3%): weight them
    // so that twenty small rows cannot outvote them.
    obs.push({ ...observe('traps_run.trap_time', data.traps_run.trap_time_ns * 1000, trapUsage.get('trap_time')!.get('')!, book, fitted), weight: 5 });
    obs.push({ ...observe('time.system (untraced run time)', data.time_fields.system_s * 1e12, untraced.usage, book, fitted), weight: 5 });
    fit = fitLinear(obs, { params: fitted, relative: true, holdOut: (o) => HELD_OUT.includes(o.id) });
    writeFit(raw, fit, obs, (term) => fromFor(term), () => LECTURE_NOTE);
  }
  const report = lectureReport(raw, fit, iter);
  return { raw, report };
}

function fromFor(term: string): string {
  const src = LECTURE_DATA;
  switch (term) {
    case 'first_touch':
      return `${src} traps_run.trap_time and time_fields.system_s (5185 first touches; profile_run shows pagezero)`;
    case 'mem.stream_write':
      return `${src} syscall_time_by_name.read (10 MiB copyout into junk-filled pages)`;
    case 'mem.latency':
      return `${src} syscall_time_by_name rows (the lines and page-table entries first calls and calls after the 10 MiB copy find cold)`;
    case 'dtrace_probe':
      return `${src} syscall_time_by_name (every row includes one probe dispatch) and traps_run`;
    default:
      return `${src} syscall_time_by_name rows and traps_run`;
  }
}

/** Rerun with the fitted profile and tabulate every target: measured, modelled, error. */
function lectureReport(raw: RawProfile, fit: FitResult, iterations: number): FitReport {
  const data = loadData(LECTURE_DATA);
  const untraced = run(raw, []);
  const table = run(raw, ['syscall-time']);
  const traps = run(raw, ['traps']);
  const prof = run(raw, ['profile']);
  const rows: FitReport['rows'] = [];
  const add = (id: string, measured: number, modelled: number, unit: string, note = '') => rows.push({ id, measured, modelled, error: (modelled - measured) / measured, unit, heldOut: false, note });
  const d = table.kernel.dtrace;
  for (const [name, ns] of Object.entries(data.syscall_time_by_name.rows as Record<string, number>)) {
    add(`syscall_time[${name}]`, ns, (d.aggregations.get('syscall_time')?.get(name) as number | undefined) ?? 0, 'ns');
  }
  for (const row of rows) {
    row.heldOut = HELD_OUT.includes(row.id);
    if (row.id in KNOWN_MISSES) row.note = row.heldOut ? 'held out; a known miss' : 'a known miss';
    else if (row.heldOut) row.note = 'held out';
  }
  add('syscall_time total', data.syscall_time_by_name.total, d.scalar('totaltime'), 'ns');
  const t = traps.kernel.dtrace;
  add('traps_run.syscalls', data.traps_run.syscalls, t.scalar('syscalls'), 'count', 'by construction: the modelled program makes 65 calls (8 rtld sigprocmask pairs inferred)');
  add('traps_run.syscall_time', data.traps_run.syscall_time_ns, t.scalar('syscall_time'), 'ns');
  add('traps_run.traps', data.traps_run.traps, t.scalar('traps'), 'count', 'by construction: start-up page touches are solved from it');
  add('traps_run.trap_time', data.traps_run.trap_time_ns, t.scalar('trap_time'), 'ns');
  // The lecture's run had no statclock tick in user mode (0.000u), so its system
  // time is its whole run time; the model's user+system is the comparable figure
  // (its own split depends on where the ticks of this seed land).
  add('time.user_s+system_s', data.time_fields.user_s + data.time_fields.system_s, untraced.time.user_s + untraced.time.system_s, 's');
  const stacks = prof.kernel.dtrace.keyed('traces').filter(([k]) => k !== '');
  const top = stacks[0]?.[0].split(';')[0] ?? '(none)';
  const names = Object.keys(data.syscall_time_by_name.rows);
  const modelledNames = [...(d.aggregations.get('syscall_time')?.keys() ?? [])].sort();
  return {
    profile: 'lecture',
    command: 'l41sim calibrate lecture',
    iterations,
    params: paramTable(raw, fit),
    rows,
    checks: [
      { what: 'syscall names in the table', measured: String(names.length), modelled: String(modelledNames.length), ok: names.slice().sort().join() === modelledNames.join() },
      { what: 'dominant profile stack (innermost frame)', measured: 'pagezero', modelled: top, ok: top === 'pagezero' },
      ...VALIDATION_ROWS.map((id) => {
        const row = rows.find((r) => r.id === id)!;
        return { what: `${id}, held out of the fit: within 25%`, measured: `${row.measured} ns`, modelled: `${Math.round(row.modelled)} ns`, ok: Math.abs(row.error) <= 0.25 };
      }),
    ],
    rSquared: fit.rSquared,
    misses: KNOWN_MISSES,
  };
}

function paramTable(raw: RawProfile, fit: FitResult): FitReport['params'] {
  return Object.entries(fit.params).map(([term, v]) => {
    const p = termParam(raw, term);
    const scale = psPerUnit(raw, p);
    return { term, value: p.value, unit: p.unit, stderr: v.stdError === null ? null : sig4(v.stdError / scale), residual: p.residual ?? null, from: p.from ?? '', note: p.note ?? '' };
  });
}

// ---- The BeagleBone ------------------------------------------------------------

/** Probe-effect rows: script name in the data -> l41sim script. */
const PROBE_ROWS: [dataScript: string, script: string | null][] = [
  ['none', null],
  ['dtmalloc::: { @count = count(); }', 'dtmalloc-count'],
  ['lockstat::: { @count = count(); }', 'lockstat-count'],
  ['lockstat::: /execname == "dd"/ { @count = count(); }', 'lockstat-count-dd'],
  ['lockstat::: { @stacks[stack()] = count(); }', 'lockstat-stacks'],
  ['lockstat::: /execname == "dd"/ { @stacks[stack()] = count(); }', 'lockstat-stacks-dd'],
];

export const BBB_FITTED = ['witness_lock_op', 'dtrace_probe', 'dtrace_predicate', 'dtrace_stack'] as const;

/** Per-operation costs of the BeagleBone fitted to lmbench's lat_syscall on the AM335x. */
export const BBB_LMBENCH_FITTED = ['syscall_entry', 'vop', 'namei_component'] as const;
export const AM335X_DATA = 'calibration/data/am335x-lmbench.json';

/** lmbench rows: our test -> the published row; open is held out (see calibrateBbb). */
const LMBENCH_ROWS: [LmbenchTest, string][] = [
  ['null', 'lat_syscall null'],
  ['read', 'lat_syscall read'],
  ['write', 'lat_syscall write'],
  ['stat', 'lat_syscall stat'],
  ['fstat', 'lat_syscall fstat'],
  ['open', 'lat_syscall open'],
];

/**
 * The per-call costs of the BeagleBone's syscall path, fitted to TI's lmbench
 * figures for the AM335x: the same SoC under Linux, so a proxy for FreeBSD's
 * equivalents, run with INVARIANTS and WITNESS off as in TI's kernel. open+close
 * (324 us there, 50 times a stat) is held out: something in that kernel or its
 * SD-card file system that the model does not have.
 */
function fitBbbLmbench(raw: RawProfile): { fit: FitResult; obs: Observation[] } {
  const data = loadData(AM335X_DATA);
  const profile = validateProfile(raw, 'bbb');
  const book = new CostBook(profile);
  const fitted = [...BBB_LMBENCH_FITTED];
  const obs = LMBENCH_ROWS.map(([test, row]) => {
    const r = lmbenchLatency(profile, test, { features: new Set(), seed: SEED });
    return observe(`lmbench[${row}]`, data.lmbench_latency_us[row] * 1e6, r.usage, book, fitted);
  });
  const fit = fitLinear(obs, { params: fitted, relative: true, holdOut: (o) => o.id === 'lmbench[lat_syscall open]' });
  writeFit(raw, fit, obs, () => `${AM335X_DATA} lmbench_latency_us (lat_syscall null, read, write, stat, fstat; Linux on the same SoC, run with the debug options off)`);
  return { fit, obs };
}

/**
 * The BeagleBone: the dd baseline (0.21 s) fixes WITNESS's cost per lock
 * operation; the lockstat runs fix DTrace's per-firing, predicate and stack()
 * costs. The share of lock events that are not dd's (they fire lockstat but fail
 * the predicate) follows from the stack rows: with and without the predicate,
 * their increments differ by the stack walks the predicate saves.
 */
export function calibrateBbb(iterations = 4): { raw: RawProfile; report: FitReport } {
  const data = loadData(PROBE_DATA);
  const raw = loadBase('bbb');
  const fitted = [...BBB_FITTED];
  const median = (script: string) => (data.rows as { script: string; median: number }[]).find((r) => r.script === script)!.median;
  const inc = (script: string) => median(script) - median('none');
  // dd's share of lock events, from the stack rows (see above).
  const ddShare = (inc('lockstat::: /execname == "dd"/ { @stacks[stack()] = count(); }') - inc('lockstat::: /execname == "dd"/ { @count = count(); }')) /
    (inc('lockstat::: { @stacks[stack()] = count(); }') - inc('lockstat::: { @count = count(); }'));
  let fit!: FitResult;
  let obs: Observation[] = [];
  let iter = 0;
  let lm!: FitResult;
  for (; iter < iterations; iter++) {
    lm = fitBbbLmbench(raw).fit;
    const profile = validateProfile(raw, 'bbb');
    const book = new CostBook(profile);
    const runs = PROBE_ROWS.map(([, script]) => run(raw, script ? [script] : []));
    // Background lock events per tick so that dd's share matches the data.
    const stacks = runs[4]!;
    const ticks = Math.max(1, stacks.kernel.backgroundLockOps / Math.max(1e-9, raw.kernel_config.background_lock_ops_per_tick.value));
    const perTick = (stacks.kernel.lockOps * (1 / ddShare - 1)) / ticks;
    raw.kernel_config.background_lock_ops_per_tick = {
      value: sig4(perTick),
      unit: 'count',
      source: 'fitted',
      from: `${PROBE_DATA}: dd's share of lock events, ${sig4(ddShare)}, from the stack rows with and without the execname predicate`,
      residual: 0,
      note: 'lock events per hardclock tick by the rest of the system (callouts, idle and interrupt threads); they fire lockstat probes too',
    };
    obs = PROBE_ROWS.map(([dataScript], i) => observe(`elapsed[${dataScript}]`, median(dataScript) * 1e12, runs[i]!.usage, book, fitted));
    fit = fitLinear(obs, { params: fitted, relative: true, holdOut: (o) => o.id.startsWith('elapsed[dtmalloc') });
    writeFit(raw, fit, obs, (term) => `${PROBE_DATA} (${term === 'witness_lock_op' ? 'the untraced baseline, 0.21 s' : 'the lockstat rows'})`);
  }
  const runs = PROBE_ROWS.map(([, script]) => run(raw, script ? [script] : []));
  const rows: FitReport['rows'] = PROBE_ROWS.map(([dataScript], i) => {
    const measured = median(dataScript);
    const modelled = runs[i]!.time.elapsed_s;
    const heldOut = dataScript.startsWith('dtmalloc');
    // dtmalloc fires 6 times: its row equals the baseline whatever the fitted costs, a weak check.
    return { id: `elapsed[${dataScript}]`, measured, modelled, error: (modelled - measured) / measured, unit: 's', heldOut, note: heldOut ? 'held out (6 firings: a weak check)' : '' };
  });
  const lockEvents = runs[2]!.kernel.dtrace.scalar('count');
  // The data say "about 170,000 lock operations": not fitted, a check.
  const firings = (data.rows as { script: string; probe_firings?: string }[]).find((r) => r.script === 'lockstat::: { @count = count(); }')!.probe_firings!;
  const lockTarget = { text: `"${firings}"`, value: Number(/([\d,]+)/.exec(firings)![1]!.replace(/,/g, '')) };
  for (const r of lm.rows) rows.push({ id: r.id, measured: r.measured / 1e6, modelled: r.modelled / 1e6, error: r.error, unit: 'us', heldOut: r.heldOut, note: r.heldOut ? 'held out; a known miss' : '' });
  return {
    raw,
    report: {
      profile: 'bbb',
      command: 'l41sim calibrate lecture',
      iterations: iter,
      params: [...paramTable(raw, lm), ...paramTable(raw, fit)],
      rows,
      checks: [{ what: `lock events counted by lockstat::: { @count = count(); } (${lockTarget.text}; within 15%)`, measured: String(lockTarget.value), modelled: String(lockEvents), ok: Math.abs(lockEvents - lockTarget.value) / lockTarget.value < 0.15 }],
      rSquared: fit.rSquared,
      misses: { 'lmbench[lat_syscall open]': 'open+close takes 324 us under TI\'s Linux, 50 times a stat: something of that kernel or its SD-card file system the model does not have. Held out.' },
    },
  };
}
