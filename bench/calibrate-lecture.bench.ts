// `l41sim calibrate lecture`'s cost: the bbb and lecture calibrations with every
// leave-one-out fold on one worker per core (what the command does), against a baseline
// measured in the same run: the three whole fits alone on this thread (what the command
// did before cross-validation). Prints wall and CPU time, the model evaluations (each is
// a few dd runs), and the ratio. Goal: the whole command under 10 minutes on the 2-core
// machine. One run each: a run takes minutes.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/run.js calibrate-lecture
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fitProblem } from '../src/costmodel/calibration/protocol.js';
import { bbbLmbenchProblem, bbbProbeProblem } from '../src/workloads/calibrate/bbb-problem.js';
import { lectureProblem } from '../src/workloads/calibrate/lecture-problem.js';
import { bbbProfile, calibrateBbb, calibrateLecture } from '../src/workloads/calibrate/lecture.js';

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const cpu = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

export default async function main(): Promise<void> {
  const cores = availableParallelism();
  const whole = await timed(() => {
    const lm = fitProblem(bbbLmbenchProblem());
    const probe = fitProblem(bbbProbeProblem(lm.values));
    const lecture = fitProblem(lectureProblem(bbbProfile(lm, probe)));
    return lm.iterations + probe.iterations + lecture.iterations;
  });
  const all = await timed(async () => {
    const bbb = await calibrateBbb({ workers: cores });
    const lecture = await calibrateLecture(bbb.raw, { workers: cores });
    return [...bbb.fits, ...lecture.fits].reduce((a, c) => a + c.full.iterations + c.folds.reduce((b, f) => b + f.iterations, 0), 0);
  });
  console.log(`calibrate lecture: bbb (lmbench, probe effect) and lecture fits; ${cores} cores; CPU time is the whole process's, its worker threads included`);
  console.log('| run | workers | model evaluations | wall s | CPU s |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| (a) the three whole fits | 0 | ${whole.value} | ${whole.wall.toFixed(1)} | ${whole.cpu.toFixed(1)} |`);
  console.log(`| (b) with every fold | ${cores} | ${all.value} | ${all.wall.toFixed(1)} | ${all.cpu.toFixed(1)} |`);
  console.log(`b/a wall: ${(all.wall / whole.wall).toFixed(2)}; goal (b) under 600 s: ${all.wall < 600 ? 'met' : 'missed'}`);
}
