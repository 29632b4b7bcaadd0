// Declared JSON documents (machine profiles, sweep configs). A schema is built from the
// constructors here (section, number, text, list, ...); it gives the TypeScript type of
// the document (Out<typeof schema>), checks a parsed document, gives it in normal form
// (defaults filled in, keys in declared order), and carries each field's description
// for listings. validate() reports the first fault as one ValidationError,
//
//   <json path>: <what is wrong>; expected <what is accepted>
//
// Why not zod, the ecosystem's standard for this: importing zod 4.6.7 costs about
// 165 ms of CPU per thread on the project's 2-core VM (bare `node -e 0`: 110 ms), far
// more than validation itself, and every command that loads a profile would pay it;
// with the same declarations in zod, `l41sim profiles` took 200 ms more CPU even with
// zod's JIT off (bench/RESULTS.md, "Start-up: schema validation"). The API below mirrors
// zod's (optional, default, describe, refine, transform), so a declaration reads the same.

import { ValidationError } from './errors.js';

/** Where a value sits in its document: keys and array indices. */
export type Path = readonly (string | number)[];

/** A fault at `path` (relative to the value being checked). Throws. */
export type Fail = (path: Path, problem: string, expected: string) => never;

/** A fault in a document: what validate() turns into a ValidationError. */
class Fault extends Error {
  constructor(
    readonly path: Path,
    readonly problem: string,
    readonly expected: string,
  ) {
    super(problem);
  }
}

const failAt = (at: Path): Fail => (path, problem, expected) => {
  throw new Fault([...at, ...path], problem, expected);
};

/** A value as an error message shows it: JSON, shortened. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  // JSON.stringify shows these as null (1e400 parses to Infinity): show what they are.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A declared value of type T. */
export abstract class Schema<T> {
  /** One line: what the value is. */
  doc: string | undefined;

  /** Check `input`, found at `at`, and give it in normal form; a fault throws (see validate). */
  abstract check(input: unknown, at: Path): T;

  /** Whether `input` has this schema's shape (its JSON type; an object, its keys): anyOf picks the form that does. */
  abstract fits(input: unknown): boolean;

  /** Whether `input` has this schema's JSON type (anyOf's second choice). */
  fitsType(input: unknown): boolean {
    return this.fits(input);
  }

  describe(doc: string): this {
    this.doc = doc;
    return this;
  }

  /** The value may be absent. */
  optional(): Optional<T> {
    return new Optional(this);
  }

  /** When absent, the value is `value` (a function gives a fresh one each time). */
  default(value: T | (() => T)): Default<T> {
    return new Default(this, value);
  }

  /** A further check of the checked value: `rule` calls `fail` for a fault. */
  refine(rule: (value: T, fail: Fail) => void): Wrapped<T, T> {
    return new Wrapped(this, (v, fail) => (rule(v, fail), v));
  }

  /** The value in another form; `fn` may call `fail`. */
  transform<U>(fn: (value: T, fail: Fail) => U): Wrapped<T, U> {
    return new Wrapped(this, fn);
  }
}

/** The type a schema gives. */
export type Out<S> = S extends Schema<infer T> ? T : never;

export class Optional<T> extends Schema<T | undefined> {
  /** Marks a key of a section that may be absent (SectionOut). */
  readonly mayBeAbsent = true;
  constructor(readonly inner: Schema<T>) {
    super();
  }
  check(input: unknown, at: Path): T | undefined {
    return input === undefined ? undefined : this.inner.check(input, at);
  }
  fits(input: unknown): boolean {
    return input === undefined || this.inner.fits(input);
  }
  override fitsType(input: unknown): boolean {
    return input === undefined || this.inner.fitsType(input);
  }
}

export class Default<T> extends Schema<T> {
  constructor(
    readonly inner: Schema<T>,
    readonly value: T | (() => T),
  ) {
    super();
  }
  check(input: unknown, at: Path): T {
    if (input !== undefined) return this.inner.check(input, at);
    return typeof this.value === 'function' ? (this.value as () => T)() : this.value;
  }
  fits(input: unknown): boolean {
    return input === undefined || this.inner.fits(input);
  }
  override fitsType(input: unknown): boolean {
    return input === undefined || this.inner.fitsType(input);
  }
}

