// The JSON documents l41sim reads (machine profiles, sweep configs) are declared as zod
// schemas built from the field constructors here: the schema gives the TypeScript type
// (z.infer), the validation, and, through these constructors, the project's error text.
// Each constructor carries its own message, so a failure reads
//
//   <json path>: <what is wrong>; expected <what is accepted>
//
// and validate() throws the first failure as a ValidationError naming the JSON path.
// zod's own messages are never shown: an issue from a schema made without these
// constructors gets a generic message in the same form (fallbackMessage).

import { z } from 'zod';
import { ValidationError } from './errors.js';

/** A value as an error message shows it: JSON, shortened. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  // JSON.stringify shows these as null (1e400 parses to Infinity): show what they are.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

// An issue's message is `<problem>; expected <accepted>`; validate() splits it at the
// last separator (the accepted part is ours, the problem may quote the user's text).
const EXPECTED = '; expected ';
/** The message of an issue raised by a constructor here or a refinement. */
export const says = (problem: string, expected: string) => `${problem}${EXPECTED}${expected}`;

type Issue = z.core.$ZodRawIssue;

export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
  /** min is exclusive (e.g. sizes must be > 0). */
  positive?: boolean;
  powerOfTwo?: boolean;
}

/** `>= 1 and <= 256`, as the accepted part of a message shows a range. */
export function rangeText(range: NumberRange): string {
  const lo = range.positive ? '> 0' : range.min !== undefined ? `>= ${range.min}` : '';
  const hi = range.max !== undefined ? `<= ${range.max}` : '';
  if (lo && hi) return ` ${lo} and ${hi}`;
  return lo || hi ? ` ${lo || hi}` : '';
}

function numberText(range: NumberRange): string {
  if (!range.powerOfTwo) return `${range.integer ? 'an integer' : 'a number'}${rangeText(range)}`;
  return `a power of two${range.min !== undefined && range.max !== undefined ? ` from ${range.min} to ${range.max}` : rangeText(range)}`;
}

