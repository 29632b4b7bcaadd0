// End-to-end speed of the kernel model: the lecture's dd (bs=10m count=1) on the
// lecture and bbb profiles, untraced and with the profile-997 script, and on host-vm
// with and without its kernel text map (which fetches each function's real share of
// lines, so costs model time); wall time per run (median of repeats) and simulated
// seconds per wall second.

import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { profileFeatures } from '../src/kernel/hooks.js';

const REPEATS = Number(process.env.DD_REPEATS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export default async function (): Promise<void> {
  const op = parseOperands({ bs: '10m', count: '1' });
  console.log(`dd if=/dev/zero of=/dev/null bs=10m count=1, ${REPEATS} repeats, medians`);
  console.log(`${'profile'.padEnd(21)} script      wall ms   simulated s   sim s / wall s   syscalls+traps`);
  const hostVm = loadProfile('host-vm');
  const { kernel_text: _map, ...hostVmNoMap } = hostVm;
  const cases: [string, Profile, string[][]][] = [
    ['lecture', loadProfile('lecture'), [[], ['profile']]],
    ['bbb', loadProfile('bbb'), [[], ['profile']]],
    ['host-vm', hostVm, [[]]],
    ['host-vm, no text map', hostVmNoMap, [[]]],
  ];
  for (const [name, profile, scriptSets] of cases) {
    for (const scripts of scriptSets) {
      const walls: number[] = [];
      let simulated = 0;
      let events = 0;
      for (let i = 0; i < REPEATS; i++) {
        const t0 = performance.now();
        const run = runDd(op, { profile, seed: String(i), features: profileFeatures(profile), scripts });
        walls.push(performance.now() - t0);
        simulated = run.time.elapsed_s;
        events = run.syscalls.count + run.traps.count;
      }
      const wall = median(walls);
      console.log(
        `${name.padEnd(21)} ${(scripts[0] ?? 'none').padEnd(10)} ${wall.toFixed(0).padStart(8)} ${simulated.toFixed(3).padStart(13)} ${(simulated / (wall / 1000)).toFixed(2).padStart(16)} ${String(events).padStart(16)}`,
      );
    }
  }
}
