/**
 * Least-squares fitting of a cost model that is linear in its parameters.
 *
 * Every observation says: "this measured quantity (`target`) should equal a part that does
 * not depend on the fitted parameters (`fixed`) plus, for each fitted parameter k, its unit
 * cost theta_k times how often the run used it (`usage[k]`)":
 *
 *     model(obs) = fixed + sum_k theta_k * usage[k]
 *
 * `fitLinear` finds theta minimising the (optionally weighted, optionally relative) squared
 * error over the rows not held out, with theta >= 0 by default (Lawson-Hanson NNLS: a unit
 * cost is never negative), and reports every row's measured/modelled/error, R^2 on the
 * fitted rows, the median absolute error on the held-out rows, and standard errors.
 *
 * Numerics: rows are scaled by their weight, columns by their Euclidean norm (a per-call
 * cost and a per-byte cost differ by 10^7 in usage), then a Householder QR with column
 * pivoting decides the rank; a pivot below RANK_TOL of the largest means the columns are
 * collinear on these rows and the fit is refused, naming the parameters involved.
 *
 * Degenerate input never yields numbers: it throws `FitError` with a one-line message
 * naming the problem and the parameters or observation involved.
 */
import { rSquared as ssRSquared, median as ssMedian } from 'simple-statistics';

/** One measured quantity and the model's account of it. */
export interface Observation {
  /** Row name, repeated in the result and in error messages. */
  id: string;
  /** The measured value (any unit; all rows of one fit share it). Must be finite and non-zero. */
  target: number;
  /** The part of the model that does not depend on the fitted parameters, in the target's unit. */
  fixed: number;
  /** Multiplier of each fitted parameter in this row; a missing key means 0. Keys must be fitted parameters. */
  usage: Record<string, number>;
  /** Relative weight of this row in the fit (default 1); must be finite and > 0. */
  weight?: number;
}

export interface FitOptions {
  /** Names of the fitted parameters, in the order reported. */
  params: string[];
  /** Constrain every parameter to be >= 0 (default true: Lawson-Hanson NNLS). */
  nonNegative?: boolean;
  /** Minimise relative rather than absolute error: each row is scaled by 1/|target|. */
  relative?: boolean;
  /** Rows for which this returns true are kept out of the fit and reported as held out. */
  holdOut?: (obs: Observation) => boolean;
}

export interface FittedParam {
  value: number;
  /** One standard error from the residual variance and (X^T W X)^-1; null when dof = 0. */
  stdError: number | null;
  /** True when the non-negativity constraint is active (the value was clamped to 0). */
  atBound: boolean;
}

export interface FitRow {
  id: string;
  measured: number;
  modelled: number;
  /** (modelled - measured) / measured */
  error: number;
  heldOut: boolean;
}

export interface FitResult {
  params: Record<string, FittedParam>;
  /** Every observation, in input order. */
  rows: FitRow[];
  /** 1 - SS_res/SS_tot of modelled vs measured on the rows used in the fit (unweighted). */
  rSquared: number;
  /** Median of |error| over the held-out rows; null when none was held out. */
  heldOutMedianAbsError: number | null;
  /** RMS of (modelled - measured) over the fitted rows, in the target's unit; with `relative`, RMS of the relative errors. */
  residualRms: number;
  /** Unit of residualRms: the target's unit, or a fraction when the fit was relative. */
  residualUnit: 'target' | 'relative';
  /** Fitted rows minus parameters. */
  dof: number;
  /** Condition number estimate of the column-scaled design matrix (|R_11| / |R_pp| of the pivoted QR). */
  conditionEstimate: number;
}

/** Degenerate or invalid fitting input. The message names the problem and what is involved. */
export class FitError extends Error {
  override readonly name = 'FitError';
}

/** A pivot of the column-scaled QR smaller than this fraction of the largest means rank deficiency. */
const RANK_TOL = 1e-9;

