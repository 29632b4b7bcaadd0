/**
 * The calibration protocol: one way to fit and validate every profile (lecture, bbb, host).
 *
 * A fit is four things, and nothing else decides its numbers:
 *   1. rows with roles, declared in the data before fitting (roles.ts reads them from
 *      calibration/data/NAME.roles.json): `fit` rows determine the parameters, `validate`
 *      rows never do; each role has a reason that does not come from the model's error;
 *   2. `evaluate`: run the model at given parameter values and give, for each row, the
 *      modelled value and its usage of each fitted parameter (d modelled / d parameter),
 *      in the row's unit per the parameter's unit;
 *   3. `choose`: every other quantity taken from the data (start-up page counts, a share, an
 *      effective cache size), computed from the fit rows it is handed and from nothing else;
 *   4. one weighting rule: relative error, or inverse measured variance (rows need an `sd`).
 *
 * `fitProblem(problem, excluded)` solves it: from the parameters' starting values (which
 * must not depend on the measurements), evaluate the model, solve the weighted non-negative
 * least squares of the linearised rows (fitLinear), round, choose again, and repeat until
 * the choice stops changing and the values move by less than SETTLED_WITHIN (the model's
 * usage moves a little with the values: clock interrupts land in different intervals).
 * `calibrate` runs that on all fit rows and once more for every fit row left out
 * (leave-one-out cross-validation): the left-out row's prediction comes from a fit and a
 * choice that never saw it, so changing its measured value cannot move it
 * (test/calibration-protocol.test.ts checks). A validate row's cross-validated prediction
 * is its prediction from the whole fit, which never saw it either.
 *
 * Standard errors come from the whole fit's covariance (the residual variance times
 * (J^T W J)^-1 of the linearised rows at the solution); where the fit has no degrees of
 * freedom left, from the spread of the folds' values (the jackknife). A parameter whose
 * standard error exceeds its value is undetermined; a row whose modelled value would move
 * by 5% or more when such a parameter moves by one standard error rests on it, and says so.
 * A fit row is "fitted, not predicted" when its fold has no other row that uses one of its
 * parameters; its cross-validated prediction says when it rests on a parameter its fold
 * cannot determine.
 *
 * Using it for a new profile (host, bbb): declare the rows in NAME.roles.json and read them
 * with loadDeclaredRows (roles.ts); write a function that returns the FitProblem; call
 * `calibrate(problem)` on this thread, or calibrateParallel(problem, ref) from
 * workloads/calibrate/folds.ts, where `ref` names the compiled module and the function
 * that builds the same problem, to run the fits on worker threads. report.ts formats the
 * result: the markdown tables and the JSON of `calibrate ... --json`.
 */
import { FitError, fitLinear, type FitResult, type Observation } from '../fit.js';

export type Role = 'fit' | 'validate';
export type Weighting = 'relative' | 'inverse-variance';

export const WEIGHTING_RULES: Record<Weighting, string> = {
  relative: 'every fit row counts by its relative error, (modelled - measured) / measured, with the same weight',
  'inverse-variance': 'every fit row counts by its error divided by its measured standard deviation (inverse measured variance)',
};

/** One measured quantity, with its declared role. */
export interface Row {
  id: string;
  measured: number;
  unit: string;
  role: Role;
  /** Why this role: declared with the data, never from the model's error. */
  reason: string;
  /** Standard deviation of the measurement, where the data give one. */
  sd?: number;
}

/** A fitted parameter: its name, unit, starting value and what determines it. */
export interface ParamSpec {
  term: string;
  unit: string;
  /** Starting value of every fit: must not depend on the measured values. */
  start: number;
  /** The rows that determine it, in words (the profile's `from`). */
  from: string;
}

/** The model's account of one row at given parameter values. */
export interface RowModel {
  modelled: number;
  /** d modelled / d parameter, in the row's unit per the parameter's unit; a missing key is 0. */
  usage: Record<string, number>;
}

export interface Evaluation {
  rows: Record<string, RowModel>;
}

export interface FitProblem<C = unknown, E extends Evaluation = Evaluation> {
  name: string;
  rows: readonly Row[];
  params: readonly ParamSpec[];
  weighting: Weighting;
  /**
   * Quantities taken from the data, from `fitRows` only. `last` is the latest evaluation
   * (with the choice it was made with), for quantities solved against the model; absent
   * before the first one.
   */
  choose(fitRows: readonly Row[], last?: { chosen: C; evaluation: E }): C;
  /** Run the model; `need` lists the rows whose account is wanted. */
  evaluate(values: Readonly<Record<string, number>>, chosen: C, need: ReadonlySet<string>): E;
  /** Rounding applied to every fitted value before the model uses it (default: none). */
  round?: (value: number) => number;
  /** Evaluations before giving up on a fixed point (default 8). */
  maxIterations?: number;
}

