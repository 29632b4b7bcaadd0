// Runs the L41 lab's io-static benchmark on a modelled kernel and reports what it
// measures (the bandwidth over the loop between its two clock_gettime() calls) and
// what the model knows about that loop: its system calls, faults and storage I/O.
//
// Set-up, before the program runs (what the lab does by hand): standard input,
// output and error are open (on /dev/null: the model has no terminal). The target
// is whatever the machine's file system has at its path: a device, a data file
// the profile or the run declares (the lab's /data/iofile, as an earlier
// `io-static -c` left it), or nothing, in which case the program fails as the real
// one does. A data file's pages are in the buffer cache (the run that wrote them
// left them there) unless the cache is cold, in which case the first access to
// each page reads it from storage.

import type { Profile } from '../costmodel/profile.js';
import { RuntimeFailure } from '../errors.js';
import { calcru, formatCshTime } from '../kernel/accounting.js';
import { bootKernel } from '../kernel/boot.js';
import type { Feature } from '../kernel/features.js';
import type { Kernel } from '../kernel/kernel.js';
import type { FileDecl, OpenFile } from '../kernel/vfs.js';
import { FREEBSD_LAYOUT } from './dd/freebsd.js';
import {
  IO_STATIC_BIN,
  IO_STATIC_BIN_BYTES,
  freebsdIoStatic,
  freebsdIoStaticImage,
  type LoopMark,
  type LoopProbe,
} from './iostatic/freebsd.js';
import { linuxIoStatic, linuxIoStaticImage } from './iostatic/linux.js';
import { ioStaticCommand, type IoStaticOptions } from './iostatic/options.js';
import { GNU_LAYOUT } from './dd/gnu.js';
import { RUN_MAX_EVENTS, runProgram, UserProcess } from './runtime.js';

export interface IoStaticSpec {
  profile: Profile;
  seed: string;
  features: ReadonlySet<Feature>;
  /** A cold machine: every CPU cache line invalid and the target's pages not in the buffer cache. */
  coldCache?: boolean;
  /** Data files on the machine besides the profile's (--file). */
  files?: readonly FileDecl[];
  traceEvents?: number;
  maxEvents?: number;
  /** Simulate every iteration of the timed loop (no fast-forward). */
  exact?: boolean;
}

/** Time and count of one system call name (or all) within an interval. */
export interface CallTotals {
  count: number;
  time_ns: number;
}

export interface IoStaticReport {
  workload: 'io-static';
  command: string;
  profile: string;
  seed: string;
  features: string[];
  cold_cache: boolean;
  exit_status: number;
  stdout: string[];
  stderr: string[];
  operation: IoStaticOptions['mode'];
  path: string;
  target: 'device' | 'file';
  /** KiB per second over the timed loop, as the benchmark prints it. */
  bandwidth_kib_s: number;
  /** The timed loop: from the first clock_gettime()'s return to the second's call. */
  time_ns: number;
  buffer_bytes: number;
  total_bytes: number;
  block_count: number;
  fsync: boolean;
  /** System calls inside the timed loop. */
  syscalls: CallTotals & { by_syscall: Record<string, CallTotals> };
  /** Page faults inside the timed loop: all of them, those taken in system calls (copyout/copyin), and traps from user mode. */
  faults: { minor: number; in_syscalls: number; traps: number };
  /** Storage transfers inside the timed loop (a cold cache's reads, fsync's writes): pages and the time charged for them. */
  storage: { read_pages: number; write_pages: number; requests: number; time_ns: number };
  /** The whole process, as time(1) would report it. */
  process: { user_s: number; system_s: number; elapsed_s: number; syscalls: number; faults: number; time_line: string };
}

export interface IoStaticRun {
  report: IoStaticReport;
  kernel: Kernel;
  startPs: number;
  endPs: number;
  pid: number;
  tid: number;
  /** Engine events the run executed (fast-forwarded iterations make none). */
  events: number;
}

const STORAGE_TERMS = { request: 'storage_io', read: 'storage_read_page', write: 'storage_write_page' } as const;

/** Simulated events a run needs, about: one per system call and per fault. */
export function ioStaticEventEstimate(o: IoStaticOptions, pageBytes = 4096): number {
  return 200 + o.totalBytes / o.bufferBytes + 2 * Math.ceil(o.bufferBytes / pageBytes);
}

export function runIoStatic(o: IoStaticOptions, spec: IoStaticSpec): IoStaticRun {
  const k = bootKernel(spec.profile, {
    seed: spec.seed,
    features: spec.features,
    scripts: [],
    coldCaches: spec.coldCache ?? false,
    traceEvents: spec.traceEvents ?? 0,
    exact: spec.exact ?? false,
    files: spec.files ?? [],
  });
  const linux = spec.profile.kernel === 'linux';
  if (linux && o.fsync) throw new RuntimeFailure('-s', 'fsync(2) is not modelled on the Linux kernel path yet', 'no -s on a Linux profile');
  const layout = linux ? GNU_LAYOUT : spec.profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
  k.fs.addFile(IO_STATIC_BIN, IO_STATIC_BIN_BYTES);
  k.images.set(IO_STATIC_BIN, linux ? linuxIoStaticImage() : freebsdIoStaticImage(k));
  if (spec.coldCache) uncacheTarget(k, o.path);
  const u = new UserProcess(k, 'sh', layout);
  if (!linux) openStdio(k, u); // the Linux path gives a new process its inherited fds itself
  const probe: LoopProbe = { stdout: [] };
  const program = linux ? (up: UserProcess) => linuxIoStatic(up, o, probe) : (up: UserProcess) => freebsdIoStatic(up, o, probe);
  const result = runProgram(k, u, program, { maxEvents: spec.maxEvents ?? RUN_MAX_EVENTS });
  const report = buildReport(k, u, o, spec, probe, result.exitStatus, result.stderr, result.endPs - result.startPs);
  return { report, kernel: k, startPs: result.startPs, endPs: result.endPs, pid: u.td.proc.pid, tid: u.td.tid, events: result.events };
}

