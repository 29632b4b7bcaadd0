// The lecture's targets (issue 4, "Reproduce the lecture"), computed by running the
// model: `dd if=/dev/zero of=/dev/null bs=10m count=1` on the shipped lecture
// profile against calibration/data/l41-lecture-dd.json, and the probe-effect runs
// on the shipped bbb profile against calibration/data/l41-probe-effect-dd.json.
// The tolerances are the issue's; they are not to be loosened to make a row pass.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { SCRIPTS } from '../src/kernel/dtrace/scripts.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { KNOWN_MISSES } from '../src/workloads/calibrate/lecture.js';
import { DD_TABLES, ddReport, type DdReport } from '../src/workloads/dd/report.js';
import { runDd } from '../src/workloads/dd/run.js';
import { profileFeatures } from '../src/kernel/hooks.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = (name: string) => JSON.parse(readFileSync(join(root, 'calibration', 'data', name), 'utf8'));

interface LectureData {
  time_fields: { user_s: number; system_s: number };
  syscall_time_by_name: { rows: Record<string, number>; total: number };
  traps_run: { syscalls: number; syscall_time_ns: number; traps: number; trap_time_ns: number };
  profile_run: { samples: Record<string, number> };
}
interface ProbeEffectData {
  rows: { script: string; n: number; median: number }[];
}

const lecture = data('l41-lecture-dd.json') as LectureData;
const probe = data('l41-probe-effect-dd.json') as ProbeEffectData;

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

  const rows = Object.entries(lecture.syscall_time_by_name.rows);
  const explained = rows.filter(([name]) => !(`syscall_time[${name}]` in KNOWN_MISSES));
  const missed = rows.filter(([name]) => `syscall_time[${name}]` in KNOWN_MISSES);

  it.each(explained)('%s: time within 25% of the table (%i ns)', (name, target) => {
    const model = report.dtrace.syscall_time_by_name?.[name] ?? 0;
    expect(relErr(model, target), `${name}: ${pctOff(model, target)}`).toBeLessThanOrEqual(0.25);
  });

  // The rows the model does not explain (KNOWN_MISSES says why): no more than
  // two, and each still short of the measurement rather than over it, so a model
  // change that moves them shows up here.
  it('at most one row is a known miss (KNOWN_MISSES says why), modelled short of the table', () => {
    expect(missed.length).toBeLessThanOrEqual(1);
    for (const [name, target] of missed) expect(report.dtrace.syscall_time_by_name?.[name] ?? 0, name).toBeLessThan(target);
  });

  it('the per-syscall total within 10%', () => {
    const target = lecture.syscall_time_by_name.total;
    const model = report.dtrace.syscall_time_total_ns ?? 0;
    expect(relErr(model, target), pctOff(model, target)).toBeLessThanOrEqual(0.1);
  });

  it('5185 traps outside syscalls within 2% (by construction: start-up page touches are solved from this count)', () => {
    const target = lecture.traps_run.traps;
    expect(target).toBe(5185);
    const model = report.dtrace.traps ?? 0;
    expect(relErr(model, target), pctOff(model, target)).toBeLessThanOrEqual(0.02);
  });

  it('the traps outside syscalls take their time within 5%', () => {
    const target = lecture.traps_run.trap_time_ns;
    const model = report.dtrace.trap_time_ns ?? 0;
    expect(relErr(model, target), pctOff(model, target)).toBeLessThanOrEqual(0.05);
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

describe('the probe-effect runs on the shipped bbb profile (medians within 10%)', () => {
  const profile = loadProfile('bbb');
  const op = parseOperands({ bs: '10m', count: '1' });
  /** Each row's D text is one of the modelled scripts' (or "none"). */
  const scriptFor = (text: string): string[] => {
    if (text === 'none') return [];
    const found = Object.values(SCRIPTS).find((s) => s.text === text);
    if (!found) throw new Error(`no modelled script has the text ${text}`);
    return [found.name];
  };

  it('every measured script is modelled, and the lockstat ones are among them', () => {
    for (const row of probe.rows) expect(() => scriptFor(row.script)).not.toThrow();
    expect(probe.rows.filter((r) => r.script.startsWith('lockstat')).length).toBe(4);
  });

  it.each(probe.rows.map((r) => [r.script, r.median] as const))('%s: elapsed within 10% of the median %d s', (script, median) => {
    const run = runDd(op, { profile, seed: '1', features: profileFeatures(profile), scripts: scriptFor(script) });
    expect(run.exitStatus).toBe(0);
    const elapsed = run.time.elapsed_s;
    expect(relErr(elapsed, median), `${script}: model ${elapsed.toFixed(4)} s vs ${median} s (${(((elapsed - median) / median) * 100).toFixed(1)}%)`).toBeLessThanOrEqual(0.1);
  });
});
