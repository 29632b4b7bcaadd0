// The real GNU `dd if=/dev/zero of=/dev/null bs=.. count=..`, run as a child of this
// process (in its environment: the user's LANG and LC_*), with its CPU time, faults and
// system calls read by ./child.ts and ./perf.ts.

import { spawnSync } from 'node:child_process';
import { max, median, min } from 'simple-statistics';
import { detectChildRusageMethod, measureChildren, type ChildRusageMethod } from './child.js';
import { firstLine, HostMeasureError } from './error.js';
import { perfSyscalls } from './perf.js';

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
  /** The tick-sampled user and system parts of each repeat (ns). */
  user_ns_samples: number[];
  sys_ns_samples: number[];
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
  /** Called after each run of dd (perf) with the runs done and to do. */
  onRun?: (done: number, total: number) => void;
}

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

/** The locale variables of an environment (LANG, LANGUAGE, LC_*), as a child of this process sees them. */
export function localeEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => /^(LANG|LANGUAGE|LC_[A-Z]+)$/.test(e[0]) && typeof e[1] === 'string')
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The locale a child of this process runs in: LC_ALL, else LANG (LC_* of single categories do not change dd's start-up files). */
export function childLocale(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.LC_ALL || env.LANG || null;
}

/**
 * Run each case `repeats` times (round-robin, after one unrecorded warm-up run of each) and
 * return the child's total CPU time and minor faults per case, in case order.
 */
export function measureRealDd(cases: readonly DdCase[], repeats: number, opts: RealDdOptions = {}): RealDdRun[] {
  if (process.platform !== 'linux') throw new HostMeasureError(`real dd measurement needs Linux; this host is '${process.platform}'`);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new HostMeasureError(`repeats: ${repeats}; expected an integer >= 1`);
  const ddPath = opts.dd ?? 'dd';
  const sizes = cases.map((c) => {
    if (!(Number.isInteger(c.count) && c.count >= 0)) throw new HostMeasureError(`count: ${c.count}; expected an integer >= 0`);
    return parseGnuDdSize(c.bs);
  });
  checkDd(ddPath);
  const { method } = detectChildRusageMethod(opts.method ?? 'auto');
  const argvs = cases.map((c) => [ddPath, 'if=/dev/zero', 'of=/dev/null', `bs=${c.bs}`, `count=${c.count}`]);
  const runs = measureChildren(argvs, repeats, method, opts.onRun);
  const countSyscalls = (opts.countSyscalls ?? true) && method === 'perf-stat';
  return cases.map((c, i) => {
    const cpu = runs[i]!.map((x) => x.cpu_ns);
    const out: RealDdRun = {
      bs: c.bs,
      bs_bytes: sizes[i]!,
      count: c.count,
      cpu_ns: { median: median(cpu), min: min(cpu), max: max(cpu) },
      minflt: median(runs[i]!.map((x) => x.minflt)),
      cpu_ns_samples: cpu,
      minflt_samples: runs[i]!.map((x) => x.minflt),
      user_ns_samples: runs[i]!.map((x) => x.user_ns),
      sys_ns_samples: runs[i]!.map((x) => x.sys_ns),
      method,
      locale: childLocale(),
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
