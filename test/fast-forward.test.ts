// Steady-state fast-forward (src/kernel/steady/fast-forward.ts): a fast-forwarded
// run and an --exact run give the same figures. The rule is counts equal
// and times within 1e-9 relative (checked on every figure the kernel keeps); the
// design claims more, the same bits, which the reports are checked for too. The
// loops that should fast-forward are checked to do so, so a change that silently
// stops it (an undeclared output counter, say) shows here.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import type { Feature } from '../src/kernel/features.js';
import { featuresOf, profileFeatures } from '../src/kernel/hooks.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { ddReport } from '../src/workloads/dd/report.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { runIoStatic } from '../src/workloads/io-static.js';
import { parseIoStatic } from '../src/workloads/iostatic/options.js';
import { cli } from './helpers/cli.js';
import { differences, kernelFigures } from './helpers/exactness.js';

const PROFILES = ['lecture', 'bbb', 'host-vm'] as const;
const profiles = new Map<string, Profile>(PROFILES.map((p) => [p, loadProfile(p)]));

interface DdCase {
  profile: string;
  bs?: string;
  ibs?: string;
  obs?: string;
  count: string;
  skip?: string;
  seek?: string;
  input?: string;
  output?: string;
  enable?: Feature[];
  tables?: ('syscall-time' | 'traps' | 'profile')[];
  scripts?: string[];
  seed?: string;
}

function features(profile: Profile, enable: readonly Feature[] = []): Set<Feature> {
  const f = profileFeatures(profile);
  for (const h of enable) f.add(h);
  return f;
}

/** The dd report (time line, untraced figures, each table's traced run) and the untraced kernel's figures, exact or fast-forwarded. */
function dd(c: DdCase, exact: boolean): { report: unknown; figures: Record<string, unknown>; kernel: Kernel } {
  const profile = profiles.get(c.profile)!;
  const op = parseOperands({ bs: c.bs, ibs: c.ibs, obs: c.obs, count: c.count, skip: c.skip, seek: c.seek, if: c.input, of: c.output }, profile.userland.dd);
  const { report, untraced } = ddReport(op, { profile, seed: c.seed ?? '1', features: features(profile, c.enable), tables: c.tables ?? [], scripts: c.scripts, exact });
  return { report, figures: kernelFigures(untraced.kernel), kernel: untraced.kernel };
}

interface IoCase {
  profile: string;
  mode: 'read' | 'write';
  buffer: string;
  total: string;
  path: string;
  fsync?: boolean;
  enable?: Feature[];
  seed?: string;
}

function io(c: IoCase, exact: boolean): { report: unknown; figures: Record<string, unknown>; kernel: Kernel } {
  const profile = profiles.get(c.profile)!;
  const o = parseIoStatic({ read: c.mode === 'read', write: c.mode === 'write', buffer: c.buffer, total: c.total, path: c.path, fsync: c.fsync, verbose: true });
  const r = runIoStatic(o, { profile, seed: c.seed ?? '1', features: features(profile, c.enable), exact });
  return { report: r.report, figures: kernelFigures(r.kernel), kernel: r.kernel };
}

/** Both runs agree: the same report bytes, every figure within the rule. Returns the fast-forwarded kernel. */
function agree(run: (exact: boolean) => { report: unknown; figures: Record<string, unknown>; kernel: Kernel }): Kernel {
  const a = run(true);
  const b = run(false);
  expect(a.kernel.fastForward.jumps, 'the exact run fast-forwards nothing').toBe(0);
  expect(differences(a.figures, b.figures)).toEqual([]);
  expect(JSON.stringify(b.report)).toBe(JSON.stringify(a.report));
  return b.kernel;
}

/** The share of a loop's iterations that fast-forward advanced instead of simulating. */
function skippedShare(k: Kernel, iterations: number): number {
  return k.fastForward.skipped / iterations;
}

