// `l41sim calibrate host [--quick] [--check] [--out PATH]`: measure this Linux
// machine and fit its profile (calibration/host-<hostname>.json), or, with --check,
// run the real GNU dd cases and compare them with the model on that profile.
// Registered under the `calibrate` command (created here if it does not exist yet).

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { FitError } from '../costmodel/fit.js';
import { HostMeasureError } from '../host/error.js';
import { profilePath, validateProfile } from '../costmodel/profile.js';
import { RuntimeFailure, UsageError, ValidationError } from '../errors.js';
import type { HostProfileDoc } from '../workloads/calibrate/host/base.js';
import { checkHost } from '../workloads/calibrate/host/check.js';
import { fitHostProfile, type HostFitReport } from '../workloads/calibrate/host/fit.js';
import { measureForCalibration, type HostCalibrationData, type Progress } from '../workloads/calibrate/host/measure.js';
import { formatCheckReport, formatFitReport } from '../workloads/calibrate/host/report.js';
import { interruptedOr, parsePath, stopIfInterrupted } from './common.js';
import { describeOsError, ensureWritableDir, writeFileAtomic } from './output.js';
import { progressBar } from './terminal.js';

interface HostOptions {
  quick?: boolean;
  check?: boolean;
  out?: string;
  repeats?: number;
  json?: boolean;
  from?: string;
}

function parseRepeats(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 100) throw new UsageError('--repeats', `'${text}' is not a number of repeats`, 'an integer from 1 to 100');
  return n;
}

export function register(program: Command): void {
  let calibrate = program.commands.find((c) => c.name() === 'calibrate');
  if (!calibrate) calibrate = program.command('calibrate').description('fit profiles to measurements');
  calibrate
    .command('host')
    .description("measure this Linux machine and fit its profile (Linux kernel path, GNU dd, glibc); --check compares real dd runs with the model")
    .option('--quick', 'few sizes and repeats (CI: under 30 s)')
    .option('--check', 'run the real dd cases and the model on the host profile; print measured vs modelled CPU time and faults, and a write(2) and a getppid(2) after a big copy (cold-write probe, needs a C compiler)')
    .addOption(new Option('--out <path>', 'profile to write (or, with --check, to check)').argParser(parsePath('--out')).default(profilePath('host')))
    .option('--repeats <n>', 'repeats per measurement (default 3 with --quick, else 9 for the sweeps and 5 for dd)', parseRepeats)
    .addOption(new Option('--from <measurements>', 'fit from measurements recorded earlier (a calibration/data/*-measurements.json) instead of measuring this machine').argParser(parsePath('--from')))
    .option('--json', 'print the report as JSON')
    .action((opts: HostOptions) => {
      if (opts.check && opts.from) throw new UsageError('--from', 'cannot be used with --check', '--check alone (it measures real dd runs on this machine)');
      return opts.check ? check(opts) : calibrateHost(opts);
    });
}

/** The progress bar with the share done in per cent before the step's label. */
function percentBar(): { update: Progress; done: () => void } {
  const bar = progressBar();
  return {
    update: (label, fraction) => bar.draw(fraction, `${String(Math.round(Math.max(0, Math.min(1, fraction)) * 100)).padStart(3)}% ${label}`),
    done: () => bar.done(),
  };
}

function failure(e: unknown, command = 'calibrate host'): never {
  const err = interruptedOr(e, command);
  if (err !== e) throw err;
  if (e instanceof HostMeasureError) throw new RuntimeFailure(command, e.message, undefined, { cause: e });
  if (e instanceof FitError) throw new RuntimeFailure(command, `${e.message}; nothing was written`, 'measurements on a quieter machine (rerun, or use more --repeats)', { cause: e });
  throw e;
}

/** The bar's update, stopping first if SIGINT has come (between measuring steps there is no model run to stop). */
function interruptible(bar: { update: Progress }, command: string): Progress {
  return (label, fraction) => {
    stopIfInterrupted(command);
    bar.update(label, fraction);
  };
}

/** Where the measurements and the fit report go: calibration/data/<stem>-measurements.json and calibration/reports/<stem>-fit.md next to the profile. */
function sidePaths(out: string): { data: string; report: string } {
  const stem = basename(out).replace(/\.json$/, '');
  return { data: join(dirname(out), 'data', `${stem}-measurements.json`), report: join(dirname(out), 'reports', `${stem}-fit.md`) };
}

