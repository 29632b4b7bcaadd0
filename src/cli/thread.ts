// The worker-thread side of `l41sim`: main() runs the commands that simulate or calibrate
// (workload, compare, calibrate) on a worker thread, so that the main thread, which alone
// receives signals, stays free to take SIGINT. It tells this thread through a shared flag,
// which runProgram polls between events and calibrate between measuring steps (a run stops
// with "interrupted at simulated time X after N events"), and through a message, which is
// re-emitted here as the process's SIGINT for any command listening for it.

import { parentPort, workerData } from 'node:worker_threads';
import { setInterruptFlag } from '../workloads/runtime.js';
import { run } from './run.js';
import { setMainThreadStderr } from './terminal.js';

export interface ThreadData {
  /** The command line, as process.argv: node, script, arguments... */
  argv: string[];
  /** [0] becomes non-zero on SIGINT. */
  interrupt: Int32Array;
  /** The main thread's stderr: this thread's is a pipe, whatever the main one is. */
  stderr: { isTTY: boolean; columns: number | undefined };
}

const data = workerData as ThreadData;
setInterruptFlag(data.interrupt);
setMainThreadStderr(data.stderr);
parentPort?.on('message', (m: unknown) => {
  if (m === 'SIGINT' && process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
});
parentPort?.unref(); // the thread ends when the command does, not when the port closes
const exitCode = await run(data.argv);
parentPort?.postMessage({ exitCode });
