// How `l41sim` reports errors, checked in-process against stand-in subcommands shaped
// like the real ones (a `workload` group with `dd`, and `sweep <config>`).
import { Command, InvalidArgumentError, Option } from 'commander';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RuntimeFailure, UsageError, quote } from '../src/errors.js';
import { run } from '../src/cli/run.js';
import { parseDdSize } from '../src/workloads/ddsize.js';

const ran: unknown[] = [];

function register(program: Command): void {
  const workload = program.command('workload').description('run a workload');
  workload
    .command('dd')
    .description('copy blocks')
    .requiredOption('--bs <size>', 'block size', (v: string) => parseDdSize('--bs', v, { min: 1 }))
    .option('--count <n>', 'blocks', (v: string) => parseDdSize('--count', v, { unit: 'count' }))
    .addOption(new Option('--profile <name>', 'machine').choices(['lecture', 'bbb']))
    .option('--seed <n>', 'seed', (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('Not a whole number.');
      return Number(v);
    })
    .option('--fail', 'fail like the modelled program')
    .option('--bug', 'fail like a bug')
    .action((opts: { fail?: boolean; bug?: boolean }) => {
      if (opts.fail) throw new RuntimeFailure('dd', '/dev/nope: No such file or directory');
      if (opts.bug) throw new TypeError('cannot read properties of undefined');
      ran.push(opts);
    });
  program
    .command('sweep')
    .description('run a sweep')
    .argument('<config>', 'config file')
    .action((config: string) => {
      if (config === 'bad.json') throw new UsageError('bad.json: points[0].bs', "'0' is too small", 'at least 1 byte');
      ran.push(config);
    });
}

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  ran.length = 0;
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function l41sim(...args: string[]): Promise<number> {
  return run(['node', 'l41sim', ...args], [register]);
}

describe('errors from commander become one line and exit 2', () => {
  it.each([
    [['frob'], "l41sim: unknown command 'frob'; expected one of: workload, sweep, help"],
    [['workloda'], "l41sim: unknown command 'workloda' (did you mean workload?); expected one of: workload, sweep, help"],
    [['workload', 'ddd'], "l41sim: unknown command 'ddd' for 'workload' (did you mean dd?); expected one of: dd, help"],
    [['--x'], "l41sim: unknown option '--x'; see 'l41sim --help'"],
    [['workload', '--x'], "l41sim: unknown option '--x' for 'workload'; see 'l41sim workload --help'"],
    [['workload', 'dd', '--bs', '1', '--bz', '2'], "l41sim: unknown option '--bz' for 'workload dd' (did you mean --bs?); see 'l41sim workload dd --help'"],
    [['workload', 'dd', '--bz', '2'], "l41sim: unknown option '--bz' for 'workload dd' (did you mean --bs?); see 'l41sim workload dd --help'"],
    [['workload', 'dd', '--bs=1', '--fail=yes'], "l41sim: unknown option '--fail=yes' for 'workload dd' (--fail takes no value); see 'l41sim workload dd --help'"],
    [['workload', 'dd'], "l41sim: --bs: required option not given; expected '--bs <size>'; see 'l41sim workload dd --help'"],
    [['workload', 'dd', '--bs'], "l41sim: --bs: needs a value; expected '--bs <size>'; see 'l41sim workload dd --help'"],
    [['workload', 'dd', '--bs', '10q'], "l41sim: --bs: '10q' is not a size; expected a number with an optional b/k/m/g/w suffix, or a product like 2x512k"],
    [['workload', 'dd', '--bs', '0'], "l41sim: --bs: '0' is too small; expected at least 1 byte"],
    [['workload', 'dd', '--bs', '1', '--profile', 'vax'], "l41sim: --profile: 'vax' is not accepted; expected one of: lecture, bbb"],
    [['workload', 'dd', '--bs', '1', '--seed', 'x'], "l41sim: --seed: 'x' is invalid (Not a whole number.)"],
    [['workload', 'dd', '--bs', '1', 'extra'], "l41sim: unexpected argument 'extra' for 'workload dd'; expected 'l41sim workload dd [options]'; see 'l41sim workload dd --help'"],
    [['sweep'], "l41sim: config: missing required argument for 'sweep'; expected 'l41sim sweep [options] <config>'"],
    [['sweep', 'bad.json'], "l41sim: bad.json: points[0].bs: '0' is too small; expected at least 1 byte"],
  ])('%j', async (args, line) => {
    expect(await l41sim(...args)).toBe(2);
    expect(err).toBe(`${line}\n`);
    expect(out).toBe('');
    expect(ran).toEqual([]);
  });

  it('prints the help on stderr for a command group given without its subcommand', async () => {
    expect(await l41sim('workload')).toBe(2);
    expect(err).toMatch(/^Usage: l41sim workload /);
  });
});

