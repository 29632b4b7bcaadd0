// The calibration protocol (src/costmodel/calibration/protocol.ts) on a toy problem whose
// truth is known (test/fixtures/toy-problem.mjs), and the roles files of the shipped data.
// What it must guarantee: a row's cross-validated prediction never sees the row (the leak
// test), validate rows never move the fit, a parameter only one row uses makes that row
// "fitted, not predicted", undetermined parameters are named, and worker threads change
// nothing.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrate, checkProblem, fitProblem, ProtocolError, type FitProblem } from '../src/costmodel/calibration/protocol.js';
import { loadDeclaredRows, sha256Of, valueAt } from '../src/costmodel/calibration/roles.js';
import { calibrationJson, formatCalibration } from '../src/costmodel/calibration/report.js';
import { repoPath } from '../src/costmodel/repo.js';
import { calibrateParallel } from '../src/workloads/calibrate/folds.js';
// @ts-expect-error: a plain JavaScript fixture (the worker threads load it as it is)
import { toyProblem, toyRows, TRUTH } from './fixtures/toy-problem.mjs';

const toy = (...args: unknown[]) => toyProblem(...args) as FitProblem<{ startup: number }>;
const NOISE = { 'small-1': 0.03, 'small-2': -0.01, 'mid-2': -0.02, 'big-1': 0.01, 'startup-time': 0.02 };

describe('the calibration protocol on a toy problem', () => {
  it('recovers the truth from exact data, in-sample and cross-validated, and chooses the start-up count from the count row', () => {
    const cal = calibrate(toy());
    // Within the protocol's settling tolerance (the toy's clock ticks move its usage with the values).
    expect(Math.abs(cal.full.values.per_call! / TRUTH.per_call - 1)).toBeLessThan(0.01);
    expect(Math.abs(cal.full.values.per_byte! / TRUTH.per_byte - 1)).toBeLessThan(0.01);
    expect(cal.full.chosen.startup).toBe(TRUTH.startup);
    expect(cal.full.converged).toBe(true);
    for (const r of cal.rows) {
      expect(Math.abs(r.error), r.id).toBeLessThan(0.005);
      // The count row's own fold has no count to choose start-up calls from: the mechanism's alone.
      if (r.id === 'count') expect(r.cv_modelled).toBe(r.measured - TRUTH.startup);
      else expect(Math.abs(r.cv_error!), r.id).toBeLessThan(0.005);
    }
    // Every fit row was left out once, and only fit rows.
    expect(cal.folds.map((f) => f.excluded).sort()).toEqual(cal.rows.filter((r) => r.role === 'fit').map((r) => r.id).sort());
  });

  it("leaks nothing: a row's cross-validated prediction does not move when its measured value does", () => {
    const base = calibrate(toy(toyRows(NOISE)));
    for (const id of ['small-1', 'big-2', 'count', 'startup-time']) {
      const moved = base.rows.find((r) => r.id === id)!.measured * 1.7;
      const cal = calibrate(toy(toyRows(NOISE, { [id]: moved })));
      const before = base.rows.find((r) => r.id === id)!;
      const after = cal.rows.find((r) => r.id === id)!;
      expect(after.cv_modelled, id).toBe(before.cv_modelled);
      // ...while the whole fit, which did see it, moved.
      expect(after.modelled, id).not.toBe(before.modelled);
    }
  });

  it('validate rows never move the fit', () => {
    const a = calibrate(toy(toyRows(NOISE)));
    const b = calibrate(toy(toyRows(NOISE, { 'check-1': 1 })));
    expect(b.full.values).toEqual(a.full.values);
    const row = b.rows.find((r) => r.id === 'check-1')!;
    expect(row.role).toBe('validate');
    expect(row.cv_modelled).toBe(row.modelled); // its prediction is the whole fit's
    expect(row.error).toBeGreaterThan(1000);
  });

  it('a parameter only one fit row uses makes that row fitted, not predicted', () => {
    const cal = calibrate(toy(toyRows(NOISE), ['per_call', 'per_byte', 'lonely']));
    const row = cal.rows.find((r) => r.id === 'only-lonely')!;
    expect(Math.abs(row.error)).toBeLessThan(0.01);
    expect(row.cv_modelled).toBeNull();
    expect(row.cv_note).toMatch(/fitted, not predicted: no other fit row uses lonely/);
    expect(cal.folds.find((f) => f.excluded === 'only-lonely')!.unsupported).toEqual(['lonely']);
  });

  it('names a parameter whose standard error exceeds its value as undetermined', () => {
    const cal = calibrate(toy(toyRows(NOISE), ['per_call', 'per_byte', 'faint']));
    const byTerm = Object.fromEntries(cal.params.map((p) => [p.term, p]));
    expect(byTerm.faint!.undetermined).toBe(true);
    expect(byTerm.faint!.stderr!).toBeGreaterThan(byTerm.faint!.value);
    expect(byTerm.per_byte!.undetermined).toBe(false);
    expect(byTerm.per_byte!.stderr_from).toBe('covariance');
    // The standard error is honest: the truth lies within three of them.
    expect(Math.abs(byTerm.per_byte!.value - TRUTH.per_byte)).toBeLessThan(3 * byTerm.per_byte!.stderr!);
  });

  it('inverse-variance weighting needs a measured spread for every fit row', () => {
    const rows = toyRows(NOISE).map((r: Record<string, unknown>) => (r.id === 'mid-1' ? { ...r, sd: undefined } : r));
    expect(() => checkProblem(toy(rows, ['per_call', 'per_byte'], 'inverse-variance'))).toThrow(/'mid-1' has no measured spread/);
    const cal = calibrate(toy(toyRows(NOISE), ['per_call', 'per_byte'], 'inverse-variance'));
    expect(cal.weighting).toBe('inverse-variance');
    expect(Math.abs(cal.full.values.per_byte! - TRUTH.per_byte)).toBeLessThan(0.02);
  });

  it('refuses a malformed problem with one line naming the row', () => {
    const rows = toyRows();
    expect(() => checkProblem(toy([...rows, rows[0]]))).toThrow(/row 'small-1' is declared twice/);
    expect(() => checkProblem(toy(rows.map((r: Record<string, unknown>) => (r.id === 'mid-1' ? { ...r, reason: ' ' } : r))))).toThrow(ProtocolError);
  });

  it('the same calibration on worker threads as on this thread', async () => {
    const fixture = join(__dirname, 'fixtures', 'toy-problem.mjs');
    const rows = toyRows(NOISE);
    const here = calibrate(toy(rows));
    const there = await calibrateParallel(toy(rows), { module: fixture, factory: 'toyProblem', args: [rows] }, { workers: 2 });
    expect(there.rows).toEqual(here.rows);
    expect(there.params).toEqual(here.params);
  });

  it('reports rows with in-sample and cross-validated errors side by side, and the JSON contract', () => {
    const cal = calibrate(toy(toyRows(NOISE), ['per_call', 'per_byte', 'lonely']));
    const ctx = { command: 'toy', date: new Date(0), roles: ['toy.roles.json'], intro: [], checks: [], misses: {} };
    const md = formatCalibration('toy', [cal], ctx);
    expect(md).toContain('| row | role | measured | in-sample | error | cross-validated | CV error | notes |');
    expect(md).toMatch(/\| only-lonely \| fit \| .* \| - \| - \| fitted, not predicted/);
    const json = calibrationJson('toy', [cal], ctx);
    for (const r of json.rows) expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'role', 'measured', 'modelled', 'error', 'cv_modelled', 'cv_error', 'unit']));
    for (const p of json.params) expect(Object.keys(p)).toEqual(expect.arrayContaining(['term', 'value', 'unit', 'source', 'stderr']));
  });

  it('a fold that cannot be fitted says so instead of predicting', () => {
    // Without big-1 and big-2 and mid-*, only small rows and the count remain: per_byte barely varies against per_call.
    const rows = toyRows(NOISE).filter((r: { id: string }) => ['small-1', 'small-2', 'count', 'check-1'].includes(r.id));
    const fold = fitProblem(toy(rows), 'small-2');
    expect(fold.failure).toMatch(/fewer usable rows|collinear/);
  });
});

