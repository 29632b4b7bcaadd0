// A bounded fuzz test of the real `l41sim` command over random command lines built
// from its own command tree (walked from createProgram(), so a new option is fuzzed
// as soon as it exists) and a pool of good and bad values for each option.
//
// Asserted for every case, and nothing else: the exit code is 0, 1 or 2, or the modelled
// program's own failure status (io-static's sysexits 66 and 74); there is no
// stack trace (unless --debug) and no internal error; a failure prints exactly one
// stderr line (or, for a bare command group, its help); and the case ends within its
// deadline. Cases run in-process (run(argv)); a watchdog thread trips the interrupt flag
// that runProgram polls when a case passes its deadline, so a hang is caught and
// reported rather than waited out. A few cases are also run as real processes.
//
// CI runs FUZZ_CASES (150) cases with a fixed seed; a longer run:
//   L41SIM_FUZZ_CASES=2000 [L41SIM_FUZZ_SEED=7] npx vitest run test/robust-fuzz.test.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allRegisters } from '../src/cli/commands.js';
import { createProgram, run } from '../src/cli/run.js';
import { setInterruptFlag } from '../src/workloads/runtime.js';

const FUZZ_CASES = Number(process.env.L41SIM_FUZZ_CASES ?? 150);
const FUZZ_SEED = Number(process.env.L41SIM_FUZZ_SEED ?? 41);
/** A case taking longer than this is a hang. */
const CASE_DEADLINE_MS = 30_000;
const SPAWNED_CASES = 6;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');
const dir = mkdtempSync(join(tmpdir(), 'l41sim-robust-fuzz-'));
const aFile = join(dir, 'regular-file');
writeFileSync(aFile, 'not a directory\n');
mkdirSync(join(dir, 'out'), { recursive: true });

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// Sweep configs: small good ones (writing into the scratch directory) and bad ones.
const CONFIGS = [
  file('good-dd.json', JSON.stringify({ workload: 'dd', profile: 'lecture', sweep: { bs: [512, 4096] }, outputs: { dir: join(dir, 'sweeps'), plot: false } })),
  file('good-io.json', JSON.stringify({ workload: 'io-static', profile: 'bbb', fixed: { mode: 'read', total: '64k' }, sweep: { buffer: [4096, 16384] }, outputs: { dir: join(dir, 'sweeps'), plot: { svg: false, png: false } } })),
  file('bad-key.json', JSON.stringify({ workload: 'dd', profile: 'lecture', colour: 1 })),
  file('bad-size.json', JSON.stringify({ workload: 'dd', profile: 'lecture', sweep: { bs: ['1q'] } })),
  file('bad-json.json', '{"workload": "dd",'),
  file('empty.json', ''),
  join(dir, 'missing.json'),
  dir,
];

/** Values for each option: good ones (small, so runs are quick), then, after the '|', bad ones. */
const VALUES: Record<string, [good: string[], bad: string[]]> = {
  size: [['512', '1k', '4k', '64k', '2x512', '0x1000', '1b'], ['0', '-1', '1q', '', '2g', '99999999999999999999', 'k', '08', ' ']],
  total: [['16k', '64k', '256k', '1m'], ['3', '0', '8g', '-16k', 'lots']],
  count: [['1', '2', '10', '2x3'], ['0', '-1', '1e3', 'abc', '99999999999999999999', '']],
  path: [['/dev/zero', '/dev/null', '/data/iofile', '/tmp/out'], ['/nope/x', 'relative', '', '/data/']],
  profile: [['lecture', 'bbb', 'host', 'host-vm'], ['nope', '../x', '', 'LECTURE']],
  hooks: [['audit', 'ktrace,audit', 'ptrace', 'invariants,witness', 'tracepoint', 'signals', ''], ['seccomp', 'frob', ',']],
  trace: [['none', 'syscall-time', 'traps', 'profile', 'lockstat-count'], ['frob', '', 'all,frob']],
  seed: [['1', '2', 'abc'], ['', 'x'.repeat(300), 'a\tb']],
  maxEvents: [['1000000', '100000000'], ['1', '100', '0', '-1', 'abc', '99999999999999999999']],
  traceOut: [[join(dir, 'out', 'trace.json')], [join(aFile, 'trace.json'), join(dir, 'out'), '']],
  traceEvents: [['1', '100'], ['0', 'x']],
  calls: [['1', '10', '100'], ['0', '2000000', 'x']],
  coldCalls: [['1', '3'], ['0', '101']],
  gapUs: [['0', '10'], ['abc', '99999999999']],
  copy: [['0', '4k', '64k', '1m'], ['2g', 'x']],
  workers: [['1', '2'], ['0', '257', 'x']],
  outDir: [[join(dir, 'sweeps')], [join(aFile, 'sub'), '']],
  repeats: [[], ['0', '101', 'x']], // calibrate host: only values that refuse before measuring anything
  file: [['/data/iofile:16m', '/data/small:4k', '/tmp/out:1m'], ['/usr/x:1k', 'relative:1k', '/data/x:1q', '/data/x', ':4k']],
};

