// A child process's CPU time and page faults, by whichever tool this machine has:
// perf stat (./perf.ts) first, else python3's wait4 (./wait4.ts). Node cannot read a
// child's rusage itself.

import { HostMeasureError } from './error.js';
import { perfRusage } from './perf.js';
import { wait4Runs } from './wait4.js';

export type ChildRusageMethod = 'perf-stat' | 'python3-wait4';

/** One run of a child: total CPU time, its user/system split (tick-sampled) and minor faults. */
export interface ChildRun {
  cpu_ns: number;
  user_ns: number;
  sys_ns: number;
  minflt: number;
}

/** What each method measures, in words (for reports). */
export const METHOD_DETAIL: Record<ChildRusageMethod, string> = {
  'perf-stat': 'perf stat -e task-clock,minor-faults,user_time,system_time (CPU time from exec to exit; minor faults)',
  'python3-wait4': 'python3 os.posix_spawnp + os.wait4 (ru_utime + ru_stime, ru_minflt)',
};

/** Find a working way to read a child's CPU time and faults; throws HostMeasureError naming why each failed. */
export function detectChildRusageMethod(prefer: 'auto' | ChildRusageMethod = 'auto'): { method: ChildRusageMethod; detail: string } {
  const failures: string[] = [];
  if (prefer === 'auto' || prefer === 'perf-stat') {
    try {
      perfRusage(['true']);
      return { method: 'perf-stat', detail: METHOD_DETAIL['perf-stat'] };
    } catch (e) {
      failures.push(`perf stat: ${(e as Error).message}`);
    }
  }
  if (prefer === 'auto' || prefer === 'python3-wait4') {
    try {
      wait4Runs([['true']], 1);
      return { method: 'python3-wait4', detail: METHOD_DETAIL['python3-wait4'] };
    } catch (e) {
      failures.push(`python3 wait4: ${(e as Error).message}`);
    }
  }
  throw new HostMeasureError(`cannot read a child's CPU time and page faults: ${failures.join('; ')}; install perf (linux-perf) or python3`);
}

/**
 * Run each command `repeats` times, round-robin (so slow drift of the machine spreads
 * over every command), after one unrecorded warm-up run of each (page cache, the dynamic
 * loader's caches); the runs per command, in command order. Throws HostMeasureError
 * naming the command that failed.
 */
export function measureChildren(
  argvs: readonly (readonly string[])[],
  repeats: number,
  method: ChildRusageMethod,
  onRun: (done: number, total: number) => void = () => {},
): ChildRun[][] {
  if (method === 'python3-wait4') {
    let runs;
    try {
      runs = wait4Runs(argvs, repeats); // one python3 process: no progress until it is done
    } catch (e) {
      throw new HostMeasureError(`wait4 of ${argvs.map((a) => `'${a.join(' ')}'`).join(', ')}: ${(e as Error).message}`);
    }
    return runs.map((rs, i) =>
      rs.map((x) => {
        if (x.status !== 0) throw new HostMeasureError(`'${argvs[i]!.join(' ')}' exited ${x.status}`);
        return { cpu_ns: x.user_ns + x.sys_ns, user_ns: x.user_ns, sys_ns: x.sys_ns, minflt: x.minflt };
      }),
    );
  }
  const perf = (argv: readonly string[]): ChildRun => {
    try {
      return perfRusage(argv);
    } catch (e) {
      throw new HostMeasureError(`'${argv.join(' ')}': ${(e as Error).message}`);
    }
  };
  const total = argvs.length * (repeats + 1);
  let done = 0;
  const run = (argv: readonly string[]): ChildRun => {
    const x = perf(argv);
    onRun(++done, total);
    return x;
  };
  for (const argv of argvs) run(argv); // warm-up
  const out: ChildRun[][] = argvs.map(() => []);
  for (let r = 0; r < repeats; r++) argvs.forEach((argv, i) => out[i]!.push(run(argv)));
  return out;
}
