import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateProfile } from '../src/costmodel/profile.js';
import { repoPath } from '../src/costmodel/repo.js';
import { BBB_FITTED, BBB_LMBENCH_FITTED, calibrateBbb, calibrateLecture, LECTURE_FITTED } from '../src/workloads/calibrate/lecture.js';

const shipped = (name: string) => JSON.parse(readFileSync(repoPath('calibration', `${name}.json`), 'utf8'));

describe('l41sim calibrate lecture', () => {
  // One refit serves every assertion: it runs the model a few dozen times.
  const bbb = calibrateBbb();
  const lecture = calibrateLecture(bbb.raw);
  bbb.raw.generated_by = lecture.raw.generated_by = 'l41sim calibrate lecture';

  it('writes exactly the shipped profiles', () => {
    expect(bbb.raw).toEqual(shipped('bbb'));
    expect(lecture.raw).toEqual(shipped('lecture'));
  });

  it('fits fewer free parameters than the lecture has table rows', () => {
    expect(LECTURE_FITTED.length).toBeLessThan(17);
    expect(lecture.report.params.map((p) => p.term).sort()).toEqual([...LECTURE_FITTED].sort());
    expect(bbb.report.params.map((p) => p.term).sort()).toEqual([...BBB_FITTED, ...BBB_LMBENCH_FITTED].sort());
  });

  it('gives every fitted parameter its provenance, and the profiles validate', () => {
    for (const raw of [bbb.raw, lecture.raw]) {
      const p = validateProfile(raw, raw.name);
      for (const param of Object.values(p.costs)) {
        if (param.source === 'fitted') expect(param.from).toBeTruthy();
        if (param.source === 'assumed') expect(param.note).toBeTruthy();
      }
    }
  });

  it('reports every target row with measured, modelled and error', () => {
    for (const r of [...lecture.report.rows, ...bbb.report.rows]) {
      expect(Number.isFinite(r.measured) && Number.isFinite(r.modelled)).toBe(true);
      expect(r.error).toBeCloseTo((r.modelled - r.measured) / r.measured, 12);
    }
    expect(lecture.report.rows.filter((r) => r.id.startsWith('syscall_time[')).length).toBe(17);
  });
});
