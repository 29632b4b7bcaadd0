// A hook switched on never makes anything cheaper: for every feature the FreeBSD
// path models, a small dd run with that hook on (and nothing else) costs at least
// the fast path's run, per syscall name and in total; and the whole run is never
// faster.
//
// Two things besides the hook's own work move time around between runs, and the
// comparisons isolate the hook from them:
//
// - Clock interrupts land at fixed times (hz, from the seed's phase), so a hook
//   that lengthens the run shifts the timeline and can move a tick out of one
//   syscall and into another (or into user mode). The per-syscall comparisons use
//   a copy of the profile with costs.clock_intr = 0 (the ticks still fire, so the
//   signals and suspend hooks still post their work from them, but a tick costs
//   nothing where it lands) and kernel_config.background_lock_ops_per_tick = 0 (no
//   lockstat script runs here, so it changes nothing; zeroed so that no
//   tick-driven cost is left).
// - Cache state: a hook's slow path touches lines (PROC_LOCK's p_mtx, the ucred)
//   and so warms them for a later call, which then hits where it missed: racct's
//   lock on every return makes exit's PROC_LOCK hit, for instance. That is real
//   (hardware does the same), so on the calibrated profile a syscall name may get
//   cheaper by a few misses; the hook pays them earlier. The exact per-name
//   comparison therefore also runs on a "flat memory" copy where every cache
//   level, memory and the TLB cost the same (page walks free), so a call costs
//   what its code does and nothing depends on what is cached: there, no name may
//   get cheaper at all. On the calibrated copy the total kernel time may not
//   drop, and a name may drop by at most two memory latencies per call.
//
// The whole-run comparison also runs on the shipped profile as it is.

import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import { FEATURE_NAMES, type Feature } from '../src/kernel/features.js';
import { checkFeatures, FEATURE_KERNELS, FeatureError } from '../src/kernel/hooks.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd, type DdRun } from '../src/workloads/dd/run.js';
import { flatMemory } from './helpers/profiles.js';

const PROFILES = ['lecture', 'bbb'] as const;
/** A small dd, long enough (over 20 ms on both profiles, hooks off) for two 100 Hz signals. */
const OP = parseOperands({ bs: '1m', count: '12' });
/** Comparisons allow for floating-point summation order only. */
const REL = 1e-9;

/**
 * Features that change the program, not only the cost of what it does:
 * - capsicum: dd calls cap_enter(2) after setup() (one more syscall name);
 * - signals: each delivered signal runs its handler, which returns by sigreturn(2).
 * Syscall names that only the hooked run makes are checked by these rules, not
 * compared against the baseline (which has none of them).
 */
const EXTRA_CALLS: Partial<Record<Feature, (run: DdRun) => void>> = {
  capsicum: (run) => {
    expect(run.kernel.steps.syscalls.get('cap_enter')?.count).toBe(1);
  },
  signals: (run) => {
    // SIGALRM at 100 Hz (every 10th hardclock tick): each signal delivered runs its
    // handler, which returns by sigreturn; the last one may still be pending at exit.
    const sigreturn = run.kernel.steps.syscalls.get('sigreturn')?.count ?? 0;
    const periods = (run.endPs - run.startPs) / (1e12 / 100);
    expect(sigreturn).toBeLessThanOrEqual(Math.ceil(periods));
    expect(sigreturn).toBeGreaterThanOrEqual(Math.floor(periods) - 1);
  },
};

function noClockCost(profile: Profile): Profile {
  const p = structuredClone(profile);
  p.costs.clock_intr = { ...p.costs.clock_intr, value: 0 };
  p.kernel_config.background_lock_ops_per_tick = { ...p.kernel_config.background_lock_ops_per_tick, value: 0 };
  return p;
}

/** noClockCost, and every level of memory costing an L1 hit (helpers/profiles.ts). */
function flatMemoryNoClock(profile: Profile): Profile {
  return flatMemory(noClockCost(profile));
}

function run(profile: Profile, features: Feature[]): DdRun {
  const r = runDd(OP, { profile, seed: '1', features: new Set(features), scripts: [] });
  expect(r.exitStatus).toBe(0);
  return r;
}

function perName(r: DdRun): Map<string, { count: number; ps: number }> {
  return new Map([...r.kernel.steps.syscalls].map(([n, t]) => [n, { count: t.count, ps: t.ps }]));
}

/** Syscall names whose time dropped by more than `slackPs(count)` with the hook on. */
function cheaperNames(base: DdRun, hooked: DdRun, slackPs: (count: number) => number): string[] {
  const b = perName(base);
  const h = perName(hooked);
  const out: string[] = [];
  for (const [call, bt] of b) {
    const ht = h.get(call);
    if (!ht) out.push(`${call}: missing with the hook on`);
    else if (ht.count !== bt.count) out.push(`${call}: ${bt.count} calls -> ${ht.count}`);
    else if (ht.ps < bt.ps * (1 - REL) - slackPs(bt.count)) out.push(`${call}: ${(bt.ps / 1000).toFixed(1)} ns -> ${(ht.ps / 1000).toFixed(1)} ns`);
  }
  return out;
}