describe('fast-forward gives the exact run\'s figures: dd', () => {
  for (const profile of PROFILES) {
    for (const [bs, count] of [['1', '4000'], ['512', '2000'], ['4k', '1000'], ['64k', '60'], ['1m', '6']] as const) {
      it(`${profile} bs=${bs} count=${count}`, () => {
        const k = agree((exact) => dd({ profile, bs, count }, exact));
        if (bs === '1') expect(skippedShare(k, 4000)).toBeGreaterThan(0.8);
      });
    }
    it(`${profile} bs=1 count=1 and count=2 (loops too short to fast-forward)`, () => {
      agree((exact) => dd({ profile, bs: '1', count: '1' }, exact));
      agree((exact) => dd({ profile, bs: '1', count: '2' }, exact));
    });
    it(`${profile} reblocking (ibs=512 obs=1k: not fast-forwarded), skip and seek`, () => {
      agree((exact) => dd({ profile, ibs: '512', obs: '1k', count: '300', skip: '3', seek: '2' }, exact));
    });
    it(`${profile} the lecture's three DTrace tables, each on its own traced run`, () => {
      agree((exact) => dd({ profile, bs: '8', count: '3000', tables: ['syscall-time', 'traps', 'profile'] }, exact));
    });
    it(`${profile} every hook its kernel models switched on`, () => {
      const enable = featuresOf(profiles.get(profile)!.kernel).filter((f) => f !== 'vfork');
      agree((exact) => dd({ profile, bs: '16', count: '2000', enable }, exact));
    });
  }
  it('lecture: a file in, a file out, count=0 (until end of input)', () => {
    agree((exact) => dd({ profile: 'lecture', bs: '4k', count: '0', input: '/lib/libc.so.7', output: '/tmp/copy' }, exact));
  });
  it('bbb: lockstat and dtmalloc scripts, whose aggregations are counts, fast-forward', () => {
    agree((exact) => dd({ profile: 'bbb', bs: '8', count: '3000', scripts: ['lockstat-count', 'dtmalloc-count'] }, exact));
    const profile = profiles.get('bbb')!;
    const traced = (exact: boolean) => {
      const r = runDd(parseOperands({ bs: '8', count: '3000' }), { profile, seed: '1', features: features(profile), scripts: ['lockstat-count'], exact });
      return { report: [...r.kernel.dtrace.aggregations], figures: kernelFigures(r.kernel), kernel: r.kernel };
    };
    expect(skippedShare(agree(traced), 3000)).toBeGreaterThan(0.5);
  });
  it('lecture: a script that takes timestamps (syscall-time) is simulated in full, and agrees', () => {
    const profile = profiles.get('lecture')!;
    const traced = (exact: boolean) => {
      const r = runDd(parseOperands({ bs: '8', count: '2000' }), { profile, seed: '1', features: features(profile), scripts: ['syscall-time'], exact });
      return { report: [...r.kernel.dtrace.aggregations], figures: kernelFigures(r.kernel), kernel: r.kernel };
    };
    expect(agree(traced).fastForward.jumps).toBe(0);
  });
  it('lecture: the signals and suspend hooks, whose work the clock posts', () => {
    const k = agree((exact) => dd({ profile: 'lecture', bs: '8', count: '20000', enable: ['signals', 'suspend'] }, exact));
    expect(k.fastForward.jumps).toBeGreaterThan(0);
  });
});

describe('fast-forward gives the exact run\'s figures: io-static', () => {
  for (const profile of PROFILES) {
    for (const buffer of ['4', '64', '1k', '64k', '1m', '16m']) {
      const total = buffer === '4' ? '64k' : buffer === '64' ? '512k' : buffer === '16m' ? '16m' : '4m';
      for (const [mode, path] of [['read', '/dev/zero'], ['read', '/data/iofile'], ['write', '/dev/null'], ['write', '/data/iofile']] as const) {
        it(`${profile} ${mode} ${path} buffer ${buffer} total ${total}`, () => {
          const k = agree((exact) => io({ profile, mode, buffer, total, path }, exact));
          // Small buffers fast-forward, a regular file's too (its offset moves: steady/stride.ts).
          if (buffer === '4') expect(skippedShare(k, 16384)).toBeGreaterThan(0.8);
          if (buffer === '64') expect(skippedShare(k, 8192)).toBeGreaterThan(0.5);
        });
      }
    }
  }
  it('bbb: write with fsync, and a read with hooks on', () => {
    agree((exact) => io({ profile: 'bbb', mode: 'write', buffer: '512', total: '256k', path: '/data/iofile', fsync: true }, exact));
    agree((exact) => io({ profile: 'bbb', mode: 'read', buffer: '32', total: '256k', path: '/dev/zero', enable: ['ktrace', 'audit', 'racct'] }, exact));
  });
});