const OPTION_VALUES: Record<string, [string[], string[]]> = {
  '--bs': VALUES.size!, '--ibs': VALUES.size!, '--obs': VALUES.size!, '-b': VALUES.size!, '--copy': VALUES.copy!,
  '-t': VALUES.total!,
  '--count': VALUES.count!, '--skip': VALUES.count!, '--seek': VALUES.count!,
  '--if': VALUES.path!, '--of': VALUES.path!,
  '--profile': VALUES.profile!, '--variant-profile': VALUES.profile!,
  '--enable': VALUES.hooks!, '--disable': VALUES.hooks!, '--baseline-enable': VALUES.hooks!, '--baseline-disable': VALUES.hooks!,
  '--trace': VALUES.trace!, '--seed': VALUES.seed!, '--max-events': VALUES.maxEvents!,
  '--trace-out': VALUES.traceOut!, '--trace-events': VALUES.traceEvents!,
  '--calls': VALUES.calls!, '--cold-calls': VALUES.coldCalls!, '--gap-us': VALUES.gapUs!,
  '--workers': VALUES.workers!, '--out-dir': VALUES.outDir!, '--repeats': VALUES.repeats!,
  '--file': VALUES.file!,
};
const ARGUMENT_VALUES: Record<string, [string[], string[]]> = {
  path: VALUES.path!,
  config: [CONFIGS.slice(0, 2), CONFIGS.slice(2)],
  topic: [['workload', 'sweep', 'compare', 'dd', 'io-static', 'calibrate', 'profiles'], ['frob', 'x', '']],
};
const HOST_OUT = ['x.txt', join(dir, 'missing-host.json'), file('torn-host.json', '{"name":'), file('bad-host.json', '{"name": "x"}'), dir];

/** A value from a good/bad pool: bad with probability about 1/6 (always, if there is no good one). */
function pick([good, bad]: [string[], string[]], n: number): string {
  const pool = good.length === 0 || n % 6 === 0 ? bad : good;
  return pool[Math.floor(n / 6) % pool.length]!;
}

interface Leaf {
  path: string[];
  options: { flag: string; takesValue: boolean }[];
  args: string[];
}

/** The leaf commands of the real program, with their options and positional arguments. */
function leaves(cmd: Command, path: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const sub of cmd.commands) {
    const p = [...path, sub.name()];
    if (sub.commands.length > 0) out.push(...leaves(sub, p));
    else out.push({ path: p, options: sub.options.map((o) => ({ flag: o.long ?? o.short ?? o.flags, takesValue: o.required || o.optional })), args: sub.registeredArguments.map((a) => a.name()) });
  }
  return out;
}

// `help [command...]` is commander's own: add it by hand, with topics good and bad.
const LEAVES = [...leaves(createProgram(await allRegisters())), { path: ['help'], options: [], args: ['topic', 'topic'] }];
const JUNK = ['--frob', '-z', 'extra', '--', '-', '--json=1', '--bs=', '-rw', '--debug', '--help', '-h', '--version'];