/** Fit the parameters of a linear-in-parameters cost model; see the module comment. Throws FitError on degenerate input. */
export function fitLinear(observations: Observation[], options: FitOptions): FitResult {
  const params = options.params;
  const nonNegative = options.nonNegative ?? true;
  const relative = options.relative ?? false;
  validate(observations, params);

  const heldOutFlags = observations.map((o) => (options.holdOut ? options.holdOut(o) === true : false));
  const fitted = observations.filter((_, i) => !heldOutFlags[i]);
  const p = params.length;
  const m = fitted.length;
  if (m < p) {
    throw new FitError(
      `fewer usable rows (${m}${observations.length !== m ? ` of ${observations.length}, the rest held out` : ''}) ` +
        `than parameters (${p}: ${params.join(', ')}); need at least ${p}`,
    );
  }

  const zeroCols = params.filter((k) => fitted.every((o) => (o.usage[k] ?? 0) === 0));
  if (zeroCols.length > 0) {
    throw new FitError(
      `parameter${zeroCols.length > 1 ? 's' : ''} ${zeroCols.map((k) => `'${k}'`).join(', ')} ` +
        `${zeroCols.length > 1 ? 'have' : 'has'} an all-zero column in the ${m} fitted rows: no observation uses ` +
        `${zeroCols.length > 1 ? 'them' : 'it'}, so ${zeroCols.length > 1 ? 'they' : 'it'} cannot be fitted`,
    );
  }

  // Weighted design matrix A (m x p) and right-hand side b.
  const scale = fitted.map((o) => Math.sqrt(o.weight ?? 1) * (relative ? 1 / Math.abs(o.target) : 1));
  const A: number[][] = fitted.map((o, i) => params.map((k) => (o.usage[k] ?? 0) * scale[i]!));
  const b: number[] = fitted.map((o, i) => (o.target - o.fixed) * scale[i]!);
  if (A.some((row) => row.some((v) => !Number.isFinite(v))) || b.some((v) => !Number.isFinite(v))) {
    throw new FitError('non-finite data after weighting: a weight or a value is too large or too small to represent');
  }

  // Column scaling.
  const colNorm = params.map((_, j) => Math.hypot(...A.map((row) => row[j]!)));
  const As: number[][] = A.map((row) => row.map((v, j) => v / colNorm[j]!));

  const qr = householderQR(As, true);
  const diag = qr.R.map((row, k) => Math.abs(row[k]!));
  const rmax = diag[0]!;
  let rank = 0;
  while (rank < p && diag[rank]! > RANK_TOL * rmax) rank++;
  if (rank < p) throw collinearityError(qr, rank, params, colNorm);
  const conditionEstimate = rmax / diag[p - 1]!;

  // Solve for the column-scaled solution x; theta = x / colNorm.
  let x: number[];
  if (nonNegative) {
    x = nnls(As, b);
  } else {
    x = solvePivotedQR(qr, b);
  }
  const theta = x.map((v, j) => v / colNorm[j]!);

  // Residuals and statistics on the fitted rows.
  const modelOf = (o: Observation): number =>
    params.reduce((acc, k, j) => acc + theta[j]! * (o.usage[k] ?? 0), o.fixed);
  const weightedResidualSq = As.reduce((acc, row, i) => {
    const r = b[i]! - row.reduce((s, v, j) => s + v * x[j]!, 0);
    return acc + r * r;
  }, 0);
  const dof = m - p;

  let stdErrors: (number | null)[] = params.map(() => null);
  if (dof > 0) {
    const sigma2 = weightedResidualSq / dof;
    const covScaled = inverseGramFromQR(qr); // (As^T As)^-1
    stdErrors = params.map((_, j) => Math.sqrt(Math.max(0, sigma2 * covScaled[j]![j]!)) / colNorm[j]!);
  }

  const rows: FitRow[] = observations.map((o, i) => {
    const modelled = modelOf(o);
    return { id: o.id, measured: o.target, modelled, error: (modelled - o.target) / o.target, heldOut: heldOutFlags[i]! };
  });
  const fitRows = rows.filter((r) => !r.heldOut);
  const heldRows = rows.filter((r) => r.heldOut);

  const resid = fitRows.map((r) => (relative ? r.error : r.modelled - r.measured));
  const residualRms = Math.sqrt(resid.reduce((s, v) => s + v * v, 0) / resid.length);

  const outParams: Record<string, FittedParam> = {};
  params.forEach((k, j) => {
    outParams[k] = { value: theta[j]!, stdError: stdErrors[j]!, atBound: nonNegative && x[j] === 0 };
  });

  return {
    params: outParams,
    rows,
    rSquared: rSquaredOf(fitRows),
    heldOutMedianAbsError: heldRows.length > 0 ? ssMedian(heldRows.map((r) => Math.abs(r.error))) : null,
    residualRms,
    residualUnit: relative ? 'relative' : 'target',
    dof,
    conditionEstimate,
  };
}

