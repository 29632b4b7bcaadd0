// Reports of a calibration (./protocol.ts): the JSON that `calibrate ... --json` prints
// per profile, and the markdown of calibration/reports/NAME-fit.md and of the summary in
// calibration/REPORT.md. Every row shows its in-sample and its cross-validated error side
// by side; every parameter its standard error and where that comes from.

import { WEIGHTING_RULES, type Calibration, type CalibratedParam, type CalibratedRow } from './protocol.js';

/** A check beside the rows: a goal or a property, with what was measured and modelled. */
export interface Check {
  what: string;
  measured: string;
  modelled: string;
  ok: boolean;
}

/** What a report says beyond the calibration itself. */
export interface ReportContext {
  command: string;
  /** When the calibration ran (UTC). */
  date: Date;
  /** The roles files the rows come from, for the reader. */
  roles: string[];
  /** Paragraphs on how this profile is fitted. */
  intro: string[];
  checks: Check[];
  /** Rows the model does not explain, and the mechanism that would. */
  misses: Record<string, string>;
}

export interface CalibrationJson {
  profile: string;
  command: string;
  date: string;
  /** Each fit of the profile: its name, weighting rule and how many model evaluations the whole fit took. */
  fits: { name: string; weighting: string; iterations: number }[];
  /** Every row of every fit, with the fit it belongs to. */
  rows: (CalibratedRow & { fit: string })[];
  params: (CalibratedParam & { fit: string })[];
  checks: Check[];
  misses: Record<string, string>;
}

/** The JSON of one profile's calibration: one or more fits (a profile may be fitted in parts). */
export function calibrationJson(profile: string, fits: readonly Calibration<any, any>[], ctx: ReportContext): CalibrationJson {
  return {
    profile,
    command: ctx.command,
    date: ctx.date.toISOString(),
    fits: fits.map((c) => ({ name: c.name, weighting: `${c.weighting}: ${WEIGHTING_RULES[c.weighting]}`, iterations: c.full.iterations })),
    rows: fits.flatMap((c) => c.rows.map((r) => ({ ...r, fit: c.name }))),
    params: fits.flatMap((c) => c.params.map((p) => ({ ...p, fit: c.name }))),
    checks: ctx.checks,
    misses: ctx.misses,
  };
}

export const utcStamp = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A figure as a reader wants it: whole numbers grouped by thousands, small ones to four digits. */
export function figure(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return String(Number(x.toPrecision(4)));
}

const pct = (e: number | null) => (e === null ? '-' : `${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)}%`);
const cell = (s: string) => s.replace(/\|/g, '\\|');

function rowNotes(r: CalibratedRow, misses: Record<string, string>): string {
  const notes: string[] = [];
  if (r.cv_note) notes.push(r.cv_note);
  if (r.rests_on.length > 0) notes.push(`rests on ${r.rests_on.join(', ')} (undetermined)`);
  if (r.id in misses) notes.push('not explained (below)');
  return notes.join('; ');
}

/** The rows table: role, measured, in-sample and cross-validated figures side by side. */
export function rowsTable(cal: Calibration<any, any>, misses: Record<string, string> = {}): string[] {
  const out = ['| row | role | measured | in-sample | error | cross-validated | CV error | notes |', '|---|---|---:|---:|---:|---:|---:|---|'];
  for (const r of cal.rows) {
    out.push(`| ${cell(r.id)} | ${r.role} | ${figure(r.measured)} ${r.unit} | ${figure(r.modelled)} | ${pct(r.error)} | ${r.cv_modelled === null ? '-' : figure(r.cv_modelled)} | ${pct(r.cv_error)} | ${cell(rowNotes(r, misses))} |`);
  }
  return out;
}

export function paramsTable(cal: Calibration<any, any>): string[] {
  const out = ['| parameter | value | unit | std. error | from | over the folds | determined | fitted to |', '|---|---:|---|---:|---|---|---|---|'];
  for (const p of cal.params) {
    out.push(`| ${p.term} | ${figure(p.value)} | ${p.unit} | ${p.stderr === null ? '-' : figure(p.stderr)} | ${p.stderr_from} | ${figure(p.fold_range[0])} .. ${figure(p.fold_range[1])} | ${p.undetermined ? '**no**: std. error above the value' : 'yes'} | ${cell(p.from)} |`);
  }
  return out;
}

/** How the rows, weights, folds and standard errors were made, in words. */
export function protocolParagraph(cal: Calibration<any, any>, roles: string[]): string {
  const fit = cal.rows.filter((r) => r.role === 'fit').length;
  const val = cal.rows.length - fit;
  return (
    `Rows and their roles are declared with the data, before fitting (${roles.join(', ')}). ` +
    `Weighting: ${cal.weighting}, ${WEIGHTING_RULES[cal.weighting]}. ${fit} fit rows, ${val} validate rows, ${cal.params.length} fitted parameters; ` +
    `the whole fit settled after ${cal.full.iterations} model evaluations from the base profile's values. ` +
    `Cross-validated ("CV"): each fit row's prediction from the same fit redone without it (leave-one-out; quantities chosen from the data are chosen again without it); ` +
    `a validate row's CV prediction is the whole fit's, which never saw it. ` +
    `Standard errors: from the whole fit's covariance (residual variance times (J^T W J)^-1 at the solution), or from the folds' spread (jackknife) where no degree of freedom is left; ` +
    `a parameter whose standard error exceeds its value is undetermined, and a row that would move by 5% or more with one standard error of it rests on it.`
  );
}

/** Row reasons, grouped by reason. */
export function reasonsList(cal: Calibration<any, any>): string[] {
  const byReason = new Map<string, CalibratedRow[]>();
  for (const r of cal.rows) byReason.set(`${r.role}\u0000${r.reason}`, [...(byReason.get(`${r.role}\u0000${r.reason}`) ?? []), r]);
  return [...byReason.entries()].map(([key, rows]) => {
    const [role, reason] = key.split('\u0000');
    return `- **${role}** (${rows.map((r) => cell(r.id)).join(', ')}): ${reason}`;
  });
}

export function checksTable(checks: Check[]): string[] {
  return ['| check | measured | modelled | ok |', '|---|---|---|---|', ...checks.map((c) => `| ${cell(c.what)} | ${c.measured} | ${c.modelled} | ${c.ok ? 'yes' : '**no**'} |`)];
}

/** The full report of one profile's calibration (calibration/reports/NAME-fit.md), one section per fit. */
export function formatCalibration(profile: string, fits: readonly Calibration<any, any>[], ctx: ReportContext): string {
  const out = [`# Fit of the '${profile}' profile`, '', `Written by \`${ctx.command}\` on ${utcStamp(ctx.date)}.`, ''];
  for (const p of ctx.intro) out.push(p, '');
  for (const cal of fits) {
    const title = fits.length > 1 ? ` (${cal.name})` : '';
    if (fits.length > 1) out.push(`## Fit: ${cal.name}`, '');
    out.push(protocolParagraph(cal, ctx.roles), '');
    out.push(`### Rows${title}`, '', ...rowsTable(cal, ctx.misses), '');
    out.push(`### Fitted parameters${title}`, '', ...paramsTable(cal), '');
    out.push(`### Why each row has its role${title}`, '', ...reasonsList(cal), '');
  }
  if (ctx.checks.length > 0) out.push('## Checks', '', ...checksTable(ctx.checks), '');
  const misses = Object.entries(ctx.misses);
  if (misses.length > 0) {
    out.push('## What the model does not explain', '');
    for (const [row, why] of misses) out.push(`- ${row}: ${why}`);
    out.push('');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
