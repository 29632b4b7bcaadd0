// Sweeps: config validation (every fault names its JSON path, exit 2), expansion
// into points, identical results for any worker count, resumption after a kill,
// and the outputs (CSV, JSON, SVG, PNG, ASCII chart).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { expandPoints, loadSweepProfiles, validateSweepConfig } from '../src/workloads/sweep/config.js';
import { asciiChart, seriesOf } from '../src/workloads/sweep/plot.js';
import type { ResultsDocument } from '../src/workloads/sweep/results.js';
import { runSweep } from '../src/workloads/sweep/runner.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'workloads', 'sweep', 'worker.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});

function l41sim(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SMALL = {
  name: 'small',
  workload: 'io-static',
  profile: 'bbb',
  fixed: { mode: 'read', total: '1m' },
  sweep: { buffer: { powers_of_two: { from: '4k', to: '256k' } }, path: ['/dev/zero', '/data/iofile'] },
};

function writeConfig(dir: string, config: unknown, name = 'config.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function fieldOf(raw: unknown): string {
  try {
    validateSweepConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).field;
  }
  throw new Error('accepted');
}

describe('sweep config', () => {
  it.each<[string, unknown, string]>([
    ['not an object', [], 'config'],
    ['an unknown key', { ...SMALL, colour: 'red' }, 'colour'],
    ['no workload', { ...SMALL, workload: undefined }, 'workload'],
    ['an unknown workload', { ...SMALL, workload: 'cat' }, 'workload'],
    ['no profile', { ...SMALL, profile: undefined }, 'profile'],
    ['an unknown parameter', { ...SMALL, fixed: { colour: 1 } }, 'fixed.colour'],
    ['a bad mode', { ...SMALL, fixed: { mode: 'append' } }, 'fixed.mode'],
    ['a bad size', { ...SMALL, fixed: { mode: 'read', total: '1q' } }, 'fixed.total'],
    ['a negative size in a list', { ...SMALL, sweep: { buffer: [4096, -1] } }, 'sweep.buffer[1]'],
    ['an empty list', { ...SMALL, sweep: { buffer: [] } }, 'sweep.buffer'],
    ['a non-power of two', { ...SMALL, sweep: { buffer: { powers_of_two: { from: 3000, to: '1m' } } } }, 'sweep.buffer.powers_of_two.from'],
    ['a reversed range', { ...SMALL, sweep: { buffer: { range: { from: 8192, to: 4096 } } } }, 'sweep.buffer.range.to'],
    ['an unknown sweep form', { ...SMALL, sweep: { buffer: { geometric: {} } } }, 'sweep.buffer'],
    ['a swept and fixed parameter', { ...SMALL, sweep: { total: ['1m'] } }, 'sweep.total'],
    ['a bad hook', { ...SMALL, enable: ['audit', 'teleport'] }, 'enable[1]'],
    ['a bad seed', { ...SMALL, seeds: [''] }, 'seeds[0]'],
    ['zero repeats', { ...SMALL, repeats: 0 }, 'repeats'],
    ['a plot of an unswept parameter', { ...SMALL, outputs: { plot: { x: 'total' } } }, 'outputs.plot.x'],
    ['a plot of an unknown figure', { ...SMALL, outputs: { plot: { y: 'speed' } } }, 'outputs.plot.y'],
    ['an unknown outputs key', { ...SMALL, outputs: { pdf: true } }, 'outputs.pdf'],
    ['a bad name', { ...SMALL, name: '../x' }, 'name'],
  ])('refuses %s, naming the JSON path', (_what, raw, field) => {
    expect(fieldOf(raw)).toBe(field);
  });

  it('refuses an impossible point at the path of the value that makes it so', () => {
    const config = validateSweepConfig({ ...SMALL, sweep: { buffer: [4096, 3000] } });
    expect(() => expandPoints(config, loadSweepProfiles(config), 'v')).toThrow(/^sweep\.buffer\[1\]: 1048576 bytes is not a whole number of 3000-byte buffers/);
  });

  it('refuses a missing profile naming its path (the host profile says to run calibrate host first)', () => {
    expect(() => loadSweepProfiles(validateSweepConfig({ ...SMALL, profile: 'nope' }))).toThrow(/^profile: no profile named 'nope'/);
    const config = validateSweepConfig({ ...SMALL, profile: 'host' });
    let message = '';
    try {
      loadSweepProfiles(config);
    } catch (e) {
      message = (e as Error).message;
    }
    // Either a profile of this machine has been calibrated, or the message says how to get one.
    if (message !== '') expect(message).toMatch(/^profile: host: no (host )?profile .*calibrate host/);
  });

  it('expands lists, ranges and powers of two in config order, then seeds and repeats', () => {
    const config = validateSweepConfig({
      ...SMALL,
      sweep: { path: ['/dev/zero', '/data/iofile'], buffer: { powers_of_two: { from: '1k', to: '16m' } } },
      seeds: ['1', '2'],
      repeats: 2,
      fixed: { mode: 'read', total: '16m' },
    });
    const points = expandPoints(config, loadSweepProfiles(config), 'v');
    expect(points).toHaveLength(2 * 15 * 2 * 2);
    expect(points.slice(0, 4).map((p) => [p.params.path, p.params.buffer, p.seed, p.repeat])).toEqual([
      ['/dev/zero', 1024, '1', 0],
      ['/dev/zero', 1024, '1/r1', 1],
      ['/dev/zero', 1024, '2', 0],
      ['/dev/zero', 1024, '2/r1', 1],
    ]);
    expect(points[59]!.params).toMatchObject({ path: '/dev/zero', buffer: 16 * 1024 * 1024 });
    expect(new Set(points.map((p) => p.key)).size).toBe(points.length);
    expect(config.outputs.plot).toMatchObject({ x: 'buffer', y: 'bandwidth_kib_s', series: ['path'], logX: true });
    const range = validateSweepConfig({ ...SMALL, sweep: { buffer: { range: { from: 4096, to: 16384, step: 4096 } } } });
    expect(range.swept[0]!.values).toEqual([4096, 8192, 12288, 16384]);
    expect(range.outputs.plot?.logX).toBe(false);
  });

  it('keys are stable: the same point has the same key in another config', () => {
    const a = validateSweepConfig(SMALL);
    const b = validateSweepConfig({ ...SMALL, sweep: { buffer: [65536] }, fixed: { mode: 'read', total: '1m', path: '/data/iofile' } });
    const ka = expandPoints(a, loadSweepProfiles(a), 'v').find((p) => p.params.buffer === 65536 && p.params.path === '/data/iofile')!.key;
    const kb = expandPoints(b, loadSweepProfiles(b), 'v')[0]!.key;
    expect(ka).toBe(kb);
  });
});

