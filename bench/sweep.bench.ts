// The full lab sweep through `l41sim sweep`'s runner: io-static on the BeagleBone
// profile, 15 buffer sizes from 1 KiB to 16 MiB, 16 MiB each, reads and writes of
// a cached file (30 points), on one worker thread and on one per core. Prints the
// wall time, the simulated time (the modelled processes' elapsed time, summed over
// the points) and simulated seconds per wall-clock second. The two runs' results
// must be identical (checked). Goal: the whole sweep in under 10 s on the 2-core
// machine.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/run.js sweep
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateSweepConfig } from '../src/workloads/sweep/config.js';
import { runSweep } from '../src/workloads/sweep/runner.js';

const LAB_SWEEP = {
  name: 'lab-sweep',
  workload: 'io-static',
  profile: 'bbb',
  fixed: { total: '16m', path: '/data/iofile' },
  sweep: { mode: ['read', 'write'], buffer: { powers_of_two: { from: '1k', to: '16m' } } },
  outputs: { plot: false },
};

export default async function main(): Promise<void> {
  const config = validateSweepConfig(LAB_SWEEP);
  const cores = availableParallelism();
  const results: string[] = [];
  console.log(`lab sweep: io-static on bbb, 15 buffer sizes 1 KiB..16 MiB x read/write of a cached 16 MiB file (30 points); ${cores} cores`);
  console.log('| workers | wall s | CPU s | simulated s | simulated s per wall s |');
  console.log('|--------:|-------:|------:|------------:|-----------------------:|');
  for (const workers of [1, cores]) {
    const dir = mkdtempSync(join(tmpdir(), 'l41sim-bench-sweep-'));
    try {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = await runSweep(config, dir, { workers, version: 'bench', fresh: true });
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      const simulated = out.rows.reduce((a, r) => a + Number(r.process_elapsed_s), 0);
      results.push(out.csv);
      console.log(`| ${String(workers).padStart(7)} | ${wall.toFixed(2).padStart(6)} | ${((cpu.user + cpu.system) / 1e6).toFixed(2).padStart(5)} | ${simulated.toFixed(3).padStart(11)} | ${(simulated / wall).toFixed(3).padStart(22)} |`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(results.every((r) => r === results[0]) ? 'results identical for every worker count' : 'RESULTS DIFFER between worker counts');
}
