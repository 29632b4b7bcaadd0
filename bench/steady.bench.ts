// Simulated system calls per second on steady loops (issue 15's first goal: at
// least 2,000,000 per wall second), fast-forwarded and --exact, measured in one run,
// interleaved (exact, fast-forwarded, exact, ...), medians of repeats. Each figure is
// a whole run (boot, start-up, the loop, exit) in this process: the loop's system
// calls over the run's wall and CPU time. The loops: dd bs=1 (two calls an
// iteration), io-static reads of /dev/zero and of a cached file at 4 B, 64 B and
// 1 KiB, and a bare getppid loop, on the lecture profile. The exact runs make fewer
// iterations (their rate does not depend on the count); the fast-forwarded ones as
// many as the goal names (a million dd blocks, 16 MiB of io-static).
//
// Run: npx tsc -p tsconfig.json && node dist/bench/run.js steady   (STEADY_REPEATS=3 by default)

import { performance } from 'node:perf_hooks';
import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import { bootKernel } from '../src/kernel/boot.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { FREEBSD_LAYOUT } from '../src/workloads/dd/freebsd.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { runIoStatic } from '../src/workloads/io-static.js';
import { parseIoStatic } from '../src/workloads/iostatic/options.js';
import { runProgram, UserProcess } from '../src/workloads/runtime.js';

const REPEATS = Number(process.env.STEADY_REPEATS ?? 3);

interface Loop {
  name: string;
  /** Run the loop `scale` (0..1] of its full length; returns the loop's system calls and the simulated seconds of the run. */
  run(exact: boolean, scale: number): { syscalls: number; simulatedS: number };
}

/** A getppid loop: the null system call back to back, through UserProcess.repeat. */
function getppidLoop(profile: Profile, calls: number, exact: boolean): { syscalls: number; simulatedS: number } {
  const k = bootKernel(profile, { seed: '1', features: profileFeatures(profile), scripts: [], exact });
  const u = new UserProcess(k, 'getppid', FREEBSD_LAYOUT.amd64);
  const r = runProgram(
    k,
    u,
    function* (up) {
      yield* up.store(up.stackTop - k.pageBytes, k.pageBytes);
      yield* up.repeat(calls, function* () {
        yield* up.sys('getppid');
      });
    },
    { maxEvents: 50_000_000 },
  );
  return { syscalls: calls, simulatedS: (r.endPs - r.startPs) / 1e12 };
}

function loops(profile: Profile): Loop[] {
  const features = profileFeatures(profile);
  const dd = (blocks: number, exact: boolean) => {
    const r = runDd(parseOperands({ bs: '1', count: String(blocks) }), { profile, seed: '1', features, scripts: [], exact });
    return { syscalls: 2 * blocks, simulatedS: r.time.elapsed_s };
  };
  const io = (buffer: number, path: string) => (exact: boolean, scale: number) => {
    const total = Math.max(buffer, Math.round((16 * 2 ** 20 * scale) / buffer) * buffer);
    const r = runIoStatic(parseIoStatic({ read: true, buffer: String(buffer), total: String(total), path, quiet: true }), { profile, seed: '1', features, exact });
    return { syscalls: total / buffer, simulatedS: r.report.process.elapsed_s };
  };
  const out: Loop[] = [{ name: 'dd bs=1 (1,000,000 blocks)', run: (exact, scale) => dd(Math.round(1_000_000 * scale), exact) }];
  for (const path of ['/dev/zero', '/data/iofile']) {
    for (const buffer of [4, 64, 1024]) out.push({ name: `io-static -r -b ${buffer} ${path} (16 MiB)`, run: io(buffer, path) });
  }
  out.push({ name: 'getppid (2,000,000 calls)', run: (exact, scale) => getppidLoop(profile, Math.round(2_000_000 * scale), exact) });
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall and CPU seconds of one call of `f`, and its result. */
function timed<T>(f: () => T): { wall: number; cpu: number; value: T } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, value };
}

export default async function main(): Promise<void> {
  const profile = loadProfile('lecture');
  console.log(`steady loops on lecture, ${REPEATS} repeats, medians; rates in simulated system calls per second of the whole run (M = million)`);
  console.log('| loop | exact: calls/wall s | fast-forward: calls/wall s | calls/CPU s | simulated s/wall s | ratio |');
  console.log('|------|--------------------:|---------------------------:|------------:|-------------------:|------:|');
  for (const loop of loops(profile)) {
    const exact: number[] = [];
    const ff: number[] = [];
    const ffCpu: number[] = [];
    const simPerWall: number[] = [];
    // The exact runs cover a twentieth of the loop (a quarter of the file reads, whose rate is the same either way).
    const exactScale = loop.name.includes('iofile') ? 0.25 : 0.05;
    for (let i = 0; i < REPEATS; i++) {
      const e = timed(() => loop.run(true, exactScale));
      exact.push(e.value.syscalls / e.wall);
      const f = timed(() => loop.run(false, 1));
      ff.push(f.value.syscalls / f.wall);
      ffCpu.push(f.value.syscalls / f.cpu);
      simPerWall.push(f.value.simulatedS / f.wall);
    }
    const m = (x: number) => `${(x / 1e6).toFixed(2)} M`;
    console.log(`| ${loop.name} | ${m(median(exact))} | ${m(median(ff))} | ${m(median(ffCpu))} | ${median(simPerWall).toFixed(2)} | ${(median(ff) / median(exact)).toFixed(1)} |`);
  }
}
