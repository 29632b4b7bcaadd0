// The section of calibration/REPORT.md that `l41sim calibrate lecture` writes: for the bbb and
// lecture profiles, every row's in-sample and cross-validated error side by side, the goals,
// the undetermined parameters and the rows the model does not explain. The full tables are
// in calibration/reports/*-fit.md.

import { WEIGHTING_RULES, type Calibration } from '../../costmodel/calibration/protocol.js';
import { checksTable, figure, utcStamp, type ReportContext } from '../../costmodel/calibration/report.js';

export const REPORT_BEGIN = '<!-- calibrate lecture: begin (written by `l41sim calibrate lecture`: change the code in src/workloads/calibrate/, not this section) -->';
export const REPORT_END = '<!-- calibrate lecture: end -->';

interface Fitted {
  fits: Calibration<any, any>[];
  context: ReportContext;
}

const pct = (e: number | null) => (e === null ? '-' : `${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)}%`);

function profilePart(title: string, f: Fitted): string[] {
  const out = [`### ${title}`, ''];
  out.push('| row | role | measured | in-sample error | CV error |', '|---|---|---:|---:|---:|');
  for (const r of f.fits.flatMap((c) => c.rows)) {
    const flag = r.cv_note ? ` (${r.cv_note.split(':')[0]})` : r.rests_on.length > 0 ? ` (rests on ${r.rests_on.join(', ')})` : '';
    out.push(`| ${r.id.replace(/\|/g, '\\|')} | ${r.role} | ${figure(r.measured)} ${r.unit} | ${pct(r.error)} | ${pct(r.cv_error)}${flag} |`);
  }
  out.push('', ...checksTable(f.context.checks), '');
  const params = f.fits.flatMap((c) => c.params);
  const undetermined = params.filter((p) => p.undetermined);
  out.push(
    `Fitted: ${params.map((p) => `${p.term} ${figure(p.value)} ${p.unit} (± ${p.stderr === null ? '-' : figure(p.stderr)})`).join(', ')}. ` +
      (undetermined.length > 0 ? `Undetermined (standard error above the value): ${undetermined.map((p) => p.term).join(', ')}.` : 'Every fitted parameter is determined (standard error below its value).'),
    '',
  );
  const misses = Object.entries(f.context.misses);
  if (misses.length > 0) {
    out.push('Not explained:', '');
    for (const [row, why] of misses) out.push(`- ${row}: ${why}`);
    out.push('');
  }
  return out;
}

export function reportSection(bbb: Fitted, lecture: Fitted): string {
  const lines = [
    REPORT_BEGIN,
    '## Lecture and BeagleBone',
    '',
    `Recorded ${utcStamp(lecture.context.date)} by \`node bin/l41sim.js calibrate lecture\`: it rewrites calibration/lecture.json and calibration/bbb.json (shipped exactly as written; ` +
      'test/calibrate-lecture.test.ts redoes the whole fits and compares), the full reports calibration/reports/lecture-fit.md and bbb-fit.md, and this section.',
    '',
    'Protocol (src/costmodel/calibration/protocol.ts): every row has a role, fit or validate, declared with the data before fitting and with a reason that does not come from the model (calibration/data/*.roles.json). ' +
      `One weighting rule per fit: ${[...new Set([...lecture.fits, ...bbb.fits].map((c) => c.weighting))].map((w) => `${w} (${WEIGHTING_RULES[w]})`).join('; ')}. ` +
      'Cross-validated ("CV") errors are leave-one-out: each fit row predicted by the same fit redone without it, quantities chosen from the data (the lecture\'s start-up pages, the board\'s share of lock events) chosen again without it; ' +
      "a validate row's CV error is its error from the whole fit, which never saw it. Standard errors come from the whole fit's covariance, or from the folds' spread where no degree of freedom is left.",
    '',
    ...profilePart('Lecture (amd64)', lecture),
    ...profilePart('BeagleBone', bbb),
    REPORT_END,
  ];
  return lines.join('\n');
}
