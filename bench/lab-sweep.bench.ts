// The L41 lab's full read sweep on the BeagleBone profile, as `l41sim sweep
// examples/io-static-bbb-lab.json` runs it: io-static reads of /dev/zero and of a
// cached file, 16 MiB each, in buffers of 4 B to 16 MiB (23 sizes, 46 points; 16.8
// million system calls), on one worker thread per core. Issue 15's goal: under 20 s
// on the 2-core machine. Printed: wall and CPU time, the simulated time (the
// processes' elapsed times, summed), and the system calls each half of the sweep
// made. The /dev/zero points fast-forward; the cached file's do not (its offset
// moves on with each read), so their calls are all simulated.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/run.js lab-sweep

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoPath } from '../src/costmodel/repo.js';
import { validateSweepConfig } from '../src/workloads/sweep/config.js';
import { runSweep } from '../src/workloads/sweep/runner.js';

export default async function main(): Promise<void> {
  const file = repoPath('examples', 'io-static-bbb-lab.json');
  const config = validateSweepConfig(JSON.parse(readFileSync(file, 'utf8')), file);
  const workers = availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), 'l41sim-bench-lab-'));
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await runSweep(config, dir, { workers, version: 'bench', fresh: true });
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const simulated = out.rows.reduce((a, r) => a + Number(r.process_elapsed_s), 0);
    const calls = (path: string) => out.rows.filter((r) => r.path === path).reduce((a, r) => a + Number(r.syscalls_count), 0);
    console.log(`lab read sweep on bbb: ${out.rows.length} points, ${workers} workers`);
    console.log(`  wall ${wall.toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (all threads), simulated ${simulated.toFixed(1)} s`);
    console.log(`  system calls in the timed loops: /dev/zero ${calls('/dev/zero')}, /data/iofile ${calls('/data/iofile')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
