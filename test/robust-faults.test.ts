// Faults, on the real command run as a process: SIGINT during a run and during a
// sweep (one line saying where it got to; a sweep resumes from the points it kept),
// kill -9 during a sweep with a torn journal line, a sweep whose results cannot be
// written (its finished points survive for the next run), unwritable output paths
// (under a regular file; a full device), and corrupt or invalid profile files (in a
// copy of the package, so the shipped profiles are never touched). Plus: a sweep's
// results do not depend on its worker count.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSweepConfig } from '../src/workloads/sweep/config.js';
import { runSweep } from '../src/workloads/sweep/runner.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'l41sim-robust-faults-'));
const aFile = join(dir, 'regular-file');
writeFileSync(aFile, 'not a directory\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'thread.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});

function l41sim(args: string[], o: { root?: string; cwd?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(o.root ?? root, 'bin', 'l41sim.js'), ...args], { cwd: o.cwd ?? dir, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start the command, and resolve with its exit status and output once it ends. */
function start(args: string[]) {
  const child = spawn(process.execPath, [join(root, 'bin', 'l41sim.js'), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 40_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Wait until process `pid` has used `cpuMs` of CPU time (all its threads, from /proc):
 * on a loaded machine wall time says little about how far a run has got, CPU time does.
 * Start-up (loading the modules) takes a few hundred ms of CPU, so a second or more is
 * well into the simulation.
 */
async function untilCpu(pid: number | undefined, cpuMs: number): Promise<void> {
  const userHz = 100; // the unit of utime and stime in /proc/PID/stat on Linux
  const used = () => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the fields after "pid (comm) "
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / userHz; // utime + stime
  };
  await until(`${cpuMs} ms of CPU time in process ${pid}`, () => used() >= cpuMs, 120_000);
}

const journalLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0);
const leftovers = (d: string) => readdirSync(d).filter((f) => /\.(tmp|probe)$/.test(f) || f.startsWith('.l41sim-probe'));

describe('SIGINT during a run', () => {
  it.each([
    [['workload', 'dd', '--bs', '1k', '--count', '2000000', '--trace', 'none', '--max-events', '10000000'], 'dd'],
    [['workload', 'io-static', '-r', '-b', '512', '-t', '512m', '--max-events', '2000000', '/dev/zero'], 'io-static'],
    [['compare', 'dd', '--bs', '512', '--count', '1000000', '--enable', 'audit', '--max-events', '10000000'], 'dd'],
  ])('%j stops at the next event, says where it got to in one line, exit 1, nothing written', async (args, program) => {
    const trace = join(dir, `trace-${program}-${args[0]}.json`);
    const withTrace = args[0] === 'workload' ? [...args, '--trace-out', trace] : args;
    const run = start(withTrace);
    await untilCpu(run.child.pid, 1500); // well into the simulation (each of these runs for a minute or more)
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(Date.now() - t0, 'stopped promptly').toBeLessThan(5000);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^l41sim: interrupted at simulated time [\\d.]+ (ps|ns|us|ms|s) after [1-9]\\d* events \\(${program} did not finish; nothing was written\\)\\n$`));
    expect(r.stdout).toBe('');
    expect(existsSync(trace)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  }, 60_000);

  it('calibrate lecture: SIGINT stops it with one line, exit 1, and no profile or report written', async () => {
    const out = join(dir, 'calibrate-out');
    const run = start(['calibrate', 'lecture', '--out', out]);
    await untilCpu(run.child.pid, 2500); // well into the fit, which takes 40 s or more
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('l41sim: calibrate lecture interrupted; nothing was written\n');
    expect(r.stdout).toBe('');
    expect(readdirSync(out).filter((f) => f !== 'reports')).toEqual([]);
    expect(readdirSync(join(out, 'reports'))).toEqual([]);
  }, 60_000);

  it('a second SIGINT ends the command at once (exit 130), even inside one long event', async () => {
    // One read of 512 MiB is a single event: the first SIGINT waits for it to end, the second does not.
    const run = start(['workload', 'io-static', '-r', '-b', '512m', '-t', '4g', '/dev/zero']);
    await untilCpu(run.child.pid, 1500);
    run.child.kill('SIGINT');
    await sleep(300);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.status).toBe(130);
    expect(r.stderr).toBe('l41sim: interrupted again: stopped without waiting for the run\n');
  }, 60_000);
});

const SWEEP = {
  name: 'faulty',
  workload: 'io-static',
  profile: 'bbb',
  fixed: { mode: 'read', total: '2m', path: '/dev/zero' },
  sweep: { buffer: [1024, 2048] },
  seeds: ['1', '2', '3', '4', '5', '6'],
  outputs: { plot: false },
};

function sweepConfig(name: string, doc: unknown = SWEEP): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(doc));
  return f;
}

describe('an interrupted or failed sweep keeps its finished points and resumes from them', () => {
  let fresh: string;
  beforeAll(() => {
    const out = join(dir, 'sweep-fresh');
    const r = l41sim(['sweep', sweepConfig('fresh.json'), '--workers', '2', '--out-dir', out]);
    expect(r.status, r.stderr).toBe(0);
    fresh = readFileSync(join(out, 'faulty.csv'), 'utf8');
  }, 120_000);

  it('SIGINT: one line, "interrupted after N of 12 points", the journal kept; the next run resumes and matches a fresh run', async () => {
    const out = join(dir, 'sweep-int');
    const journal = join(out, '.faulty.journal.jsonl');
    const run = start(['sweep', sweepConfig('int.json'), '--workers', '1', '--out-dir', out]);
    await until('a journalled point', () => journalLines(journal) >= 2);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.status).toBe(1);
    const m = /^l41sim: sweep: interrupted after (\d+) of 12 points \(.*\.faulty\.journal\.jsonl keeps them\); expected the same command again, which resumes where this one stopped\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const done = Number(m![1]);
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(12);
    expect(journalLines(journal)).toBe(done);
    expect(existsSync(join(out, 'faulty.csv'))).toBe(false);
    const again = l41sim(['sweep', sweepConfig('int.json'), '--workers', '2', '--out-dir', out]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`(${12 - done} run, ${done} from an earlier run)`);
    expect(readFileSync(join(out, 'faulty.csv'), 'utf8')).toBe(fresh);
    expect(existsSync(journal)).toBe(false);
  }, 120_000);

  it('kill -9 with a torn last journal line: the torn point runs again, the others are kept', async () => {
    const out = join(dir, 'sweep-kill');
    const journal = join(out, '.faulty.journal.jsonl');
    const run = start(['sweep', sweepConfig('kill.json'), '--workers', '1', '--out-dir', out]);
    await until('journalled points', () => journalLines(journal) >= 3);
    run.child.kill('SIGKILL');
    await run.done;
    const kept = journalLines(journal);
    appendFileSync(journal, '{"key":"0123456789abcdef","row":{"point":3,"ban'); // a write cut short by the crash
    const again = l41sim(['sweep', sweepConfig('kill.json'), '--workers', '2', '--out-dir', out]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`(${12 - kept} run, ${kept} from an earlier run)`);
    expect(readFileSync(join(out, 'faulty.csv'), 'utf8')).toBe(fresh);
  }, 120_000);

  it('results that cannot be written: exit 1 with one line, every point kept in the journal; fixed, the next run writes them without rerunning', () => {
    const out = join(dir, 'sweep-blocked');
    mkdirSync(join(out, 'faulty.json'), { recursive: true }); // the results file's name is taken by a directory
    const r = l41sim(['sweep', sweepConfig('blocked.json'), '--workers', '2', '--out-dir', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^l41sim: outputs\.dir .*faulty\.json: cannot write \(EISDIR: illegal operation on a directory\)\n$/);
    expect(journalLines(join(out, '.faulty.journal.jsonl'))).toBe(12);
    rmSync(join(out, 'faulty.json'), { recursive: true });
    const again = l41sim(['sweep', sweepConfig('blocked.json'), '--out-dir', out]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('(0 run, 12 from an earlier run)');
    expect(readFileSync(join(out, 'faulty.csv'), 'utf8')).toBe(fresh);
    expect(leftovers(out)).toEqual([]);
  }, 120_000);
});

describe('unwritable output paths: exit 1, one line, nothing left behind', () => {
  it('--trace-out under a regular file fails before the run', () => {
    const t0 = Date.now();
    const r = l41sim(['workload', 'dd', '--bs', '10m', '--trace-out', join(aFile, 'trace.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^l41sim: --trace-out .*regular-file\/trace\.json: cannot write \(ENOTDIR: not a directory\)\n$/);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(5000); // refused up front, not after four runs of dd
  });

  it('a full device (a copy of /dev/full: a full disk) fails with ENOSPC and stays a device', () => {
    const full = join(dir, 'full');
    const made = spawnSync('mknod', [full, 'c', '1', '7']);
    if (made.status !== 0) return; // no CAP_MKNOD here: nothing to test with
    const r = l41sim(['workload', 'dd', '--bs', '4k', '--trace', 'none', '--trace-out', full]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^l41sim: --trace-out .*full: cannot write \(ENOSPC: no space left on device\)\n$/);
    expect(statSync(full).isCharacterDevice()).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a sweep whose --out-dir is under a regular file fails before running any point', () => {
    const r = l41sim(['sweep', sweepConfig('nowhere.json'), '--out-dir', join(aFile, 'out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^l41sim: --out-dir .*: cannot create directory \(ENOTDIR: not a directory\)\n$/);
  });
});

describe('corrupt and invalid profiles (in a copy of the package)', () => {
  const pkg = join(dir, 'pkg');
  beforeAll(() => {
    mkdirSync(pkg);
    for (const f of ['package.json', 'bin', join('dist', 'src')]) cpSync(join(root, f), join(pkg, f), { recursive: true });
    mkdirSync(join(pkg, 'calibration'));
    for (const f of readdirSync(join(root, 'calibration'))) if (f.endsWith('.json')) cpSync(join(root, 'calibration', f), join(pkg, 'calibration', f));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
    expect(l41sim(['workload', 'dd', '--bs', '4k', '--trace', 'none'], { root: pkg }).status).toBe(0);
  });

  const lecture = () => JSON.parse(readFileSync(join(root, 'calibration', 'lecture.json'), 'utf8')) as { costs: Record<string, { value: unknown }> };
  const put = (text: string) => writeFileSync(join(pkg, 'calibration', 'lecture.json'), text);

  it('a torn profile file: one line naming the file, exit 2; the other profiles still work', () => {
    put(JSON.stringify(lecture()).slice(0, 200));
    const r = l41sim(['workload', 'dd', '--bs', '4k', '--trace', 'none'], { root: pkg });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^l41sim: .*calibration\/lecture\.json: not valid JSON \(.*\); expected a profile document\n$/);
    expect(l41sim(['workload', 'dd', '--bs', '4k', '--trace', 'none', '--profile', 'bbb'], { root: pkg }).status).toBe(0);
    const p = l41sim(['profiles'], { root: pkg });
    expect(p.status).toBe(2);
    expect(p.stdout).toMatch(/^bbb /m);
    expect(p.stdout).toMatch(/^lecture +INVALID: /m);
    expect(p.stderr).toMatch(/^l41sim: .*lecture\.json: not valid JSON .*\(the other profiles are listed above\); expected a profile document\n$/);
  });

  it('a profile that fails validation is refused whole, naming the JSON path and the value, by every command', () => {
    const bad = lecture();
    bad.costs.syscall_entry!.value = -5;
    put(JSON.stringify(bad));
    const line = /^l41sim: lecture\.costs\.syscall_entry\.value: -5 is out of range; expected a number >= 0 and <= 1000000000\n$/;
    for (const args of [['workload', 'dd', '--bs', '4k'], ['workload', 'io-static', '-r', '/dev/zero'], ['workload', 'fastpath'], ['compare', 'dd'], ['compare', 'dd', '--profile', 'bbb', '--variant-profile', 'lecture']]) {
      const r = l41sim(args, { root: pkg });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(line);
      expect(r.stdout).toBe('');
    }
    const out = join(dir, 'pkg-sweep');
    const r = l41sim(['sweep', sweepConfig('badprofile.json', { ...SWEEP, profile: 'lecture' }), '--out-dir', out], { root: pkg });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^l41sim: profile: -5 is out of range; expected a number >= 0/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('an unreadable profile (a directory in its place): one line, exit 2', () => {
    rmSync(join(pkg, 'calibration', 'lecture.json'));
    mkdirSync(join(pkg, 'calibration', 'lecture.json'));
    const r = l41sim(['workload', 'dd', '--bs', '4k'], { root: pkg });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^l41sim: .*lecture\.json: cannot read the profile \(EISDIR\); expected a readable profile document \(JSON\)\n$/);
    rmSync(join(pkg, 'calibration', 'lecture.json'), { recursive: true });
  });
});

describe("a sweep's results do not depend on its worker count", () => {
  it('random small sweeps: the same document on the calling thread and on 1 or 3 worker threads', async () => {
    const arb = fc.record({
      workload: fc.constantFrom('dd', 'io-static'),
      profile: fc.constantFrom('lecture', 'bbb'),
      sizes: fc.uniqueArray(fc.constantFrom(512, 1024, 4096, 16384), { minLength: 2, maxLength: 3 }),
      seeds: fc.uniqueArray(fc.constantFrom('1', '2', 'x'), { minLength: 1, maxLength: 2 }),
      enable: fc.constantFrom([], ['audit'], ['ktrace', 'racct']),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, fc.constantFrom(1, 3), async (c, workers) => {
        const doc =
          c.workload === 'dd'
            ? { workload: 'dd', profile: c.profile, fixed: { count: 3 }, sweep: { bs: c.sizes }, seeds: c.seeds, enable: c.enable, outputs: { plot: false } }
            : { workload: 'io-static', profile: c.profile, fixed: { mode: 'read', total: '64k' }, sweep: { buffer: c.sizes, path: ['/dev/zero', '/data/iofile'] }, seeds: c.seeds, enable: c.enable, outputs: { plot: false } };
        const config = validateSweepConfig({ ...doc, name: `w${n++}` });
        const inline = await runSweep(config, join(dir, 'workers', `${n}-inline`), { workers: 0, version: 'test' });
        const pooled = await runSweep(config, join(dir, 'workers', `${n}-pool`), { workers, version: 'test' });
        expect(pooled.csv).toBe(inline.csv);
        expect(JSON.stringify(pooled.document)).toBe(JSON.stringify(inline.document));
      }),
      { seed: 6101, numRuns: 5 },
    );
  }, 120_000);
});
