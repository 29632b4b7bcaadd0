// The lecture's dd on the shipped lecture profile, as a user runs it (`l41sim workload dd
// --bs 10m`, seed 1), against calibration/data/l41-lecture-dd.json: what the mechanism
// gives whatever the fitted costs (the 17 names, 65 calls, the junk-fill and start-up traps,
// pagezero's dominance, a system time that stays the lecture's across statclock seeds). How
// well each measured row is predicted is the calibration's question: test/calibrate-lecture
// .test.ts asserts the cross-validated errors and the validate rows.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { DD_TABLES, ddReport, type DdReport } from '../src/workloads/dd/report.js';
import { profileFeatures } from '../src/kernel/hooks.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = (name: string) => JSON.parse(readFileSync(join(root, 'calibration', 'data', name), 'utf8'));

interface LectureData {
  time_fields: { user_s: number; system_s: number };
  syscall_time_by_name: { rows: Record<string, number>; total: number };
  traps_run: { syscalls: number; syscall_time_ns: number; traps: number; trap_time_ns: number };
  profile_run: { samples: Record<string, number> };
}

const lecture = data('l41-lecture-dd.json') as LectureData;

/** |model - target| / target. */
const relErr = (model: number, target: number) => Math.abs(model - target) / target;
const pctOff = (model: number, target: number) => `model ${model.toFixed(0)} vs ${target} (${(((model - target) / target) * 100).toFixed(1)}%)`;

describe('the lecture dd on the shipped lecture profile (bs=10m count=1)', () => {
  let report: DdReport;
  beforeAll(() => {
    const profile = loadProfile('lecture');
    report = ddReport(parseOperands({ bs: '10m', count: '1' }), { profile, seed: '1', features: profileFeatures(profile), tables: DD_TABLES }).report;
  });

  it('dd ran to completion', () => {
    expect(report.exit_status).toBe(0);
  });

  it('system time within 3% of 0.396 s (time(1), untraced run, the default seed)', () => {
    const target = lecture.time_fields.system_s;
    expect(target).toBe(0.396);
    expect(relErr(report.time.system_s, target), `system ${report.time.system_s.toFixed(4)} s vs ${target} s`).toBeLessThanOrEqual(0.03);
  });

  it('user+system within 3% of 0.000u + 0.396s, whatever the seed (the u/s split is statclock sampling)', () => {
    // The lecture's run took no statclock tick in user mode, so its 0.396 s of
    // system time is its whole run time. A seed whose ticks land once in dd's
    // user-mode junk fill moves ~1/50 of the time to user: compare the sum.
    const target = lecture.time_fields.user_s + lecture.time_fields.system_s;
    for (const seed of ['1', '2', '3']) {
      const profile = loadProfile('lecture');
      const r = ddReport(parseOperands({ bs: '10m', count: '1' }), { profile, seed, features: profileFeatures(profile), tables: [] }).report;
      expect(relErr(r.time.user_s + r.time.system_s, target), `seed ${seed}: u+s ${(r.time.user_s + r.time.system_s).toFixed(4)} s`).toBeLessThanOrEqual(0.03);
      // ...and user mode is a small enough share that a 0.000u run is a plausible outcome.
      expect(r.time.user_s / (r.time.user_s + r.time.system_s)).toBeLessThan(0.05);
    }
  });

  it('65 syscalls in the traps table (by construction: the modelled program makes 65 calls)', () => {
    expect(lecture.traps_run.syscalls).toBe(65);
    expect(report.dtrace.syscalls).toBe(65);
  });

  it('exactly the 17 syscall names of the per-syscall table', () => {
    const names = Object.keys(lecture.syscall_time_by_name.rows).sort();
    expect(names).toHaveLength(17);
    expect(Object.keys(report.dtrace.syscall_time_by_name ?? {}).sort()).toEqual(names);
  });

  it('5185 traps outside syscalls within 2% (by construction: start-up page touches are solved from this count)', () => {
    const target = lecture.traps_run.traps;
    expect(target).toBe(5185);
    const model = report.dtrace.traps ?? 0;
    expect(relErr(model, target), pctOff(model, target)).toBeLessThanOrEqual(0.02);
  });

  it('pagezero is the innermost frame of the dominant profile stack', () => {
    const stacks = report.dtrace.profile_stacks ?? [];
    expect(stacks.length).toBeGreaterThan(0);
    const top = [...stacks].sort((a, b) => b.samples - a.samples)[0]!;
    // Frames are innermost first, as DTrace prints stack().
    expect(top.frames[0]).toBe('pagezero');
    expect(top.frames).toContain('vm_fault');
    // ... and it dominates: more samples than every other stack together, as on the slide (346 of ~390).
    const rest = stacks.reduce((a, s) => a + s.samples, 0) - top.samples;
    expect(top.samples).toBeGreaterThan(rest);
  });
});