// ---------------------------------------------------------------------------------------
// Validation

function validate(observations: Observation[], params: string[]): void {
  if (!Array.isArray(params) || params.length === 0) throw new FitError('no parameters to fit: options.params is empty');
  const seen = new Set<string>();
  for (const k of params) {
    if (typeof k !== 'string' || k.length === 0) throw new FitError(`parameter names must be non-empty strings; got ${JSON.stringify(k)}`);
    if (seen.has(k)) throw new FitError(`parameter '${k}' is listed twice in options.params`);
    seen.add(k);
  }
  if (!Array.isArray(observations) || observations.length === 0) throw new FitError('no observations to fit');
  for (const o of observations) {
    const where = `observation '${o.id}'`;
    if (!Number.isFinite(o.target)) throw new FitError(`non-finite data: ${where} target is ${o.target}`);
    if (o.target === 0) throw new FitError(`${where} has target 0: relative error is undefined; targets must be non-zero`);
    if (!Number.isFinite(o.fixed)) throw new FitError(`non-finite data: ${where} fixed is ${o.fixed}`);
    if (o.weight !== undefined && !(Number.isFinite(o.weight) && o.weight > 0)) {
      throw new FitError(`${where} weight is ${o.weight}; expected a finite number > 0`);
    }
    for (const [k, v] of Object.entries(o.usage)) {
      if (!seen.has(k)) {
        throw new FitError(`${where} uses '${k}', which is not a fitted parameter (${params.join(', ')}); fold its cost into 'fixed'`);
      }
      if (!Number.isFinite(v)) throw new FitError(`non-finite data: ${where} usage.${k} is ${v}`);
    }
  }
}

function rSquaredOf(rows: FitRow[]): number {
  if (rows.length < 2) return 1;
  const meanY = rows.reduce((s, r) => s + r.measured, 0) / rows.length;
  const ssTot = rows.reduce((s, r) => s + (r.measured - meanY) ** 2, 0);
  if (ssTot === 0) {
    // All targets equal: R^2 is 1 for a perfect model, else undefined; report 0 rather than -Infinity.
    return rows.every((r) => r.modelled === r.measured) ? 1 : 0;
  }
  // simple-statistics evaluates f at [i][0]: pass (modelled, measured) pairs and the identity.
  return ssRSquared(rows.map((r) => [r.modelled, r.measured]), (v: number) => v);
}

// ---------------------------------------------------------------------------------------
// Householder QR with column pivoting (m >= n)

interface QR {
  /** Householder vectors v_k (length m, zeros above k) and the scalars beta_k: H_k = I - beta v v^T. */
  vs: number[][];
  betas: number[];
  /** n x n upper-triangular R (of the column-permuted matrix). */
  R: number[][];
  /** perm[k] = original column index of pivoted column k. */
  perm: number[];
  m: number;
  n: number;
}

