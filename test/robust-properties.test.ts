// Property tests over random VALID runs of the real command (in-process: run(argv)),
// small enough to be quick. Every run must succeed, and its figures must satisfy the
// model's invariants:
//
//   - exit 0 with the modelled program's exit status 0;
//   - time runs forwards and spans nest: in the --trace-out timeline every event has a
//     non-negative duration and the process's events nest properly (a span either
//     contains the next one or ends before it starts);
//   - a syscall's top-level steps add up to its time, in the trace and in the kernel's
//     own ledger (the same check as kernel-invariants.test.ts, on random operands);
//   - the JSON figures agree with each other (per-syscall times sum to the total,
//     syscall time within the process's time, io-static's bandwidth from its time);
//   - enabling a hook never lowers the run's time or its syscall time;
//   - the same seed gives the same bytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { FEATURE_NAMES, type Feature } from '../src/kernel/features.js';
import { FEATURE_KERNELS, profileFeatures } from '../src/kernel/hooks.js';
import type { SpanTotals } from '../src/kernel/steps.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { cli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'l41sim-robust-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.err, `l41sim ${args.join(' ')}`).toBe('');
  expect(r.code, `l41sim ${args.join(' ')}`).toBe(0);
  return r.out;
}

const PROFILES = ['lecture', 'bbb', 'host-vm'] as const;
type ProfileName = (typeof PROFILES)[number];
const kernelOf = (p: ProfileName) => loadProfile(p).kernel;
const hooksFor = (p: ProfileName): Feature[] => FEATURE_NAMES.filter((f) => FEATURE_KERNELS[f].includes(kernelOf(p)));

const size = fc.constantFrom('512', '1k', '2k', '4k', '3x512', '8k', '16k', '0x4000', '64k');
const seed = fc.constantFrom('1', '2', '7', 'robust');

/** A valid `workload dd` command line (one untraced run). */
const ddArgs = fc
  .record({
    profile: fc.constantFrom(...PROFILES),
    bs: fc.option(size, { nil: undefined }),
    ibs: size,
    obs: size,
    count: fc.integer({ min: 1, max: 12 }),
    skip: fc.integer({ min: 0, max: 3 }),
    seek: fc.integer({ min: 0, max: 3 }),
    of: fc.constantFrom('/dev/null', '/tmp/out'),
    seed,
    cold: fc.boolean(),
  })
  .map((r) => {
    const a = ['workload', 'dd', '--profile', r.profile, '--seed', r.seed, '--count', String(r.count), '--trace', 'none'];
    if (r.bs !== undefined) a.push('--bs', r.bs);
    else a.push('--ibs', r.ibs, '--obs', r.obs);
    if (r.skip > 0) a.push('--skip', String(r.skip));
    if (r.of !== '/dev/null') a.push('--of', r.of);
    if (r.seek > 0 && r.of !== '/dev/null') a.push('--seek', String(r.seek));
    if (r.cold) a.push('--cold-cache');
    return { args: a, profile: r.profile };
  });

/** A valid `workload io-static` command line. */
const ioArgs = fc
  .record({
    profile: fc.constantFrom(...PROFILES),
    mode: fc.constantFrom('-r', '-w', '-c'),
    b: fc.constantFrom(512, 1024, 4096, 3 * 1024, 16384, 65536),
    n: fc.integer({ min: 1, max: 48 }),
    // Reading /dev/null fails as the real one does (-r swaps in /dev/zero); /tmp/io is declared with --file (-c makes it).
    path: fc.constantFrom('/dev/zero', '/dev/null', '/data/iofile', '/tmp/io'),
    fsync: fc.boolean(),
    cold: fc.boolean(),
    seed,
  })
  .map((r) => {
    const a = ['workload', 'io-static', r.mode, '-b', String(r.b), '-t', String(r.b * r.n), '--profile', r.profile, '--seed', r.seed];
    const freebsd = kernelOf(r.profile) === 'freebsd';
    if (r.fsync && freebsd) a.push('-s');
    // The Linux path models no storage: a cold regular file is refused there (robust-inputs checks that).
    if (r.cold && (freebsd || r.path.startsWith('/dev/') || r.mode === '-c')) a.push('--cold-cache');
    if (r.path === '/tmp/io' && r.mode !== '-c') a.push('--file', `/tmp/io:${r.b * r.n}`);
    a.push(r.mode === '-r' && r.path === '/dev/null' ? '/dev/zero' : r.path);
    return { args: a, profile: r.profile };
  });

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
}