/** A random command line: a real command, some of its options with pooled values, its arguments, maybe junk. */
const argvArb: fc.Arbitrary<string[]> = fc
  .record({
    leaf: fc.constantFrom(...LEAVES),
    group: fc.integer({ min: 0, max: 40 }), // 0: the command group alone, or nothing at all
    picks: fc.array(fc.record({ i: fc.nat(), v: fc.nat(), eq: fc.integer({ min: 0, max: 9 }) }), { maxLength: 6 }),
    argv: fc.array(fc.nat(), { maxLength: 2 }),
    junk: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.oneof(fc.constantFrom(...JUNK), fc.string({ maxLength: 6 })), weight: 1 }),
    junkAt: fc.nat(),
  })
  .map(({ leaf, group, picks, argv, junk, junkAt }) => {
    if (group === 0) return leaf.path.slice(0, Math.max(0, leaf.path.length - 1));
    const words = [...leaf.path];
    for (const { i, v, eq } of picks) {
      const o = leaf.options[i % leaf.options.length];
      if (!o) continue;
      if (!o.takesValue) {
        words.push(o.flag);
        continue;
      }
      const value = pick(OPTION_VALUES[o.flag] ?? [['1'], ['', 'x']], v);
      if (eq === 0 && o.flag.startsWith('--')) words.push(`${o.flag}=${value}`);
      else words.push(o.flag, value);
    }
    leaf.args.forEach((name, k) => {
      if (argv[k] !== undefined || k === 0) words.push(pick(ARGUMENT_VALUES[name] ?? [['x'], []], argv[k] ?? 1));
    });
    if (junk !== undefined) words.splice(leaf.path.length + (junkAt % (words.length - leaf.path.length + 1)), 0, junk);
    return guard(words);
  });

/**
 * Keep the fuzz from doing real work it must not do: `calibrate host` measures this
 * machine and writes its profile, and `calibrate lecture` refits (half a minute) and
 * writes calibration/; each gets a value that is refused before any of that happens.
 */
function guard(words: string[]): string[] {
  if (words[0] === 'calibrate' && words[1] === 'host') {
    const out = [...words];
    const check = out.includes('--check');
    out.push('--out', check ? HOST_OUT[(out.length * 7) % HOST_OUT.length]! : 'x.txt');
    return out;
  }
  if (words[0] === 'calibrate' && words[1] === 'lecture') return [...words.filter((w, i) => w !== '--out' && words[i - 1] !== '--out' && !w.startsWith('--out=')), '--out', join(aFile, 'cal')];
  return words;
}

// ---- Running a case -----------------------------------------------------------