describe('fast-forward gives the exact run\'s figures for random workloads and seeds', () => {
  const arbDd = fc.record({
    kind: fc.constant('dd' as const),
    profile: fc.constantFrom(...PROFILES),
    bs: fc.integer({ min: 0, max: 12 }).map((e) => String(2 ** e)),
    count: fc.integer({ min: 1, max: 2500 }).map(String),
    seed: fc.string({ minLength: 1, maxLength: 6 }).filter((s) => /^[\x20-\x7e]+$/.test(s)),
    hooks: fc.subarray(['ktrace', 'audit', 'racct', 'signals', 'tracepoint', 'seccomp'] as Feature[]),
    table: fc.constantFrom(undefined, 'profile' as const, 'traps' as const),
    input: fc.constantFrom(undefined, '/lib/libc.so.7'),
  });
  const arbIo = fc.record({
    kind: fc.constant('io' as const),
    profile: fc.constantFrom(...PROFILES),
    // Powers of two, and any size (a regular file's reads then straddle pages and lines now and then).
    buffer: fc.oneof(fc.integer({ min: 2, max: 14 }).map((e) => String(2 ** e)), fc.integer({ min: 1, max: 5000 }).map(String)),
    mode: fc.constantFrom('read' as const, 'write' as const),
    device: fc.boolean(),
    seed: fc.string({ minLength: 1, maxLength: 6 }).filter((s) => /^[\x20-\x7e]+$/.test(s)),
  });
  it('dd and io-static on every profile', () => {
    fc.assert(
      fc.property(fc.oneof(arbDd, arbIo), (w) => {
        const profile = profiles.get(w.profile)!;
        if (w.kind === 'dd') {
          const enable = w.hooks.filter((h) => featuresOf(profile.kernel).includes(h));
          const input = profile.kernel === 'freebsd' ? w.input : undefined; // the FreeBSD userland's libc
          agree((exact) => dd({ profile: w.profile, bs: w.bs, count: w.count, input, seed: w.seed, enable, tables: w.table ? [w.table] : [] }, exact));
        } else {
          const path = w.device ? (w.mode === 'read' ? '/dev/zero' : '/dev/null') : '/data/iofile';
          const total = String(Number(w.buffer) * Math.max(1, Math.floor(Math.min(2 ** 20, Number(w.buffer) * 3000) / Number(w.buffer))));
          agree((exact) => io({ profile: w.profile, mode: w.mode, buffer: w.buffer, total, path, seed: w.seed }, exact));
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('--max-events judges what a run simulates after fast-forward', () => {
  it('accepts a read of /dev/zero in 1-byte buffers (8 million calls: nearly all fast-forwarded), refuses a loop that does not fast-forward', async () => {
    const zero = await cli(['workload', 'io-static', '-r', '-b', '1', '-t', '8m', '/dev/zero']);
    expect(zero.err).toBe('');
    expect(zero.code).toBe(0);
    expect(zero.out).toMatch(/^[\d.]+ KBytes\/sec\n$/);
    // dd reblocking (ibs != obs): each read lands after the bytes left over from the last, so no iteration repeats another.
    const reblock = await cli(['workload', 'dd', '--ibs', '1', '--obs', '2', '--count', '6000000', '--trace', 'none']);
    expect(reblock.code).toBe(2);
    expect(reblock.err).toMatch(/^l41sim: --count: this run needs about \d+ simulated events \(with fast-forward\), about [\d.]+ s of simulated time, more than --max-events 5000000;/);
    const needed = Number(/needs about (\d+)/.exec(reblock.err)![1]);
    expect(needed).toBeGreaterThan(8_500_000); // about every one of its 9 million reads and writes simulated
  });
});