/** A cold cache: the target's pages, if it is a data file, are not in the buffer cache (the first access to each reads it from storage). */
function uncacheTarget(k: Kernel, path: string): void {
  const vp = k.fs.lookup(path);
  if (vp?.type !== 'reg') return;
  if (!k.path.bufcache) throw new RuntimeFailure('--cold-cache', `the ${k.profile.kernel} kernel path models no storage I/O`, 'a FreeBSD profile');
  k.path.bufcache.uncache(vp);
}

/** File descriptors 0, 1 and 2, open before exec as the shell left them (on /dev/null: no terminal is modelled). */
function openStdio(k: Kernel, u: UserProcess): void {
  const vnode = k.fs.walk('/dev/null').vnode;
  for (let fd = 0; fd < 3; fd++) {
    const f: OpenFile = { vnode, readable: fd === 0, writable: fd !== 0, offset: 0 };
    u.td.proc.files[fd] = f;
  }
}

function sumCalls(m: Map<string, { count: number; ps: number }>): { count: number; ps: number } {
  let count = 0;
  let ps = 0;
  for (const t of m.values()) {
    count += t.count;
    ps += t.ps;
  }
  return { count, ps };
}

function between(a: LoopMark, b: LoopMark): Map<string, { count: number; ps: number }> {
  const out = new Map<string, { count: number; ps: number }>();
  for (const [name, t] of b.syscalls) {
    const before = a.syscalls.get(name) ?? { count: 0, ps: 0 };
    if (t.count > before.count) out.set(name, { count: t.count - before.count, ps: t.ps - before.ps });
  }
  return out;
}

function buildReport(k: Kernel, u: UserProcess, o: IoStaticOptions, spec: IoStaticSpec, probe: LoopProbe, exitStatus: number, stderr: string[], runtimePs: number): IoStaticReport {
  const td = u.td;
  const start = probe.start;
  const end = probe.end;
  const loopPs = start && end ? end.ps - start.ps : 0;
  const calls = start && end ? between(start, end) : new Map<string, { count: number; ps: number }>();
  const total = sumCalls(calls);
  const trapCount = (m: LoopMark | undefined, name: string) => m?.traps.get(name)?.count ?? 0;
  const storage = { read_pages: 0, write_pages: 0, requests: 0, time_ns: 0 };
  if (start && end) {
    const book = k.book;
    const term = (name: string) => {
      try {
        const id = book.id(name as never);
        return { n: end.usage[id]! - start.usage[id]!, ps: (end.usage[id]! - start.usage[id]!) * book.psPer[id]! };
      } catch {
        return { n: 0, ps: 0 };
      }
    };
    const rq = term(STORAGE_TERMS.request);
    const rd = term(STORAGE_TERMS.read);
    const wr = term(STORAGE_TERMS.write);
    storage.requests = rq.n;
    storage.read_pages = rd.n;
    storage.write_pages = wr.n;
    storage.time_ns = (rq.ps + rd.ps + wr.ps) / 1000;
  }
  const ru = calcru(runtimePs, td.ticks, spec.profile.kernel);
  const elapsed_s = runtimePs / 1e12;
  const all = sumCalls(k.steps.syscalls);
  // (If the open failed, the report says so in exit_status and stderr.)
  const target = k.fs.lookup(o.path)?.type === 'chr' ? 'device' : 'file';
  const bySyscall: Record<string, CallTotals> = {};
  for (const [name, t] of [...calls].sort((a, b) => a[0].localeCompare(b[0]))) bySyscall[name] = { count: t.count, time_ns: t.ps / 1000 };
  return {
    workload: 'io-static',
    command: ioStaticCommand(o),
    profile: spec.profile.name,
    seed: spec.seed,
    features: [...spec.features].sort(),
    cold_cache: spec.coldCache ?? false,
    exit_status: exitStatus,
    stdout: probe.stdout,
    stderr,
    operation: o.mode,
    path: o.path,
    target,
    bandwidth_kib_s: loopPs > 0 ? o.totalBytes / 1024 / (loopPs / 1e12) : 0,
    time_ns: loopPs / 1000,
    buffer_bytes: o.bufferBytes,
    total_bytes: o.totalBytes,
    block_count: o.totalBytes / o.bufferBytes,
    fsync: o.fsync,
    syscalls: { count: total.count, time_ns: total.ps / 1000, by_syscall: bySyscall },
    faults: {
      minor: start && end ? end.minflt - start.minflt : 0,
      in_syscalls: trapCount(end, 'page fault (in syscall)') - trapCount(start, 'page fault (in syscall)'),
      traps: trapCount(end, 'page fault') - trapCount(start, 'page fault'),
    },
    storage,
    process: {
      user_s: ru.user_s,
      system_s: ru.system_s,
      elapsed_s,
      syscalls: all.count,
      faults: td.proc.ru.minflt,
      time_line: formatCshTime({ ...ru, elapsed_s, text_kib_avg: 0, data_kib_avg: 0, inblock: 0, oublock: 0, majflt: td.proc.ru.majflt, swaps: 0 }),
    },
  };
}

/** What the real program prints on its standard output (its errors are reported by the caller). */
export function formatIoStatic(r: IoStaticReport): string {
  return r.stdout.length === 0 ? '' : `${r.stdout.join('\n')}\n`;
}