/** A schema followed by a check or a change of form. */
export class Wrapped<T, U> extends Schema<U> {
  // Stored as taking `never`, so that a Wrapped<T, U> is a Schema<U> whatever its T.
  private readonly then: (value: never, fail: Fail) => U;
  constructor(
    readonly inner: Schema<T>,
    then: (value: T, fail: Fail) => U,
  ) {
    super();
    this.then = then;
  }
  check(input: unknown, at: Path): U {
    return (this.then as (value: T, fail: Fail) => U)(this.inner.check(input, at), failAt(at));
  }
  fits(input: unknown): boolean {
    return this.inner.fits(input);
  }
  override fitsType(input: unknown): boolean {
    return this.inner.fitsType(input);
  }
}

/** A value of a JSON type (`fits`) and its check (`parse`, which checks any parts at their paths under `at`). */
class Leaf<T> extends Schema<T> {
  constructor(
    readonly fits: (input: unknown) => boolean,
    private readonly parse: (input: unknown, fail: Fail, at: Path) => T,
  ) {
    super();
  }
  check(input: unknown, at: Path): T {
    return this.parse(input, failAt(at), at);
  }
}

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
  return new Leaf<number>(
    (v) => typeof v === 'number',
    (v, fail) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail([], `${describe(v)} is not a finite number`, expected);
      if (range.integer && !Number.isSafeInteger(v)) return fail([], `${describe(v)} is not a whole number`, expected);
      if (range.positive && v <= 0) return fail([], `${describe(v)} is not positive`, expected);
      if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) return fail([], `${describe(v)} is out of range`, expected);
      if (range.powerOfTwo && (v & (v - 1)) !== 0) return fail([], `${v} is not a power of two`, expected);
      return v;
    },
  );
}

/** A non-empty string (or any string, if `empty`); `expected` says what it is for. */
export function text(expected = 'a string', { empty = false } = {}) {
  return new Leaf<string>(
    (v) => typeof v === 'string',
    (v, fail) => (typeof v === 'string' && (empty || v.length > 0) ? v : fail([], `${describe(v)} is not a ${empty ? '' : 'non-empty '}string`, expected)),
  );
}

export function flag() {
  return new Leaf<boolean>(
    (v) => typeof v === 'boolean',
    (v, fail) => (typeof v === 'boolean' ? v : fail([], `${describe(v)} is not a boolean`, 'true or false')),
  );
}

/** One of `values`; `problem` words the fault, where "is not accepted" says too little. */
export function oneOf<const T extends string>(values: readonly T[], problem = (v: unknown) => `${describe(v)} is not accepted`, expected = `one of ${values.join(', ')}`) {
  return new Leaf<T>(
    (v) => typeof v === 'string',
    (v, fail) => ((values as readonly unknown[]).includes(v) ? (v as T) : fail([], problem(v), expected)),
  );
}

/** Any JSON value, unchecked (a comment, say). */
export function anything() {
  return new Leaf<unknown>(
    () => true,
    (v) => v,
  );
}

export class List<T> extends Schema<T[]> {
  constructor(
    readonly item: Schema<T>,
    private readonly expected: string,
    private readonly empty?: { problem: string; expected: string },
  ) {
    super();
  }
  check(input: unknown, at: Path): T[] {
    if (!Array.isArray(input)) throw new Fault(at, `${describe(input)} is not an array`, this.expected);
    if (input.length === 0 && this.empty) throw new Fault(at, this.empty.problem, this.empty.expected);
    return Array.from(input, (v, i) => this.item.check(v, [...at, i])); // a hole (not from JSON) is missing
  }
  fits(input: unknown): boolean {
    return Array.isArray(input);
  }
}

/** A list of `item`s; `expected` says what the list holds; `empty`, if given, refuses an empty list. */
export function list<T>(item: Schema<T>, expected = 'an array', empty?: { problem: string; expected: string }): List<T> {
  return new List(item, expected, empty);
}

/** An object whose keys are free (names, say) and whose values are all `item`s. Keys keep the document's order. */
export function record<T>(item: Schema<T>) {
  return new Leaf<Record<string, T>>(isObject, (v, fail, at) => {
    if (!isObject(v)) return fail([], `${describe(v)} is not an object`, 'a JSON object');
    return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, item.check(x, [...at, key])]));
  });
}

type Shape = Record<string, Schema<unknown>>;
type Flat<T> = { [K in keyof T]: T[K] };
/** The type of a section: a key whose schema may be absent (optional()) is optional. */
export type SectionOut<S extends Shape> = Flat<
  { [K in keyof S as S[K] extends { mayBeAbsent: true } ? never : K]: Out<S[K]> } & { [K in keyof S as S[K] extends { mayBeAbsent: true } ? K : never]?: Out<S[K]> }
>;

