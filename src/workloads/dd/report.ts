// The dd report: what the lecture printed, computed from the model. time(1) comes
// from an untraced run; each DTrace table from a run with that table's script
// enabled, so its numbers carry that script's probe effect, as the lecture's did.

import type { DdFlavour, Profile } from '../../costmodel/profile.js';
import { SCRIPTS } from '../../kernel/dtrace/scripts.js';
import type { Feature } from '../../kernel/features.js';
import type { DdOperands } from './operands.js';
import { runDd, timeLine, type DdRun } from './run.js';
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
  /** Data files on the machine besides the profile's (--file). */
  files?: readonly FileDecl[];
}

export function ddReport(op: DdOperands, spec: ReportSpec): { report: DdReport; untraced: DdRun } {
  const base = { profile: spec.profile, seed: spec.seed, features: spec.features, coldCaches: spec.coldCaches ?? false, maxEvents: spec.maxEvents, files: spec.files ?? [] };
  const untraced = runDd(op, { ...base, scripts: [], traceEvents: spec.traceEvents ?? 0 });
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
  if (untraced.exitStatus !== 0) return { report, untraced };
  for (const table of spec.tables) {
    const d = runDd(op, { ...base, scripts: [table] }).kernel.dtrace;
    if (table === 'syscall-time') {
      report.dtrace.syscall_time_by_name = Object.fromEntries(d.keyed('syscall_time').reverse());
      report.dtrace.syscall_time_total_ns = d.scalar('totaltime');
    } else if (table === 'traps') {
      report.dtrace.syscalls = d.scalar('syscalls');
      report.dtrace.syscall_time_ns = d.scalar('syscall_time');
      report.dtrace.traps = d.scalar('traps');
      report.dtrace.trap_time_ns = d.scalar('trap_time');
    } else {
      report.dtrace.profile_stacks = d.keyed('traces').map(([key, samples]) => ({ frames: key === '' ? [] : key.split(';'), samples }));
    }
  }
  for (const script of spec.scripts ?? []) {
    const run = runDd(op, { ...base, scripts: [script] });
    const d = run.kernel.dtrace;
    const aggregations: ScriptRun['aggregations'] = {};
    for (const [name, values] of d.aggregations) {
      aggregations[name] = values.size === 1 && values.has('') ? d.scalar(name) : Object.fromEntries(d.keyed(name));
    }
    (report.dtrace.scripts ??= []).push({
      script,
      text: SCRIPTS[script]!.text,
      time: { user_s: run.time.user_s, system_s: run.time.system_s, elapsed_s: run.time.elapsed_s },
      aggregations,
    });
  }
  return { report, untraced };
}
