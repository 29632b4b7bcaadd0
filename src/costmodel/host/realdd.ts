/**
 * Running the real GNU `dd if=/dev/zero of=/dev/null bs=.. count=..` and measuring the
 * child's total CPU time and minor page faults precisely.
 *
 * Node cannot read a child's rusage (spawnSync returns no rusage), so this uses, in order:
 *  1. `perf stat -x, -e task-clock,minor-faults -- dd ...`: task-clock is the child's on-CPU
 *     time in ns (the scheduler's sum_exec_runtime), counted from the exec of dd to its exit
 *     (mm teardown included); minor-faults is the kernel's min_flt count (mm_account_fault).
 *     perf prints task-clock in msec with 2 decimals, so the ns value is taken from the
 *     row's "running time" field, which for a per-task software event is the same on-CPU
 *     time in ns (checked against the msec value). If the raw_syscalls:sys_enter tracepoint
 *     can be counted, one extra untimed run per case counts the system calls (the
 *     tracepoint puts every thread on the syscall slow path, so it is never timed).
 *  2. a small python3 helper: os.posix_spawnp + os.wait4(); ru_utime + ru_stime is precise
 *     to the µs on Linux (cputime_adjust scales sum_exec_runtime; only the split is
 *     tick-sampled) and ru_minflt is exact. It covers the whole child: the pre-exec part of
 *     the spawn and the whole execve, so it reads a little higher than perf's task-clock.
 * When neither works, HostMeasureError says what each attempt reported.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { max, median, min } from 'simple-statistics';
import { firstLine, HostMeasureError } from './probe.js';

export type ChildRusageMethod = 'perf-stat' | 'python3-wait4';

export interface DdCase {
  /** GNU dd block size, e.g. "4k", "64k", "1M", "10M". */
  bs: string;
  count: number;
}

export interface RealDdRun {
  bs: string;
  /** bs in bytes, as GNU dd reads it. */
  bs_bytes: number;
  count: number;
  /** Total (user + system) CPU time of the dd process, ns. */
  cpu_ns: { median: number; min: number; max: number };
  /** Minor page faults of the dd process (median over repeats). */
  minflt: number;
  /** Per-repeat samples, in run order. */
  cpu_ns_samples: number[];
  minflt_samples: number[];
  /** System calls made by dd (perf raw_syscalls:sys_enter, from an untimed run), when countable. */
  syscalls?: number;
  /** How the child's CPU time and faults were read. */
  method: ChildRusageMethod;
  /** LC_ALL or LANG passed to dd (its locale set-up changes its start-up syscalls and faults). */
  locale: string | null;
}

export interface RealDdOptions {
  /** Force a method instead of trying perf, then python3. */
  method?: 'auto' | ChildRusageMethod;
  /** dd executable (default "dd" on PATH). */
  dd?: string;
  /** Count system calls with perf's raw_syscalls:sys_enter when available (default true). */
  countSyscalls?: boolean;
}

/** The cases of `l41sim calibrate host --check`; count=0 is dd's start-up baseline. */
export const DEFAULT_DD_CASES: readonly DdCase[] = [
  { bs: '4k', count: 2560 },
  { bs: '64k', count: 160 },
  { bs: '1M', count: 10 },
  { bs: '10M', count: 1 },
  { bs: '10M', count: 0 },
];

const SUFFIX: Record<string, number> = {
  '': 1,
  c: 1,
  w: 2,
  b: 512,
  k: 1024,
  K: 1024,
  KiB: 1024,
  kB: 1000,
  KB: 1000,
  M: 1024 ** 2,
  MiB: 1024 ** 2,
  MB: 1000 ** 2,
  G: 1024 ** 3,
  GiB: 1024 ** 3,
  GB: 1000 ** 3,
};

/** Bytes of a GNU dd size ("4k" = 4096, "1M" = 1048576, "1MB" = 10^6). Throws HostMeasureError otherwise. */
export function parseGnuDdSize(bs: string): number {
  const m = /^(\d+)([A-Za-z]*)$/.exec(bs);
  const mult = m ? SUFFIX[m[2]!] : undefined;
  if (!m || mult === undefined || Number(m[1]) <= 0) {
    throw new HostMeasureError(`bs: '${bs}' is not a GNU dd block size; expected a positive number with an optional suffix k, K, KiB, kB, M, MiB, MB, G (e.g. 4k, 64k, 1M, 10M)`);
  }
  return Number(m[1]) * mult;
}

function ddArgs(c: DdCase): string[] {
  return ['if=/dev/zero', 'of=/dev/null', `bs=${c.bs}`, `count=${c.count}`];
}

