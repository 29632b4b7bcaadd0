// l41sim compare: the fast-path story (with the hooks off, the guarded steps are a
// small, measured share of each call; with one on, its cost lands in its own
// steps) and monotonicity (a hook switched on never shows a syscall cheaper than
// the baseline).
//
// Monotonicity holds exactly where nothing depends on what is cached: on a "flat
// memory" copy of a profile, where every cache level, memory and the TLB cost the
// same. On the calibrated profiles a hook's slow path can warm a line a later call
// uses (racct's PROC_LOCK warms p_mtx for exit1, say), so a call may get cheaper
// there by a cache miss or two; the hook pays them earlier. (Clock ticks, which
// land wherever the CPU is, are metered and left out by compare itself.)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import { FEATURE_NAMES, type Feature } from '../src/kernel/features.js';
import { FEATURE_KERNELS, profileFeatures, STEP_TABLES } from '../src/kernel/hooks.js';
import { compareRuns, type CompareReport, type Side } from '../src/workloads/compare.js';
import { OUTSIDE_STEPS } from '../src/kernel/step-table.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { runIoStatic } from '../src/workloads/io-static.js';
import { parseIoStatic, type IoStaticText } from '../src/workloads/iostatic/options.js';
import { flatMemory } from './helpers/profiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});


function ioSide(profile: Profile, features: Set<Feature>, text: IoStaticText): Side {
  const r = runIoStatic(parseIoStatic({ total: '1m', quiet: true, ...text }), { profile, seed: '1', features });
  expect(r.report.exit_status).toBe(0);
  return { ledger: r.kernel.steps, summary: { profile: profile.name, features: [...features].sort(), cold_cache: false, headline: { bandwidth_kib_s: r.report.bandwidth_kib_s } } };
}

function ddSide(profile: Profile, features: Set<Feature>): Side {
  const r = runDd(parseOperands({ bs: '1m', count: '2' }), { profile, seed: '1', features, scripts: [] });
  expect(r.exitStatus).toBe(0);
  return { ledger: r.kernel.steps, summary: { profile: profile.name, features: [...features].sort(), cold_cache: false, headline: { elapsed_s: r.time.elapsed_s } } };
}

function compare(profile: Profile, hook: Feature | null, side: (p: Profile, f: Set<Feature>) => Side): CompareReport {
  const base = profileFeatures(profile);
  const variant = new Set(base);
  if (hook) variant.add(hook);
  return compareRuns({ workload: 'test', command: 'test', seed: '1', kernel: profile.kernel }, side(profile, base), side(profile, variant));
}

/** Calls the variant made cheaper than the baseline, by more than `slackNs` per call. */
function cheaper(r: CompareReport, slackNs: number): string[] {
  return r.syscalls.filter((c) => c.baseline.count > 0 && c.baseline.count === c.variant.count && c.diff_ns < -slackNs - 1e-6 * c.baseline.ns_per_call).map((c) => `${c.name} ${c.diff_ns.toFixed(1)} ns`);
}

const WORKLOADS: [string, (p: Profile, f: Set<Feature>) => Side][] = [
  ['io-static read /dev/zero', (p, f) => ioSide(p, f, { read: true, buffer: '16k', path: '/dev/zero' })],
  ['io-static write a file', (p, f) => ioSide(p, f, { write: true, buffer: '64k', path: '/data/iofile' })],
  ['dd bs=1m count=2', ddSide],
];

