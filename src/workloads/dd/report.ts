// The dd report: what the lecture printed, computed from the model. time(1) comes
// from an untraced run; each DTrace table from a run with that table's script
// enabled, so its numbers carry that script's probe effect, as the lecture's did.

import type { DdFlavour, Profile } from '../../costmodel/profile.js';
import { SCRIPTS } from '../../kernel/dtrace/scripts.js';
import type { Feature } from '../../kernel/features.js';
import type { DdOperands } from './operands.js';
import { runDd, timeLine, type DdRun, type RunSpec } from './run.js';
import type { FileDecl } from '../../kernel/vfs.js';

/** The lecture's three tables and the scripts that produce them. */
export const DD_TABLES = ['syscall-time', 'traps', 'profile'] as const;
export type DdTable = (typeof DD_TABLES)[number];

export interface DdReport {
  workload: 'dd';
  command: string;
  profile: string;
  seed: string;
  features: string[];
  exit_status: number;
  stderr: string[];
  time: { user_s: number; system_s: number; elapsed_s: number; cpu_percent: number; line: string };
  untraced: {
    syscalls: { count: number; time_ns: number };
    traps: { count: number; time_ns: number };
    faults: { minor: number; in_syscalls: number };
    by_syscall: Record<string, { count: number; time_ns: number }>;
  };
  dtrace: {
    syscall_time_by_name?: Record<string, number>;
    syscall_time_total_ns?: number;
    syscalls?: number;
    syscall_time_ns?: number;
    traps?: number;
    trap_time_ns?: number;
    profile_stacks?: { frames: string[]; samples: number }[];
    /** Other scripts run with dd (the probe-effect lecture's): the run's times under the script, and its aggregations. */
    scripts?: ScriptRun[];
  };
}

export interface ScriptRun {
  script: string;
  text: string;
  time: { user_s: number; system_s: number; elapsed_s: number };
  /** Aggregation name -> value (scalar) or key -> value (keyed, largest first; stacks as frames joined by ';'). */
  aggregations: Record<string, number | Record<string, number>>;
}

/** The command line being modelled: FreeBSD dd as the lecture ran it (status=none); GNU dd as `calibrate host --check` runs it, printing its statistics. */
export function ddCommand(op: DdOperands, dd: DdFlavour = 'freebsd'): string {
  const size = (n: number) => (n % 1048576 === 0 ? `${n / 1048576}m` : n % 1024 === 0 ? `${n / 1024}k` : String(n));
  const parts = [`dd if=${op.inputPath} of=${op.outputPath}`];
  if (op.bsGiven) parts.push(`bs=${size(op.ibs)}`);
  else {
    if (op.ibs !== 512) parts.push(`ibs=${size(op.ibs)}`);
    if (op.obs !== 512) parts.push(`obs=${size(op.obs)}`);
  }
  if (op.count !== null) parts.push(`count=${op.count}`);
  if (op.skip) parts.push(`skip=${op.skip}`);
  if (op.seek) parts.push(`seek=${op.seek}`);
  if (dd === 'freebsd') parts.push('status=none');
  return parts.join(' ');
}

export interface ReportSpec {
  profile: Profile;
  seed: string;
  features: ReadonlySet<Feature>;
  tables: readonly DdTable[];
  /** Further D scripts (dtrace/scripts.ts), each run alone with dd. */
  scripts?: readonly string[];
  coldCaches?: boolean;
  maxEvents?: number;
  traceEvents?: number;
  /** Simulate every iteration of dd's copy loop (no fast-forward). */
  exact?: boolean;
  /** Data files on the machine besides the profile's (--file). */
  files?: readonly FileDecl[];
}

/** What every run of a report shares: the machine, the seed, the hooks and the bounds. */
export type RunBase = Omit<RunSpec, 'scripts' | 'traceEvents' | 'recordUsage' | 'locale'>;

/** One traced run of dd: a lecture table's script, or a further script. */
export type TracedRun = { table: DdTable } | { script: string };

/** What a traced run adds to the report's DTrace figures (plain data: it may come from another thread). */
export type TracedFigures = DdReport['dtrace'];