/** The fit of a problem on its fit rows, minus `excluded` (a fold). */
export interface FitOutcome<C = unknown, E extends Evaluation = Evaluation> {
  excluded: string | null;
  values: Record<string, number>;
  chosen: C;
  /** The model at `values` and `chosen`. */
  evaluation: E;
  iterations: number;
  /** True when the rounded values and the choice reached a fixed point. */
  converged: boolean;
  /** Parameters no fit row of this fit uses: left at their starting values. */
  unsupported: string[];
  /** The last linear solve: standard errors from its covariance. */
  stderr: Record<string, number | null>;
  dof: number;
  /** The fold could not be fitted (collinear rows, too few rows): why. */
  failure?: string;
}

/** Raised when a problem is malformed: the message names the row or parameter. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export function fitRowsOf(problem: FitProblem<any, any>, excluded: string | null = null): Row[] {
  return problem.rows.filter((r) => r.role === 'fit' && r.id !== excluded);
}

export function checkProblem(problem: FitProblem<any, any>): void {
  const ids = new Set<string>();
  for (const r of problem.rows) {
    if (ids.has(r.id)) throw new ProtocolError(`${problem.name}: row '${r.id}' is declared twice`);
    ids.add(r.id);
    if (r.role !== 'fit' && r.role !== 'validate') throw new ProtocolError(`${problem.name}: row '${r.id}' has role '${String(r.role)}'; expected fit or validate`);
    if (!r.reason || r.reason.trim() === '') throw new ProtocolError(`${problem.name}: row '${r.id}' has no reason for its role`);
    if (!Number.isFinite(r.measured) || r.measured === 0) throw new ProtocolError(`${problem.name}: row '${r.id}' measured ${r.measured}; expected a finite non-zero number`);
    if (problem.weighting === 'inverse-variance' && r.role === 'fit' && !(r.sd !== undefined && r.sd > 0)) {
      throw new ProtocolError(`${problem.name}: row '${r.id}' has no measured spread; inverse-variance weighting needs an sd for every fit row`);
    }
  }
  if (problem.params.length === 0) throw new ProtocolError(`${problem.name}: no parameters to fit`);
}

/**
 * Values within this share of the previous iteration's count as settled: the model's usage
 * moves with the values by whole clock interrupts, so the last digits can swing back and
 * forth; half a per cent is far inside any fitted value's standard error.
 */
export const SETTLED_WITHIN = 0.005;

