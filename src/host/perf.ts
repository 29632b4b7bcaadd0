// perf stat, as a tool that counts what one child process did: its on-CPU time
// (task-clock: the scheduler's sum_exec_runtime, from exec to exit, mm teardown
// included), its minor page faults (the kernel's min_flt), its user/system split
// (perf's user_time/system_time: the tick-sampled rusage split) and, from an untimed
// run, its system calls (the raw_syscalls:sys_enter tracepoint, which puts the task
// on the syscall slow path, so it is never timed).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstLine } from './error.js';

export interface PerfRow {
  value: number | null;
  unit: string;
  event: string;
  runtime_ns: number | null;
}

/** Parse `perf stat -x,` output: value,unit,event,runtime,percent,... (comments and blank lines skipped). */
export function parsePerfCsv(text: string): PerfRow[] {
  const rows: PerfRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(',');
    if (f.length < 3) continue;
    const v = Number.parseFloat(f[0]!);
    const rt = f[3] !== undefined ? Number.parseFloat(f[3]) : NaN;
    rows.push({ value: Number.isFinite(v) && /^[\d.]+$/.test(f[0]!.trim()) ? v : null, unit: f[1]!, event: f[2]!, runtime_ns: Number.isFinite(rt) ? rt : null });
  }
  return rows;
}

/** What perf counted for one child: CPU time (ns), minor faults, and the user/system split (ns; 0 where no tick charged it). */
export interface PerfRusage {
  cpu_ns: number;
  minflt: number;
  user_ns: number;
  sys_ns: number;
}

/** The events of a perfRusage run. */
export const RUSAGE_EVENTS = 'task-clock,minor-faults,user_time,system_time';

/** A PerfRusage from perf's CSV; throws with a reason when task-clock or minor-faults is absent. */
export function perfRusageOf(text: string): PerfRusage {
  const rows = parsePerfCsv(text);
  const get = (ev: string) => rows.find((r) => r.event.startsWith(ev));
  const tc = get('task-clock');
  const mf = get('minor-faults');
  if (!tc || tc.value === null) throw new Error(`perf reported no task-clock value (${text.trim().split('\n').pop() ?? 'no output'})`);
  if (!mf || mf.value === null) throw new Error(`perf reported no minor-faults value (${text.trim().split('\n').pop() ?? 'no output'})`);
  const msecNs = tc.unit === 'msec' ? tc.value * 1e6 : tc.unit === 'ns' ? tc.value : NaN;
  if (!Number.isFinite(msecNs)) throw new Error(`perf task-clock in unknown unit '${tc.unit}'`);
  // perf prints task-clock in msec with 2 decimals; the running-time field is the same
  // on-CPU time in ns for a per-task software event: use it when it agrees.
  const cpu = tc.runtime_ns !== null && Math.abs(tc.runtime_ns - msecNs) <= 0.006e6 + 1e-3 * msecNs ? tc.runtime_ns : msecNs;
  // "<not counted>" user_time or system_time: no tick charged it.
  return { cpu_ns: cpu, minflt: mf.value, user_ns: get('user_time')?.value ?? 0, sys_ns: get('system_time')?.value ?? 0 };
}

/** Run `perf stat -x, -e EVENTS -- argv` (the child's stdout and stderr discarded); the CSV, or an Error with perf's reason. */
export function perfStat(argv: readonly string[], events: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l41sim-perf-'));
  try {
    const out = path.join(dir, 'stat.csv');
    const r = spawnSync('perf', ['stat', '-x,', '-o', out, '-e', events, '--', ...argv], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    if (r.error) throw new Error(`perf: ${r.error.message}`);
    let text = '';
    try {
      text = fs.readFileSync(out, 'utf8');
    } catch {
      /* perf failed before writing */
    }
    if (r.status !== 0) throw new Error(`'perf stat -- ${argv.join(' ')}' exited ${r.status ?? 'abnormally'}: ${firstLine(r.stderr) || firstLine(text) || 'no message'}`);
    return text;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU time, faults and user/system split of one run of argv under perf stat. Throws an Error with perf's reason. */
export function perfRusage(argv: readonly string[]): PerfRusage {
  return perfRusageOf(perfStat(argv, RUSAGE_EVENTS));
}

/** System calls one run of argv makes (raw_syscalls:sys_enter: exit_group in, execve out); undefined when the tracepoint cannot be counted. */
export function perfSyscalls(argv: readonly string[]): number | undefined {
  let text: string;
  try {
    text = perfStat(argv, 'raw_syscalls:sys_enter');
  } catch {
    return undefined;
  }
  return parsePerfCsv(text).find((x) => x.event.startsWith('raw_syscalls:sys_enter'))?.value ?? undefined;
}