/** Problems with a Chrome trace's timeline: negative durations, spans that overlap without nesting, syscalls whose steps do not add up. */
function timelineProblems(trace: { traceEvents: TraceEvent[] }): string[] {
  const problems: string[] = [];
  const eps = 1e-6; // microseconds: the trace keeps picoseconds
  const byThread = new Map<number, TraceEvent[]>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X') continue;
    if (!(e.dur! >= 0) || !(e.ts! >= 0)) problems.push(`${e.name}: ts ${e.ts} dur ${e.dur}`);
    const list = byThread.get(e.tid) ?? [];
    list.push(e);
    byThread.set(e.tid, list);
  }
  for (const [tid, events] of byThread) {
    if (tid === 0) continue; // the CPU track: one span per process
    events.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const stack: { e: TraceEvent; childSum: number }[] = [];
    const close = (top: { e: TraceEvent; childSum: number }) => {
      if (top.e.cat === 'syscall' && Math.abs(top.childSum - top.e.dur!) > 1e-6 * Math.max(1, top.e.dur!)) {
        problems.push(`syscall ${top.e.name} at ${top.e.ts}: steps ${top.childSum} us, span ${top.e.dur} us`);
      }
    };
    for (const e of events) {
      while (stack.length > 0 && e.ts! >= stack[stack.length - 1]!.e.ts! + stack[stack.length - 1]!.e.dur! - eps) close(stack.pop()!);
      const parent = stack[stack.length - 1];
      if (parent && e.ts! + e.dur! > parent.e.ts! + parent.e.dur! + eps) {
        problems.push(`${e.cat} ${e.name} at ${e.ts} (+${e.dur}) overlaps ${parent.e.cat} ${parent.e.name} at ${parent.e.ts} (+${parent.e.dur}) without nesting`);
      }
      if (parent && e.cat === 'step') parent.childSum += e.dur!;
      stack.push({ e, childSum: 0 });
      if (problems.length > 5) return problems;
    }
    while (stack.length > 0) close(stack.pop()!);
  }
  return problems;
}

/** Spans whose top-level steps do not add up to the span's time (relative tolerance 1e-6). */
function unpartitioned(table: Map<string, SpanTotals>): string[] {
  const bad: string[] = [];
  for (const [name, t] of table) {
    let sum = 0;
    for (const ps of t.steps.values()) sum += ps;
    if (Math.abs(sum - t.ps) > 1e-6 * t.ps) bad.push(`${name}: span ${t.ps} ps, steps ${sum} ps`);
  }
  return bad;
}

const near = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1);

describe('the timeline checker', () => {
  it('finds overlapping spans, negative durations and syscalls whose steps do not add up', () => {
    const ev = (name: string, cat: string, ts: number, dur: number): TraceEvent => ({ name, cat, ph: 'X', ts, dur, pid: 1, tid: 1 });
    expect(timelineProblems({ traceEvents: [ev('read', 'syscall', 0, 10), ev('a', 'step', 0, 4), ev('b', 'step', 4, 6)] })).toEqual([]);
    expect(timelineProblems({ traceEvents: [ev('read', 'syscall', 0, 10), ev('a', 'step', 0, 4), ev('b', 'step', 4, 5)] })).toHaveLength(1);
    expect(timelineProblems({ traceEvents: [ev('read', 'syscall', 0, 10), ev('a', 'step', 0, 4), ev('b', 'step', 4, 6), ev('write', 'syscall', 9, 2)] }).length).toBeGreaterThan(0);
    expect(timelineProblems({ traceEvents: [ev('user', 'user', 0, -1)] })).toHaveLength(1);
  });
});

describe('random valid dd runs', () => {
  it('exit 0; the timeline nests and each syscall is its steps; the JSON figures agree', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(ddArgs, async ({ args }) => {
        const trace = join(dir, `dd-${n++}.json`);
        const report = JSON.parse(await ok([...args, '--json', '--trace-out', trace, '--trace-events', '1000000'])) as {
          exit_status: number;
          time: { user_s: number; system_s: number; elapsed_s: number };
          untraced: { syscalls: { count: number; time_ns: number }; by_syscall: Record<string, { count: number; time_ns: number }> };
        };
        expect(report.exit_status).toBe(0);
        const by = Object.values(report.untraced.by_syscall);
        expect(by.reduce((s, c) => s + c.count, 0)).toBe(report.untraced.syscalls.count);
        expect(near(by.reduce((s, c) => s + c.time_ns, 0), report.untraced.syscalls.time_ns, 1e-9)).toBe(true);
        expect(report.untraced.syscalls.time_ns / 1e9).toBeLessThanOrEqual(report.time.elapsed_s * (1 + 1e-9));
        expect(report.time.user_s + report.time.system_s).toBeLessThanOrEqual(report.time.elapsed_s * (1 + 1e-9) + 1e-12);
        const t = JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: TraceEvent[]; otherData: { dropped_events: number } };
        expect(t.otherData.dropped_events).toBe(0);
        expect(timelineProblems(t)).toEqual([]);
      }),
      { seed: 6001, numRuns: 50 },
    );
  });

  it("every syscall's and trap's top-level steps sum to its time in the kernel's ledger (random operands, all profiles)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES),
        fc.constantFrom('512', '4k', '64k', '1m'),
        fc.integer({ min: 1, max: 6 }),
        fc.subarray(['ktrace', 'audit', 'ptrace', 'signals', 'seccomp', 'tracepoint', 'racct', 'capsicum'] as Feature[], { maxLength: 3 }),
        (name, bs, count, hooks) => {
          const profile = loadProfile(name);
          const features = profileFeatures(profile);
          for (const h of hooks) if (FEATURE_KERNELS[h].includes(profile.kernel)) features.add(h);
          const r = runDd(parseOperands({ bs, count: String(count) }, profile.userland.dd), { profile, seed: '1', features, scripts: [] });
          expect(r.exitStatus).toBe(0);
          expect(unpartitioned(r.kernel.steps.syscalls)).toEqual([]);
          expect(unpartitioned(r.kernel.steps.traps)).toEqual([]);
        },
      ),
      { seed: 6002, numRuns: 24 },
    );
  });
});

