// `l41sim calibrate lecture` under the calibration protocol: the whole calibration (every
// fold) is run once, then checked. It reproduces the shipped profiles exactly; the goals are
// asserted on cross-validated errors and validate rows (issue 11), not on in-sample matches,
// except where the issue states an in-sample goal; every row the model misses is reported
// with the mechanism that would close it; and a row's cross-validated prediction does not
// move when its own measured value does (the leak test, on the real lecture problem).

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitProblem, medianAbsCvError, type CalibratedRow } from '../src/costmodel/calibration/protocol.js';
import { calibrationJson } from '../src/costmodel/calibration/report.js';
import { loadDeclaredRows } from '../src/costmodel/calibration/roles.js';
import { validateProfile } from '../src/costmodel/profile.js';
import { repoPath } from '../src/costmodel/repo.js';
import { SCRIPTS } from '../src/kernel/dtrace/scripts.js';
import { PROBE_DATA, PROBE_SCRIPTS } from '../src/workloads/calibrate/bbb-problem.js';
import { calibrateBbb, calibrateLecture, type ProfileCalibration } from '../src/workloads/calibrate/lecture.js';
import { LECTURE_DATA, lectureProblem } from '../src/workloads/calibrate/lecture-problem.js';
import { sig4, termParam } from '../src/workloads/calibrate/terms.js';

const shipped = (name: string) => JSON.parse(readFileSync(repoPath('calibration', `${name}.json`), 'utf8'));
const rowsOf = (p: ProfileCalibration) => p.fits.flatMap((c) => c.rows);
const rowOf = (p: ProfileCalibration, id: string) => rowsOf(p).find((r) => r.id === id)!;
const within = (r: CalibratedRow, tol: number, e: number | null = r.cv_error) => expect(e !== null && Math.abs(e) <= tol, `${r.id}: ${e === null ? 'no prediction' : `${(100 * e).toFixed(1)}%`} (tolerance ${100 * tol}%)`).toBe(true);

