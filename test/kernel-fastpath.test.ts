// The fast-path check (issue 4): a null syscall with every hook off and warm
// caches splits into entry/exit, the guards and the body, and the guards are a
// small share of it; right after a 10 MiB copy the same call costs more, and the
// difference lands exactly in the steps that read lines the copy evicted; a hook
// switched on raises its own steps' cost.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import type { Feature } from '../src/kernel/features.js';
import { fastpathReport, type FastpathReport, type FastpathRun, type StepRow } from '../src/workloads/fastpath.js';

const PROFILES = ['lecture', 'bbb'] as const;
const REL = 1e-9;

/** Loads served below L1 (L2, L3, memory) in a step's loads table. */
const missesOf = (loads: Record<string, number> | null, levels: string[]) => levels.slice(1).reduce((a, l) => a + (loads?.[l] ?? 0), 0);

describe.each(PROFILES)('the fast path on %s', (name) => {
  let report: FastpathReport;
  let run: FastpathRun;
  const step = (s: string): StepRow => {
    const row = report.steps.find((r) => r.step === s);
    if (!row) throw new Error(`no step ${s}`);
    return row;
  };

  beforeAll(() => {
    ({ report, run } = fastpathReport({ profile: loadProfile(name), seed: '1', features: new Set(), calls: 50, coldRounds: 2 }));
  });

  it('times getppid, steps named after subr_syscall.c, in the four kinds', () => {
    expect(report.syscall).toBe('getppid');
    expect(report.features).toEqual([]);
    for (const s of ['ktrsyscall', 'ptracestop_sce', 'capsicum_check', 'dtrace_entry', 'audit_syscall_enter', 'audit_syscall_exit', 'dtrace_return', 'ktruserret', 'addupc_task', 'racct_throttle', 'ktrsysret', 'ptracestop_scx', 'vfork_wait', 'ast_check', 'stopevent_sce', 'stopevent_scx']) {
      expect(step(s).kind, s).toBe('guard');
    }
    expect(step('sy_call').kind).toBe('body');
    expect(report.steps.filter((r) => r.kind === 'entry/exit').map((r) => r.step).sort()).toEqual(
      loadProfile(name).machine.isa === 'armv7' ? ['exception_return', 'swi_entry'] : ['fast_syscall', 'sysret'],
    );
    expect(report.guards.steps).toBeGreaterThanOrEqual(20);
  });

  it('the rows add up to the call, warm and cold', () => {
    const sum = (f: (r: StepRow) => number) => report.steps.reduce((a, r) => a + f(r), 0);
    expect(Math.abs(sum((r) => r.warm_ns) - report.warm.mean_ns)).toBeLessThanOrEqual(REL * report.warm.mean_ns + 1e-9);
    expect(Math.abs(sum((r) => r.cold_ns!) - report.cold!.mean_ns)).toBeLessThanOrEqual(REL * report.cold!.mean_ns + 1e-9);
    expect(Math.abs(sum((r) => r.warm_share) - 1)).toBeLessThanOrEqual(1e-9);
    const kinds = report.kinds.reduce((a, t) => a + t.warm_ns, 0);
    expect(Math.abs(kinds - report.warm.mean_ns)).toBeLessThanOrEqual(REL * report.warm.mean_ns + 1e-9);
  });

  it('warm calls are identical and hit L1 for every load: no misses, no TLB misses', () => {
    expect(report.warm.min_ns).toBe(report.warm.max_ns);
    expect(report.warm.tlb_misses).toBe(0);
    const missing = report.steps.filter((r) => missesOf(r.warm_loads, report.levels) > 0).map((r) => `${r.step}: ${report.levels.map((l) => `${l} ${r.warm_loads[l]}`).join(', ')}`);
    expect(missing).toEqual([]);
  });

  it("with every hook off the guards are a small share of the null syscall (the lecture's 'making nothing fast')", () => {
    const g = report.guards;
    const entryExit = report.kinds.find((t) => t.kind === 'entry/exit')!;
    // Each guard is a load of a flag word that hits L1, and a branch not taken.
    expect(g.warm_share).toBeLessThan(0.25);
    for (const r of report.steps.filter((s) => s.kind === 'guard')) expect(r.warm_share, r.step).toBeLessThan(0.02);
    // All twenty-odd checks together cost less than the trap into and out of the kernel.
    expect(g.warm_ns).toBeLessThan(entryExit.warm_ns);
    expect(step('sy_call').warm_ns).toBeGreaterThan(0);
  });

  it('the cold call costs more than the warm one, and took no fault', () => {
    expect(report.cold!.mean_ns).toBeGreaterThan(2 * report.warm.mean_ns);
    // The buffer was touched in user mode before the copies: read() faulted on nothing.
    expect(run.kernel.steps.traps.get('page fault (in syscall)')?.count ?? 0).toBe(0);
    // User-mode faults: the stack page in use and each page of the buffer, once.
    expect(run.kernel.steps.traps.get('page fault')?.count).toBe(1 + report.cold!.copy_bytes / run.kernel.pageBytes);
  });

  it('the difference lands in the steps that read cold lines, and only there', () => {
    const levels = report.levels;
    /** Loads served further out than when warm (or a TLB miss the warm call did not take). */
    const servedFurther = (r: StepRow) =>
      levels.some((l) => (r.cold_loads?.[l] ?? 0) !== (r.warm_loads[l] ?? 0)) || (r.cold_tlb_misses ?? 0) !== r.warm_tlb_misses;
    let extra = 0;
    const wrong: string[] = [];
    for (const r of report.steps) {
      extra += r.cold_extra_ns!;
      // Same loads, at least as many from each deeper level: the cold table only moves loads outward.
      for (let i = 1; i < levels.length; i++) {
        const deeper = (t: Record<string, number>) => levels.slice(i).reduce((a, l) => a + (t[l] ?? 0), 0);
        if (deeper(r.cold_loads!) < deeper(r.warm_loads)) wrong.push(`${r.step}: fewer loads from ${levels[i]} out when cold`);
      }
      if (servedFurther(r) ? !(r.cold_extra_ns! > 0) : Math.abs(r.cold_extra_ns!) > 1e-6) wrong.push(`${r.step}: cold - warm = ${r.cold_extra_ns} ns`);
    }
    expect(wrong).toEqual([]);
    expect(Math.abs(extra - (report.cold!.mean_ns - report.warm.mean_ns))).toBeLessThanOrEqual(1e-6 * report.cold!.mean_ns);
    // The copy evicted flag words: some guards pay misses (not only the entry code and the body).
    expect(report.steps.filter((r) => r.kind === 'guard' && servedFurther(r)).length).toBeGreaterThan(0);
    expect(report.guards.cold_ns!).toBeGreaterThan(report.guards.warm_ns);
    // Guards that read a word on a line an earlier step already brought back pay nothing extra.
    expect(report.steps.filter((r) => r.kind === 'guard' && r.cold_extra_ns === 0).length).toBeGreaterThan(0);
  });
});

