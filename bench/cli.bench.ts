// The command as a user runs it, end to end (start-up included): `node bin/l41sim.js
// ...` in a fresh process, wall time, medians of repeats, the runs interleaved.
// Issue 15's goals: `workload dd --bs 10m` (the README's first command: four model
// runs) under 1 s, and `workload dd --bs 1 --count 1000000 --trace none` on the
// lecture profile at least 1 simulated second per wall second (it simulates 1.06 s).
// The baseline in the same run: --exact (every iteration simulated) for the second
// command (at a tenth of the count: its rate does not depend on it); and, if
// L41SIM_BASELINE names another checkout (built), the same commands from it.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/run.js cli   (CLI_REPEATS=5 by default)

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoPath } from '../src/costmodel/repo.js';

const REPEATS = Number(process.env.CLI_REPEATS ?? 5);
const BASELINE = process.env.L41SIM_BASELINE;

/** Wall seconds of one run of the command, and its stdout (it must succeed). */
function run(root: string, args: string[]): { wall: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'l41sim.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`l41sim ${args.join(' ')} (in ${root}) failed: ${r.stderr}`);
  return { wall, out: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The simulated seconds of a dd run, from its time(1) line (elapsed, m:ss.ss). */
function elapsedOf(out: string): number {
  const m = /\s(\d+):(\d+\.\d+)\s/.exec(out.split('\n')[1] ?? '');
  if (!m) throw new Error(`no time(1) line in: ${out.slice(0, 200)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export default async function main(): Promise<void> {
  const here = repoPath();
  const builds: [string, string][] = [['this build', here], ...(BASELINE ? ([['baseline', BASELINE]] as [string, string][]) : [])];
  console.log(`end to end, ${REPEATS} repeats interleaved, median wall seconds${BASELINE ? ` (baseline: ${BASELINE})` : ''}`);
  const readme = ['workload', 'dd', '--bs', '10m'];
  const walls = new Map<string, number[]>(builds.map(([name]) => [name, []]));
  for (let i = 0; i < REPEATS; i++) for (const [name, root] of builds) walls.get(name)!.push(run(root, readme).wall);
  for (const [name] of builds) console.log(`  l41sim ${readme.join(' ')}   ${name}: ${median(walls.get(name)!).toFixed(2)} s   (runs: ${walls.get(name)!.map((w) => w.toFixed(2)).join(', ')})`);

  const big = ['workload', 'dd', '--bs', '1', '--count', '1000000', '--trace', 'none'];
  const exact = ['workload', 'dd', '--bs', '1', '--count', '100000', '--trace', 'none', '--exact'];
  const ff: number[] = [];
  const ex: number[] = [];
  let simulated = 0;
  let simulatedExact = 0;
  for (let i = 0; i < REPEATS; i++) {
    const a = run(here, big);
    simulated = elapsedOf(a.out);
    ff.push(a.wall);
    const b = run(here, exact);
    simulatedExact = elapsedOf(b.out);
    ex.push(b.wall);
  }
  const rateFf = simulated / median(ff);
  const rateExact = simulatedExact / median(ex);
  console.log(`  l41sim ${big.join(' ')}: ${median(ff).toFixed(2)} s for ${simulated.toFixed(2)} simulated s: ${rateFf.toFixed(2)} simulated s per wall s`);
  console.log(`  the same with --exact (count 100000): ${median(ex).toFixed(2)} s for ${simulatedExact.toFixed(2)} simulated s: ${rateExact.toFixed(3)} simulated s per wall s; ratio ${(rateFf / rateExact).toFixed(1)}`);
}