// The watchdog: a thread that, when a case outlives its deadline, sets the interrupt
// flag every simulation polls (the case then ends with "interrupted", exit 1, and the
// test fails it as a hang). ctl[0] counts case starts and ends; ctl[1] is 1 while one
// runs; ctl[2] is the deadline in ms.
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { flag, ctl } = workerData;
for (;;) {
  const gen = Atomics.load(ctl, 0);
  if (gen < 0) break;
  if (Atomics.load(ctl, 1) === 0) { Atomics.wait(ctl, 0, gen); continue; }
  if (Atomics.wait(ctl, 0, gen, Atomics.load(ctl, 2)) === 'timed-out' && Atomics.load(ctl, 0) === gen) {
    Atomics.store(flag, 0, 1);
    Atomics.wait(ctl, 0, gen);
  }
}`;
const flag = new Int32Array(new SharedArrayBuffer(4));
const ctl = new Int32Array(new SharedArrayBuffer(12));
Atomics.store(ctl, 2, CASE_DEADLINE_MS);
let watchdog: Worker;

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'thread.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
  watchdog = new Worker(WATCHDOG, { eval: true, workerData: { flag, ctl } });
  watchdog.unref();
  setInterruptFlag(flag);
});

afterAll(async () => {
  setInterruptFlag(undefined);
  Atomics.store(ctl, 0, -1);
  Atomics.notify(ctl, 0);
  await watchdog.terminate();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  out: string;
  err: string;
  hung: boolean;
  ms: number;
}

/** Run one case in this process, capturing its output, under the watchdog. */
async function inProcess(args: string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  const text = (s: string | Uint8Array) => (typeof s === 'string' ? s : Buffer.from(s).toString('utf8'));
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += text(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += text(s)), true));
  Atomics.store(flag, 0, 0);
  Atomics.store(ctl, 1, 1);
  Atomics.add(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    // An asynchronous case (a sweep) is not cut short by the flag: it gets a deadline of its own.
    const late = new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error('deadline')), 2 * CASE_DEADLINE_MS);
    });
    let code: number;
    let hung = false;
    try {
      code = await Promise.race([run(['node', 'l41sim', ...args]), late]);
    } catch {
      code = -1;
      hung = true;
    }
    hung ||= Atomics.load(flag, 0) !== 0;
    return { code, out, err, hung, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
    Atomics.store(ctl, 1, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    o.mockRestore();
    e.mockRestore();
  }
}

/** The modelled programs' own failure statuses, which l41sim exits with (io-static: EX_NOINPUT, EX_IOERR). */
const PROGRAM_STATUSES = [66, 74];

/** The fuzz's only assertions. */
function check(args: string[], r: Outcome): void {
  const what = `l41sim ${args.map((a) => JSON.stringify(a)).join(' ')}\nstderr: ${r.err.slice(0, 500)}`;
  expect(r.hung, `${what}\ndid not finish within ${CASE_DEADLINE_MS} ms`).toBe(false);
  expect([0, 1, 2, ...PROGRAM_STATUSES], what).toContain(r.code);
  expect(r.err, what).not.toContain('internal error');
  const debug = args.slice(0, args.indexOf('--') < 0 ? undefined : args.indexOf('--')).includes('--debug');
  if (!debug) expect(r.err, what).not.toMatch(/\n\s+at .*(:\d+:\d+|\(native\))/);
  if (r.code === 0) {
    expect(r.err, what).toBe('');
  } else if (r.err.startsWith('Usage: l41sim')) {
    expect(r.code, what).toBe(2); // a command group without its command: its help, on stderr
  } else {
    const lines = r.err.split('\n');
    expect(lines[0], what).toMatch(/^l41sim: \S/);
    if (!debug) expect(r.err, what).toMatch(/^l41sim: [^\n]+\n$/);
  }
}

describe('the per-case deadline', () => {
  it('stops a case that outlives it (the watchdog trips the interrupt flag the simulation polls)', async () => {
    Atomics.store(ctl, 2, 300);
    try {
      const r = await inProcess(['workload', 'dd', '--bs', '1k', '--count', '2000000', '--trace', 'none', '--max-events', '10000000']);
      expect(r.hung).toBe(true);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^l41sim: interrupted at simulated time [\d.]+ \w+ after \d+ events \(dd did not finish; nothing was written\)\n$/);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      Atomics.store(ctl, 2, CASE_DEADLINE_MS);
    }
  });
});

describe(`fuzzing the command line (${FUZZ_CASES} cases, seed ${FUZZ_SEED})`, () => {
  it('every case ends with 0, 1, 2 or a program status, no stack trace, at most one stderr line, in time', async () => {
    const before = readdirSync(process.cwd()).sort();
    const codes = [0, 0, 0];
    let programStatuses = 0;
    let slowest = { ms: 0, args: [] as string[] };
    await fc.assert(
      fc.asyncProperty(argvArb, async (args) => {
        const r = await inProcess(args);
        check(args, r);
        if (PROGRAM_STATUSES.includes(r.code)) programStatuses++;
        else codes[r.code] = (codes[r.code] ?? 0) + 1;
        if (r.ms > slowest.ms) slowest = { ms: r.ms, args };
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_CASES, endOnFailure: true },
    );
    console.info(`fuzz: ${FUZZ_CASES} cases: ${codes[0]} exit 0, ${codes[1]} exit 1, ${codes[2]} exit 2, ${programStatuses} a program's status; slowest ${slowest.ms} ms: l41sim ${slowest.args.join(' ')}`);
    // The pools must reach all three outcomes, or the fuzz is not fuzzing much.
    if (FUZZ_CASES >= 100) for (const c of codes) expect(c).toBeGreaterThan(0);
    // Every output went where it was asked to (the scratch directory), none into the working directory.
    expect(readdirSync(process.cwd()).sort()).toEqual(before);
  }, 600_000);

  it(`${SPAWNED_CASES} cases as real processes (the command as installed, simulations on its worker thread)`, () => {
    const cases = fc.sample(argvArb, { seed: FUZZ_SEED + 1, numRuns: SPAWNED_CASES });
    cases.push(['workload', 'dd', '--bs', '1k', '--trace', 'none', '--if', '/nope'], ['workload', 'io-static', '-r', '-b', '0', '/dev/zero']);
    for (const args of cases) {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: CASE_DEADLINE_MS });
      expect(r.signal, `l41sim ${args.join(' ')} was killed (timeout?)`).toBeNull();
      check(args, { code: r.status ?? -1, out: r.stdout, err: r.stderr, hung: false, ms: Date.now() - t0 });
    }
  }, 300_000);
});