/** Measurements recorded by an earlier calibrate host (its data file), for a refit without the machine. */
function readMeasurements(path: string): HostCalibrationData {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw new UsageError('--from', `${path} is not valid JSON (${e.message})`, 'a measurements file written by calibrate host');
    throw new UsageError('--from', `cannot read ${path} (${describeOsError(e)})`, 'a measurements file written by calibrate host');
  }
  const schema = (raw as { schema?: unknown } | null)?.schema;
  if (schema !== 'l41sim/host-calibration@1') {
    throw new UsageError('--from', `${path} is not host measurements (schema ${JSON.stringify(schema ?? null)})`, "a file with schema 'l41sim/host-calibration@1' (calibration/data/*-measurements.json)");
  }
  return raw as HostCalibrationData;
}

function calibrateHost(opts: HostOptions): void {
  const out = opts.out!;
  if (!out.endsWith('.json')) throw new UsageError('--out', `'${out}' does not end in .json`, 'a path like calibration/host-NAME.json');
  const side = sidePaths(out);
  for (const d of [dirname(out), dirname(side.data), dirname(side.report)]) ensureWritableDir(d, '--out');
  const bar = percentBar();
  const command = `l41sim calibrate host${opts.quick ? ' --quick' : ''}${opts.repeats ? ` --repeats ${opts.repeats}` : ''}${opts.from ? ` --from ${opts.from}` : ''}`;
  let profile: HostProfileDoc;
  let report: HostFitReport;
  let data: HostCalibrationData;
  try {
    const progress = interruptible(bar, 'calibrate host');
    data = opts.from ? readMeasurements(opts.from) : measureForCalibration({ quick: opts.quick === true, ...(opts.repeats ? { repeats: opts.repeats } : {}), onProgress: (l, f) => progress(l, 0.7 * f) });
    ({ profile, report } = fitHostProfile(data, { command, onProgress: (l, f) => progress(l, 0.7 + 0.3 * f) }));
  } catch (e) {
    bar.done();
    failure(e);
  }
  bar.done();
  if (report.fittedRms > 0.3) {
    throw new RuntimeFailure(
      'calibrate host',
      `the fit reproduces the measurements poorly (relative RMS ${(100 * report.fittedRms).toFixed(0)}% on the fitted rows); nothing was written`,
      'a quieter machine (rerun, or use more --repeats)',
    );
  }
  try {
    validateProfile(profile, profile.name);
  } catch (e) {
    if (e instanceof ValidationError) throw new RuntimeFailure(e.path, `the fitted profile is invalid: ${e.problem}; nothing was written`, e.expected);
    throw e;
  }
  writeFileAtomic(out, `${JSON.stringify(profile, null, 1)}\n`, '--out');
  writeFileAtomic(side.data, `${JSON.stringify({ ...data, fit: report }, null, 1)}\n`, '--out');
  writeFileAtomic(side.report, formatFitReport(report), '--out');
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatFitReport(report)}\nwrote ${out}\nwrote ${side.data}\nwrote ${side.report}\n`);
}

function check(opts: HostOptions): void {
  const path = opts.out!;
  if (!existsSync(path)) throw new UsageError('--out', `no host profile at ${path}`, "a profile written by 'l41sim calibrate host' (run it first)");
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError('--out', `cannot read ${path} (${describeOsError(e)})`, "a profile written by 'l41sim calibrate host'");
  }
  let profile;
  try {
    profile = validateProfile(JSON.parse(text), basename(path, '.json'));
  } catch (e) {
    if (e instanceof ValidationError) throw new UsageError(e.path, e.problem, e.expected);
    if (e instanceof SyntaxError) throw new UsageError('--out', `${path} is not valid JSON (${e.message})`, 'a profile document');
    throw e;
  }
  const bar = percentBar();
  let report;
  try {
    const progress = interruptible(bar, 'calibrate host --check');
    report = checkHost(profile, { repeats: opts.repeats ?? (opts.quick ? 3 : 5), onProgress: progress, command: `l41sim calibrate host --check${opts.quick ? ' --quick' : ''}` });
  } catch (e) {
    bar.done();
    failure(e, 'calibrate host --check');
  }
  bar.done();
  // The fit's held-out error, from the measurements file written with the profile.
  let heldOut: number | null = null;
  try {
    const d = JSON.parse(readFileSync(sidePaths(path).data, 'utf8')) as { fit?: { heldOutMedianAbsError?: number | null } };
    heldOut = d.fit?.heldOutMedianAbsError ?? null;
  } catch {
    /* no measurements file next to the profile */
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...report, held_out_read_median_abs_error: heldOut }, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatCheckReport(report));
  process.stdout.write(heldOut === null ? 'held-out read sizes: no fit report next to the profile\n' : `held-out read sizes (from the fit): median |error| ${(100 * heldOut).toFixed(1)}% (goal <= 10%): ${heldOut <= 0.1 ? 'met' : 'NOT met'}\n`);
}