function householderQR(A0: number[][], pivot: boolean): QR {
  const m = A0.length;
  const n = A0[0]!.length;
  const A = A0.map((row) => row.slice());
  const perm = Array.from({ length: n }, (_, j) => j);
  const vs: number[][] = [];
  const betas: number[] = [];
  const colSq = (j: number, from: number): number => {
    let s = 0;
    for (let i = from; i < m; i++) s += A[i]![j]! ** 2;
    return s;
  };
  for (let k = 0; k < n; k++) {
    if (pivot) {
      let best = k;
      let bestVal = colSq(k, k);
      for (let j = k + 1; j < n; j++) {
        const v = colSq(j, k);
        if (v > bestVal) {
          best = j;
          bestVal = v;
        }
      }
      if (best !== k) {
        for (let i = 0; i < m; i++) {
          const t = A[i]![k]!;
          A[i]![k] = A[i]![best]!;
          A[i]![best] = t;
        }
        const t = perm[k]!;
        perm[k] = perm[best]!;
        perm[best] = t;
      }
    }
    const norm = Math.sqrt(colSq(k, k));
    const v = new Array<number>(m).fill(0);
    let beta = 0;
    if (norm > 0) {
      const a0 = A[k]![k]!;
      const alpha = a0 >= 0 ? -norm : norm;
      for (let i = k; i < m; i++) v[i] = A[i]![k]!;
      v[k] = a0 - alpha;
      const vnorm2 = v.reduce((s, x) => s + x * x, 0);
      beta = vnorm2 > 0 ? 2 / vnorm2 : 0;
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i]! * A[i]![j]!;
        const f = beta * dot;
        for (let i = k; i < m; i++) A[i]![j] = A[i]![j]! - f * v[i]!;
      }
    }
    vs.push(v);
    betas.push(beta);
  }
  const R = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j >= i ? A[i]![j]! : 0)));
  return { vs, betas, R, perm, m, n };
}

/** Q^T b */
function applyQt(qr: QR, b: number[]): number[] {
  const y = b.slice();
  for (let k = 0; k < qr.n; k++) {
    const v = qr.vs[k]!;
    const beta = qr.betas[k]!;
    if (beta === 0) continue;
    let dot = 0;
    for (let i = k; i < qr.m; i++) dot += v[i]! * y[i]!;
    const f = beta * dot;
    for (let i = k; i < qr.m; i++) y[i] = y[i]! - f * v[i]!;
  }
  return y;
}

/** Solve the upper-triangular system R[0..r)[0..r) z = y[0..r). */
function backSubstitute(R: number[][], y: number[], r: number): number[] {
  const z = new Array<number>(r).fill(0);
  for (let i = r - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let j = i + 1; j < r; j++) s -= R[i]![j]! * z[j]!;
    z[i] = s / R[i]![i]!;
  }
  return z;
}

/** Unconstrained least squares from a full-rank pivoted QR, in original column order. */
function solvePivotedQR(qr: QR, b: number[]): number[] {
  const y = applyQt(qr, b);
  const z = backSubstitute(qr.R, y, qr.n);
  const x = new Array<number>(qr.n).fill(0);
  qr.perm.forEach((orig, k) => {
    x[orig] = z[k]!;
  });
  return x;
}

/** (A^T A)^-1 = P R^-1 R^-T P^T, in original column order. */
function inverseGramFromQR(qr: QR): number[][] {
  const n = qr.n;
  const Rinv = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let col = 0; col < n; col++) {
    const e = new Array<number>(n).fill(0);
    e[col] = 1;
    const z = backSubstitute(qr.R, e, n);
    for (let i = 0; i < n; i++) Rinv[i]![col] = z[i]!;
  }
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Rinv[i]![k]! * Rinv[j]![k]!;
      out[qr.perm[i]!]![qr.perm[j]!] = s;
    }
  }
  return out;
}