interface RawRun {
  cpu_ns: number;
  minflt: number;
}

// ---------------------------------------------------------------------------------------
// perf stat

function withTempDir<T>(f: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l41sim-perf-'));
  try {
    return f(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface PerfRow {
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

/** Task-clock ns and minor faults from perf's CSV; throws with a reason when absent. */
export function perfTaskClockAndFaults(text: string): RawRun {
  const rows = parsePerfCsv(text);
  const tc = rows.find((r) => r.event.startsWith('task-clock'));
  const mf = rows.find((r) => r.event.startsWith('minor-faults'));
  if (!tc || tc.value === null) throw new Error(`perf reported no task-clock value (${text.trim().split('\n').pop() ?? 'no output'})`);
  if (!mf || mf.value === null) throw new Error(`perf reported no minor-faults value (${text.trim().split('\n').pop() ?? 'no output'})`);
  const msecNs = tc.unit === 'msec' ? tc.value * 1e6 : tc.unit === 'ns' ? tc.value : NaN;
  if (!Number.isFinite(msecNs)) throw new Error(`perf task-clock in unknown unit '${tc.unit}'`);
  // The running-time field is the same on-CPU time with ns resolution; use it when it agrees.
  const cpu = tc.runtime_ns !== null && Math.abs(tc.runtime_ns - msecNs) <= 0.006e6 + 1e-3 * msecNs ? tc.runtime_ns : msecNs;
  return { cpu_ns: cpu, minflt: mf.value };
}

function runPerf(argv: string[], events: string): { text: string; status: number | null; stderr: string } {
  return withTempDir((dir) => {
    const out = path.join(dir, 'stat.csv');
    const r = spawnSync('perf', ['stat', '-x,', '-o', out, '-e', events, '--', ...argv], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    if (r.error) return { text: '', status: null, stderr: r.error.message };
    let text = '';
    try {
      text = fs.readFileSync(out, 'utf8');
    } catch {
      /* perf failed before writing */
    }
    return { text, status: r.status, stderr: r.stderr ?? '' };
  });
}

function perfRun(argv: string[]): RawRun {
  const r = runPerf(argv, 'task-clock,minor-faults');
  if (r.status !== 0) {
    throw new Error(`'perf stat -- ${argv.join(' ')}' exited ${r.status ?? 'abnormally'}: ${firstLine(r.stderr) || firstLine(r.text) || 'no message'}`);
  }
  return perfTaskClockAndFaults(r.text);
}

function perfSyscalls(argv: string[]): number | undefined {
  const r = runPerf(argv, 'raw_syscalls:sys_enter');
  if (r.status !== 0) return undefined;
  const row = parsePerfCsv(r.text).find((x) => x.event.startsWith('raw_syscalls:sys_enter'));
  return row?.value ?? undefined;
}

// ---------------------------------------------------------------------------------------
// python3 os.wait4 helper

const PY_HELPER = `
import json, os, sys
cmds = json.loads(sys.argv[1]); repeats = int(sys.argv[2])
devnull = os.open(os.devnull, os.O_WRONLY)
out = [[] for _ in cmds]
for r in range(repeats):
    for i, argv in enumerate(cmds):
        pid = os.posix_spawnp(argv[0], argv, dict(os.environ), file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, status, ru = os.wait4(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        out[i].append({"status": code, "cpu_us": round((ru.ru_utime + ru.ru_stime) * 1e6), "minflt": ru.ru_minflt})
print(json.dumps(out))
`;

function pythonRuns(cmds: string[][], repeats: number): RawRun[][] {
  const r = spawnSync('python3', ['-c', PY_HELPER, JSON.stringify(cmds), String(repeats)], { encoding: 'utf8', timeout: 300_000, maxBuffer: 16 << 20 });
  if (r.error) throw new Error(`python3: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 wait4 helper exited ${r.status}: ${lastLine(r.stderr) || 'no message'}`);
  let parsed: { status: number; cpu_us: number; minflt: number }[][];
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new Error(`python3 wait4 helper printed no JSON: ${firstLine(r.stdout)}`);
  }
  return parsed.map((runs, i) =>
    runs.map((x) => {
      if (x.status !== 0) throw new Error(`'${cmds[i]!.join(' ')}' exited ${x.status}`);
      return { cpu_ns: x.cpu_us * 1000, minflt: x.minflt };
    }),
  );
}

// ---------------------------------------------------------------------------------------

/** Find a working way to read a child's CPU time and faults; throws HostMeasureError naming why each failed. */
export function detectChildRusageMethod(prefer: RealDdOptions['method'] = 'auto'): { method: ChildRusageMethod; detail: string } {
  const failures: string[] = [];
  if (prefer === 'auto' || prefer === 'perf-stat') {
    try {
      perfRun(['true']);
      return { method: 'perf-stat', detail: 'perf stat -x, -e task-clock,minor-faults (ns on-CPU time from exec to exit; exact min_flt)' };
    } catch (e) {
      failures.push(`perf stat: ${(e as Error).message}`);
    }
  }
  if (prefer === 'auto' || prefer === 'python3-wait4') {
    try {
      pythonRuns([['true']], 1);
      return { method: 'python3-wait4', detail: 'python3 os.posix_spawnp + os.wait4: ru_utime+ru_stime (µs, precise sum) and ru_minflt' };
    } catch (e) {
      failures.push(`python3 wait4: ${(e as Error).message}`);
    }
  }
  throw new HostMeasureError(`cannot read a child's CPU time and page faults: ${failures.join('; ')}; install perf (linux-perf) or python3`);
}

/**
 * Run each case `repeats` times (round-robin, after one unrecorded warm-up run of each) and
 * return the child's total CPU time and minor faults per case, in case order.
 */
export function measureRealDd(cases: readonly DdCase[] = DEFAULT_DD_CASES, repeats = 5, opts: RealDdOptions = {}): RealDdRun[] {
  if (process.platform !== 'linux') throw new HostMeasureError(`real dd measurement needs Linux; this host is '${process.platform}'`);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new HostMeasureError(`repeats: ${repeats}; expected an integer >= 1`);
  const ddPath = opts.dd ?? 'dd';
  const sizes = cases.map((c) => {
    if (!(Number.isInteger(c.count) && c.count >= 0)) throw new HostMeasureError(`count: ${c.count}; expected an integer >= 0`);
    return parseGnuDdSize(c.bs);
  });
  checkDd(ddPath);
  const { method } = detectChildRusageMethod(opts.method ?? 'auto');
  const argvs = cases.map((c) => [ddPath, ...ddArgs(c)]);

  let runs: RawRun[][];
  if (method === 'perf-stat') {
    runs = cases.map(() => []);
    for (const argv of argvs) perfRun(argv); // warm-up: page cache, dynamic loader caches
    for (let r = 0; r < repeats; r++) {
      argvs.forEach((argv, i) => {
        try {
          runs[i]!.push(perfRun(argv));
        } catch (e) {
          throw new HostMeasureError(`real dd ${cases[i]!.bs} count=${cases[i]!.count}: ${(e as Error).message}`);
        }
      });
    }
  } else {
    try {
      pythonRuns(argvs, 1); // warm-up
      runs = pythonRuns(argvs, repeats);
    } catch (e) {
      throw new HostMeasureError(`real dd: ${(e as Error).message}`);
    }
  }

  const countSyscalls = (opts.countSyscalls ?? true) && method === 'perf-stat';
  return cases.map((c, i) => {
    const cpu = runs[i]!.map((x) => x.cpu_ns);
    const flt = runs[i]!.map((x) => x.minflt);
    const out: RealDdRun = {
      bs: c.bs,
      bs_bytes: sizes[i]!,
      count: c.count,
      cpu_ns: { median: median(cpu), min: min(cpu), max: max(cpu) },
      minflt: median(flt),
      cpu_ns_samples: cpu,
      minflt_samples: flt,
      method,
      locale: process.env.LC_ALL || process.env.LANG || null,
    };
    if (countSyscalls) {
      const n = perfSyscalls(argvs[i]!);
      if (n !== undefined) out.syscalls = n;
    }
    return out;
  });
}

/** GNU dd's version line ("dd (coreutils) 9.1"), or null when dd is not GNU or absent. */
export function ddVersion(ddPath = 'dd'): string | null {
  const r = spawnSync(ddPath, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const line = firstLine(r.stdout);
  return /coreutils/.test(line) ? line : null;
}

function checkDd(ddPath: string): void {
  const r = spawnSync(ddPath, ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=0'], { encoding: 'utf8' });
  if (r.error) throw new HostMeasureError(`cannot run '${ddPath}': ${r.error.message}`);
  if (r.status !== 0) throw new HostMeasureError(`'${ddPath} if=/dev/zero of=/dev/null count=0' failed: ${firstLine(r.stderr)}`);
  if (ddVersion(ddPath) === null) throw new HostMeasureError(`'${ddPath}' is not GNU coreutils dd; the host model describes GNU dd`);
}

function lastLine(s: string): string {
  return s.trim().split('\n').pop() ?? '';
}