describe('l41sim sweep', () => {
  it('refuses an invalid config with one line naming the JSON path and exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l41sim-sweep-'));
    for (const [config, prefix] of [
      [{ ...SMALL, sweep: { buffer: [4096, '8q'] } }, "l41sim: sweep.buffer[1]: '8q'"],
      [{ ...SMALL, fixed: { mode: 'read', total: '1m', speed: 3 } }, "l41sim: fixed.speed: 'speed' is not a parameter of io-static"],
    ] as const) {
      const r = l41sim('sweep', writeConfig(dir, config), '--out-dir', dir);
      expect(r.status).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"workload": ');
    const r = l41sim('sweep', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
  });

  it('gives identical results with 1 and 2 workers (and on the calling thread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l41sim-sweep-'));
    const file = writeConfig(dir, SMALL);
    const one = l41sim('sweep', file, '--workers', '1', '--out-dir', join(dir, 'one'), '--no-plot');
    const two = l41sim('sweep', file, '--workers', '2', '--out-dir', join(dir, 'two'));
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    for (const ext of ['csv', 'json']) expect(readFileSync(join(dir, 'one', `small.${ext}`), 'utf8')).toBe(readFileSync(join(dir, 'two', `small.${ext}`), 'utf8'));
    const doc = JSON.parse(readFileSync(join(dir, 'two', 'small.json'), 'utf8')) as ResultsDocument;
    expect(doc.rows).toHaveLength(14);
    const inline = await runSweep(validateSweepConfig(SMALL), join(dir, 'inline'), { workers: 0, version: doc.l41sim_version });
    expect(JSON.stringify(inline.document)).toBe(JSON.stringify(doc));
    // Every row: inputs, outputs, seed, profile name and hash, version.
    for (const row of doc.rows) {
      for (const k of ['buffer', 'path', 'total', 'mode', 'seed', 'profile', 'profile_hash', 'l41sim_version', 'bandwidth_kib_s', 'time_ns', 'syscalls_count', 'faults_minor']) expect(row).toHaveProperty(k);
      expect(row.profile).toBe('bbb');
      expect(row.exit_status).toBe(0);
    }
    // Bigger buffers never take more syscalls, and a cached file reads slower than /dev/zero.
    const zero = doc.rows.filter((r) => r.path === '/dev/zero');
    for (let i = 1; i < zero.length; i++) expect(Number(zero[i]!.syscalls_count)).toBeLessThanOrEqual(Number(zero[i - 1]!.syscalls_count));
    for (const z of zero) {
      const f = doc.rows.find((r) => r.path === '/data/iofile' && r.buffer === z.buffer)!;
      expect(Number(f.bandwidth_kib_s)).toBeLessThan(Number(z.bandwidth_kib_s));
    }
    // The plot: an SVG and a PNG, and an ASCII chart on stdout.
    expect(readFileSync(join(dir, 'two', 'small.svg'), 'utf8')).toMatch(/^<svg[^>]*>/);
    expect([...readFileSync(join(dir, 'two', 'small.png')).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(existsSync(join(dir, 'one', 'small.svg'))).toBe(false);
    expect(two.stdout).toContain('bandwidth (KiB/s)');
    expect(two.stdout).toMatch(/\* \/dev\/zero/);
    expect(existsSync(join(dir, 'two', '.small.journal.jsonl'))).toBe(false);
  });

  it('resumes an interrupted sweep (child killed), skipping the points it finished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l41sim-sweep-'));
    const config = { ...SMALL, name: 'slow', sweep: { buffer: [1024, 2048] }, seeds: ['1', '2', '3', '4', '5', '6'], fixed: { mode: 'read', total: '2m', path: '/dev/zero' } };
    const file = writeConfig(dir, config);
    const out = join(dir, 'out');
    const journal = join(out, '.slow.journal.jsonl');
    const child = spawn(process.execPath, [bin, 'sweep', file, '--workers', '1', '--out-dir', out, '--no-plot'], { cwd: root, stdio: 'ignore' });
    const finishedBeforeKill = await new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        const lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l !== '').length : 0;
        if (lines >= 2) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve(lines);
        } else if (Date.now() - t0 > 40_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(new Error('the sweep never journalled two points'));
        }
      }, 20);
      child.on('exit', (code) => {
        if (code === 0) {
          clearInterval(poll);
          reject(new Error('the sweep finished before it could be killed'));
        }
      });
    });
    await new Promise((r) => child.once('close', r));
    expect(existsSync(join(out, 'slow.json'))).toBe(false); // nothing final from a killed run
    const again = l41sim('sweep', file, '--workers', '2', '--out-dir', out, '--no-plot');
    expect(again.status, again.stderr).toBe(0);
    const m = /(\d+) run, (\d+) from an earlier run/.exec(again.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThanOrEqual(finishedBeforeKill);
    expect(Number(m![1]) + Number(m![2])).toBe(12);
    expect(Number(m![1])).toBeGreaterThan(0);
    // The same results as an uninterrupted run.
    const fresh = l41sim('sweep', file, '--workers', '2', '--out-dir', join(dir, 'fresh'), '--no-plot');
    expect(fresh.status).toBe(0);
    expect(readFileSync(join(out, 'slow.csv'), 'utf8')).toBe(readFileSync(join(dir, 'fresh', 'slow.csv'), 'utf8'));
    // A third run finds everything done.
    expect(l41sim('sweep', file, '--out-dir', out, '--no-plot').stdout).toMatch(/\(0 run, 12 from an earlier run\)/);
  });

  it('draws an ASCII chart with log axes where sizes double', () => {
    const config = validateSweepConfig(SMALL);
    const rows = [4096, 8192, 16384].flatMap((b, i) => [
      { buffer: b, path: '/dev/zero', bandwidth_kib_s: 1000 * (i + 1) },
      { buffer: b, path: '/data/iofile', bandwidth_kib_s: 500 * (i + 1) },
    ]);
    const chart = asciiChart(seriesOf(rows, config.outputs.plot!), config.outputs.plot!, 'bandwidth (KiB/s)');
    expect(chart).toContain('4K');
    expect(chart).toContain('16K');
    expect(chart).toContain('buffer (log2)');
    expect(chart).toMatch(/\* \/dev\/zero/);
    expect(chart).toMatch(/o \/data\/iofile/);
  });
});
