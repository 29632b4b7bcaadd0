// `l41sim calibrate lecture`: refit the BeagleBone and the lecture (amd64) profiles under the
// calibration protocol, cross-validate every fit row, and write the profiles, a fit report
// each and the summary in REPORT.md. The shipped profiles in calibration/ are exactly what
// this command writes.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { calibrationJson, formatCalibration } from '../costmodel/calibration/report.js';
import { calibrationDir } from '../costmodel/profile.js';
import { defaultCalibrationWorkers } from '../workloads/calibrate/folds.js';
import { calibrateBbb, calibrateLecture } from '../workloads/calibrate/lecture.js';
import { REPORT_BEGIN, REPORT_END, reportSection } from '../workloads/calibrate/summary.js';
import { interruptedOr, parsePath, parseWorkers } from './common.js';
import { ensureWritableDir, writeFileAtomic } from './output.js';
import { progressBar } from './terminal.js';

export function register(program: Command): void {
  const calibrate = program.command('calibrate').description('fit profiles to measurements (lecture: the L41 figures; host: this machine)');
  calibrate
    .command('lecture')
    .description('refit the lecture (amd64) and bbb profiles from calibration/data, cross-validate every fit row, and write the profiles, their fit reports and REPORT.md\'s summary')
    .addOption(new Option('--out <dir>', 'directory to write the profiles, reports/ and REPORT.md to').argParser(parsePath('--out')).default(calibrationDir()))
    .addOption(new Option('--workers <n>', 'worker threads for the fits (results are the same for any count)').argParser(parseWorkers).default(defaultCalibrationWorkers(), 'one per core'))
    .option('--json', 'print the calibrations as JSON: per profile, rows (in-sample and cross-validated) and parameters')
    .addHelpText('after', '\nEvery fit row is left out once and the fit redone without it (leave-one-out cross-validation): a few minutes.')
    .action(async (opts: { out: string; workers: number; json?: boolean }) => {
      ensureWritableDir(join(opts.out, 'reports'), '--out');
      const bar = progressBar();
      const t0 = Date.now();
      const progress = (step: string) => (done: number, total: number, label: string) =>
        bar.draw(done / total, `${step} ${done}/${total} fits, ${((Date.now() - t0) / 1000).toFixed(0)} s: ${label}`);
      const date = new Date();
      let bbb, lecture;
      try {
        bbb = await calibrateBbb({ workers: opts.workers, date, onProgress: progress('bbb') });
        lecture = await calibrateLecture(bbb.raw, { workers: opts.workers, date, onProgress: progress('lecture') });
      } catch (e) {
        throw interruptedOr(e, 'calibrate lecture');
      } finally {
        bar.done();
      }
      const reports = { bbb: formatCalibration('bbb', bbb.fits, bbb.context), lecture: formatCalibration('lecture', lecture.fits, lecture.context) };
      for (const [name, fit] of [['bbb', bbb], ['lecture', lecture]] as const) {
        writeFileAtomic(join(opts.out, `${name}.json`), `${JSON.stringify(fit.raw, null, 1)}\n`, '--out');
        writeFileAtomic(join(opts.out, 'reports', `${name}-fit.md`), reports[name], '--out');
      }
      const reportPath = join(opts.out, 'REPORT.md');
      const section = reportSection(bbb, lecture);
      writeFileAtomic(reportPath, withSection(existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : '', section), '--out');
      if (opts.json) process.stdout.write(`${JSON.stringify({ bbb: calibrationJson('bbb', bbb.fits, bbb.context), lecture: calibrationJson('lecture', lecture.fits, lecture.context) }, null, 2)}\n`);
      else process.stdout.write(`${reports.bbb}\n${reports.lecture}`);
    });
}

/** REPORT.md with the command's section replaced (or, in a file without one, put first). */
export function withSection(text: string, section: string): string {
  const begin = text.indexOf(REPORT_BEGIN);
  const end = text.indexOf(REPORT_END);
  if (begin >= 0 && end > begin) return `${text.slice(0, begin)}${section}${text.slice(end + REPORT_END.length)}`;
  if (text === '') return `# Calibration report\n\n${section}\n`;
  const firstBreak = text.indexOf('\n\n');
  return firstBreak < 0 ? `${text}\n\n${section}\n` : `${text.slice(0, firstBreak + 2)}${section}\n\n${text.slice(firstBreak + 2)}`;
}