describe('successful runs, help and version exit 0', () => {
  it('runs a subcommand with global options anywhere', async () => {
    expect(await l41sim('--debug', 'workload', 'dd', '--bs', '10m', '--count=2x3')).toBe(0);
    expect(await l41sim('workload', 'dd', '--bs', '1k', '--debug')).toBe(0);
    expect(ran).toEqual([{ bs: 10485760, count: 6 }, { bs: 1024 }]);
    expect(err).toBe('');
  });

  it.each([[['--help']], [['help']], [['help', 'workload']], [['workload', 'dd', '--help']], [['--version']], [['workload', 'dd', '-h']], [['help', 'help']], [['workload', 'help', 'help']]])(
    '%j',
    async (args) => {
      expect(await l41sim(...args)).toBe(0);
      expect(out).not.toBe('');
      expect(err).toBe('');
    },
  );
});

describe('failures of the run', () => {
  it('RuntimeFailure exits 1 with one line', async () => {
    expect(await l41sim('workload', 'dd', '--bs', '1', '--fail')).toBe(1);
    expect(err).toBe('l41sim: dd: /dev/nope: No such file or directory\n');
  });

  it('an unexpected exception is an internal error: one line, exit 1, stack only with --debug', async () => {
    expect(await l41sim('workload', 'dd', '--bs', '1', '--bug')).toBe(1);
    expect(err).toBe('l41sim: internal error: cannot read properties of undefined (a bug in l41sim; rerun with --debug for the stack trace)\n');
    err = '';
    expect(await l41sim('workload', 'dd', '--bs', '1', '--bug', '--debug')).toBe(1);
    expect(err.split('\n')[0]).toBe('l41sim: internal error: cannot read properties of undefined');
    expect(err).toContain('TypeError: cannot read properties of undefined\n    at ');
  });
});

describe('random command lines', () => {
  it('end with 0, 1 or 2, and an error is exactly one line without a stack trace', async () => {
    const words = fc.constantFrom('workload', 'dd', 'sweep', 'help', '--bs', '--count', '--profile', 'lecture', '10m',
      '2x512k', '-1', '0', '--', '-', '--help', '--version', '-V', '--fail', 'x.json', '');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(words, fc.string({ maxLength: 6 })), { maxLength: 6 }), async (args) => {
        if (args.some((a) => a === '--debug')) return;
        out = '';
        err = '';
        const code = await l41sim(...args);
        expect([0, 1, 2]).toContain(code);
        if (code !== 0 && !err.startsWith('Usage:')) {
          expect(err).toMatch(/^l41sim: [^\n]*\n$/);
        }
        expect(err).not.toContain('internal error');
      }),
      { seed: 41, numRuns: 300 },
    );
  });
});

describe('quote', () => {
  it('keeps messages on one line and short', () => {
    expect(quote("a'b\nc")).toBe("'a\\'b\\nc'");
    expect(quote('x'.repeat(100))).toBe(`'${'x'.repeat(60)}…'`);
  });
});
