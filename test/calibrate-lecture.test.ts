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

  it('fits fewer free parameters than the rows it fits, and reports exactly those', () => {
    const fittedRows = lecture.report.rows.filter((r) => r.id.startsWith('syscall_time[') && !r.heldOut).length;
    const written = (raw: Record<string, any>) => Object.values(raw.costs as Record<string, { source: string; from?: string }>).filter((p) => p.source === 'fitted' && p.from?.includes('l41-lecture-dd.json')).length;
    // Machine terms (first touch, memory) are fitted too; the table's rows alone outnumber every fitted term.
    expect(lecture.report.params.length).toBeLessThan(fittedRows);
    expect(written(lecture.raw)).toBeLessThanOrEqual(lecture.report.params.length);
    expect(lecture.report.params.map((p) => p.term).sort()).toEqual([...LECTURE_FITTED].sort());
    expect(bbb.report.params.map((p) => p.term).sort()).toEqual([...BBB_FITTED, ...BBB_LMBENCH_FITTED].sort());
  });

  it('checks the fit on rows it did not use', () => {
    const held = lecture.report.rows.filter((r) => r.heldOut && !(r.id in lecture.report.misses));
    expect(held.length).toBeGreaterThanOrEqual(2);
    for (const r of held) expect(Math.abs(r.error), r.id).toBeLessThanOrEqual(0.25);
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

  it("reports every row of the lecture's table, and says which rows are matched by construction", () => {
    expect(lecture.report.rows.filter((r) => r.id.startsWith('syscall_time[')).length).toBe(17);
    for (const id of ['traps_run.syscalls', 'traps_run.traps']) expect(lecture.report.rows.find((r) => r.id === id)?.note).toMatch(/by construction/);
  });
});