export class Section<S extends Shape> extends Schema<SectionOut<S>> {
  private readonly listed: string[];
  constructor(
    readonly shape: S,
    private readonly opts: { unlisted?: readonly string[]; unknown?: (key: string) => [problem: string, expected: string]; expected?: string },
  ) {
    super();
    this.listed = Object.keys(shape).filter((k) => !opts.unlisted?.includes(k));
  }
  check(input: unknown, at: Path): SectionOut<S> {
    if (!isObject(input)) throw new Fault(at, `${describe(input)} is not an object`, this.opts.expected ?? 'a JSON object');
    // Unknown keys first: a misspelt key is reported as such, not as the key it meant being missing.
    for (const key of Object.keys(input)) {
      if (Object.hasOwn(this.shape, key)) continue;
      const [problem, expected] = this.opts.unknown?.(key) ?? ['unknown key', `one of ${this.listed.join(', ')}`];
      throw new Fault([...at, key], problem, expected);
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      const v = schema.check(Object.hasOwn(input, key) ? input[key] : undefined, [...at, key]);
      if (v !== undefined) out[key] = v;
    }
    return out as SectionOut<S>;
  }
  /** An object with only known keys and every key that may not be absent. */
  fits(input: unknown): boolean {
    if (!isObject(input) || !Object.keys(input).every((k) => Object.hasOwn(this.shape, k))) return false;
    return Object.entries(this.shape).every(([k, s]) => s instanceof Optional || s instanceof Default || Object.hasOwn(input, k));
  }
  override fitsType(input: unknown): boolean {
    return isObject(input);
  }
}

/**
 * An object with exactly these keys, given in this order (a typo is an error, not an
 * ignored field). The message about an unknown key offers the keys but the `unlisted`
 * ones, or is `unknown`'s; `expected` says what the object is, where it is missing.
 */
export function section<S extends Shape>(shape: S, opts: { unlisted?: readonly string[]; unknown?: (key: string) => [problem: string, expected: string]; expected?: string } = {}): Section<S> {
  return new Section(shape, opts);
}

/** A pair or other fixed-length list. */
export function tuple<A, B>(items: [Schema<A>, Schema<B>], expected: string) {
  return new Leaf<[A, B]>(Array.isArray, (v, fail, at) => {
    if (!Array.isArray(v)) return fail([], `${describe(v)} is not an array`, expected);
    if (v.length !== items.length) return fail([], `${v.length} numbers`, expected);
    return [items[0].check(v[0], [...at, 0]), items[1].check(v[1], [...at, 1])];
  });
}

/**
 * One of several forms of a value (a size as a number or as "16k"): the first form whose
 * shape the value has checks it, or else the one form of its JSON type, if only one is
 * (so a fault inside it is reported there); `what` names the value and `expected` its forms.
 */
export function anyOf<F extends readonly Schema<unknown>[]>(forms: F, what: string, expected: string) {
  return new Leaf<Out<F[number]>>(
    (v) => forms.some((f) => f.fits(v)),
    (v, fail, at) => {
      const typed = forms.filter((f) => f.fitsType(v));
      const form = forms.find((f) => f.fits(v)) ?? (typed.length === 1 ? typed[0] : undefined);
      return form ? (form as Schema<Out<F[number]>>).check(v, at) : fail([], `${describe(v)} is not ${what}`, expected);
    },
  );
}

/** An object whose `key` picks the schema of the whole (a profile's kernel flavour, say). */
export function byKey<T>(key: string, options: Record<string, Schema<T>>) {
  const pick = oneOf(Object.keys(options));
  return new Leaf<T>(isObject, (v, fail, at) => {
    if (!isObject(v)) return fail([], `${describe(v)} is not an object`, 'a JSON object');
    return options[pick.check(Object.hasOwn(v, key) ? v[key] : undefined, [...at, key])]!.check(v, at);
  });
}

/** `origin.a.b[2]`, the JSON path of a value (`root` names the document itself). */
export function jsonPath(origin: string, path: Path, root = origin): string {
  if (path.length === 0) return root;
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? k : `${s}.${k}`), origin);
}

/**
 * Check `raw` with `schema`, or throw its first fault as a ValidationError naming the
 * JSON path under `origin` (`root` when the document itself is at fault).
 */
export function validate<T>(schema: Schema<T>, raw: unknown, origin: string, root = origin): T {
  try {
    return schema.check(raw, []);
  } catch (e) {
    if (!(e instanceof Fault)) throw e;
    throw new ValidationError(jsonPath(origin, e.path, root), e.problem, e.expected);
  }
}