describe('the roles declared with the shipped data', () => {
  const dataDir = repoPath('calibration', 'data');
  const rolesFiles = readdirSync(dataDir).filter((f) => f.endsWith('.roles.json'));

  it.each(rolesFiles)('%s: every row resolves to a number, has a role and a reason, and the data file is the one declared', (file) => {
    const roles = JSON.parse(readFileSync(join(dataDir, file), 'utf8'));
    const dataPath = join(dataDir, roles.data);
    expect(roles.sha256).toBe(sha256Of(dataPath));
    const { rows } = loadDeclaredRows(dataPath);
    expect(rows.length).toBe(roles.rows.length);
    for (const r of rows) {
      expect(['fit', 'validate']).toContain(r.role);
      expect(r.reason.length, r.id).toBeGreaterThan(20);
      expect(Number.isFinite(r.measured)).toBe(true);
    }
    // A copy of shared data stays byte-for-byte the original, where the original is at hand.
    const original = repoPath(roles.copy_of ?? '');
    if (roles.copy_of && existsSync(original)) expect(sha256Of(original)).toBe(roles.sha256);
  });

  it('reads a number out of a text ("about 170,000 lock operations")', () => {
    expect(valueAt({ a: [{ t: 'about 170,000 lock operations' }] }, ['a', 0, 't'], 'x')).toBe(170000);
    expect(() => valueAt({ a: 1 }, ['b'], 'row x')).toThrow(/row x: no \["b"\] in the data/);
  });
});
