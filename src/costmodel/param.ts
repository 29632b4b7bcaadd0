// A profile parameter: a value, its unit, and where it came from. gem5 declares
// every component parameter with a type and a unit; we add provenance, because a
// simulator is only as trustworthy as the evidence behind each number.

import { ValidationError, expectKeys, expectNumber, expectObject, expectOneOf, expectString } from './validate.js';

export const UNITS = ['cycles', 'ns', 'count', 'bytes', 'hz', 'pages', 'ratio'] as const;
export type Unit = (typeof UNITS)[number];

export const SOURCES = ['measured', 'fitted', 'assumed', 'published'] as const;
/** measured (where), fitted (from which data, with what residual), assumed (why), published (by whom). */
export type Source = (typeof SOURCES)[number];

export interface Param {
  value: number;
  unit: Unit;
  source: Source;
  /** The data it was measured on or fitted from, or the publication. */
  from?: string;
  /** For fitted parameters: the relative residual of the fit rows that determine it. */
  residual?: number;
  /** For fitted parameters: the standard error of the estimate, in the parameter's unit. */
  stderr?: number;
  /** Why, for an assumption; what it stands for, where not obvious. */
  note?: string;
}

const PARAM_KEYS = ['value', 'unit', 'source', 'from', 'residual', 'note', 'stderr'] as const;

export function parseParam(raw: unknown, path: string, unit: Unit, range: { min?: number; max?: number; integer?: boolean } = {}): Param {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, PARAM_KEYS);
  const value = expectNumber(obj.value, `${path}.value`, { min: 0, ...range });
  const declared = expectOneOf(obj.unit, `${path}.unit`, UNITS);
  if (declared !== unit) throw new ValidationError(`${path}.unit`, `"${declared}" is the wrong unit`, `"${unit}"`);
  const source = expectOneOf(obj.source, `${path}.source`, SOURCES);
  const param: Param = { value, unit, source };
  if (obj.from !== undefined) param.from = expectString(obj.from, `${path}.from`);
  if (obj.note !== undefined) param.note = expectString(obj.note, `${path}.note`);
  if (obj.residual !== undefined) param.residual = expectNumber(obj.residual, `${path}.residual`);
  if (obj.stderr !== undefined) param.stderr = expectNumber(obj.stderr, `${path}.stderr`, { min: 0 });
  if (source !== 'assumed' && param.from === undefined) {
    throw new ValidationError(`${path}.from`, `a ${source} parameter without its source`, 'where it was measured, fitted from or published');
  }
  if (source === 'assumed' && param.note === undefined) {
    throw new ValidationError(`${path}.note`, 'an assumed parameter without a reason', 'a note saying why this value');
  }
  return param;
}

export function param(value: number, unit: Unit, source: Source, extra: { from?: string; note?: string; residual?: number; stderr?: number } = {}): Param {
  return { value, unit, source, ...extra };
}
