import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../src/errors.js';
import { ensureWritableDir, writeFileAtomic } from '../src/cli/output.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'l41sim-output-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function failure(fn: () => unknown): RuntimeFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RuntimeFailure);
    return err as RuntimeFailure;
  }
  throw new Error('expected a RuntimeFailure');
}

describe('writeFileAtomic', () => {
  it('writes strings and bytes, replacing an existing file, leaving no temporary file', () => {
    const path = join(dir, 'out.csv');
    writeFileAtomic(path, 'a,b\n1,2\n');
    expect(readFileSync(path, 'utf8')).toBe('a,b\n1,2\n');
    writeFileAtomic(path, new Uint8Array([104, 105]));
    expect(readFileSync(path, 'utf8')).toBe('hi');
    writeFileAtomic(path, '');
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it('writes large data completely', () => {
    const path = join(dir, 'big.json');
    const data = 'x'.repeat(5 * 1024 * 1024 + 3);
    writeFileAtomic(path, data);
    expect(statSync(path).size).toBe(data.length);
  });

  it('refuses a path under a regular file, naming the option, path and OS error, and leaves nothing behind', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'keep');
    const target = join(file, 'x.csv');
    const err = failure(() => writeFileAtomic(target, 'data', '--out'));
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(`--out ${target}: cannot write (ENOTDIR: not a directory)`);
    expect(readdirSync(dir)).toEqual(['plain']);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });

  it('reports a missing directory', () => {
    const target = join(dir, 'no', 'such', 'x.csv');
    const err = failure(() => writeFileAtomic(target, 'data'));
    expect(err.message).toBe(`${target}: cannot write (ENOENT: no such file or directory)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes its temporary file when the final rename fails', () => {
    // The destination is a non-empty directory: the temporary file is written, the
    // rename fails, and the temporary file must be gone afterwards.
    const target = join(dir, 'results');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), '1');
    const err = failure(() => writeFileAtomic(target, 'data', '--out'));
    expect(err.message).toMatch(/^--out .*results: cannot write \((EISDIR|ENOTEMPTY|EEXIST): /);
    expect(readdirSync(dir)).toEqual(['results']);
    expect(readdirSync(target)).toEqual(['inside']);
  });
});

describe('ensureWritableDir', () => {
  it('creates missing directories and returns the absolute path', () => {
    const target = join(dir, 'a', 'b');
    expect(ensureWritableDir(target)).toBe(target);
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual([]);
  });

  it('refuses a regular file', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'keep');
    const err = failure(() => ensureWritableDir(file, '--out-dir'));
    expect(err.message).toBe(`--out-dir ${file}: is not a directory; expected a directory to write results into`);
  });

  it('refuses a directory under a regular file and leaves nothing behind', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'keep');
    const err = failure(() => ensureWritableDir(join(file, 'sub'), '--out-dir'));
    expect(err.message).toContain('cannot create directory (ENOTDIR: not a directory)');
    expect(readdirSync(dir)).toEqual(['plain']);
  });
});
