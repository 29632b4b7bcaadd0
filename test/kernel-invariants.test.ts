// Invariants of the kernel model, checked on whole dd runs (both shipped profiles)
// and on small programs: the top-level steps of every syscall and trap partition
// its time; the meter accounts for every picosecond; time never runs backwards and
// spans nest; first touch faults and second touch does not; the syscall counts are
// the modelled sequence's.

import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import { bootKernel } from '../src/kernel/boot.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { SpanTotals, TimelineEvent } from '../src/kernel/steps.js';
import { FREEBSD_LAYOUT } from '../src/workloads/dd/freebsd.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd, type DdRun } from '../src/workloads/dd/run.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { runProgram, UserProcess, type Program } from '../src/workloads/runtime.js';

const PROFILES = ['lecture', 'bbb'] as const;
const TIMELINE_CAP = 1_000_000;

const runs = new Map<string, DdRun>();
const profiles = new Map<string, Profile>();

beforeAll(() => {
  for (const name of PROFILES) {
    const profile = loadProfile(name);
    profiles.set(name, profile);
    // bs=1m count=2: the whole life of dd (start-up, a 2 MiB junk-filled buffer, two copies, exit), quickly.
    runs.set(name, runDd(parseOperands({ bs: '1m', count: '2' }), { profile, seed: '1', features: profileFeatures(profile), scripts: [], traceEvents: TIMELINE_CAP }));
  }
});

/** Spans whose top-level steps do not add up to the span's time (relative tolerance 1e-6). */
function unpartitioned(table: Map<string, SpanTotals>): string[] {
  const bad: string[] = [];
  for (const [name, t] of table) {
    let sum = 0;
    for (const ps of t.steps.values()) sum += ps;
    if (Math.abs(sum - t.ps) > 1e-6 * t.ps) bad.push(`${name}: span ${(t.ps / 1000).toFixed(1)} ns, steps ${(sum / 1000).toFixed(1)} ns (${(((t.ps - sum) / t.ps) * 100).toFixed(3)}% outside any step)`);
  }
  return bad;
}

describe.each(PROFILES)('dd bs=1m count=2 on %s', (name) => {
  it('ran to completion with syscalls and traps', () => {
    const run = runs.get(name)!;
    expect(run.exitStatus).toBe(0);
    expect(run.kernel.steps.syscalls.size).toBeGreaterThan(10);
    expect(run.kernel.steps.traps.get('page fault')?.count ?? 0).toBeGreaterThan(512);
  });

  it('the top-level steps of every syscall span sum to its time', () => {
    expect(unpartitioned(runs.get(name)!.kernel.steps.syscalls)).toEqual([]);
  });

  it('the top-level steps of every trap span sum to its time', () => {
    const k = runs.get(name)!.kernel;
    expect(k.steps.traps.size).toBeGreaterThan(0);
    expect(unpartitioned(k.steps.traps)).toEqual([]);
  });

  it('the meter accounts for all the time: the run is sum(usage x unit cost) over the cost terms', () => {
    const run = runs.get(name)!;
    const k = run.kernel;
    let metered = 0;
    for (let i = 0; i < k.book.size; i++) metered += k.usage.counts[i]! * k.book.psPer[i]!;
    const cpu = k.cpus[0]!;
    // One process on CPU 0 from time 0: the CPU's cursor is the run's time, all of it charged.
    expect(run.startPs).toBe(0);
    expect(Math.abs(cpu.t - metered)).toBeLessThanOrEqual(1e-9 * cpu.t);
    expect(run.endPs).toBeLessThanOrEqual(cpu.t);
    expect(Math.abs(run.endPs - metered)).toBeLessThanOrEqual(1e-9 * metered);
    // run.usage is the same snapshot the report uses.
    expect([...run.usage]).toEqual([...k.usage.counts]);
  });

  it('time never runs backwards: timeline events have non-negative durations and close in time order', () => {
    const k = runs.get(name)!.kernel;
    const tl = k.steps.timeline;
    expect(k.steps.timelineDropped).toBe(0);
    expect(tl.length).toBeGreaterThan(1000);
    let lastEnd = -Infinity;
    for (const e of tl) {
      expect(e.durPs).toBeGreaterThanOrEqual(0);
      expect(e.startPs).toBeGreaterThanOrEqual(0);
      // Events are recorded when they close, so their ends are the cursor's successive values.
      const end = e.startPs + e.durPs;
      expect(end).toBeGreaterThanOrEqual(lastEnd - 1e-6);
      lastEnd = Math.max(lastEnd, end);
    }
    expect(lastEnd).toBeLessThanOrEqual(k.cpus[0]!.t);
  });

  it('spans nest: top-level spans are disjoint, each step lies in its span, a nested trap lies in one step of its syscall', () => {
    const k = runs.get(name)!.kernel;
    const tl = k.steps.timeline;
    const eps = 1e-6;
    const inside = (a: TimelineEvent, b: TimelineEvent) => a.startPs >= b.startPs - eps && a.startPs + a.durPs <= b.startPs + b.durPs + eps;
    const spans = tl.filter((e) => e.cat === 'syscall' || e.cat === 'trap');
    const top = spans.filter((e) => e.depth === 0).sort((a, b) => a.startPs - b.startPs);
    for (let i = 1; i < top.length; i++) expect(top[i]!.startPs).toBeGreaterThanOrEqual(top[i - 1]!.startPs + top[i - 1]!.durPs - eps);
    // Steps are recorded after their span opened and before it closed: the span that
    // contains a step is the next span event of depth (step depth - 1) in the record.
    const problems: string[] = [];
    for (let i = 0; i < tl.length; i++) {
      const e = tl[i]!;
      if (e.cat === 'user') continue;
      const parentDepth = e.depth - 1; // a step's span, or a nested span's enclosing one
      if (parentDepth < 0) continue;
      let parent: TimelineEvent | undefined;
      for (let j = i + 1; j < tl.length; j++) {
        const c = tl[j]!;
        if ((c.cat === 'syscall' || c.cat === 'trap') && c.depth === parentDepth) {
          parent = c;
          break;
        }
      }
      if (!parent || !inside(e, parent)) problems.push(`${e.cat} ${e.name} at ${e.startPs} not inside its span`);
      if (e.cat !== 'step') {
        // A nested span (a fault in copyout): inside exactly one top-level step of its syscall.
        const steps = tl.slice(i + 1, tl.indexOf(parent!)).filter((s) => s.cat === 'step' && s.depth === parentDepth + 1 && inside(e, s));
        if (steps.length !== 1) problems.push(`nested ${e.name} at ${e.startPs} inside ${steps.length} steps`);
      }
      if (problems.length > 5) break;
    }
    expect(problems).toEqual([]);
    expect(spans.some((e) => e.depth === 1)).toBe(true); // the run has faults inside syscalls
  });
});