/** Two values, or two choices (numbers compared within SETTLED_WITHIN, the rest exactly), are the same. */
function settled(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= SETTLED_WITHIN * Math.max(Math.abs(a), Math.abs(b));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => settled((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Fit `problem` on its fit rows minus `excluded`, from the parameters' starting values.
 * Nothing here reads the excluded row's measured value.
 */
export function fitProblem<C, E extends Evaluation>(problem: FitProblem<C, E>, excluded: string | null = null): FitOutcome<C, E> {
  const rows = fitRowsOf(problem, excluded);
  const need = new Set(excluded === null ? problem.rows.map((r) => r.id) : [...rows.map((r) => r.id), excluded]);
  const round = problem.round ?? ((v: number) => v);
  const maxIterations = problem.maxIterations ?? 8;
  let values = Object.fromEntries(problem.params.map((p) => [p.term, p.start]));
  let chosen = problem.choose(rows);
  let evaluation = problem.evaluate(values, chosen, need);
  let iterations = 1;
  let last: { fit: FitResult; used: string[] } | undefined;
  const base = { excluded, unsupported: [] as string[], stderr: {} as Record<string, number | null>, dof: 0 };
  for (;;) {
    const used = problem.params.map((p) => p.term).filter((t) => rows.some((r) => (evaluation.rows[r.id]?.usage[t] ?? 0) !== 0));
    try {
      last = { fit: solve(problem, rows, evaluation, values, used), used };
    } catch (e) {
      if (!(e instanceof FitError) || excluded === null) throw e;
      return { ...base, values, chosen, evaluation, iterations, converged: false, failure: e.message };
    }
    const next = { ...values };
    for (const t of used) next[t] = round(last.fit.params[t]!.value);
    const nextChosen = problem.choose(rows, { chosen, evaluation });
    const done = settled(next, values) && settled(nextChosen, chosen);
    if (done || iterations >= maxIterations) {
      const unsupported = problem.params.map((p) => p.term).filter((t) => !used.includes(t));
      const stderr = Object.fromEntries(problem.params.map((p) => [p.term, last!.fit.params[p.term]?.stdError ?? null]));
      if (!done) {
        values = next;
        chosen = nextChosen;
        evaluation = problem.evaluate(values, chosen, need);
        iterations++;
      }
      return { ...base, values, chosen, evaluation, iterations, converged: done, unsupported, stderr, dof: last.fit.dof };
    }
    values = next;
    chosen = nextChosen;
    evaluation = problem.evaluate(values, chosen, need);
    iterations++;
  }
}

/** One weighted NNLS solve of the rows linearised at `values`. */
function solve(problem: FitProblem<any, any>, rows: readonly Row[], ev: Evaluation, values: Record<string, number>, used: string[]): FitResult {
  const obs: Observation[] = rows.map((r) => {
    const m = ev.rows[r.id];
    if (!m) throw new ProtocolError(`${problem.name}: the model gave no account of row '${r.id}'`);
    const usage: Record<string, number> = {};
    let fixed = m.modelled;
    for (const [t, u] of Object.entries(m.usage)) {
      if (u === 0 || !(t in values)) continue;
      fixed -= u * values[t]!;
      if (used.includes(t)) usage[t] = u;
    }
    const o: Observation = { id: r.id, target: r.measured, fixed, usage };
    if (problem.weighting === 'inverse-variance') o.weight = 1 / r.sd! ** 2;
    return o;
  });
  return fitLinear(obs, { params: used, relative: problem.weighting === 'relative' });
}

// ---- The whole calibration: the fit and its folds ---------------------------------

export interface CalibratedRow {
  id: string;
  role: Role;
  reason: string;
  measured: number;
  modelled: number;
  error: number;
  /** The prediction from a fit that did not see this row; null when no such fit could predict it. */
  cv_modelled: number | null;
  cv_error: number | null;
  unit: string;
  /** Undetermined parameters this row rests on (see the module comment). */
  rests_on: string[];
  /** Why cv_modelled is missing, or what its fold could not determine. */
  cv_note?: string;
}

export interface CalibratedParam {
  term: string;
  value: number;
  unit: string;
  source: 'fitted';
  from: string;
  stderr: number | null;
  /** Where stderr comes from: the whole fit's covariance, or the folds' spread (no degrees of freedom left). */
  stderr_from: 'covariance' | 'folds';
  /** Smallest and largest value over the folds. */
  fold_range: [number, number];
  /** Its standard error exceeds its value. */
  undetermined: boolean;
}

export interface Calibration<C = unknown, E extends Evaluation = Evaluation> {
  name: string;
  weighting: Weighting;
  rows: CalibratedRow[];
  params: CalibratedParam[];
  full: FitOutcome<C, E>;
  folds: FitOutcome<C, E>[];
}

/** A row rests on a parameter when one standard error of it moves the row by this share or more. */
export const RESTS_ON_SHARE = 0.05;

/** Assemble the calibration from the whole fit and one fold per fit row (any order). */
export function assemble<C, E extends Evaluation>(problem: FitProblem<C, E>, full: FitOutcome<C, E>, folds: FitOutcome<C, E>[]): Calibration<C, E> {
  const byRow = new Map(folds.map((f) => [f.excluded!, f]));
  const params: CalibratedParam[] = problem.params.map((p) => {
    const value = full.values[p.term]!;
    const foldValues = folds.filter((f) => f.failure === undefined && !f.unsupported.includes(p.term)).map((f) => f.values[p.term]!);
    const cov = full.stderr[p.term] ?? null;
    const stderr = cov !== null && full.dof > 0 ? cov : jackknife(foldValues);
    const range: [number, number] = foldValues.length > 0 ? [Math.min(...foldValues), Math.max(...foldValues)] : [value, value];
    return {
      term: p.term,
      value,
      unit: p.unit,
      source: 'fitted',
      from: p.from,
      stderr,
      stderr_from: cov !== null && full.dof > 0 ? 'covariance' : 'folds',
      fold_range: range,
      undetermined: full.unsupported.includes(p.term) || (stderr !== null && stderr > value),
    };
  });
  const undetermined = params.filter((p) => p.undetermined);
  const rows: CalibratedRow[] = problem.rows.map((r) => {
    const m = full.evaluation.rows[r.id];
    if (!m) throw new ProtocolError(`${problem.name}: the model gave no account of row '${r.id}'`);
    const restsOn = undetermined.filter((p) => Math.abs((m.usage[p.term] ?? 0) * (p.stderr ?? Infinity)) >= RESTS_ON_SHARE * Math.abs(m.modelled)).map((p) => p.term);
    const row: CalibratedRow = { id: r.id, role: r.role, reason: r.reason, measured: r.measured, modelled: m.modelled, error: relError(m.modelled, r.measured), cv_modelled: null, cv_error: null, unit: r.unit, rests_on: restsOn };
    if (r.role === 'validate') {
      row.cv_modelled = m.modelled;
      row.cv_error = row.error;
      return row;
    }
    const fold = byRow.get(r.id);
    if (!fold) throw new ProtocolError(`${problem.name}: no fold for fit row '${r.id}'`);
    if (fold.failure !== undefined) {
      row.cv_note = `its fold cannot be fitted: ${fold.failure}`;
      return row;
    }
    const fm = fold.evaluation.rows[r.id]!;
    const alone = fold.unsupported.filter((t) => (fm.usage[t] ?? 0) !== 0);
    if (alone.length > 0) {
      row.cv_note = `fitted, not predicted: no other fit row uses ${alone.join(', ')}`;
      return row;
    }
    row.cv_modelled = fm.modelled;
    row.cv_error = relError(fm.modelled, r.measured);
    // A prediction that moves by 5% or more with one standard error of a parameter its fold
    // cannot determine is a guess about that parameter, and says so.
    const guessed = Object.keys(fold.values).filter((t) => {
      const se = fold.stderr[t];
      return se != null && se > fold.values[t]! && Math.abs((fm.usage[t] ?? 0) * se) >= RESTS_ON_SHARE * Math.abs(fm.modelled);
    });
    if (guessed.length > 0) row.cv_note = `predicted on ${guessed.join(', ')}, which the other fit rows do not determine`;
    return row;
  });
  return { name: problem.name, weighting: problem.weighting, rows, params, full, folds };
}

const relError = (modelled: number, measured: number) => (modelled - measured) / measured;

/** Jackknife standard error from leave-one-out values; null with fewer than two. */
function jackknife(values: number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  return Math.sqrt(((n - 1) / n) * values.reduce((a, v) => a + (v - mean) ** 2, 0));
}

export interface CalibrateOptions {
  /** Called as each fit (the whole one, then each fold) finishes. */
  onProgress?: (done: number, total: number, label: string) => void;
}

/** The whole fit and every fold on this thread (folds.ts runs them on worker threads). */
export function calibrate<C, E extends Evaluation>(problem: FitProblem<C, E>, opts: CalibrateOptions = {}): Calibration<C, E> {
  checkProblem(problem);
  const fitIds = fitRowsOf(problem).map((r) => r.id);
  const total = fitIds.length + 1;
  const full = fitProblem(problem);
  opts.onProgress?.(1, total, `${problem.name}: fit`);
  const folds = fitIds.map((id, i) => {
    const f = fitProblem(problem, id);
    opts.onProgress?.(i + 2, total, `${problem.name}: without ${id}`);
    return f;
  });
  return assemble(problem, full, folds);
}

/** Median |cross-validated error| over rows that have one; null when none has. */
export function medianAbsCvError(rows: readonly CalibratedRow[]): number | null {
  const errs = rows.filter((r) => r.cv_error !== null).map((r) => Math.abs(r.cv_error!)).sort((a, b) => a - b);
  if (errs.length === 0) return null;
  const mid = errs.length >> 1;
  return errs.length % 2 ? errs[mid]! : (errs[mid - 1]! + errs[mid]!) / 2;
}

/**
 * RMS of the in-sample relative errors of the fit rows in which a parameter carries at
 * least 5% of the modelled value (the profile's `residual`); undefined when no fit row
 * depends on it that much.
 */
export function paramResidual(rows: readonly Row[], full: FitOutcome<any, any>, term: string): number | undefined {
  const value = full.values[term] ?? 0;
  const errs = rows
    .filter((r) => r.role === 'fit' && r.id !== full.excluded)
    .filter((r) => {
      const m = full.evaluation.rows[r.id]!;
      return Math.abs((m.usage[term] ?? 0) * value) >= RESTS_ON_SHARE * Math.abs(m.modelled);
    })
    .map((r) => relError(full.evaluation.rows[r.id]!.modelled, r.measured));
  return errs.length === 0 ? undefined : Math.sqrt(errs.reduce((a, e) => a + e * e, 0) / errs.length);
}