describe('a hook switched on raises its own steps (lecture, warm)', () => {
  const profile = loadProfile('lecture');
  const measure = (features: Feature[], opts: { scripts?: string[]; userGapNs?: number } = {}) =>
    fastpathReport({ profile, seed: '1', features: new Set(features), calls: 40, copyBytes: 0, ...opts });
  /** Each hook and the steps its slow path runs in (src/kernel/freebsd/syscall.ts). */
  const OWN_STEPS: [Feature, string[]][] = [
    ['ktrace', ['ktrsyscall', 'ktrsysret', 'ktruserret']],
    ['ptrace', ['debugger_premark', 'ptracestop_sce', 'traced_mark', 'ptracestop_scx']],
    ['capsicum', ['capsicum_check']],
    ['audit', ['audit_syscall_enter', 'audit_syscall_exit']],
    ['racct', ['racct_throttle']],
    ['profil', ['addupc_task']],
    ['invariants', ['userret_kassert_wexit', 'userret_checks']],
    ['witness', ['stopevent_sce', 'stopevent_scx', 'userret_checks']],
  ];
  let base: FastpathReport;
  beforeAll(() => {
    base = measure([]).report;
  });
  const warm = (r: FastpathReport, s: string) => r.steps.find((x) => x.step === s)!.warm_ns;

  it.each(OWN_STEPS)('%s: its steps cost more, and so does the call', (feature, steps) => {
    const r = measure([feature]).report;
    for (const s of steps) expect(warm(r, s), s).toBeGreaterThan(warm(base, s));
    expect(r.warm.mean_ns).toBeGreaterThan(base.warm.mean_ns);
  });

  it('DTrace syscall probes (the syscall-time script): dtrace_entry and dtrace_return', () => {
    const r = measure([], { scripts: ['syscall-time'] }).report;
    for (const s of ['dtrace_entry', 'dtrace_return']) expect(warm(r, s), s).toBeGreaterThan(warm(base, s));
  });

  it.each(['signals', 'suspend'] as const)('%s: posted by clock ticks between calls, paid in ast_check', (feature) => {
    // 40 calls 650 us apart in user mode span 25 ms: 25 hardclock ticks, 2 periods of the 100 Hz signal.
    const gap = { userGapNs: 650_000 };
    const b = measure([], gap).report;
    const r = measure([feature], gap).report;
    expect(warm(r, 'ast_check')).toBeGreaterThan(warm(b, 'ast_check'));
    expect(r.warm.max_ns).toBeGreaterThan(r.warm.min_ns); // some calls took the AST, the others did not
  });

  it('vfork: paid once, on the first return (vfork_wait)', () => {
    const b = fastpathReport({ profile, seed: '1', features: new Set(), calls: 3, copyBytes: 0 }).run;
    const r = fastpathReport({ profile, seed: '1', features: new Set(['vfork']), calls: 3, copyBytes: 0 }).run;
    expect(r.warm[0]!.steps.get('vfork_wait')!).toBeGreaterThan(b.warm[0]!.steps.get('vfork_wait')!);
    expect(r.warm[2]!.ps).toBe(b.warm[2]!.ps);
  });

  it('--each reports every hook, and where its cost lands', () => {
    const r = fastpathReport({ profile, seed: '1', features: new Set(), calls: 20, copyBytes: 0, each: true }).report;
    const hooks = new Map(r.hooks!.map((h) => [h.hook, h]));
    for (const [feature, steps] of OWN_STEPS) {
      const h = hooks.get(feature)!;
      expect(h.delta_ns, feature).toBeGreaterThan(0);
      expect(h.cheaper, feature).toEqual([]);
      for (const s of steps) expect(h.lands_in.map((d) => d.step), feature).toContain(s);
    }
    expect(hooks.get('vfork')!.first_call_delta_ns).toBeGreaterThan(0);
    expect(hooks.get('signals')!.gap_us).toBeGreaterThan(0);
    expect(hooks.get('signals')!.lands_in.map((d) => d.step)).toContain('ast_check');
    expect(hooks.get('dtrace (syscall-time script)')!.lands_in.map((d) => d.step)).toContain('dtrace_entry');
  });
});

