// `l41sim calibrate host [--quick] [--check] [--out PATH]`: measure this Linux
// machine and fit its profile (calibration/host-<hostname>.json), or, with --check,
// run the real GNU dd cases and compare them with the model on that profile.
// Registered under the `calibrate` command (created here if it does not exist yet).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { ProtocolError } from '../costmodel/calibration/protocol.js';
import { calibrationJson } from '../costmodel/calibration/report.js';
import { loadDeclaredRows, rolesPathFor, type RolesFile } from '../costmodel/calibration/roles.js';
import { profileNameFor } from '../costmodel/fingerprint.js';
import { FitError } from '../costmodel/fit.js';
import { calibrationDir, profilePath, validateProfile, type Profile } from '../costmodel/profile.js';
import { RuntimeFailure, UsageError, ValidationError } from '../errors.js';
import { HostMeasureError } from '../host/error.js';
import { probeHost, type HostFacts } from '../host/facts.js';
import { fingerprintOf } from '../host/fingerprint.js';
import type { HostProfileDoc } from '../workloads/calibrate/host/base.js';
import { CHECK_REPEATS, checkHost } from '../workloads/calibrate/host/check.js';
import { fitHostProfile, type HostFitInput, type HostFitReport } from '../workloads/calibrate/host/fit.js';
import { measureForCalibration, type HostCalibrationData, type Progress } from '../workloads/calibrate/host/measure.js';
import { fitChecks, formatCheckReport, formatFitReport } from '../workloads/calibrate/host/report.js';
import { declaredRows, deriveRows } from '../workloads/calibrate/host/rows.js';
import { HOST, loadProfileFor } from '../workloads/host-profile.js';
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
  allowStaleHost?: boolean;
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
    .addOption(new Option('--out <path>', "profile to write (default: calibration/host-<host>-<kernel>-<id>.json, named after the machine); with --check, the profile to check (default: this machine's, as --profile host finds it)").argParser(parsePath('--out')))
    .option('--allow-stale-host', 'with --check and no --out: check the nearest host profile even when it was measured on another machine')
    .option('--repeats <n>', `repeats per measurement (default 3 with --quick, else 9 for the sweeps and 5 for dd; with --check, ${CHECK_REPEATS.quick} with --quick, else ${CHECK_REPEATS.full})`, parseRepeats)
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

/** Where the measurements, their roles and the fit reports go, next to the profile: calibration/data/<stem>-measurements{,.roles}.json, calibration/reports/<stem>-fit.{md,json}. */
function sidePaths(out: string): { data: string; roles: string; report: string; json: string } {
  const stem = basename(out).replace(/\.json$/, '');
  const data = join(dirname(out), 'data', `${stem}-measurements.json`);
  return { data, roles: rolesPathFor(data), report: join(dirname(out), 'reports', `${stem}-fit.md`), json: join(dirname(out), 'reports', `${stem}-fit.json`) };
}

/** Measurements recorded by an earlier calibrate host (its data file and the roles declared beside it), for a refit without the machine. */
function readMeasurements(path: string): HostFitInput {
  let declared;
  try {
    declared = loadDeclaredRows(path);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UsageError('--from', `${path} or its roles file is not valid JSON (${e.message})`, 'a measurements file written by calibrate host, with its roles file');
    if (e instanceof ProtocolError) throw new UsageError('--from', e.message, 'measurements whose rows and roles calibrate host wrote');
    if ((e as NodeJS.ErrnoException).code) throw new UsageError('--from', `cannot read ${path} or ${basename(rolesPathFor(path))} (${describeOsError(e)})`, 'a measurements file written by calibrate host, with its roles file');
    throw e;
  }
  const schema = (declared.data as { schema?: unknown } | null)?.schema;
  if (schema !== 'l41sim/host-calibration@1') {
    throw new UsageError('--from', `${path} is not host measurements (schema ${JSON.stringify(schema ?? null)})`, "a file with schema 'l41sim/host-calibration@1' (calibration/data/*-measurements.json)");
  }
  return { data: declared.data as HostCalibrationData, rows: declared.rows };
}

/** The profile file a calibration of the machine `facts` describe writes by default: calibration/<its name>.json. */
function defaultOut(facts: HostFacts): string {
  return join(calibrationDir(), `${profileNameFor(fingerprintOf(facts, null))}.json`);
}

/** Fresh measurements with their rows, and the roles file that declares them (the text of both, as written). */
function withDeclaredRows(data: HostCalibrationData, dataFile: string): { input: HostFitInput; dataText: string; rolesText: string } {
  const rows = deriveRows(data);
  const measured: HostCalibrationData = { ...data, rows: rows.map(({ role: _role, reason: _reason, ...r }) => r) };
  const dataText = `${JSON.stringify(measured, null, 1)}\n`;
  const roles: RolesFile = { what: `calibrate host measurements of ${data.date}: one row a figure the model reproduces`, data: basename(dataFile), sha256: createHash('sha256').update(dataText).digest('hex'), rows: declaredRows(rows) };
  const input = { data: measured, rows: rows.map((r) => ({ id: r.id, measured: r.measured, unit: r.unit, role: r.role, reason: r.reason, ...(r.sd !== undefined ? { sd: r.sd } : {}) })) };
  return { input, dataText, rolesText: `${JSON.stringify(roles, null, 1)}\n` };
}