/** Run a small program on a fresh kernel of `profile` (no hooks). */
function runSmall(profile: Profile, program: (u: UserProcess, k: Kernel) => Program): Kernel {
  const k = bootKernel(profile, { seed: '1', features: new Set(), scripts: [] });
  const layout = profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
  const u = new UserProcess(k, 'touch', layout);
  runProgram(k, u, (up) => program(up, k), { maxEvents: 100_000 });
  return k;
}

const count = (k: Kernel, trap: string) => k.steps.traps.get(trap)?.count ?? 0;

describe.each(PROFILES)('first touch on %s', (name) => {
  const PAGES = 37;

  it('stores to a fresh anonymous mapping fault once per page in user mode; the second pass takes no trap', () => {
    const seen: number[] = [];
    let minflt: number[] = [];
    runSmall(profiles.get(name) ?? loadProfile(name), function* (u, k) {
      const pg = k.pageBytes;
      const va = yield* u.sys('mmap', { len: PAGES * pg, prot: 'rw', fd: -1, name: 'fresh' });
      seen.push(count(k, 'page fault'));
      minflt.push(u.td.proc.ru.minflt);
      yield* u.store(va, PAGES * pg);
      seen.push(count(k, 'page fault'));
      minflt.push(u.td.proc.ru.minflt);
      yield* u.store(va, PAGES * pg);
      seen.push(count(k, 'page fault'));
      minflt.push(u.td.proc.ru.minflt);
      // A store to part of one page, again: still nothing.
      yield* u.store(va + 3 * pg + 100, 8);
      seen.push(count(k, 'page fault'));
    });
    expect(seen[1]! - seen[0]!).toBe(PAGES);
    expect(seen[2]! - seen[1]!).toBe(0);
    expect(seen[3]! - seen[2]!).toBe(0);
    expect(minflt[1]! - minflt[0]!).toBe(PAGES);
    expect(minflt[2]! - minflt[1]!).toBe(0);
  });

  it('copyout to fresh pages faults inside the syscall (charged to it), once per page; a second read does not', () => {
    const seen: { user: number; inSys: number; readPs: number }[] = [];
    runSmall(profiles.get(name) ?? loadProfile(name), function* (u, k) {
      const pg = k.pageBytes;
      const fd = yield* u.sys('openat', { path: '/dev/zero', pathVa: -1, flags: 'r' });
      const va = yield* u.sys('mmap', { len: PAGES * pg, prot: 'rw', fd: -1, name: 'fresh' });
      const snap = () => seen.push({ user: count(k, 'page fault'), inSys: count(k, 'page fault (in syscall)'), readPs: k.steps.syscalls.get('read')?.ps ?? 0 });
      snap();
      yield* u.sys('read', { fd, bufVa: va, len: PAGES * pg });
      snap();
      yield* u.sys('read', { fd, bufVa: va, len: PAGES * pg });
      snap();
    });
    expect(seen[1]!.inSys - seen[0]!.inSys).toBe(PAGES);
    expect(seen[1]!.user - seen[0]!.user).toBe(0);
    expect(seen[2]!.inSys - seen[1]!.inSys).toBe(0);
    expect(seen[2]!.user - seen[1]!.user).toBe(0);
    // The faulting read paid for its faults: it took longer than the one that found the pages mapped.
    expect(seen[1]!.readPs - seen[0]!.readPs).toBeGreaterThan(seen[2]!.readPs - seen[1]!.readPs);
  });
});