describe('l41sim calibrate lecture', () => {
  let bbb: ProfileCalibration;
  let lecture: ProfileCalibration;
  beforeAll(async () => {
    bbb = await calibrateBbb({ workers: 2 });
    lecture = await calibrateLecture(bbb.raw, { workers: 2 });
  }, 1_200_000);

  it('writes exactly the shipped profiles', () => {
    expect(bbb.raw).toEqual(shipped('bbb'));
    expect(lecture.raw).toEqual(shipped('lecture'));
  });

  describe('the lecture', () => {
    const syscalls = () => rowsOf(lecture).filter((r) => r.id.startsWith('syscall_time['));

    it("the issue's in-sample goals: user+system within 3%, traps within 2%, pagezero the dominant stack", () => {
      within(rowOf(lecture, 'time.user_s+system_s'), 0.03, rowOf(lecture, 'time.user_s+system_s').error);
      within(rowOf(lecture, 'traps_run.traps'), 0.02, rowOf(lecture, 'traps_run.traps').error);
      expect(lecture.context.checks.find((c) => c.what.startsWith('dominant profile stack'))!.ok).toBe(true);
    });

    it('the trap time is within 5% in-sample, or the report says it is not and why', () => {
      const r = rowOf(lecture, 'traps_run.trap_time');
      if (Math.abs(r.error) > 0.05) expect(lecture.context.misses['traps_run.trap_time']).toMatch(/What would close it/);
      expect(lecture.context.checks.find((c) => c.what.startsWith('their time'))!.ok).toBe(Math.abs(r.error) <= 0.05);
    });

    it('the 17 syscall rows: median |cross-validated error| at most 20%', () => {
      expect(syscalls()).toHaveLength(17);
      expect(medianAbsCvError(syscalls())!).toBeLessThanOrEqual(0.2);
    });

    it('every syscall row outside 25% cross-validated is reported with the mechanism that would close it', () => {
      const out = syscalls().filter((r) => r.cv_error === null || Math.abs(r.cv_error) > 0.25);
      for (const r of out) expect(lecture.context.misses[r.id], r.id).toMatch(/What would (close|predict|separate)/);
      const count = lecture.context.checks.find((c) => c.what.includes('at least 14 within 25%'))!;
      expect(count.ok).toBe(syscalls().length - out.length >= 14);
    });

    it('validate rows: the trap run repeats the table within 10% (its own two runs differ by 8.5%), pagezero samples within 15%, 65 calls', () => {
      within(rowOf(lecture, 'traps_run.syscall_time'), 0.1);
      within(rowOf(lecture, 'profile_run.samples[pagezero]'), 0.15);
      expect(rowOf(lecture, 'traps_run.syscalls').cv_modelled).toBe(65);
    });

    it("leaks nothing: close's and the trap count's cross-validated predictions do not move when their measured values do", () => {
      for (const id of ['syscall_time[close]', 'traps_run.traps']) {
        const rows = loadDeclaredRows(repoPath(LECTURE_DATA)).rows.map((r) => (r.id === id ? { ...r, measured: r.measured * 3 } : r));
        const fold = fitProblem(lectureProblem(bbb.raw, rows), id);
        expect(fold.evaluation.rows[id]!.modelled, id).toBe(rowOf(lecture, id).cv_modelled);
      }
    }, 600_000);
  });

  describe('the BeagleBone', () => {
    it('validate rows: the dtmalloc run within 10%, the lock-event count within 15% of "about 170,000"', () => {
      within(rowOf(bbb, 'elapsed[dtmalloc::: { @count = count(); }]'), 0.1);
      within(rowOf(bbb, 'lockstat events[lockstat::: { @count = count(); }]'), 0.15);
    });

    it('each lockstat run is predicted within 10% by a fit that did not see it', () => {
      const lockstat = rowsOf(bbb).filter((r) => r.id.startsWith('elapsed[lockstat'));
      expect(lockstat).toHaveLength(4);
      for (const r of lockstat) within(r, 0.1);
    });

    it('every fit row outside 25% cross-validated (the untraced baseline among them) is reported with why', () => {
      const out = rowsOf(bbb).filter((r) => r.role === 'fit' && (r.cv_error === null || Math.abs(r.cv_error) > 0.25));
      for (const r of out) expect(bbb.context.misses[r.id], r.id).toBeTruthy();
      expect(bbb.context.misses['lmbench[lat_syscall open]']).toMatch(/declared so from the data/);
    });

    it('every probe-effect script in the data is a modelled script with the same D text', () => {
      const data = JSON.parse(readFileSync(repoPath(PROBE_DATA), 'utf8')) as { rows: { script: string }[] };
      expect(Object.keys(PROBE_SCRIPTS).sort()).toEqual(data.rows.map((r) => r.script).sort());
      for (const [text, name] of Object.entries(PROBE_SCRIPTS)) if (name) expect(Object.values(SCRIPTS).find((s) => s.name === name)?.text).toBe(text);
    });
  });

  it('gives every fitted parameter its provenance and standard error, names the undetermined ones, and the profiles validate', () => {
    for (const p of [bbb, lecture]) {
      const profile = validateProfile(p.raw, p.raw.name);
      for (const param of p.fits.flatMap((c) => c.params)) {
        const written = termParam(p.raw, param.term);
        expect(written.source, param.term).toBe('fitted');
        expect(written.value, param.term).toBe(param.value);
        if (param.stderr_from === 'covariance') expect(written.stderr, param.term).toBe(sig4(param.stderr!));
        if (param.undetermined && param.stderr_from === 'covariance') expect(written.note, param.term).toMatch(/not determined by these data/);
      }
      for (const param of Object.values(profile.costs)) {
        if (param.source === 'fitted') expect(param.from).toBeTruthy();
        if (param.source === 'assumed') expect(param.note).toBeTruthy();
      }
    }
  });

  it('--json: per profile, rows with in-sample and cross-validated figures and params with standard errors', () => {
    for (const [name, p] of [['bbb', bbb], ['lecture', lecture]] as const) {
      const json = calibrationJson(name, p.fits, p.context);
      for (const r of json.rows) for (const k of ['id', 'role', 'measured', 'modelled', 'error', 'cv_modelled', 'cv_error', 'unit']) expect(r, `${r.id}.${k}`).toHaveProperty(k);
      for (const q of json.params) for (const k of ['term', 'value', 'unit', 'source', 'stderr']) expect(q, `${q.term}.${k}`).toHaveProperty(k);
      // Every fit row has a fold, every validate row its whole-fit prediction.
      for (const r of json.rows) if (r.role === 'validate') expect(r.cv_modelled).toBe(r.modelled);
    }
  });

  it("README's fidelity section quotes these cross-validated figures", () => {
    const readme = readFileSync(repoPath('README.md'), 'utf8').replace(/\s+/g, ' ');
    const syscalls = rowsOf(lecture).filter((r) => r.id.startsWith('syscall_time['));
    const med = (100 * medianAbsCvError(syscalls)!).toFixed(0);
    const n = syscalls.filter((r) => r.cv_error !== null && Math.abs(r.cv_error) <= 0.25).length;
    expect(readme).toContain(`median cross-validated error ${med}%, ${n} of its 17 rows within 25%`);
    const pct = (...errors: (number | null)[]) => `${Math.ceil(100 * Math.max(...errors.map((e) => Math.abs(e!))))}%`;
    expect(readme).toContain(`never fitted, comes within ${pct(rowOf(lecture, 'traps_run.syscall_time').cv_error)};`);
    expect(readme).toContain(`user+system time is within ${pct(rowOf(lecture, 'time.user_s+system_s').error)} of 0.396 s and the trap time within ${pct(rowOf(lecture, 'traps_run.trap_time').error)}`);
    const lockstat = rowsOf(bbb).filter((r) => r.id.startsWith('elapsed[lockstat'));
    expect(readme).toContain(`four lockstat runs within ${pct(...lockstat.map((r) => r.cv_error))} cross-validated`);
    const checks = ['elapsed[dtmalloc::: { @count = count(); }]', 'lockstat events[lockstat::: { @count = count(); }]'].map((id) => rowOf(bbb, id).cv_error);
    expect(readme).toContain(`the fit never sees) within ${pct(...checks)};`);
  });
});
