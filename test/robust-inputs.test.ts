// Bad input at every edge of the real command, run in-process (run(argv)): every
// command and option, sweep configs and profiles. Each must end with exit 2 (usage)
// or 1 (the run or its output failed) and exactly one stderr line,
// `l41sim: <field>: <what is wrong>; expected <what is accepted>`, naming the option
// or JSON path and the value, with no stack trace; a refused run prints nothing on
// stdout, and a refused sweep leaves no result or journal behind. Then the same with
// random values (fast-check): random bad sizes, counts, hook lists and profile names,
// random mutations of a valid sweep config and of a valid profile.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, validateProfile } from '../src/costmodel/profile.js';
import { bootKernel } from '../src/kernel/boot.js';
import { FREEBSD_LAYOUT } from '../src/workloads/dd/freebsd.js';
import { RunBoundExceeded, RunTooLong, UserProcess, runProgram } from '../src/workloads/runtime.js';
import { ValidationError } from '../src/errors.js';
import { UsageError, quote } from '../src/errors.js';
import { parseDdSize } from '../src/workloads/ddsize.js';
import { expandPoints, loadSweepProfiles, validateSweepConfig } from '../src/workloads/sweep/config.js';
import { cli } from './helpers/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'l41sim-robust-in-'));
const aFile = join(dir, 'regular-file');
writeFileSync(aFile, 'not a directory\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  // Sweeps run their points on worker threads that load the compiled code.
  if (!existsSync(join(root, 'dist', 'src', 'workloads', 'sweep', 'worker.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});


/** The single error line of a failed run (asserting there is exactly one, with no stack trace). */
function oneLine(err: string, what: string): string {
  expect(err, what).toMatch(/^l41sim: [^\n]+\n$/);
  expect(err, what).not.toMatch(/\bat .*:\d+:\d+/);
  expect(err, what).not.toContain('internal error');
  return err.slice('l41sim: '.length, -1);
}

function config(name: string, doc: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return file;
}

const SMALL = { workload: 'dd', profile: 'lecture', sweep: { bs: [512, 1024] }, outputs: { plot: false } };
const sweepOut = join(dir, 'sweep-out');

/** The expected exit code: 1 a failed run, 2 a usage error, or the modelled program's own status (io-static: 66, 74). */
type Case = [args: string[], code: 1 | 2 | 66 | 74, line: RegExp];

const CASES: Record<string, Case[]> = {
  'workload dd': [
    [['--bs', '0'], 2, /^--bs: '0' is too small; expected at least 1 byte$/],
    [['--bs', '-4k'], 2, /^--bs: '-4k' is negative; expected a number with an optional b\/k\/m\/g\/w suffix/],
    [['--bs', '2g'], 2, /^--bs: '2g' is too large; expected at most 1 GiB/],
    [['--bs', '10q'], 2, /^--bs: '10q' is not a size; expected /],
    [['--bs', ''], 2, /^--bs: is empty; expected /],
    [['--ibs', '1k1'], 2, /^--ibs: '1k1' is not a size/],
    [['--count', '99999999999999999999'], 2, /^--count: '99999999999999999999' is out of range \(overflows the 64-bit/],
    [['--count', '1e3'], 2, /^--count: '1e3' is not a size/],
    [['--bs', '1k', '--count', '5000000'], 2, /^--count: 5000000 blocks of 1024 bytes is more than the model runs/],
    [['--bs', '1k', '--count', '3000000', '--exact'], 2, /^--count: this run needs about 24001204 simulated events in 4 runs of dd .*, about [\d.]+ m?s of simulated time each, more than --max-events 5000000; expected .*--max-events 24001204 or more$/],
    // Fast-forward takes the untraced and the profile-997 runs' loops in long strides; the syscall-time and traps scripts take timestamps, so their runs simulate every call.
    [['--bs', '1k', '--count', '3000000'], 2, /^--count: this run needs about \d+ simulated events \(with fast-forward\) in 4 runs of dd .*, about [\d.]+ m?s of simulated time each, more than --max-events 5000000;/],
    [['--bs', '1k', '--count', '3m', '--trace', 'none', '--max-events', '1000', '--exact'], 2, /^--count: this run needs about 6291757 simulated events, about [\d.]+ m?s of simulated time, more than --max-events 1000;/],
    [['--bs', '1k', '--count', '3m', '--trace', 'none', '--max-events', '1000'], 2, /^--count: this run needs about \d+ simulated events \(with fast-forward\), about [\d.]+ m?s of simulated time, more than --max-events 1000;/],
    [['--skip', '-1'], 2, /^--skip: '-1' is negative/],
    [['--seek', '0x'], 2, /^--seek: '0x' is not a size/],
    [['--if', 'relative'], 2, /^--if: 'relative' is not an absolute path/],
    [['--of', 'out.bin'], 2, /^--of: 'out.bin' is not an absolute path/],
    [['--count', '0'], 2, /^--count: reading \/dev\/zero with no count \(or count=0\) would never end/],
    [['--profile', 'nope'], 2, /^--profile: no profile named 'nope'; expected one of .*lecture/],
    [['--profile', '../calibration/lecture'], 2, /^--profile: '..\/calibration\/lecture' is not a profile name/],
    [['--profile', ''], 2, /^--profile: '' is not a profile name/],
    [['--enable', 'frob'], 2, /^--enable: 'frob' is not a hook; expected a comma-separated list of ktrace, /],
    [['--enable', 'audit,,ktrace'], 2, /^--enable: '' is not a hook/],
    [['--enable', 'seccomp'], 2, /^--enable: 'seccomp' is a Linux-only hook and profile 'lecture' runs the FreeBSD kernel path/],
    [['--disable', 'wittness'], 2, /^--disable: 'wittness' is not a hook/],
    [['--trace', 'frob'], 2, /^--trace: 'frob' is not a script; expected a comma-separated list of syscall-time/],
    [['--seed', ''], 2, /^--seed: '' is not a seed; expected /],
    [['--seed', 'a\nb'], 2, /^--seed: 'a\\nb' is not a seed/],
    [['--max-events', '0'], 2, /^--max-events: '0' is not a positive whole number/],
    [['--max-events', '1e9'], 2, /^--max-events: '1e9' is not a positive whole number/],
    [['--max-events', '10'], 2, /^--count: this run needs about \d+ simulated events in 4 runs of dd .*more than --max-events 10;/],
    [['--trace-events', '-5'], 2, /^--trace-events: '-5' is not a positive whole number/],
    [['--bz', '1'], 2, /^unknown option '--bz' for 'workload dd' \(did you mean --bs\?\)/],
    [['--bs', '1k', 'extra'], 2, /^unexpected argument 'extra' for 'workload dd'/],
    [['--bs', '1k', '--if', '/nope', '--trace', 'none'], 1, /^dd: the modelled dd exited with status 1: dd: \/nope: No such file or directory$/],
    [['--bs', '1k', '--trace', 'none', '--trace-out', join(aFile, 'trace.json')], 1, /^--trace-out .*regular-file\/trace.json: cannot write \(ENOTDIR: not a directory\)$/],
    [['--bs', '1k', '--trace', 'none', '--trace-out', dir], 1, /^--trace-out .*: is a directory; expected a file path$/],
    [['--bs', '1k', '--trace-out', ''], 2, /^--trace-out: '' is not a path; expected a file or directory path$/],
  ],
  'workload io-static': [
    [[], 2, /^path: no path given; expected a file or device/],
    [['/dev/zero'], 2, /^-c\|-r\|-w: no mode given; expected exactly one of -c \(create\), -r \(read\) or -w \(write\)$/],
    [['-r', '-w', '/dev/zero'], 2, /^-c\|-r\|-w: more than one mode given \(read, write\)/],
    [['-r', '-b', '0', '/dev/zero'], 2, /^-b: '0' is too small/],
    [['-r', '-b', '3', '/dev/zero'], 2, /^-t: 16777216 bytes is not a whole number of 3-byte buffers/],
    [['-r', '-t', '8g', '/dev/zero'], 2, /^-t: '8g' is too large; expected at most 4 GiB/],
    [['-r', '-b', '1', '-t', '4g', '--exact', '/dev/zero'], 2, /^-b: this run needs about 4294967498 simulated events, about [\d.]+ k?s of simulated time, more than --max-events 5000000; expected a larger buffer or a smaller total, or --max-events 4294967498 or more$/],
    [['-r', '-b', '1', '-t', '4g', '/dev/zero'], 2, /^-b: this run needs about \d+ simulated events \(with fast-forward\), about [\d.]+ k?s of simulated time, more than --max-events 5000000;/],
    [['-r', 'data/iofile'], 2, /^path: 'data\/iofile' is not an absolute path/],
    [['-r', '/data/'], 2, /^path: '\/data\/' names a directory/],
    [['-r', '-d', '/dev/zero'], 2, /^-d: O_DIRECT \(bypassing the buffer cache\) is not modelled/],
    [['-r', '-s', '--profile', 'host-vm', '/dev/zero'], 2, /^-s: fsync\(2\) is not modelled on the Linux kernel path \(--profile host-vm\)/],
    [['-r', '--cold-cache', '--profile', 'host-vm', '/data/iofile'], 2, /^--cold-cache: the Linux kernel path models no storage I\/O, so \/data\/iofile cannot start uncached/],
    [['-r', '/dev/zero', 'more'], 2, /^unexpected argument 'more' for 'workload io-static'/],
    [['-r', '-b', '1k', '-t', '16k', '/dev/null'], 74, /^io-static: the modelled io-static exited with status 74: io-static: FAIL: partial read$/],
    [['-r', '/nonexistent/dir/file'], 66, /^io-static: the modelled io-static exited with status 66: io-static: FAIL: \/nonexistent\/dir\/file: No such file or directory$/],
    [['-c', '-t', '64k', '/nonexistent/file'], 66, /^io-static: the modelled io-static exited with status 66: io-static: FAIL: \/nonexistent\/file: No such file or directory$/],
    [['-r', '-b', '16k', '-t', '32m', '/data/iofile'], 74, /^io-static: the modelled io-static exited with status 74: io-static: FAIL: partial read$/],
    [['-r', '--file', '/data/x', '/dev/zero'], 2, /^--file: '\/data\/x' has no size; expected PATH:SIZE, an absolute path and a size, such as \/data\/iofile:16m$/],
    [['-r', '--file', 'data/x:1k', '/dev/zero'], 2, /^--file: 'data\/x' is not an absolute path/],
    [['-r', '--file', '/usr/lib/x:1k', '/dev/zero'], 2, /^--file: '\/usr\/lib\/x' is in \/usr, a directory of the modelled system; expected a path outside \/bin/],
    [['-r', '--file', '/data/x:1q', '/dev/zero'], 2, /^--file: '1q' is not a size/],
    [['-r', '--file', '/data/x:2t', '/dev/zero'], 2, /^--file: '2t'/],
  ],
  'workload fastpath': [
    [['--calls', '0'], 2, /^--calls: '0' is not a positive whole number/],
    [['--calls', '2000000'], 2, /^--calls: 2000000 is more calls than the measurement needs; expected at most 1000000$/],
    [['--cold-calls', '101'], 2, /^--cold-calls: 101 copies is more than the measurement needs/],
    [['--copy', '2g'], 2, /^--copy: '2g' is too large/],
    [['--copy', 'lots'], 2, /^--copy: 'lots' is not a size/],
    [['--gap-us', '99999999999'], 2, /^--gap-us: 100 calls 99999999999 us apart take [\d.]+ s of simulated time, more than the engine represents/],
    [['--enable', 'seccomp'], 2, /^--enable: 'seccomp' is a Linux-only hook/],
    [['--trace', 'nope'], 2, /^--trace: 'nope' is not a script/],
    [['--each', '--calls', '1000000'], 2, /^--calls: this run needs about \d+ simulated events in \d+ runs of the measurement .*more than --max-events 5000000/],
    [['--max-events', '-1'], 2, /^--max-events: '-1' is not a positive whole number/],
    [['--profile', 'vax'], 2, /^--profile: no profile named 'vax'/],
  ],
  'compare dd': [
    [['--variant-profile', 'nope'], 2, /^--variant-profile: no profile named 'nope'/],
    [['--variant-profile', 'host-vm'], 2, /^--variant-profile: profile 'host-vm' runs the linux kernel path and 'lecture' the freebsd one/],
    [['--baseline-enable', 'frob'], 2, /^--baseline-enable: 'frob' is not a hook/],
    [['--baseline-disable', 'frob'], 2, /^--baseline-disable: 'frob' is not a hook/],
    [['--bs', '1k', '--count', '4000000', '--exact'], 2, /^--count: this run needs about 16000602 simulated events in 2 runs of dd \(baseline and variant\), about [\d.]+ s of simulated time each, more than --max-events 5000000/],
    [['--seed', ''], 2, /^--seed: '' is not a seed/],
  ],
  'compare io-static': [
    [['-r'], 2, /^path: missing required argument for 'compare io-static'/],
    [['/dev/zero'], 2, /^-c\|-r\|-w: no mode given/],
    [['-r', '-s', '--profile', 'host-vm', '/dev/zero'], 2, /^-s: fsync\(2\) is not modelled on the Linux kernel path/],
    [['-r', '-b', '1', '-t', '1g', '--exact', '/dev/zero'], 2, /^-b: this run needs about 2147484052 simulated events in 2 runs of io-static/],
  ],
  sweep: [
    [[join(dir, 'missing.json')], 2, /^.*missing\.json: cannot read the config \(ENOENT: no such file or directory\); expected a readable JSON file$/],
    [[dir], 2, /: cannot read the config \(EISDIR: illegal operation on a directory\)/],
    [[config('empty.json', '')], 2, /empty\.json: not valid JSON \(Unexpected end of JSON input\); expected a sweep config in JSON$/],
    [[config('torn.json', '{"workload": "dd", "prof')], 2, /torn\.json: not valid JSON/],
    [[config('array.json', [])], 2, /^config: \[\] is not an object; expected a JSON object$/],
    [[config('colour.json', { ...SMALL, colour: 'red' })], 2, /^colour: unknown key; expected one of name, description, workload/],
    [[config('ctor.json', { ...SMALL, fixed: { constructor: 1 } })], 2, /^fixed\.constructor: 'constructor' is not a parameter of dd/],
    [[config('tostring.json', { ...SMALL, sweep: { toString: [1] } })], 2, /^sweep\.toString: 'toString' is not a parameter of dd/],
    [[config('inf.json', '{"workload": "dd", "profile": "lecture", "max_events": 1e400}')], 2, /^max_events: Infinity is not a finite number; expected an integer >= 1$/],
    [[config('badbs.json', { ...SMALL, sweep: { bs: [512, '2q'] } })], 2, /^sweep\.bs\[1\]: '2q' is not a size/],
    [[config('profnum.json', { workload: 'dd', fixed: { profile: 5 } })], 2, /^fixed\.profile: 5 is not a non-empty string; expected a profile name/],
    [[config('noprof.json', { ...SMALL, profile: 'vax' })], 2, /^profile: no profile named 'vax'/],
    [[config('fsync.json', { workload: 'io-static', profile: 'host-vm', fixed: { fsync: true } })], 2, /^fixed\.fsync: fsync\(2\) is not modelled on the Linux kernel path/],
    [[config('cold.json', { workload: 'io-static', profile: 'host-vm', fixed: { path: '/data/iofile' }, cold_cache: true })], 2, /^cold_cache: the Linux kernel path .* models no storage I\/O/],
    [[config('seccomp.json', { ...SMALL, enable: ['seccomp'] })], 2, /^enable: 'seccomp' is a Linux-only hook/],
    [[config('plot.json', { ...SMALL, sweep: { bs: [512] }, outputs: { plot: { y: 'system_s' } } })], 2, /^outputs\.plot: nothing to plot against/],
    [[config('bound.json', { ...SMALL, sweep: { bs: [512], count: [1, 100000] }, max_events: 1000 })], 2, /^sweep\.bs\[0\]: this point needs about \d+ simulated events, more than max_events 1000/],
    [[config('ok.json', SMALL), '--workers', '0'], 2, /^--workers: '0' is not a worker count; expected a whole number from 1 to 256$/],
    [[config('ok.json', SMALL), '--workers', 'many'], 2, /^--workers: 'many' is not a worker count/],
    [[config('ok.json', SMALL), '--out-dir', ' '], 2, /^--out-dir: ' ' is not a path/],
    [[config('ok.json', SMALL), '--out-dir', join(aFile, 'sub')], 1, /^--out-dir .*regular-file\/sub: cannot create directory \(ENOTDIR: not a directory\)$/],
    [[config('outdir.json', { ...SMALL, outputs: { dir: join(aFile, 'results') } })], 1, /^outputs\.dir .*: cannot create directory \(ENOTDIR/],
  ],
  calibrate: [
    [['lecture', '--out', join(aFile, 'cal')], 1, /^--out .*regular-file\/cal\/reports: cannot create directory \(ENOTDIR: not a directory\)$/],
    [['lecture', '--out', ''], 2, /^--out: '' is not a path/],
    [['host', '--out', 'profile.txt'], 2, /^--out: 'profile.txt' does not end in \.json/],
    [['host', '--repeats', '0'], 2, /^--repeats: '0' is not a number of repeats; expected an integer from 1 to 100$/],
    [['host', '--check', '--out', join(dir, 'none.json')], 2, /^--out: no host profile at .*none\.json/],
    [['host', '--check', '--out', dir], 2, /^--out: cannot read .* \(EISDIR: illegal operation on a directory\)/],
    [['host', '--check', '--out', config('torn-profile.json', '{"name": ')], 2, /^--out: .*torn-profile\.json is not valid JSON/],
    [['host', '--check', '--out', config('bad-profile.json', { name: 'x' })], 2, /^bad-profile\.(description|kernel): /],
    [['frob'], 2, /^unknown command 'frob' for 'calibrate'/],
  ],
  profiles: [
    [['extra'], 2, /^unexpected argument 'extra' for 'profiles'/],
    [['--frob'], 2, /^unknown option '--frob' for 'profiles'/],
  ],
  '': [
    [['frob'], 2, /^unknown command 'frob'; expected one of: workload, sweep, compare, calibrate/],
    [['--frob'], 2, /^unknown option '--frob'; see 'l41sim --help'$/],
    [['workload', 'cat'], 2, /^unknown command 'cat' for 'workload'/],
    [['help', 'frob'], 2, /^unknown command 'frob'; expected one of: workload, /],
    [['help', 'workload', 'cat'], 2, /^unknown command 'cat' for 'workload'; expected one of: dd, io-static, fastpath/],
  ],
};

describe.each(Object.entries(CASES))('l41sim %s', (command, cases) => {
  it.each(cases)('%j', async (args, code, line) => {
    if (existsSync(sweepOut)) rmSync(sweepOut, { recursive: true, force: true });
    const argv = [...(command === '' ? [] : command.split(' ')), ...args];
    // Sweeps write into a scratch directory, unless the case is about the config's own outputs.dir.
    if (command === 'sweep' && !args.includes('--out-dir') && !args[0]!.endsWith('outdir.json')) argv.push('--out-dir', sweepOut);
    const r = await cli(argv);
    expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(code);
    expect(oneLine(r.err, argv.join(' '))).toMatch(line);
    // A refused run prints nothing (a modelled program that fails prints what it printed, as the real one would).
    if (code === 2) expect(r.out, 'nothing on stdout').toBe('');
    // A refused sweep leaves no results and no journal behind.
    if (command === 'sweep' && existsSync(sweepOut)) expect(readdirSync(sweepOut)).toEqual([]);
  });
});

describe('no arguments, or a command group without its command', () => {
  it.each([[[]], [['workload']], [['compare']], [['calibrate']]])('%j prints the help on stderr and exits 2', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: l41sim/);
    expect(r.out).toBe('');
  });
});

describe('random bad values, one line naming the option and the value', () => {
  const digits = fc.stringMatching(/^[1-9][0-9]{0,5}$/);
  const badSize = fc.oneof(
    digits.map((d) => `-${d}`), // negative
    fc.constant('0'),
    fc.tuple(digits, fc.constantFrom('q', 'K0', 'kb', 'x', '*', 'e3', '.5', 'kk', ' 1', 'b2')).map(([d, s]) => d + s),
    fc.stringMatching(/^[1-9][0-9]{20,30}$/), // past 64 bits
    fc.constantFrom('', ' ', '0x', '08', '09', 'k', 'm', 'x1', '1x', '2g', '5g', '1024m1', '0b', '--', '1_000'),
    fc.string({ maxLength: 8 }).filter((s) => /[^0-9a-fA-FxXbBkKmMgGwW* +\t\n\v\f\r-]/.test(s)), // a character no size has
  );
  const sizeOption = fc.constantFrom<[string[], string]>(
    [['workload', 'dd', '--bs'], '--bs'],
    [['workload', 'dd', '--ibs'], '--ibs'],
    [['workload', 'dd', '--obs'], '--obs'],
    [['compare', 'dd', '--bs'], '--bs'],
    [['workload', 'io-static', '-r', '/dev/zero', '-b'], '-b'],
    [['workload', 'io-static', '-r', '/dev/zero', '-t'], '-t'],
    [['workload', 'fastpath', '--copy'], '--copy'],
  );

  it('a bad size: exit 2, `<option>: <the value quoted> ...; expected ...`', async () => {
    await fc.assert(
      fc.asyncProperty(sizeOption, badSize, async ([args, option], value) => {
        // Sizes the parser accepts (a rare random string, or a size past what a run allows) are not what this checks.
        let accepted = true;
        try {
          parseDdSize(option, value, { min: 1, max: 1 << 30 });
        } catch {
          accepted = false;
        }
        fc.pre(!accepted && !(option === '--copy' && value === '0'));
        const r = await cli([...args, value, '--max-events', '1']);
        expect(r.code).toBe(2);
        const line = oneLine(r.err, `${args.join(' ')} ${quote(value)}`);
        expect(line.startsWith(`${option}: `), line).toBe(true);
        expect(line).toContain(value === '' ? 'is empty' : quote(value));
        expect(line).toMatch(/; expected .+/);
        expect(r.out).toBe('');
      }),
      { seed: 7001, numRuns: 150 },
    );
  });

  it('a bad count: exit 2 naming the option and the value', async () => {
    const count = fc.constantFrom<[string[], string]>(
      [['workload', 'dd', '--count'], '--count'],
      [['workload', 'dd', '--skip'], '--skip'],
      [['workload', 'dd', '--max-events'], '--max-events'],
      [['workload', 'dd', '--trace-events'], '--trace-events'],
      [['workload', 'fastpath', '--calls'], '--calls'],
      [['workload', 'fastpath', '--cold-calls'], '--cold-calls'],
      [['workload', 'fastpath', '--gap-us'], '--gap-us'],
      [['compare', 'dd', '--max-events'], '--max-events'],
      [['sweep', join(dir, 'x.json'), '--workers'], '--workers'],
      [['calibrate', 'host', '--repeats'], '--repeats'],
    );
    const bad = fc.oneof(fc.constantFrom('-1', '1.5', '1e3', 'ten', '', '0x10 ', '1,000', '+', 'NaN', 'Infinity'), fc.stringMatching(/^[0-9]{0,3}[^0-9][0-9]{0,3}$/), fc.stringMatching(/^[1-9][0-9]{16,24}$/));
    await fc.assert(
      fc.asyncProperty(count, bad, async ([args, option], value) => {
        const r = await cli([...args, value]);
        expect(r.code).toBe(2);
        const line = oneLine(r.err, `${args.join(' ')} ${quote(value)}`);
        expect(line.startsWith(`${option}: `), line).toBe(true);
        if (value !== '') expect(line).toContain(quote(value));
      }),
      { seed: 7002, numRuns: 120 },
    );
  });

  it('a bad hook list or profile name: exit 2 naming the option and the word', async () => {
    const listOption = fc.constantFrom(['workload', 'dd', '--enable'], ['workload', 'dd', '--disable'], ['workload', 'io-static', '-r', '/dev/zero', '--enable'], ['workload', 'fastpath', '--enable'], ['compare', 'dd', '--baseline-enable'], ['compare', 'dd', '--baseline-disable'], ['compare', 'dd', '--enable']);
    const word = fc.stringMatching(/^[a-z_]{1,12}$/).filter((w) => !['ktrace', 'ptrace', 'capsicum', 'audit', 'racct', 'profil', 'signals', 'suspend', 'vfork', 'invariants', 'witness', 'seccomp', 'tracepoint'].includes(w));
    await fc.assert(
      fc.asyncProperty(listOption, fc.constantFrom('', 'audit,'), word, async (args, prefix, w) => {
        const r = await cli([...args, prefix + w]);
        expect(r.code).toBe(2);
        const line = oneLine(r.err, args.join(' '));
        expect(line.startsWith(`${args[args.length - 1]}: ${quote(w)} is not a hook; expected `), line).toBe(true);
      }),
      { seed: 7003, numRuns: 60 },
    );
    const profileOption = fc.constantFrom(['workload', 'dd', '--profile'], ['workload', 'fastpath', '--profile'], ['compare', 'dd', '--variant-profile'], ['workload', 'io-static', '-r', '/dev/zero', '--profile']);
    await fc.assert(
      fc.asyncProperty(profileOption, fc.string({ maxLength: 12 }).filter((s) => !['lecture', 'bbb', 'host', 'host-vm'].includes(s)), async (args, name) => {
        const r = await cli([...args, name]);
        expect(r.code).toBe(2);
        const line = oneLine(r.err, args.join(' '));
        expect(line.startsWith(`${args[args.length - 1]}: `), line).toBe(true);
        expect(line).toMatch(/; expected one of .*lecture/);
      }),
      { seed: 7004, numRuns: 60 },
    );
  });
});

describe('bounds inside a run: user errors, never internal ones', () => {
  const boot = () => {
    const k = bootKernel(loadProfile('lecture'), { seed: '1', features: new Set(), scripts: [] });
    return { k, u: new UserProcess(k, 'long', FREEBSD_LAYOUT.amd64) };
  };

  it('a run past its event cap fails (exit 1) naming --max-events', () => {
    const { k, u } = boot();
    let err: unknown;
    try {
      runProgram(k, u, function* () {
        for (;;) yield 1_000;
      }, { maxEvents: 100 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunBoundExceeded);
    expect((err as RunBoundExceeded).exitCode).toBe(1);
    expect((err as Error).message).toMatch(/^--max-events: long needed more than 100 events \(it got to simulated time [\d.]+ \w+, more than estimated before the run\); expected a larger --max-events/);
  });

  it("a run past the engine's time range (about 9007 s) fails (exit 1), not as an internal error", () => {
    const { k, u } = boot();
    let err: unknown;
    try {
      runProgram(k, u, function* () {
        for (;;) yield 1e15; // 1000 s at a time
      }, { maxEvents: 1000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunTooLong);
    expect((err as RunTooLong).exitCode).toBe(1);
    expect((err as Error).message).toMatch(/^long ran past the longest simulated time the engine represents \(9007\.199 s\)/);
  });
});

/** A JSON value of another type than `v`'s. */
function otherType(v: unknown): fc.Arbitrary<unknown> {
  const kinds: fc.Arbitrary<unknown>[] = [];
  if (typeof v !== 'number') kinds.push(fc.constantFrom(-1, 0, 3.5, 1e300));
  if (typeof v !== 'string') kinds.push(fc.constantFrom('', 'x', '1k', 'audit'));
  if (typeof v !== 'boolean') kinds.push(fc.boolean());
  if (v !== null) kinds.push(fc.constant(null));
  if (!Array.isArray(v)) kinds.push(fc.constant([]));
  if (typeof v !== 'object' || v === null || Array.isArray(v)) kinds.push(fc.constant({}));
  return fc.oneof(...kinds);
}

/** Every path to a value in a JSON document, as lists of keys. */
function paths(doc: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = at.length > 0 ? [at] : [];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) out.push(...paths(v, [...at, k]));
  return out;
}

const get = (doc: unknown, p: (string | number)[]) => p.reduce<unknown>((d, k) => (d as Record<string | number, unknown>)[k], doc);
function set(doc: unknown, p: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(doc);
  const parent = get(copy, p.slice(0, -1)) as Record<string | number, unknown>;
  if (value === undefined) delete parent[p[p.length - 1]!];
  else parent[p[p.length - 1]!] = value;
  return copy;
}
const jsonPath = (origin: string, p: (string | number)[]) => p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? k : `${s}.${k}`), origin);

describe('random bad sweep configs', () => {
  const VALID = {
    name: 'fuzzed',
    workload: 'io-static',
    profile: 'bbb',
    fixed: { mode: 'read', total: '64k', fsync: false },
    sweep: { buffer: { powers_of_two: { from: '4k', to: '16k' } }, path: ['/dev/zero', '/data/iofile'] },
    seeds: ['1', '2'],
    repeats: 1,
    enable: ['audit'],
    cold_cache: false,
    max_events: 100000,
    outputs: { dir: join(dir, 'never'), csv: true, json: true, plot: { x: 'buffer', y: 'bandwidth_kib_s', series: ['path'], svg: false, png: false } },
  };

  it('the valid one is valid', () => {
    const c = validateSweepConfig(VALID);
    expect(expandPoints(c, loadSweepProfiles(c), 'v')).toHaveLength(12);
  });

  it('a value of the wrong type anywhere is refused naming its JSON path (or the value it spoils), never crashing', () => {
    const all = paths(VALID).filter((p) => !['name', 'description'].includes(String(p[0])));
    fc.assert(
      fc.property(fc.constantFrom(...all).chain((p) => fc.record({ p: fc.constant(p), v: otherType(get(VALID, p)) })), ({ p, v }) => {
        const doc = set(VALID, p, v);
        let err: unknown;
        try {
          const c = validateSweepConfig(doc);
          expandPoints(c, loadSweepProfiles(c), 'v');
        } catch (e) {
          err = e;
        }
        if (err === undefined) return; // some types are accepted: a list of hooks as a string, a size as a number...
        expect(err, `${jsonPath('', p)} = ${JSON.stringify(v)}`).toBeInstanceOf(UsageError);
        const field = (err as UsageError).field;
        const at = jsonPath('', p);
        // The path of the value, or of the object it sits in, or the point it makes impossible.
        expect(at.startsWith(field) || field.startsWith(at.split(/[.[]/)[0]!), `${at}: ${(err as Error).message}`).toBe(true);
        expect((err as Error).message).not.toContain('\n');
      }),
      { seed: 7005, numRuns: 300 },
    );
  });

  it('an unknown key in any object is refused naming it', () => {
    const objects = [[], ...paths(VALID)].filter((p) => {
      const v = get(VALID, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && !['fixed', 'sweep'].includes(String(p[p.length - 1]));
    });
    fc.assert(
      fc.property(fc.constantFrom(...objects), fc.stringMatching(/^[a-z]{1,8}$/), (p, key) => {
        const obj = get(VALID, p) as Record<string, unknown>;
        fc.pre(!(key in obj) && key !== 'list' && key !== 'range' && key !== 'comment' && key !== 'description');
        try {
          validateSweepConfig(set(VALID, [...p, key], 1));
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          const field = (e as UsageError).field;
          expect([jsonPath('', [...p, key]), jsonPath('', p)]).toContain(field);
          return;
        }
        throw new Error(`accepted an unknown key ${jsonPath('', [...p, key])}`);
      }),
      { seed: 7006, numRuns: 100 },
    );
  });

  it('through the command: exit 2, one line, and nothing written', async () => {
    const out = join(dir, 'fuzzed-out');
    const all = paths(VALID).filter((p) => p[0] !== 'outputs');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...all).chain((p) => fc.record({ p: fc.constant(p), v: otherType(get(VALID, p)) })), async ({ p, v }) => {
        const doc = set(VALID, p, v) as Record<string, unknown>;
        try {
          const c = validateSweepConfig(doc);
          expandPoints(c, loadSweepProfiles(c), 'v');
          fc.pre(false); // accepted: not what this checks
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
        }
        rmSync(out, { recursive: true, force: true });
        const r = await cli(['sweep', config(`mutant-${n++}.json`, doc), '--out-dir', out]);
        expect(r.code).toBe(2);
        oneLine(r.err, jsonPath('', p));
        expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
      }),
      { seed: 7007, numRuns: 40 },
    );
  });
});

describe('random bad profiles', () => {
  const LECTURE = JSON.parse(readFileSync(join(root, 'calibration', 'lecture.json'), 'utf8')) as Record<string, unknown>;
  const leaves = paths(LECTURE).filter((p) => p[0] !== 'generated_by');

  it('the shipped one is valid', () => {
    expect(validateProfile(LECTURE, 'lecture').name).toBe('lecture');
  });

  it('a value of the wrong type anywhere is refused whole, naming its JSON path; the input is not changed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...leaves).chain((p) => fc.record({ p: fc.constant(p), v: otherType(get(LECTURE, p)) })), ({ p, v }) => {
        const doc = set(LECTURE, p, v);
        const before = JSON.stringify(doc);
        let err: unknown;
        try {
          validateProfile(doc, 'lecture');
        } catch (e) {
          err = e;
        }
        expect(err, `${jsonPath('lecture', p)} = ${JSON.stringify(v)} was accepted`).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).path, (err as Error).message).toBe(jsonPath('lecture', p));
        expect((err as Error).message).not.toContain('\n');
        expect(JSON.stringify(doc)).toBe(before);
      }),
      { seed: 7008, numRuns: 300 },
    );
  });

  it('a key removed anywhere is accepted (if optional) or refused with a ValidationError, never a crash', () => {
    fc.assert(
      fc.property(fc.constantFrom(...leaves), (p) => {
        try {
          validateProfile(set(LECTURE, p, undefined), 'lecture');
        } catch (e) {
          expect(e, `${jsonPath('lecture', p)} removed`).toBeInstanceOf(ValidationError);
          expect((e as Error).message).not.toContain('\n');
        }
      }),
      { seed: 7009, numRuns: 200 },
    );
  });
});
