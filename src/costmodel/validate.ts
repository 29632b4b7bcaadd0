// Path-aware validation of JSON documents (profiles, sweep configs, workload
// specs). Every failure names the JSON path, the value and what is accepted, in
// the project's error form: `<path>: <what is wrong>; expected <what is accepted>`.

import { UsageError } from '../errors.js';

/** A document failed validation: a usage error (exit 2) naming the JSON path. */
export class ValidationError extends UsageError {
  override readonly name = 'UsageError';
  get path(): string {
    return this.field;
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  // JSON.stringify shows these as null (1e400 parses to Infinity): show what they are.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function expectObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(path, `${describe(value)} is not an object`, 'a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Refuses keys outside `allowed`, so a typo is an error rather than an ignored field. */
export function expectKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(`${path}.${key}`, 'unknown key', `one of ${allowed.join(', ')}`);
    }
  }
}

export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
  /** min is exclusive (e.g. sizes must be > 0). */
  positive?: boolean;
}

export function expectNumber(value: unknown, path: string, range: NumberRange = {}): number {
  const kind = range.integer ? 'an integer' : 'a number';
  const bounds = rangeText(range);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(path, `${describe(value)} is not a finite number`, `${kind}${bounds}`);
  }
  if (range.integer && !Number.isSafeInteger(value)) {
    throw new ValidationError(path, `${describe(value)} is not a whole number`, `${kind}${bounds}`);
  }
  if (range.positive && value <= 0) {
    throw new ValidationError(path, `${describe(value)} is not positive`, `${kind}${bounds}`);
  }
  if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
    throw new ValidationError(path, `${describe(value)} is out of range`, `${kind}${bounds}`);
  }
  return value;
}

function rangeText(range: NumberRange): string {
  const lo = range.positive ? '> 0' : range.min !== undefined ? `>= ${range.min}` : '';
  const hi = range.max !== undefined ? `<= ${range.max}` : '';
  if (lo && hi) return ` ${lo} and ${hi}`;
  return lo || hi ? ` ${lo || hi}` : '';
}

export function expectString(value: unknown, path: string, expected = 'a string'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(path, `${describe(value)} is not a non-empty string`, expected);
  }
  return value;
}

export function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(path, `${describe(value)} is not a boolean`, 'true or false');
  return value;
}

export function expectOneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(path, `${describe(value)} is not accepted`, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function expectArray(value: unknown, path: string, expected = 'an array'): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(path, `${describe(value)} is not an array`, expected);
  return value;
}
