// `l41sim calibrate lecture`: refit the lecture (amd64) and BeagleBone profiles
// from the lecture's measurements and write them, with a fit report each. The
// shipped profiles in calibration/ are exactly what this command writes.

import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { calibrationDir } from '../costmodel/profile.js';
import { calibrateBbb, calibrateLecture, type FitReport } from '../workloads/calibrate/lecture.js';
import { interruptedOr, parsePath } from './common.js';
import { ensureWritableDir, writeFileAtomic } from './output.js';

export function register(program: Command): void {
  const calibrate = program.command('calibrate').description('fit profiles to measurements (lecture: the L41 figures; host: this machine)');
  calibrate
    .command('lecture')
    .description("refit the lecture (amd64) and bbb profiles from calibration/data and write them with fit reports")
    .addOption(new Option('--out <dir>', 'directory to write the profiles and reports to').argParser(parsePath('--out')).default(calibrationDir()))
    .option('--json', 'print the fit reports as JSON')
    .action((opts: { out: string; json?: boolean }) => {
      ensureWritableDir(join(opts.out, 'reports'), '--out');
      let bbb, lecture;
      try {
        bbb = calibrateBbb();
        lecture = calibrateLecture(bbb.raw);
      } catch (e) {
        throw interruptedOr(e, 'calibrate lecture');
      }
      for (const [name, fit] of [['bbb', bbb], ['lecture', lecture]] as const) {
        fit.raw.generated_by = 'l41sim calibrate lecture';
        writeFileAtomic(join(opts.out, `${name}.json`), `${JSON.stringify(fit.raw, null, 1)}\n`, '--out');
        writeFileAtomic(join(opts.out, 'reports', `${name}-fit.md`), formatFitReport(fit.report), '--out');
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ bbb: bbb.report, lecture: lecture.report }, null, 2)}\n`);
      else process.stdout.write(`${formatFitReport(bbb.report)}\n${formatFitReport(lecture.report)}`);
    });
}

const fmt = (x: number) => (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-2) ? x.toExponential(4) : String(Number(x.toPrecision(6))));

export function formatFitReport(r: FitReport): string {
  const out = [`# Fit of the '${r.profile}' profile`, '', `Written by \`${r.command}\` after ${r.iterations} fit-and-rerun iterations; R^2 ${r.rSquared.toFixed(5)} on the fitted rows.`, ''];
  out.push('## Fitted parameters', '', '| parameter | value | unit | std. error | residual | from | note |', '|---|---:|---|---:|---:|---|---|');
  for (const p of r.params) out.push(`| ${p.term} | ${fmt(p.value)} | ${p.unit} | ${p.stderr === null ? '-' : fmt(p.stderr)} | ${p.residual === null ? '-' : `${(p.residual * 100).toFixed(1)}%`} | ${p.from} | ${p.note} |`);
  out.push('', '## Targets', '', '"held out": kept out of the fit, so its error checks the fit; "by construction": matched by how the model was built, not a check.', '', '| target | measured | modelled | error | |', '|---|---:|---:|---:|---|');
  for (const row of r.rows) out.push(`| ${row.id.replace(/\|/g, '\\|')} | ${fmt(row.measured)} ${row.unit} | ${fmt(row.modelled)} ${row.unit} | ${(row.error * 100).toFixed(1)}% | ${row.note} |`);
  out.push('', '## Checks', '', '| check | measured | modelled | ok |', '|---|---|---|---|');
  for (const c of r.checks) out.push(`| ${c.what} | ${c.measured} | ${c.modelled} | ${c.ok ? 'yes' : 'NO'} |`);
  const misses = Object.entries(r.misses);
  if (misses.length > 0) {
    out.push('', '## What the model does not explain', '');
    for (const [row, why] of misses) out.push(`- ${row}: ${why}`);
  }
  return `${out.join('\n')}\n`;
}
