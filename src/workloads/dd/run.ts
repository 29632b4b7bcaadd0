// Runs dd on a modelled kernel and collects what time(1) and the lecture's DTrace
// scripts would print. The lecture took time(1) from an untraced run and each
// DTrace table from a run with that table's script enabled (so each table carries
// its script's probe effect); ddReport() does the same.

import type { Profile } from '../../costmodel/profile.js';
import { calcru, formatCshTime, type CshTimeFields } from '../../kernel/accounting.js';
import { bootKernel } from '../../kernel/boot.js';
import type { Feature } from '../../kernel/features.js';
import type { Kernel } from '../../kernel/kernel.js';
import { RUN_MAX_EVENTS, runProgram, UserProcess } from '../runtime.js';
import { FREEBSD_LAYOUT, freebsdDd, freebsdDdImage } from './freebsd.js';
import { GNU_DD_PATH, GNU_LAYOUT, gnuDd, gnuLocale, installGnuDd, type GnuDdOptions } from './gnu.js';
import type { DdOperands } from './operands.js';
import type { FileDecl } from '../../kernel/vfs.js';

export interface RunSpec {
  profile: Profile;
  seed: string;
  features: ReadonlySet<Feature>;
  scripts: readonly string[];
  coldCaches?: boolean;
  traceEvents?: number;
  maxEvents?: number;
  /** Simulate every iteration of dd's copy loop (no fast-forward). */
  exact?: boolean;
  /** Calibration: record the cost-term usage of every DTrace-timed interval. */
  recordUsage?: boolean;
  /** GNU dd only: the run's LANG (C.UTF-8 loads the locale files at start-up; default: the profile's, see profileLocale). */
  locale?: 'C.UTF-8' | 'C';
  /** Data files on the machine besides the profile's (--file). */
  files?: readonly FileDecl[];
}

export interface DdRun {
  kernel: Kernel;
  exitStatus: number;
  stderr: string[];
  startPs: number;
  endPs: number;
  time: CshTimeFields & { cpu_percent: number; ticks: { user: number; system: number; interrupt: number } };
  /** Every system call, entry to return, from the kernel's own ledger (no probe needed). */
  syscalls: { count: number; time_ns: number };
  /** Traps taken outside system calls (user-mode page faults). */
  traps: { count: number; time_ns: number };
  faults: { minor: number; in_syscalls: number };
  /** Cost-term usage of the whole run (the meter's counts). */
  usage: Float64Array;
  /** Engine events the run executed (fast-forwarded iterations make none). */
  events: number;
}

/** The locale a profile's GNU dd runs in: that of its measured environment; without one, the reference machine's C.UTF-8. */
export function profileLocale(profile: Profile): GnuDdOptions['locale'] {
  const env = profile.userland.environment;
  return env ? gnuLocale(env.LC_ALL || env.LANG) : 'C.UTF-8';
}

export function runDd(op: DdOperands, spec: RunSpec): DdRun {
  const k = bootKernel(spec.profile, {
    seed: spec.seed,
    features: spec.features,
    scripts: spec.scripts,
    coldCaches: spec.coldCaches ?? false,
    traceEvents: spec.traceEvents ?? 0,
    exact: spec.exact ?? false,
    files: spec.files ?? [],
  });
  k.dtrace.recordUsage = spec.recordUsage ?? false;
  // GNU dd (and glibc) on a Linux profile, FreeBSD dd (and jemalloc) on a FreeBSD one.
  const gnu = spec.profile.userland.dd === 'gnu';
  if (gnu !== (spec.profile.kernel === 'linux')) throw new Error(`profile '${spec.profile.name}': ${spec.profile.userland.dd} dd on the ${spec.profile.kernel} kernel is not modelled`);
  const ddPath = gnu ? GNU_DD_PATH : '/bin/dd';
  if (gnu) installGnuDd(k);
  else k.images.set(ddPath, freebsdDdImage(k));
  const layout = gnu ? GNU_LAYOUT : spec.profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
  const u = new UserProcess(k, 'sh', layout);
  const program = gnu ? (up: UserProcess) => gnuDd(up, op, { locale: spec.locale ?? profileLocale(spec.profile) }) : (up: UserProcess) => freebsdDd(up, op);
  const result = runProgram(k, u, program, { maxEvents: spec.maxEvents ?? RUN_MAX_EVENTS });
  const td = u.td;
  const runtimePs = result.endPs - result.startPs;
  const ru = calcru(runtimePs, td.ticks, spec.profile.kernel);
  const ticks = { ...td.ticks };
  const allTicks = ticks.user + ticks.system + ticks.interrupt;
  const cs = Math.floor((ru.user_s + ru.system_s) * 100);
  const segKib = (names: string[]) =>
    (k.images.get(ddPath)?.segments ?? []).filter((sg) => names.includes(sg.name)).reduce((a, sg) => a + sg.bytes / 1024, 0);
  const stackKib = stackResidentKib(u);
  const elapsed_s = runtimePs / 1e12;
  let syscallCount = 0;
  let syscallPs = 0;
  for (const t of k.steps.syscalls.values()) {
    syscallCount += t.count;
    syscallPs += t.ps;
  }
  const userTrap = k.steps.traps.get('page fault');
  const inSys = k.steps.traps.get('page fault (in syscall)');
  return {
    kernel: k,
    exitStatus: result.exitStatus,
    stderr: result.stderr,
    startPs: result.startPs,
    endPs: result.endPs,
    time: {
      ...ru,
      elapsed_s,
      cpu_percent: elapsed_s > 0 ? ((ru.user_s + ru.system_s) / elapsed_s) * 100 : 0,
      text_kib_avg: cs > 0 ? (segKib(['dd text']) * allTicks) / cs : 0,
      data_kib_avg: cs > 0 ? ((segKib(['dd data', 'dd bss']) + stackKib) * allTicks) / cs : 0,
      inblock: 0,
      oublock: 0,
      majflt: td.proc.ru.majflt,
      swaps: 0,
      ticks,
    },
    syscalls: { count: syscallCount, time_ns: syscallPs / 1000 },
    traps: { count: userTrap?.count ?? 0, time_ns: (userTrap?.ps ?? 0) / 1000 },
    faults: { minor: td.proc.ru.minflt, in_syscalls: inSys?.count ?? 0 },
    usage: k.usage.snapshot(),
    events: result.events,
  };
}

function stackResidentKib(u: UserProcess): number {
  const vm = u.td.proc.vmspace;
  const pg = u.k.pageBytes;
  let pages = 0;
  for (let va = u.stackTop - 512 * 1024; va < u.stackTop; va += pg) if (vm.pmap.has(va / pg)) pages++;
  return (pages * pg) / 1024;
}

export function timeLine(run: DdRun): string {
  return formatCshTime(run.time);
}
