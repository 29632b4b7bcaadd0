import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UsageError } from '../src/errors.js';
import { formatBytes, parseDdOffset, parseDdSize } from '../src/workloads/ddsize.js';

// [text, value]: what FreeBSD 11 dd's get_num() returns for these operands.
const valid: Array<[string, number]> = [
  ['0', 0],
  ['1', 1],
  ['512', 512],
  ['10m', 10485760],
  ['10M', 10485760],
  ['1k', 1024],
  ['1K', 1024],
  ['1b', 512],
  ['1B', 512],
  ['1g', 1073741824],
  ['1G', 1073741824],
  ['3w', 12],
  ['3W', 12],
  ['2x512', 1024],
  ['2X512', 1024],
  ['2*512', 1024],
  ['1kx1k', 1048576],
  ['2x512k', 1048576],
  ['2x3x4', 24],
  ['1bx2kx3', 512 * 2048 * 3],
  ['0x10', 16], // strtoumax base 0: hexadecimal, not 0 x 10
  ['0X1f', 31],
  ['0x1b', 27], // b is a hex digit here, not the x512 suffix
  ['0x10k', 16384],
  ['010', 8], // leading 0: octal
  ['00', 0],
  ['0x0', 0],
  ['0k', 0],
  ['+5', 5],
  [' 7', 7], // strtoumax skips leading white space
  ['2x 3', 6], // ... also after x, since get_num recurses into strtoumax
  ['8388607g', (2 ** 23 - 1) * 2 ** 30],
  ['0*99999999999', 0],
];

// [text, fragment of the message]
const invalid: Array<[string, string]> = [
  ['', 'is empty'],
  ['10q', "'10q' is not a size"],
  ['-1', "'-1' is negative"],
  ['-0', 'is negative'],
  ['1x', 'is not a size'],
  ['x1', 'is not a size'],
  ['k', 'is not a size'],
  ['1kk', 'is not a size'],
  ['1k ', 'is not a size'],
  ['1 k', 'is not a size'],
  ['10mb', 'is not a size'],
  ['1.5k', 'is not a size'],
  ['08', 'is not a size'], // 8 is not an octal digit
  ['0x', 'is not a size'], // strtoumax reads 0, then 'x' needs another number
  ['0xg', 'is not a size'],
  ['1t', 'is not a size'], // FreeBSD 11 has no t/p suffixes
  ['1e3', 'is not a size'],
  ['1_000', 'is not a size'],
  ['1x-2', 'is negative'],
  ['99999999999g', 'out of range'], // about 1.07e20: the product overflows uintmax_t
  ['9999999g', 'is too large'], // fits 64 bits, beyond a safe integer
  ['99999999999999999999', 'out of range'], // strtoumax overflows uintmax_t
  ['18446744073709551615', 'is too large'], // 2^64-1: valid for dd, too large for us
  ['18446744073709551616', 'out of range'],
  ['17179869184g', 'out of range'], // 2^34 GiB = 2^64
  ['4294967296x4294967296', 'out of range'],
  ['9007199254740992', 'is too large'], // 2^53
  ['8388608g', 'is too large'], // 2^53
];

describe('parseDdSize', () => {
  it.each(valid)('%j is %d', (text, value) => {
    expect(parseDdSize('--bs', text)).toBe(value);
  });

  it.each(invalid)('%j is refused (%s)', (text, fragment) => {
    let caught: unknown;
    try {
      parseDdSize('--bs', text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const err = caught as UsageError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(fragment);
    expect(err.message.startsWith('--bs: ')).toBe(true);
    expect(err.message).toContain('; expected ');
    expect(err.message).not.toContain('\n');
  });

  it('gives the documented message for garbage', () => {
    expect(() => parseDdSize('--bs', '10q')).toThrow(
      "--bs: '10q' is not a size; expected a number with an optional b/k/m/g/w suffix, or a product like 2x512k",
    );
  });

  it('accepts the largest safe integer and refuses one more', () => {
    expect(parseDdSize('--count', '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseDdSize('--count', '9007199254740992')).toThrow(UsageError);
  });

  it('applies min and max, naming the limit', () => {
    expect(parseDdSize('--bs', '1', { min: 1 })).toBe(1);
    expect(() => parseDdSize('--bs', '0', { min: 1 })).toThrow("--bs: '0' is too small; expected at least 1 byte");
    expect(parseDdSize('--bs', '1g', { max: 2 ** 30 })).toBe(2 ** 30);
    expect(() => parseDdSize('--bs', '1gx2', { max: 2 ** 30 })).toThrow(
      "--bs: '1gx2' is too large; expected at most 1 GiB (1073741824 bytes)",
    );
    expect(() => parseDdSize('--count', '11', { max: 10, unit: 'count' })).toThrow(
      "--count: '11' is too large; expected at most 10",
    );
  });

  it('keeps messages on one line whatever the input', () => {
    expect(() => parseDdSize('--bs', '1\n2')).toThrow("--bs: '1\\n2' is not a size");
  });

  it('agrees with plain arithmetic on random products of suffixed numbers', () => {
    const suffixes: Array<[string, number]> = [['', 1], ['b', 512], ['k', 1024], ['m', 2 ** 20], ['g', 2 ** 30], ['w', 4]];
    const term = fc.tuple(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(...suffixes), fc.boolean());
    fc.assert(
      fc.property(fc.array(term, { minLength: 1, maxLength: 3 }), fc.constantFrom('x', 'X', '*'), (terms, sep) => {
        const text = terms.map(([n, [s], upper]) => `${n}${upper ? s.toUpperCase() : s}`).join(sep);
        const exact = terms.reduce((p, [n, [, m]]) => p * BigInt(n) * BigInt(m), 1n);
        if (exact > BigInt(Number.MAX_SAFE_INTEGER)) {
          expect(() => parseDdSize('--bs', text)).toThrow(UsageError);
        } else {
          expect(parseDdSize('--bs', text)).toBe(Number(exact));
        }
      }),
      { seed: 41, numRuns: 500 },
    );
  });

  it('throws only UsageError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        try {
          const v = parseDdSize('--bs', text);
          expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
        }
      }),
      { seed: 41, numRuns: 2000 },
    );
  });
});

describe('parseDdOffset', () => {
  it('parses like parseDdSize within intmax_t', () => {
    expect(parseDdOffset('--skip', '3x1k')).toBe(3072);
    expect(() => parseDdOffset('--skip', '9223372036854775808')).toThrow('out of range');
    expect(() => parseDdOffset('--skip', '-1')).toThrow('is negative');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10485760, '10 MiB'],
    [2 ** 30, '1 GiB'],
    [10_000_000, '9.54 MiB'],
    [2 ** 50, '1 PiB'],
  ])('%d is %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
