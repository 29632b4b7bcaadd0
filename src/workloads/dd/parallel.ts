// A dd report's runs in parallel: the untraced run on this thread, the traced runs
// (one per D script, ./report.ts) shared between this thread and helper threads,
// one per spare core. Each run is a pure function of its inputs, so the report is
// the same as ddReport()'s, byte for byte, whichever thread ran what.
//
// The runs are handed out through a shared counter that each thread takes the next
// index from: this thread, busy with a synchronous run, needs no event loop to keep
// the helpers fed. A helper that fails leaves its run to this thread, which runs it
// again and so reports the failure (an interrupt, a bound) as a sequential run would.

import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { currentInterruptFlag } from '../runtime.js';
import type { DdOperands } from './operands.js';
import { addTraced, ddReport, runBase, tracedFigures, tracedRuns, untracedReport, type DdReport, type ReportSpec, type RunBase, type TracedFigures, type TracedRun } from './report.js';
import type { DdRun } from './run.js';

/** What a helper thread is given. */
export interface TracedTask {
  op: DdOperands;
  base: RunBase;
  runs: TracedRun[];
  /** [0]: the index of the next run to take (Atomics.add). */
  next: Int32Array;
  interrupt: Int32Array | undefined;
}

/** What a helper thread sends back for each run it made. */
export interface TracedResult {
  index: number;
  figures: TracedFigures;
}

/** The compiled helper (absent when running from the TypeScript sources). */
const HELPER = new URL('./traced-worker.js', import.meta.url);

/** ddReport(), with the traced runs spread over `helpers` more threads (by default one per spare core). */
export async function ddReportParallel(op: DdOperands, spec: ReportSpec, helpers = availableParallelism() - 1): Promise<{ report: DdReport; untraced: DdRun }> {
  const runs = tracedRuns(spec);
  const threads = Math.min(helpers, runs.length);
  if (threads < 1 || !existsSync(fileURLToPath(HELPER))) return ddReport(op, spec);
  const base = runBase(spec);
  const task: TracedTask = { op, base, runs, next: new Int32Array(new SharedArrayBuffer(4)), interrupt: currentInterruptFlag() };
  const figures: (TracedFigures | undefined)[] = runs.map(() => undefined);
  const workers = Array.from({ length: threads }, () => new Worker(HELPER, { workerData: task }));
  const finished = workers.map(
    (w) =>
      new Promise<void>((resolve) => {
        w.on('message', (r: TracedResult) => (figures[r.index] = r.figures));
        w.on('error', () => resolve());
        w.on('exit', () => resolve());
      }),
  );
  try {
    const { report, untraced } = untracedReport(op, spec);
    if (untraced.exitStatus !== 0) return { report, untraced }; // no traced runs, as ddReport
    for (let i = Atomics.add(task.next, 0, 1); i < runs.length; i = Atomics.add(task.next, 0, 1)) figures[i] = tracedFigures(op, base, runs[i]!);
    await Promise.all(finished);
    runs.forEach((traced, i) => addTraced(report, figures[i] ?? tracedFigures(op, base, traced)));
    return { report, untraced };
  } finally {
    Atomics.store(task.next, 0, runs.length); // a helper still starting takes nothing
    for (const w of workers) void w.terminate();
  }
}