export function runBase(spec: ReportSpec): RunBase {
  return { profile: spec.profile, seed: spec.seed, features: spec.features, coldCaches: spec.coldCaches ?? false, maxEvents: spec.maxEvents, files: spec.files ?? [], exact: spec.exact };
}

/** The traced runs a report needs, in the order their figures go into it. */
export function tracedRuns(spec: ReportSpec): TracedRun[] {
  return [...spec.tables.map((table) => ({ table })), ...(spec.scripts ?? []).map((script) => ({ script }))];
}

/** The report's untraced part: the time line and the kernel's own figures, from the untraced run. */
export function untracedReport(op: DdOperands, spec: ReportSpec): { report: DdReport; untraced: DdRun } {
  const untraced = runDd(op, { ...runBase(spec), scripts: [], traceEvents: spec.traceEvents ?? 0 });
  const bySyscall: DdReport['untraced']['by_syscall'] = {};
  for (const [name, t] of [...untraced.kernel.steps.syscalls].sort((a, b) => a[0].localeCompare(b[0]))) {
    bySyscall[name] = { count: t.count, time_ns: t.ps / 1000 };
  }
  const report: DdReport = {
    workload: 'dd',
    command: ddCommand(op, spec.profile.userland.dd),
    profile: spec.profile.name,
    seed: spec.seed,
    features: [...spec.features].sort(),
    exit_status: untraced.exitStatus,
    stderr: untraced.stderr,
    time: {
      user_s: untraced.time.user_s,
      system_s: untraced.time.system_s,
      elapsed_s: untraced.time.elapsed_s,
      cpu_percent: untraced.time.cpu_percent,
      line: timeLine(untraced),
    },
    untraced: { syscalls: untraced.syscalls, traps: untraced.traps, faults: untraced.faults, by_syscall: bySyscall },
    dtrace: {},
  };
  return { report, untraced };
}

/** Run dd with one table's or script's D script enabled and return what that adds to the report. */
export function tracedFigures(op: DdOperands, base: RunBase, traced: TracedRun): TracedFigures {
  if ('table' in traced) {
    const d = runDd(op, { ...base, scripts: [traced.table] }).kernel.dtrace;
    if (traced.table === 'syscall-time') return { syscall_time_by_name: Object.fromEntries(d.keyed('syscall_time').reverse()), syscall_time_total_ns: d.scalar('totaltime') };
    if (traced.table === 'traps') return { syscalls: d.scalar('syscalls'), syscall_time_ns: d.scalar('syscall_time'), traps: d.scalar('traps'), trap_time_ns: d.scalar('trap_time') };
    return { profile_stacks: d.keyed('traces').map(([key, samples]) => ({ frames: key === '' ? [] : key.split(';'), samples })) };
  }
  const run = runDd(op, { ...base, scripts: [traced.script] });
  const d = run.kernel.dtrace;
  const aggregations: ScriptRun['aggregations'] = {};
  for (const [name, values] of d.aggregations) {
    aggregations[name] = values.size === 1 && values.has('') ? d.scalar(name) : Object.fromEntries(d.keyed(name));
  }
  const time = { user_s: run.time.user_s, system_s: run.time.system_s, elapsed_s: run.time.elapsed_s };
  return { scripts: [{ script: traced.script, text: SCRIPTS[traced.script]!.text, time, aggregations }] };
}

/** Add a traced run's figures to the report (in the order of tracedRuns). */
export function addTraced(report: DdReport, figures: TracedFigures): void {
  const { scripts, ...tables } = figures;
  Object.assign(report.dtrace, tables);
  if (scripts) (report.dtrace.scripts ??= []).push(...scripts);
}

/** The whole report, its runs one after another (./parallel.ts runs the traced ones on other threads). */
export function ddReport(op: DdOperands, spec: ReportSpec): { report: DdReport; untraced: DdRun } {
  const { report, untraced } = untracedReport(op, spec);
  if (untraced.exitStatus !== 0) return { report, untraced };
  const base = runBase(spec);
  for (const traced of tracedRuns(spec)) addTraced(report, tracedFigures(op, base, traced));
  return { report, untraced };
}
