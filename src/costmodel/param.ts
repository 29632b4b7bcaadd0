// A profile parameter: a value, its unit, and where it came from. gem5 declares
// every component parameter with a type, a unit and a description; we add provenance,
// because a simulator is only as trustworthy as the evidence behind each number.
// param() declares one: its unit, range, description and (where a neutral value
// exists) default; the declaration gives the check and the `profiles --params`
// listing (its metadata is kept in PARAMS).

import { describe, number, oneOf, section, text, type NumberRange, type Out, type Schema } from '../schema.js';

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
export const PARAMS = new WeakMap<Schema<unknown>, ParamMeta>();

/** A parameter's value and provenance. Keys in the order a checked parameter has them (profileHash hashes the checked profile). */
function provenanced(unit: Unit, doc: string, range: NumberRange) {
  return section(
    {
      value: number(range),
      unit: oneOf([unit], (v) => `${describe(v)} is ${(UNITS as readonly unknown[]).includes(v) ? 'the wrong unit' : 'not a unit'}`, `"${unit}"`),
      source: oneOf(SOURCES),
      /** The data it was measured on or fitted from, or the publication. */
      from: text('where it was measured, fitted from or published').optional(),
      /** Why, for an assumption; what it stands for, where not obvious. */
      note: text('a note: why this value, or what it stands for').optional(),
      /** For fitted parameters: the relative residual of the fit rows that determine it. */
      residual: number().optional(),
      /** For fitted parameters: the standard error of the estimate, in the parameter's unit. */
      stderr: number({ min: 0 }).optional(),
    },
    { expected: `a ${unit} parameter: ${doc}` },
  );
}

export type Param = Out<ReturnType<typeof provenanced>>;

/**
 * Declare a parameter in `unit` (a value >= 0 unless `range` says otherwise), with a
 * one-line description and, where a neutral value exists, a default (recorded as
 * assumed, with the reason, so the listing shows it).
 */
export function param(unit: Unit, doc: string, range: NumberRange = {}, fallback?: { value: number; why: string }): Schema<Param> {
  const bounds = { min: 0, ...range };
  const checked = provenanced(unit, doc, bounds).refine((p, fail) => {
    if (p.source !== 'assumed' && p.from === undefined) fail(['from'], `a ${p.source} parameter without its source`, 'where it was measured, fitted from or published');
    if (p.source === 'assumed' && p.note === undefined) fail(['note'], 'an assumed parameter without a reason', 'a note saying why this value');
  });
  const schema = fallback ? checked.default(() => ({ value: fallback.value, unit, source: 'assumed', note: `default: ${fallback.why}` })) : checked;
  PARAMS.set(schema, { unit, doc, range: bounds, ...(fallback && { default: fallback }) });
  return schema.describe(doc);
}
