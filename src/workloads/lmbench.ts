// lmbench's lat_syscall tests as modelled programs: a loop of one system call,
// timed per call as lmbench times it (user stub and kernel together). The BeagleBone
// profile fits its per-operation costs to TI's lmbench figures for the AM335x.

import type { Profile } from '../costmodel/profile.js';
import { bootKernel } from '../kernel/boot.js';
import type { Feature } from '../kernel/features.js';
import { FREEBSD_LAYOUT } from './dd/freebsd.js';
import { runProgram, UserProcess, type Program } from './runtime.js';

export const LMBENCH_TESTS = ['null', 'read', 'write', 'stat', 'fstat', 'open'] as const;
export type LmbenchTest = (typeof LMBENCH_TESTS)[number];

/** lat_syscall's file (lmbench's FNAME). */
export const LMBENCH_FILE = '/usr/include/sys/types.h';

export interface LmbenchResult {
  test: LmbenchTest;
  /** Mean time per call of the timed loop, ns. */
  ns_per_call: number;
  /** Cost-term usage of the timed loop, per call. */
  usage: Float64Array;
}

export function lmbenchLatency(profile: Profile, test: LmbenchTest, opts: { features: ReadonlySet<Feature>; seed: string; iterations?: number }): LmbenchResult {
  const k = bootKernel(profile, { seed: opts.seed, features: opts.features, scripts: [] });
  k.fs.addFile(LMBENCH_FILE, 10_000);
  const layout = profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
  const u = new UserProcess(k, 'lat_syscall', layout);
  const n = opts.iterations ?? 200;
  let t0 = 0;
  let t1 = 0;
  let u0: Float64Array = new Float64Array(0);
  let u1: Float64Array = new Float64Array(0);
  const program = function* (): Program {
    const s = u.stackScratch;
    const path = { path: LMBENCH_FILE, pathVa: s };
    const zero = yield* u.sys('openat', { path: '/dev/zero', pathVa: s, flags: 'r' });
    const nul = yield* u.sys('openat', { path: '/dev/null', pathVa: s, flags: 'rw' });
    const file = yield* u.sys('openat', { ...path, flags: 'r' });
    const once = function* (): Generator<number, void, unknown> {
      switch (test) {
        case 'null':
          yield* u.sys('getppid');
          break;
        case 'read':
          yield* u.sys('read', { fd: zero, bufVa: s, len: 1 });
          break;
        case 'write':
          yield* u.sys('write', { fd: nul, bufVa: s, len: 1 });
          break;
        case 'stat':
          yield* u.sys('lstat', { ...path, sbVa: s });
          break;
        case 'fstat':
          yield* u.sys('fstat', { fd: file, sbVa: s });
          break;
        case 'open': {
          const fd = yield* u.sys('openat', { ...path, flags: 'r' });
          yield* u.sys('close', { fd });
          break;
        }
      }
    };
    for (let i = 0; i < 20; i++) yield* once(); // warm up, as lmbench does
    t0 = u.td.cpu.t;
    u0 = k.usage.snapshot();
    for (let i = 0; i < n; i++) yield* once();
    t1 = u.td.cpu.t;
    u1 = k.usage.snapshot();
  };
  runProgram(k, u, program, { maxEvents: 10 * n + 1000 });
  return { test, ns_per_call: (t1 - t0) / n / 1000, usage: u1.map((v, i) => (v - u0[i]!) / n) };
}