describe('syscall counts match the modelled sequence (dd bs=10m count=1, lecture)', () => {
  /**
   * dd's whole life as src/workloads/dd/freebsd.ts writes it for if=/dev/zero
   * of=/dev/null bs=10m count=1 (no skip/seek, no capsicum), counted by hand from the
   * source: rtld start-up, libmap, the hints file, mapping libc, TLS, 8 sigprocmask
   * pairs, jemalloc's chunk, dd's setup(), one read and one write, dd_close, exit.
   */
  const SEQUENCE: Record<string, number> = {
    execve: 1,
    issetugid: 2, // rtld's trust check, libc's
    lstat: 6, // realpath(/etc/libmap.conf): 2; includedir prefixes: 4 (ENOENT counts too)
    openat: 5, // libmap.conf, hints, libc.so.7, /dev/zero, /dev/null
    fstat: 4, // libmap.conf, libc.so.7, getfdtype x2
    mmap: 10, // libmap, rtld heap, libc header, reserve, text, data, bss, TLS, jemalloc chunk, dd's buffer
    close: 4, // libmap.conf, hints, libc.so.7, the output in dd_close
    munmap: 3, // libmap, libc header, chunk trim
    read: 3, // hints header, hints directory list, the one block
    lseek: 1, // hints
    access: 1, // /lib/libc.so.7
    sysarch: 1, // TLS base
    sigprocmask: 16, // 8 pairs
    readlink: 1, // /etc/malloc.conf
    ioctl: 2, // FIODTYPE on both devices
    clock_gettime: 2, // st.start, summary
    sigaction: 2, // SIGINFO, SIGINT
    write: 1, // the one block
    exit: 1,
  };
  let run: DdRun;
  beforeAll(() => {
    const profile = loadProfile('lecture');
    run = runDd(parseOperands({ bs: '10m', count: '1' }), { profile, seed: '1', features: profileFeatures(profile), scripts: ['traps'] });
  });

  it('the ledger counts each syscall name as often as the sequence makes it: 66 calls in all, execve included', () => {
    const counts = Object.fromEntries([...run.kernel.steps.syscalls].map(([n, t]) => [n, t.count]));
    expect(counts).toEqual(SEQUENCE);
    expect(Object.values(SEQUENCE).reduce((a, b) => a + b, 0)).toBe(66);
    expect(run.syscalls.count).toBe(66);
  });

  it("DTrace's traps script counts 65: execve's entry fires under the parent's name", () => {
    expect(run.kernel.dtrace.scalar('syscalls')).toBe(65);
  });

  it('traps: the junk fill faults once per page of the 20 MiB chunk, plus the start-up pages', () => {
    const userFaults = run.kernel.steps.traps.get('page fault')!.count;
    const junkPages = (20 * 1024 * 1024) / run.kernel.pageBytes;
    const startup = loadProfile('lecture').userland.startup_user_pages.value;
    expect(userFaults).toBeGreaterThanOrEqual(junkPages);
    expect(userFaults - junkPages).toBeLessThanOrEqual(startup);
    // Every minor fault is a trap of the ledger, in user mode or inside a syscall.
    const inSys = run.kernel.steps.traps.get('page fault (in syscall)')?.count ?? 0;
    expect(run.faults.minor).toBe(userFaults + inSys);
  });
});