function calibrateHost(opts: HostOptions): void {
  const recorded = opts.from ? readMeasurements(opts.from) : null;
  let out: string;
  try {
    out = opts.out ?? defaultOut(recorded ? recorded.data.node.host : probeHost());
  } catch (e) {
    failure(e);
  }
  if (!out.endsWith('.json')) throw new UsageError('--out', `'${out}' does not end in .json`, 'a path like calibration/host-NAME.json');
  const side = sidePaths(out);
  for (const d of [dirname(out), ...(recorded ? [] : [dirname(side.data)]), dirname(side.report)]) ensureWritableDir(d, '--out');
  const bar = percentBar();
  const command = `l41sim calibrate host${opts.quick ? ' --quick' : ''}${opts.repeats ? ` --repeats ${opts.repeats}` : ''}${opts.from ? ` --from ${opts.from}` : ''}`;
  let profile: HostProfileDoc;
  let report: HostFitReport;
  let written: { dataText: string; rolesText: string } | null = null;
  let input: HostFitInput;
  try {
    const progress = interruptible(bar, 'calibrate host');
    if (recorded) input = recorded;
    else {
      const data = measureForCalibration({ quick: opts.quick === true, ...(opts.repeats ? { repeats: opts.repeats } : {}), onProgress: (l, f) => progress(l, 0.6 * f) });
      ({ input, ...written } = withDeclaredRows(data, side.data));
    }
    ({ profile, report } = fitHostProfile(input, { command, name: basename(out, '.json'), onProgress: (l, f) => progress(l, recorded ? f : 0.6 + 0.4 * f) }));
  } catch (e) {
    bar.done();
    failure(e);
  }
  bar.done();
  if (report.fittedRms > 0.3) {
    throw new RuntimeFailure(
      'calibrate host',
      `the fit reproduces the measurements poorly (relative RMS ${(100 * report.fittedRms).toFixed(0)}% on the fit rows); nothing was written`,
      'a quieter machine (rerun, or use more --repeats)',
    );
  }
  try {
    validateProfile(profile, profile.name);
  } catch (e) {
    if (e instanceof ValidationError) throw new RuntimeFailure(e.path, `the fitted profile is invalid: ${e.problem}; nothing was written`, e.expected);
    throw e;
  }
  const roles = [basename(side.roles)];
  const json = { ...calibrationJson(report.calibration.name, [report.calibration], { command, date: new Date(report.date), roles, intro: [], checks: fitChecks(report), misses: {} }), host: hostJson(report) };
  const files: [string, string][] = [[out, `${JSON.stringify(profile, null, 1)}\n`]];
  if (written) files.push([side.data, written.dataText], [side.roles, written.rolesText]);
  files.push([side.report, formatFitReport(report, roles)], [side.json, `${JSON.stringify(json, null, 1)}\n`]);
  for (const [path, text] of files) writeFileAtomic(path, text, '--out');
  if (opts.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else process.stdout.write(`${formatFitReport(report, roles)}\n${files.map(([p]) => `wrote ${p}`).join('\n')}\n`);
}

/** What the JSON report adds to the protocol's rows and parameters. */
function hostJson(r: HostFitReport) {
  const { calibration: _cal, ...rest } = r;
  return rest;
}

/** The profile --check compares with: --out's, else this machine's (as --profile host finds it). */
function profileToCheck(opts: HostOptions): { profile: Profile; path: string } {
  if (opts.out === undefined) {
    const { profile, warning } = loadProfileFor(HOST, { allowStaleHost: opts.allowStaleHost ?? false, field: '--check' });
    if (warning) process.stderr.write(`l41sim: warning: ${warning}\n`);
    return { profile, path: profilePath(profile.name) };
  }
  const path = opts.out;
  if (!existsSync(path)) throw new UsageError('--out', `no host profile at ${path}`, "a profile written by 'l41sim calibrate host' (run it first)");
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError('--out', `cannot read ${path} (${describeOsError(e)})`, "a profile written by 'l41sim calibrate host'");
  }
  let profile: Profile;
  try {
    profile = validateProfile(JSON.parse(text), basename(path, '.json'));
  } catch (e) {
    if (e instanceof ValidationError) throw new UsageError(e.path, e.problem, e.expected);
    if (e instanceof SyntaxError) throw new UsageError('--out', `${path} is not valid JSON (${e.message})`, 'a profile document');
    throw e;
  }
  return { profile, path };
}

function check(opts: HostOptions): void {
  const { profile, path } = profileToCheck(opts);
  const bar = percentBar();
  let report;
  try {
    const progress = interruptible(bar, 'calibrate host --check');
    report = checkHost(profile, { repeats: opts.repeats ?? (opts.quick ? CHECK_REPEATS.quick : CHECK_REPEATS.full), onProgress: progress, command: `l41sim calibrate host --check${opts.quick ? ' --quick' : ''}` });
  } catch (e) {
    bar.done();
    failure(e, 'calibrate host --check');
  }
  bar.done();
  // The fit's held-out error, from the measurements file written with the profile.
  let heldOut: number | null = null;
  try {
    const d = JSON.parse(readFileSync(sidePaths(path).json, 'utf8')) as { host?: { heldOutMedianAbsError?: number | null } };
    heldOut = d.host?.heldOutMedianAbsError ?? null;
  } catch {
    /* no measurements file next to the profile */
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...report, held_out_read_median_abs_error: heldOut }, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatCheckReport(report));
  process.stdout.write(heldOut === null ? 'held-out read sizes: no fit report next to the profile\n' : `held-out read sizes (from the fit): median |CV error| ${(100 * heldOut).toFixed(1)}% (goal <= 10%): ${heldOut <= 0.1 ? 'met' : 'NOT met'}\n`);
}