describe('random valid io-static runs', () => {
  it('exit 0; the timeline nests; bandwidth, loop time and syscall time agree', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(ioArgs, async ({ args }) => {
        const trace = join(dir, `io-${n++}.json`);
        const r = JSON.parse(await ok([...args, '--json', '--trace-out', trace, '--trace-events', '1000000'])) as {
          exit_status: number;
          bandwidth_kib_s: number;
          time_ns: number;
          total_bytes: number;
          block_count: number;
          buffer_bytes: number;
          syscalls: { count: number; time_ns: number; by_syscall: Record<string, { count: number; time_ns: number }> };
          process: { elapsed_s: number; user_s: number; system_s: number };
        };
        expect(r.exit_status).toBe(0);
        expect(r.block_count * r.buffer_bytes).toBe(r.total_bytes);
        expect(r.syscalls.count).toBeGreaterThanOrEqual(r.block_count);
        expect(r.syscalls.time_ns).toBeLessThanOrEqual(r.time_ns * (1 + 1e-9));
        expect(r.time_ns / 1e9).toBeLessThanOrEqual(r.process.elapsed_s * (1 + 1e-9));
        expect(near(r.bandwidth_kib_s, r.total_bytes / 1024 / (r.time_ns / 1e9), 1e-6)).toBe(true);
        const by = Object.values(r.syscalls.by_syscall);
        expect(near(by.reduce((s, c) => s + c.time_ns, 0), r.syscalls.time_ns, 1e-9)).toBe(true);
        expect(timelineProblems(JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: TraceEvent[] })).toEqual([]);
      }),
      { seed: 6003, numRuns: 80 },
    );
  });
});

describe('enabling a hook never lowers a cost', () => {
  const withHook = fc.oneof(ddArgs, ioArgs).chain(({ args, profile }) => fc.record({ args: fc.constant(args), hook: fc.constantFrom(...hooksFor(profile)) }));

  // A hook's work moves the run against the clock's tick grid, so a sub-interval (one
  // syscall, io-static's timed loop) may gain or lose a clock interrupt: a tick that fell
  // in the loop can fall before it once start-up takes longer. The invariants are
  // therefore on the whole run (the ticks only add) and, through compare (which meters
  // clock interrupts and leaves them out of per-call times), on the syscalls net of them.
  it('the whole run takes at least as long with the hook on', async () => {
    await fc.assert(
      fc.asyncProperty(withHook, async ({ args, hook }) => {
        const elapsed = (text: string) => {
          const j = JSON.parse(text) as { time?: { elapsed_s: number }; process?: { elapsed_s: number } };
          return j.time?.elapsed_s ?? j.process!.elapsed_s;
        };
        const off = elapsed(await ok([...args, '--json', '--disable', hook]));
        const on = elapsed(await ok([...args, '--json', '--enable', hook]));
        expect(on, `${hook} on vs off: ${args.join(' ')}`).toBeGreaterThanOrEqual(off * (1 - 1e-12));
      }),
      { seed: 6004, numRuns: 60 },
    );
  });

  it('compare: the syscalls take at least as long in all, net of clock interrupts, with the hook on', async () => {
    await fc.assert(
      fc.asyncProperty(withHook, async ({ args, hook }) => {
        const cmp = ['compare', ...args.slice(1)];
        const t = cmp.indexOf('--trace');
        if (t >= 0) cmp.splice(t, 2);
        const r = JSON.parse(await ok([...cmp, '--baseline-disable', hook, '--enable', hook, '--json'])) as {
          syscalls: { name: string; baseline: { count: number; ns_per_call: number } | null; variant: { count: number; ns_per_call: number } | null }[];
        };
        const total = (side: 'baseline' | 'variant') => r.syscalls.reduce((sum, c) => sum + (c[side] ? c[side]!.count * c[side]!.ns_per_call : 0), 0);
        expect(total('variant'), `${hook} on vs off: ${cmp.join(' ')}`).toBeGreaterThanOrEqual(total('baseline') * (1 - 1e-9));
      }),
      { seed: 6006, numRuns: 40 },
    );
  });
});

describe('determinism', () => {
  it('the same command line and seed give the same bytes, run after run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(ddArgs, ioArgs), fc.boolean(), async ({ args }, json) => {
        const a = [...args, ...(json ? ['--json'] : [])];
        const first = await ok(a);
        const second = await ok(a);
        expect(second).toBe(first);
      }),
      { seed: 6005, numRuns: 16 },
    );
  });
});
