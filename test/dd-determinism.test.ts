// Same seed, same bytes: `l41sim workload dd --bs 1m --json` twice gives identical
// stdout. A different seed changes only the clocks' phase (hardclock, statclock,
// profile-N start at a seed-derived point of their period): so the user/system
// split and where a tick lands may differ, but what the program did may not.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import type { DdReport } from '../src/workloads/dd/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');

function dd(...args: string[]): string {
  const r = spawnSync(process.execPath, [bin, 'workload', 'dd', '--bs', '1m', '--json', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

let first: string;
let again: string;
let other: string;

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
  first = dd('--seed', '7');
  again = dd('--seed', '7');
  other = dd('--seed', 'another seed');
});

describe('dd --json determinism', () => {
  it('the same seed gives byte-identical stdout', () => {
    expect(first.length).toBeGreaterThan(100);
    expect(again).toBe(first);
  });

  it('a different seed does the same work: every count is equal', () => {
    const a = JSON.parse(first) as DdReport;
    const b = JSON.parse(other) as DdReport;
    expect(a.seed).toBe('7');
    expect(b.seed).toBe('another seed');
    expect(b.exit_status).toBe(a.exit_status);
    expect(b.untraced.syscalls.count).toBe(a.untraced.syscalls.count);
    expect(b.untraced.traps.count).toBe(a.untraced.traps.count);
    expect(b.untraced.faults).toEqual(a.untraced.faults);
    const counts = (r: DdReport) => Object.fromEntries(Object.entries(r.untraced.by_syscall).map(([n, t]) => [n, t.count]));
    expect(counts(b)).toEqual(counts(a));
    expect(b.dtrace.syscalls).toBe(a.dtrace.syscalls);
    expect(b.dtrace.traps).toBe(a.dtrace.traps);
    expect(Object.keys(b.dtrace.syscall_time_by_name ?? {}).sort()).toEqual(Object.keys(a.dtrace.syscall_time_by_name ?? {}).sort());
  });

  it('a different seed moves times only by where clock ticks land', () => {
    const a = JSON.parse(first) as DdReport;
    const b = JSON.parse(other) as DdReport;
    const profile = loadProfile(a.profile);
    const tickNs = 1e9 / profile.kernel_config.hz.value;
    const c = profile.costs.clock_intr;
    const clockNs = c.unit === 'cycles' ? (c.value * 1e9) / profile.machine.clock_hz.value : c.value;
    // A span of t ns holds at most ceil(t / tick) + 1 hardclock ticks; each costs clock_intr.
    const slack = (ns: number, spans = 1) => (Math.ceil(ns / tickNs) + spans) * clockNs + 1e-6;
    for (const [name, ta] of Object.entries(a.untraced.by_syscall)) {
      const tb = b.untraced.by_syscall[name]!;
      expect(Math.abs(tb.time_ns - ta.time_ns), name).toBeLessThanOrEqual(slack(Math.max(ta.time_ns, tb.time_ns), ta.count));
    }
    expect(Math.abs(b.untraced.traps.time_ns - a.untraced.traps.time_ns)).toBeLessThanOrEqual(slack(Math.max(a.untraced.traps.time_ns, b.untraced.traps.time_ns), a.untraced.traps.count));
    const elapsedNs = Math.max(a.time.elapsed_s, b.time.elapsed_s) * 1e9;
    expect(Math.abs(b.time.elapsed_s - a.time.elapsed_s) * 1e9).toBeLessThanOrEqual(slack(elapsedNs));
    // time(1)'s split may differ (statclock's phase), but it always apportions the same run time.
    for (const r of [a, b]) expect(r.time.user_s + r.time.system_s).toBeCloseTo(r.time.elapsed_s, 9);
  });
});
