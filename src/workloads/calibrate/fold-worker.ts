// The calibration folds' worker-thread entry (loaded by tinypool from dist/): builds the
// problem from its module and fits it on all fit rows, or with one left out.

import { pathToFileURL } from 'node:url';
import { fitProblem, type FitOutcome, type FitProblem } from '../../costmodel/calibration/protocol.js';
import { setInterruptFlag } from '../runtime.js';
import type { FoldTask } from './folds.js';

const built = new Map<string, FitProblem<any, any>>();

export default async function runFold(task: FoldTask): Promise<FitOutcome<any, any>> {
  setInterruptFlag(task.interrupt);
  const key = JSON.stringify(task.ref);
  let problem = built.get(key);
  if (!problem) {
    const mod = (await import(pathToFileURL(task.ref.module).href)) as Record<string, (...args: unknown[]) => FitProblem<any, any>>;
    const factory = mod[task.ref.factory];
    if (typeof factory !== 'function') throw new Error(`${task.ref.module} has no problem factory '${task.ref.factory}'`);
    built.set(key, (problem = factory(...task.ref.args)));
  }
  return fitProblem(problem, task.excluded);
}
