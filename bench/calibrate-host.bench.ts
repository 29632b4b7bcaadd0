// How long `l41sim calibrate host` takes on this machine (issue 13's goals: under 60 s,
// --quick under 15 s), as a user runs it: the command, into a temporary directory, wall
// time from start to exit. The machine's speed moves from minute to minute, so a model
// run measured just before and after is printed beside it as the baseline (the lecture's
// dd, bs=10m count=1, on host-vm), with the ratio.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile } from '../src/costmodel/profile.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { repoPath } from '../src/costmodel/repo.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';

const GOALS = { quick: 15, full: 60 } as const;

function baselineMs(): number {
  const profile = loadProfile('host-vm');
  const t0 = performance.now();
  runDd(parseOperands({ bs: '10m', count: '1' }), { profile, seed: 'bench', features: profileFeatures(profile), scripts: [] });
  return performance.now() - t0;
}

export default async function (): Promise<void> {
  if (process.platform !== 'linux') {
    console.log('calibrate host needs Linux: skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'l41sim-bench-calibrate-'));
  baselineMs(); // compile the model first: the baseline is a warm run
  try {
    console.log(`${'command'.padEnd(34)} ${'wall s'.padStart(7)} ${'goal s'.padStart(7)}  ${'baseline ms'.padStart(11)}  wall / baseline`);
    for (const mode of ['quick', 'full'] as const) {
      const before = baselineMs();
      const args = ['calibrate', 'host', ...(mode === 'quick' ? ['--quick'] : []), '--out', join(dir, `host-${mode}.json`)];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [repoPath('bin', 'l41sim.js'), ...args], { encoding: 'utf8', timeout: 600_000 });
      const wall = (performance.now() - t0) / 1000;
      const base = (before + baselineMs()) / 2;
      if (r.status !== 0) console.log(`l41sim ${args.slice(0, -2).join(' ')}: failed (${(r.stderr || '').trim().split('\n').pop()})`);
      else console.log(`${`l41sim calibrate host${mode === 'quick' ? ' --quick' : ''}`.padEnd(34)} ${wall.toFixed(1).padStart(7)} ${String(GOALS[mode]).padStart(7)}  ${base.toFixed(0).padStart(11)}  ${((wall * 1000) / base).toFixed(0).padStart(6)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
