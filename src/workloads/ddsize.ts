// dd-style sizes and counts (`bs=10m`, `count=2x512k`), parsed as FreeBSD 11's dd
// parses them (bin/dd/args.c, get_num() and get_off()):
//
//   number   := strtoumax(text, base 0)   decimal, 0x-prefixed hex or 0-prefixed octal,
//                                         after optional white space and '+'
//   suffix   := b (×512) | k (×1024) | m (×2^20) | g (×2^30) | w (×sizeof(int) = 4),
//               either case, at most one
//   expr     := number [suffix] [ ('x' | 'X' | '*') expr ]
//
// Every intermediate product must fit in 64 bits (uintmax_t for get_num, intmax_t for
// get_off), as in dd, and the result must also fit in a JavaScript safe integer.
// Consequences worth knowing, all as in dd: `0x10` is hexadecimal 16, not 0×10;
// `0x1b` is 27 (b is a hex digit, not the ×512 suffix); `08` is refused (8 is not an
// octal digit); `2x 512` is accepted (strtoumax skips leading white space).
//
// Departures from dd, both stricter: a '-' sign is refused with its own message (dd's
// strtoumax would wrap `-1` to 2^64-1, which dd's range checks then refuse anyway),
// and results above Number.MAX_SAFE_INTEGER are refused.
//
// Sizes are bytes (or plain counts) internally; suffixes exist only at this edge.

import { UsageError, quote } from '../errors.js';

/** What parseDdSize accepts, for error messages. */
export const DD_SIZE_FORM = 'a number with an optional b/k/m/g/w suffix, or a product like 2x512k';

const UINTMAX_MAX = (1n << 64n) - 1n;
const INTMAX_MAX = (1n << 63n) - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

const SUFFIX: Readonly<Record<string, bigint>> = {
  b: 512n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  w: 4n, // sizeof(int) on every platform FreeBSD runs on
};

export interface DdSizeOptions {
  /** Smallest accepted value (inclusive); default 0. */
  min?: number;
  /** Largest accepted value (inclusive); default Number.MAX_SAFE_INTEGER. */
  max?: number;
  /** Whether the value is a number of bytes (messages show e.g. `10 MiB`) or a count. */
  unit?: 'bytes' | 'count';
}

/**
 * Parse a dd size or count (FreeBSD get_num(): uintmax_t arithmetic) for option
 * `field`, e.g. parseDdSize('--bs', '10m') === 10485760. Throws UsageError naming the
 * field, the text and the accepted form when the text is not a size, overflows, or lies
 * outside [min, max].
 */
export function parseDdSize(field: string, text: string, opts: DdSizeOptions = {}): number {
  return parseWith(field, text, opts, UINTMAX_MAX, 'uintmax_t');
}

/**
 * Parse a dd offset (skip=, seek=; FreeBSD get_off(): intmax_t arithmetic, so the
 * 64-bit limit is 2^63-1). Otherwise as parseDdSize.
 */
export function parseDdOffset(field: string, text: string, opts: DdSizeOptions = {}): number {
  return parseWith(field, text, opts, INTMAX_MAX, 'intmax_t');
}

function parseWith(field: string, text: string, opts: DdSizeOptions, limit: bigint, ctype: string): number {
  const unit = opts.unit ?? 'bytes';
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const shown = quote(text);
  if (text.length === 0) throw new UsageError(field, 'is empty', DD_SIZE_FORM);

  const result = getNum(text, 0, limit);
  switch (result.kind) {
    case 'negative':
      throw new UsageError(field, `${shown} is negative`, DD_SIZE_FORM);
    case 'illegal':
      throw new UsageError(field, `${shown} is not a size`, DD_SIZE_FORM);
    case 'overflow':
      throw new UsageError(field, `${shown} is out of range (overflows the 64-bit ${ctype} dd computes in)`,
        `at most ${describe(max, unit)}`);
    case 'ok':
      break;
  }
  const value = result.value;
  if (value > SAFE_MAX || value > BigInt(max)) {
    throw new UsageError(field, `${shown} is too large`, `at most ${describe(max, unit)}`);
  }
  if (value < BigInt(min)) {
    throw new UsageError(field, `${shown} is too small`, `at least ${describe(min, unit)}`);
  }
  return Number(value);
}

function describe(n: number, unit: 'bytes' | 'count'): string {
  if (unit === 'count') return String(n);
  return n < 1024 ? `${n} ${n === 1 ? 'byte' : 'bytes'}` : `${formatBytes(n)} (${n} bytes)`;
}

type GetNum = { kind: 'ok'; value: bigint } | { kind: 'illegal' | 'negative' | 'overflow' };

/** get_num()/get_off() from position `at`; `limit` is the largest 64-bit value. */
function getNum(text: string, at: number, limit: bigint): GetNum {
  const n = strtoumax(text, at, limit);
  if (n.kind !== 'ok') return n;
  let num = n.value;
  let i = n.end;

  const mult = SUFFIX[text.charAt(i).toLowerCase()];
  if (mult !== undefined) {
    num *= mult;
    if (num > limit) return { kind: 'overflow' };
    i += 1;
  }

  if (i === text.length) return { kind: 'ok', value: num };
  const c = text.charAt(i);
  if (c === 'x' || c === 'X' || c === '*') {
    const rest = getNum(text, i + 1, limit);
    if (rest.kind !== 'ok') return rest;
    num *= rest.value;
    if (num > limit) return { kind: 'overflow' };
    return { kind: 'ok', value: num };
  }
  return { kind: 'illegal' };
}

const SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

/**
 * strtoumax(text + at, &end, 0) as FreeBSD's libc does it, except that a '-' sign is
 * reported instead of wrapped, and "no digits" (dd's `expr == val`) is 'illegal'.
 */
function strtoumax(text: string, at: number, limit: bigint): ({ kind: 'ok'; value: bigint; end: number }) | { kind: 'illegal' | 'negative' | 'overflow' } {
  let i = at;
  while (i < text.length && SPACE.has(text.charAt(i))) i += 1;
  const sign = text.charAt(i);
  if (sign === '+' || sign === '-') i += 1;

  let base = 10n;
  if (text.charAt(i) === '0' && (text.charAt(i + 1) === 'x' || text.charAt(i + 1) === 'X') && digitValue(text.charAt(i + 2)) < 16) {
    base = 16n;
    i += 2;
  } else if (text.charAt(i) === '0') {
    base = 8n;
  }

  const start = i;
  let value = 0n;
  let overflow = false;
  for (; i < text.length; i += 1) {
    const d = digitValue(text.charAt(i));
    if (BigInt(d) >= base) break;
    if (!overflow) {
      value = value * base + BigInt(d);
      if (value > limit) overflow = true;
    }
  }
  if (i === start) return { kind: 'illegal' };
  if (sign === '-') return { kind: 'negative' };
  if (overflow) return { kind: 'overflow' };
  return { kind: 'ok', value, end: i };
}

/** Value of a digit in bases up to 16; 99 for anything else. */
function digitValue(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'f') return c.charCodeAt(0) - 87;
  if (c >= 'A' && c <= 'F') return c.charCodeAt(0) - 55;
  return 99;
}

const BINARY_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * A byte count for people: `512 B`, `1 KiB`, `10 MiB`, `1.5 GiB` (binary units, at most
 * two decimals, trailing zeros dropped).
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${v} B`;
  let u = -1;
  while (v >= 1024 && u < BINARY_UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '');
  return `${sign}${text} ${BINARY_UNITS[u]}`;
}