/** A finite number (a safe integer if `range.integer`) within `range`; `expected` says what it is, if the range does not. */
export function number(range: NumberRange = {}, expected = numberText(range)) {
  const problem = (iss: Issue): string => {
    const v = iss.input;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${describe(v)} is not a finite number`;
    if (iss.code === 'invalid_type' || (iss.code === 'too_big' && iss.origin === 'int')) return `${describe(v)} is not a whole number`;
    if (iss.code === 'too_small' && range.positive) return `${describe(v)} is not positive`;
    if (iss.code === 'custom') return `${v} is not a power of two`;
    return `${describe(v)} is out of range`;
  };
  let s = z.number({ error: (iss) => says(problem(iss), expected) });
  if (range.integer) s = s.int();
  if (range.positive) s = s.positive();
  if (range.min !== undefined) s = s.min(range.min);
  if (range.max !== undefined) s = s.max(range.max);
  return range.powerOfTwo ? s.refine((v) => (v & (v - 1)) === 0) : s;
}

/** A non-empty string; `expected` says what it is for. */
export function text(expected = 'a string') {
  return z.string({ error: (iss) => says(`${describe(iss.input)} is not a non-empty string`, expected) }).min(1);
}

export function flag() {
  return z.boolean({ error: (iss) => says(`${describe(iss.input)} is not a boolean`, 'true or false') });
}

export function oneOf<const T extends readonly string[]>(values: T) {
  return z.enum(values, { error: (iss) => says(`${describe(iss.input)} is not accepted`, `one of ${values.join(', ')}`) });
}

/** A list of `item`s; `expected` says what the list holds. */
export function list<T extends z.ZodType>(item: T, expected = 'an array', empty?: { problem: string; expected: string }) {
  const s = z.array(item, {
    // The schema's own error also speaks for its checks (the length check's too_small).
    error: (iss) => ((iss.code as string) === 'too_small' && empty ? says(empty.problem, empty.expected) : says(`${describe(iss.input)} is not an array`, expected)),
  });
  return empty ? s.min(1) : s;
}

/**
 * An object with exactly these keys (a typo is an error, not an ignored field). The
 * message about an unknown key offers the keys but the `unlisted` ones, or is `unknown`'s.
 */
export function section<S extends z.core.$ZodLooseShape>(shape: S, opts: { unlisted?: readonly string[]; unknown?: (key: string) => string } = {}) {
  const listed = Object.keys(shape).filter((k) => !opts.unlisted?.includes(k));
  const unknown = opts.unknown ?? (() => says('unknown key', `one of ${listed.join(', ')}`));
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? unknown(iss.keys[0]!) : says(`${describe(iss.input)} is not an object`, 'a JSON object')),
  });
}

/**
 * One of several forms of a value (a size as a number or as "16k"); `what` names the
 * value (`a size`) and `expected` its forms. A failure of the one form whose JSON type
 * the value has is reported as that form's (validate() picks it out).
 */
export function anyOf<const T extends readonly [z.ZodType, ...z.ZodType[]]>(forms: T, what: string, expected: string) {
  return z.union(forms, { error: (iss) => says(`${describe(iss.input)} is not ${what}`, expected) });
}

/** An issue a refinement raises at `path` (relative to the value refined). */
export function fail(ctx: z.RefinementCtx, path: (string | number)[], problem: string, expected: string): void {
  ctx.addIssue({ code: 'custom', path, message: says(problem, expected) });
}

/** The message of an issue from a schema not made by the constructors above. */
function fallbackMessage(iss: Issue): string {
  switch (iss.code) {
    case 'invalid_type':
      return says(`${describe(iss.input)} is not ${iss.expected === 'object' ? 'an object' : `a ${iss.expected}`}`, iss.expected === 'object' ? 'a JSON object' : `a ${iss.expected}`);
    case 'invalid_value':
      return says(`${describe(iss.input)} is not accepted`, `one of ${iss.values.map((v) => String(v)).join(', ')}`);
    case 'unrecognized_keys':
      return says('unknown key', 'only the documented keys');
    default:
      return says(`${describe(iss.input)} is not accepted`, 'a value of the documented form');
  }
}

/** `origin.a.b[2]`, the JSON path of a value (`root` names the document itself). */
export function jsonPath(origin: string, path: readonly PropertyKey[], root = origin): string {
  if (path.length === 0) return root;
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`), origin);
}

/**
 * Parse `raw` with `schema`, or throw the first failure as a ValidationError naming
 * its JSON path under `origin` (`root` when the document itself is at fault).
 */
export function validate<S extends z.ZodType>(schema: S, raw: unknown, origin: string, root = origin): z.output<S> {
  const r = schema.safeParse(raw, { error: fallbackMessage });
  if (r.success) return r.data;
  const { iss, path } = innermost(r.error.issues[0]!, []);
  const cut = iss.message.lastIndexOf(EXPECTED);
  const problem = cut < 0 ? iss.message : iss.message.slice(0, cut);
  const expected = cut < 0 ? undefined : iss.message.slice(cut + EXPECTED.length);
  throw new ValidationError(jsonPath(origin, path, root), problem, expected);
}

/**
 * The issue to report and its path: for a union (anyOf), the first issue of the one
 * form whose shape the value has (its JSON type and, for an object, its keys), if
 * exactly one; for an unknown key, the key.
 */
function innermost(iss: z.core.$ZodIssue, prefix: PropertyKey[]): { iss: z.core.$ZodIssue; path: PropertyKey[] } {
  const path = [...prefix, ...iss.path];
  if (iss.code === 'unrecognized_keys') return { iss, path: [...path, iss.keys[0]!] };
  if (iss.code !== 'invalid_union') return { iss, path };
  const shaped = iss.errors.filter((form) => !form.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'unrecognized_keys')));
  return shaped.length === 1 ? innermost(shaped[0]![0]!, path) : { iss, path };
}