function collinearityError(qr: QR, rank: number, params: string[], colNorm: number[]): FitError {
  const involved = new Set<number>();
  const relations: string[] = [];
  for (let k = rank; k < qr.n; k++) {
    const dep = qr.perm[k]!;
    involved.add(dep);
    // Express pivoted column k through the independent ones: R11 z = R12[:, k].
    const rhs = qr.R.slice(0, rank).map((row) => row[k]!);
    const z = rank > 0 ? backSubstitute(qr.R, rhs, rank) : [];
    const zmax = z.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    const terms: string[] = [];
    z.forEach((c, i) => {
      if (zmax > 0 && Math.abs(c) > 1e-6 * zmax) {
        const orig = qr.perm[i]!;
        involved.add(orig);
        // Scaled columns: a_dep / n_dep = sum c_i a_i / n_i  =>  a_dep = sum (c_i n_dep / n_i) a_i
        const coef = (c * colNorm[dep]!) / colNorm[orig]!;
        terms.push(`${fmt(coef)}*${params[orig]}`);
      }
    });
    relations.push(`usage of '${params[dep]}' = ${terms.length > 0 ? terms.join(' + ') : '0'}`);
  }
  const names = [...involved].sort((a, b) => a - b).map((j) => `'${params[j]}'`);
  return new FitError(
    `collinear columns (rank ${rank} of ${qr.n}): parameters ${names.join(', ')} cannot be separated by these rows ` +
      `(${relations.join('; ')}); add rows that vary them independently or fit fewer parameters`,
  );
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

// ---------------------------------------------------------------------------------------
// Lawson-Hanson non-negative least squares: min ||A x - b|| subject to x >= 0.

function nnls(A: number[][], b: number[]): number[] {
  const m = A.length;
  const n = A[0]!.length;
  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const normA1 = Math.max(...Array.from({ length: n }, (_, j) => A.reduce((s, row) => s + Math.abs(row[j]!), 0)));
  const tol = 10 * Number.EPSILON * normA1 * Math.max(m, n);

  const gradient = (): number[] => {
    const r = b.map((bi, i) => bi - A[i]!.reduce((s, v, j) => s + v * x[j]!, 0));
    return Array.from({ length: n }, (_, j) => A.reduce((s, row, i) => s + row[j]! * r[i]!, 0));
  };
  /** Unconstrained LS on the passive columns; zero elsewhere. */
  const passiveSolve = (): number[] => {
    const cols = passive.flatMap((p, j) => (p ? [j] : []));
    const s = new Array<number>(n).fill(0);
    if (cols.length === 0) return s;
    const sub = A.map((row) => cols.map((j) => row[j]!));
    const qr = householderQR(sub, false);
    const y = applyQt(qr, b);
    const z = backSubstitute(qr.R, y, cols.length);
    cols.forEach((j, k) => {
      s[j] = z[k]!;
    });
    return s;
  };

  const maxOuter = 3 * n + 10;
  for (let outer = 0; outer < maxOuter; outer++) {
    const w = gradient();
    let t = -1;
    let wmax = tol;
    for (let j = 0; j < n; j++) {
      if (!passive[j] && w[j]! > wmax) {
        wmax = w[j]!;
        t = j;
      }
    }
    if (t < 0) break;
    passive[t] = true;
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      const s = passiveSolve();
      const bad = passive.some((p, j) => p && s[j]! <= 0);
      if (!bad) {
        for (let j = 0; j < n; j++) x[j] = s[j]!;
        break;
      }
      let alpha = Infinity;
      for (let j = 0; j < n; j++) {
        if (passive[j] && s[j]! <= 0) alpha = Math.min(alpha, x[j]! / (x[j]! - s[j]!));
      }
      for (let j = 0; j < n; j++) x[j] = x[j]! + alpha * (s[j]! - x[j]!);
      for (let j = 0; j < n; j++) {
        if (passive[j] && Math.abs(x[j]!) <= tol) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
  }
  for (let j = 0; j < n; j++) if (!passive[j]) x[j] = 0;
  return x;
}