describe.each(['bbb', 'lecture'])('compare on %s', (name) => {
  const shipped = loadProfile(name);
  const hooks = FEATURE_NAMES.filter((f) => FEATURE_KERNELS[f].includes(shipped.kernel) && !profileFeatures(shipped).has(f));

  it.each(WORKLOADS)('%s: no hook makes a syscall cheaper (flat memory: exactly)', (_w, side) => {
    const p = flatMemory(shipped);
    for (const hook of hooks) expect(cheaper(compare(p, hook, side), 0), hook).toEqual([]);
  });

  it.each(WORKLOADS)('%s: no hook makes a syscall cheaper than two memory misses per call (calibrated profile)', (_w, side) => {
    const slack = 2 * shipped.machine.memory.latency_ns.value;
    // capsicum and signals change the program (cap_enter after dd's setup; sigreturn after each handler),
    // so the calls after them meet other cache contents: they are checked on flat memory only.
    for (const hook of hooks.filter((h) => h !== 'capsicum' && h !== 'signals')) expect(cheaper(compare(shipped, hook, side), slack), hook).toEqual([]);
  });

  it('with the hooks off, the guarded steps are measured per call and are a share of it', () => {
    const r = compare(shipped, null, WORKLOADS[0]![1]);
    const fp = r.fast_path.baseline;
    expect(fp.guard_ns_per_syscall).toBeGreaterThan(0);
    expect(fp.share).toBeGreaterThan(0);
    expect(fp.share).toBeLessThan(1);
    const read = fp.by_syscall.find((c) => c.name === 'read')!;
    expect(read.guard_ns).toBeLessThan(read.syscall_ns);
    // Nothing changed: every difference is zero.
    for (const c of r.syscalls) expect(c.diff_ns).toBeCloseTo(0, 6);
    // The steps (with the time outside them) add up to the mean syscall.
    const all = r.syscalls.find((c) => c.name === 'all')!;
    const sum = r.steps.reduce((a, s) => a + s.baseline_ns, 0);
    expect(sum).toBeCloseTo(all.baseline.ns_per_call, 3);
    expect(r.steps.some((s) => s.step === OUTSIDE_STEPS)).toBe(true);
    expect(r.fast_path.guarded_steps).toEqual(Object.keys(STEP_TABLES[shipped.kernel].guarded()));
  });

  it('with one hook on, its cost lands in its own guarded steps', () => {
    const expected: Partial<Record<Feature, string[]>> = {
      audit: ['audit_syscall_enter', 'audit_syscall_exit'],
      ktrace: ['ktrsyscall', 'ktrsysret', 'ktruserret'],
      ptrace: ['ptracestop_sce', 'ptracestop_scx', 'debugger_premark', 'traced_mark'],
      racct: ['racct_throttle'],
      profil: ['addupc_task'],
    };
    for (const [hook, steps] of Object.entries(expected) as [Feature, string[]][]) {
      const r = compare(shipped, hook, WORKLOADS[0]![1]);
      expect(steps, hook).toContain(r.where.find((w) => w.in === 'syscalls')?.step);
      // Of the syscalls' extra time, almost all is in the hook's steps (a trap's share lands in its handler, which runs userret).
      const inHook = r.steps.filter((s) => steps.includes(s.step)).reduce((a, s) => a + s.diff_ns, 0);
      const all = r.steps.reduce((a, s) => a + s.diff_ns, 0);
      expect(inHook / all, hook).toBeGreaterThan(0.9);
    }
  });
});

describe('l41sim compare', () => {
  it('prints the tables and, with --json, the report', () => {
    const text = spawnSync(process.execPath, [bin, 'compare', 'io-static', '-r', '-b', '16k', '-t', '1m', '--profile', 'bbb', '--enable', 'audit', '/dev/zero'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('variant:  profile bbb, hooks audit+invariants+witness   (+audit)');
    expect(text.stdout).toMatch(/\n {2}read +64 /);
    expect(text.stdout).toMatch(/G audit_syscall_enter/);
    expect(text.stdout).toContain('# fast path');
    const json = spawnSync(process.execPath, [bin, 'compare', 'dd', '--bs', '64k', '--count', '4', '--enable', 'ktrace', '--variant-cold-cache', '--json'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(json.status, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout) as CompareReport;
    expect(r.variant.features).toContain('ktrace');
    expect(r.variant.cold_cache).toBe(true);
    expect(r.syscalls.find((c) => c.name === 'write')?.baseline.count).toBe(4);
  });

  it('refuses bad hooks and profiles with one line and exit 2', () => {
    for (const args of [['--enable', 'teleport'], ['--variant-profile', 'nosuch']]) {
      const r = spawnSync(process.execPath, [bin, 'compare', 'dd', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