/** Kernel time of the syscall names the baseline makes, plus user-mode traps. */
function kernelPs(r: DdRun, names: Set<string>): number {
  let ps = r.traps.time_ns * 1000;
  for (const [call, t] of r.kernel.steps.syscalls) if (names.has(call)) ps += t.ps;
  return ps;
}

describe.each(PROFILES)('hooks on %s never make dd cheaper', (name) => {
  const shipped = loadProfile(name);
  const quiet = noClockCost(shipped);
  const flat = flatMemoryNoClock(shipped);
  const kernel = shipped.kernel;
  const features = FEATURE_NAMES.filter((f) => FEATURE_KERNELS[f].includes(kernel));
  const others = FEATURE_NAMES.filter((f) => !FEATURE_KERNELS[f].includes(kernel));
  const missPs = shipped.machine.memory.latency_ns.value * 1000;
  const runs = { flat: new Map<Feature | 'none', DdRun>(), quiet: new Map<Feature | 'none', DdRun>(), shipped: new Map<Feature | 'none', DdRun>() };

  beforeAll(() => {
    for (const f of ['none' as const, ...features]) {
      const fs = f === 'none' ? [] : [f];
      runs.flat.set(f, run(flat, fs));
      runs.quiet.set(f, run(quiet, fs));
      runs.shipped.set(f, run(shipped, fs));
    }
  });

  it('the kernel models the hooks this file compares (and refuses the others)', () => {
    expect(features.length).toBeGreaterThanOrEqual(11);
    for (const f of others) expect(() => checkFeatures(kernel, [f], name)).toThrow(FeatureError);
  });

  it.each(features)('%s, flat memory: no syscall name, no trap and no total gets cheaper; the program changes only as the feature says', (f) => {
    const base = runs.flat.get('none')!;
    const h = runs.flat.get(f)!;
    expect(cheaperNames(base, h, () => 0)).toEqual([]);
    expect(h.traps.count).toBe(base.traps.count);
    expect(h.traps.time_ns).toBeGreaterThanOrEqual(base.traps.time_ns * (1 - REL));
    const names = new Set(base.kernel.steps.syscalls.keys());
    expect(kernelPs(h, names)).toBeGreaterThanOrEqual(kernelPs(base, names) * (1 - REL));
    expect(h.endPs - h.startPs).toBeGreaterThanOrEqual((base.endPs - base.startPs) * (1 - REL));
    // Names only the hooked run makes: the program changed, as the feature says.
    const extra = [...h.kernel.steps.syscalls.keys()].filter((call) => !names.has(call));
    if (EXTRA_CALLS[f]) EXTRA_CALLS[f]!(h);
    else expect(extra).toEqual([]);
  });

  it.each(features)('%s, calibrated caches: kernel time and the run are not cheaper; a name drops by at most what two misses a call explain', (f) => {
    const base = runs.quiet.get('none')!;
    const h = runs.quiet.get(f)!;
    const names = new Set(base.kernel.steps.syscalls.keys());
    if (EXTRA_CALLS[f]) {
      // The program changed: the extra call (cap_enter after the junk fill, or a
      // sigreturn) now takes the cold misses the next call used to take, so compare
      // the kernel time with the extra calls in.
      expect(kernelPs(h, new Set(h.kernel.steps.syscalls.keys()))).toBeGreaterThanOrEqual(kernelPs(base, names) * (1 - REL));
    } else {
      expect(cheaperNames(base, h, (count) => 2 * count * missPs)).toEqual([]);
      expect(kernelPs(h, names)).toBeGreaterThanOrEqual(kernelPs(base, names) * (1 - REL));
    }
    expect(h.endPs - h.startPs).toBeGreaterThanOrEqual((base.endPs - base.startPs) * (1 - REL));
  });

  it.each(features)('%s, shipped profile (clock interrupts priced): the whole run is never faster', (f) => {
    const base = runs.shipped.get('none')!;
    const h = runs.shipped.get(f)!;
    expect(h.endPs - h.startPs).toBeGreaterThanOrEqual((base.endPs - base.startPs) * (1 - REL));
  });

  it('each hook makes the syscalls measurably slower (the comparisons are not vacuous)', () => {
    // On the clock-free calibrated copy: its runs are as long as the shipped ones, so
    // the tick-driven hooks (signals at 100 Hz, suspend at every tick) fire too.
    const base = runs.quiet.get('none')!;
    for (const f of ['ktrace', 'ptrace', 'audit', 'racct', 'profil', 'witness', 'invariants', 'capsicum', 'signals', 'suspend', 'vfork'] as const) {
      if (!features.includes(f)) continue;
      const h = runs.quiet.get(f)!;
      expect(h.syscalls.time_ns, f).toBeGreaterThan(base.syscalls.time_ns);
      const names = new Set(base.kernel.steps.syscalls.keys());
      const hookedNames = EXTRA_CALLS[f] ? new Set(h.kernel.steps.syscalls.keys()) : names;
      expect(kernelPs(h, hookedNames), f).toBeGreaterThan(kernelPs(base, names));
    }
  });
});
