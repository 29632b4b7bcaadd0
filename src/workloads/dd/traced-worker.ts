// A helper thread of ./parallel.ts: takes traced runs of dd by index until none are
// left, and sends back what each adds to the report. A run that fails sends
// nothing: the coordinating thread runs it again itself and reports the failure.

import { parentPort, workerData } from 'node:worker_threads';
import { setInterruptFlag } from '../runtime.js';
import type { TracedResult, TracedTask } from './parallel.js';
import { tracedFigures } from './report.js';

const task = workerData as TracedTask;
setInterruptFlag(task.interrupt);
for (let i = Atomics.add(task.next, 0, 1); i < task.runs.length; i = Atomics.add(task.next, 0, 1)) {
  let result: TracedResult | undefined;
  try {
    result = { index: i, figures: tracedFigures(task.op, task.base, task.runs[i]!) };
  } catch {
    result = undefined;
  }
  if (result) parentPort!.postMessage(result);
}