describe('l41sim workload fastpath', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const bin = join(root, 'bin', 'l41sim.js');
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, 'workload', 'fastpath', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
    }
  });

  it('prints the table and the guards line; --json prints the same figures as data', () => {
    const text = cli('--calls', '10', '--copy', '1m', '--cold-calls', '1');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^step +kind +warm ns +share +cold ns +share/m);
    expect(text.stdout).toMatch(/^capsicum_check +guard /m);
    expect(text.stdout).toMatch(/^the guards \(\d+ flag tests\): [\d.]+ ns, [\d.]+% of a warm getppid\(\)/m);
    const json = cli('--calls', '10', '--copy', '1m', '--cold-calls', '1', '--json');
    expect(json.status).toBe(0);
    const r = JSON.parse(json.stdout) as FastpathReport;
    expect(r.workload).toBe('fastpath');
    expect(r.profile).toBe('lecture');
    expect(r.cold?.copy_bytes).toBe(1 << 20);
    expect(text.stdout).toContain(`${r.guards.warm_ns.toFixed(1)} ns`);
  });

  it('refuses a Linux-only hook and a bad size with one line and exit 2', () => {
    for (const args of [['--enable', 'seccomp'], ['--copy', '10q'], ['--enable', 'nope'], ['--trace', 'nope']]) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^l41sim: --(enable|copy|trace): /);
    }
  });
});
