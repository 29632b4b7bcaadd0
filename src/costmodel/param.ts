// A profile parameter: a value, its unit, and where it came from. gem5 declares
// every component parameter with a type, a unit and a description; we add provenance,
// because a simulator is only as trustworthy as the evidence behind each number.
// param() declares one: its unit, range, description and (where a neutral value
// exists) default; the declaration yields the validation and the `profiles --params`
// listing (its metadata is kept in PARAMS).

import { z } from 'zod';
import { describe, fail, number, oneOf, says, section, text, type NumberRange } from '../schema.js';

export const UNITS = ['cycles', 'ns', 'count', 'bytes', 'hz', 'pages', 'ratio'] as const;
export type Unit = (typeof UNITS)[number];

export const SOURCES = ['measured', 'fitted', 'assumed', 'published'] as const;
/** measured (where), fitted (from which data, with what residual), assumed (why), published (by whom). */
export type Source = (typeof SOURCES)[number];

/** What a declaration says about a parameter, beyond its type. */
export interface ParamMeta {
  unit: Unit;
  /** One line: what the parameter is. */
  doc: string;
  range: NumberRange;
  /** The value a profile that omits the parameter gets, and why that value. */
  default?: { value: number; why: string };
}

/** Every declared parameter's metadata, by its schema. */
export const PARAMS = z.registry<ParamMeta>();

const provenance = {
  source: oneOf(SOURCES),
  /** The data it was measured on or fitted from, or the publication. */
  from: text('where it was measured, fitted from or published').optional(),
  /** Why, for an assumption; what it stands for, where not obvious. */
  note: text('a note').optional(),
  /** For fitted parameters: the relative residual of the fit rows that determine it. */
  residual: number().optional(),
  /** For fitted parameters: the standard error of the estimate, in the parameter's unit. */
  stderr: number({ min: 0 }).optional(),
};

function unitOf(unit: Unit) {
  return z.literal(unit, {
    error: (iss) => says(`${describe(iss.input)} is ${(UNITS as readonly unknown[]).includes(iss.input) ? 'the wrong unit' : 'not a unit'}`, `"${unit}"`),
  });
}

/**
 * Declare a parameter in `unit` (a value >= 0 unless `range` says otherwise), with a
 * one-line description and, where a neutral value exists, a default (recorded as
 * assumed, with the reason, so the listing shows it).
 */
export function param<U extends Unit>(unit: U, doc: string, range: NumberRange = {}, fallback?: { value: number; why: string }) {
  const bounds = { min: 0, ...range };
  const schema = section({ value: number(bounds), unit: unitOf(unit), ...provenance }).superRefine((p, ctx) => {
    if (p.source !== 'assumed' && p.from === undefined) fail(ctx, ['from'], `a ${p.source} parameter without its source`, 'where it was measured, fitted from or published');
    if (p.source === 'assumed' && p.note === undefined) fail(ctx, ['note'], 'an assumed parameter without a reason', 'a note saying why this value');
  });
  PARAMS.add(schema, { unit, doc, range: bounds, ...(fallback && { default: fallback }) });
  if (!fallback) return schema;
  const given = { value: fallback.value, unit, source: 'assumed' as const, note: `default: ${fallback.why}` };
  const withDefault = schema.default(() => ({ ...given }));
  PARAMS.add(withDefault, PARAMS.get(schema)!);
  return withDefault;
}

export type Param = z.output<ReturnType<typeof param>>;
