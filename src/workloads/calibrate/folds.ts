// Runs a calibration (../../costmodel/calibration/protocol.ts) with its whole fit and its
// leave-one-out folds spread over worker threads. Each thread builds the problem itself
// from a ProblemRef (the compiled module, the name of a function that returns the problem,
// and that function's JSON arguments), so the problem must be the same wherever it is
// built. The result does not depend on the number of threads: every fit is a pure function
// of its problem and its left-out row, and they are assembled by row, not by finishing order.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { assemble, calibrate, checkProblem, fitRowsOf, type Calibration, type CalibrateOptions, type Evaluation, type FitOutcome, type FitProblem } from '../../costmodel/calibration/protocol.js';
import { repoPath } from '../../costmodel/repo.js';
import { currentInterruptFlag } from '../runtime.js';

/** How a worker thread builds the same problem: module (a compiled .js path), factory, arguments. */
export interface ProblemRef {
  module: string;
  factory: string;
  args: unknown[];
}

/** One fit for a worker thread (./fold-worker.ts): the problem, and the fit row left out (null for the whole fit). */
export interface FoldTask {
  ref: ProblemRef;
  excluded: string | null;
  interrupt: Int32Array | undefined;
}

export interface ParallelOptions extends CalibrateOptions {
  /** Worker threads; 0 runs everything on this thread. Default: one per core. */
  workers?: number;
}

/** The compiled fold worker, which the pool's threads load. */
export function foldWorkerPath(): string {
  return repoPath('dist', 'src', 'workloads', 'calibrate', 'fold-worker.js');
}

/** The compiled module of a source module of this package, for a ProblemRef. */
export function compiledModule(...parts: string[]): string {
  return repoPath('dist', 'src', ...parts);
}

export function defaultCalibrationWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** The whole fit and every fold, on `workers` threads (or on this one). */
export async function calibrateParallel<C, E extends Evaluation>(problem: FitProblem<C, E>, ref: ProblemRef, opts: ParallelOptions = {}): Promise<Calibration<C, E>> {
  const workers = opts.workers ?? defaultCalibrationWorkers();
  if (workers === 0) return calibrate(problem, opts);
  checkProblem(problem);
  const filename = foldWorkerPath();
  if (!existsSync(filename) || !existsSync(ref.module)) throw new Error(`the compiled calibration worker (${filename}, ${ref.module}) is missing: build l41sim first ('npx tsc -p tsconfig.json')`);
  const excluded: (string | null)[] = [null, ...fitRowsOf(problem).map((r) => r.id)];
  const { Tinypool } = await import('tinypool');
  const threads = Math.min(workers, excluded.length);
  const pool = new Tinypool({ filename, minThreads: threads, maxThreads: threads, isolateWorkers: false, idleTimeout: 1000 });
  const interrupt = currentInterruptFlag();
  let done = 0;
  try {
    const outcomes = await Promise.all(
      excluded.map((id) => {
        const task: FoldTask = { ref, excluded: id, interrupt };
        return (pool.run(task) as Promise<FitOutcome<C, E>>).then((o) => {
          opts.onProgress?.(++done, excluded.length, `${problem.name}: ${id === null ? 'fit' : `without ${id}`}`);
          return o;
        });
      }),
    );
    return assemble(problem, outcomes[0]!, outcomes.slice(1));
  } catch (e) {
    pool.cancelPendingTasks();
    throw e;
  } finally {
    await pool.destroy();
  }
}
