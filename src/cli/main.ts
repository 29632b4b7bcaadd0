// The `l41sim` process: runs the command line (./run.ts), the simulating and
// calibrating commands on a worker thread (./thread.ts) so that this thread, which
// alone receives signals, stays free to take SIGINT.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { report, run, wantsDebug } from './run.js';
import { stderrTerminal } from './terminal.js';
import type { ThreadData } from './thread.js';

/**
 * Run the command line `argv` (as in process.argv: node, script, arguments...) and set
 * process.exitCode from the outcome. Never throws; calls process.exit only when stdout
 * or stderr is a closed pipe (EPIPE, e.g. `l41sim --help | head -1`).
 */
export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', quietOnEpipe);
  process.stderr.on('error', quietOnEpipe);
  const code = runsOnThread(argv.slice(2)) ? await runOnThread(argv) : await run(argv);
  // An action may have set process.exitCode itself; do not turn its failure into success.
  if (code !== 0) process.exitCode = code;
}

/** Commands whose work is long and synchronous (simulation, calibration): they run on a worker thread, so SIGINT can reach them. */
const THREADED_COMMANDS = new Set(['workload', 'compare', 'calibrate']);

/** True when the command line names a threaded command (the first word that is not an option). */
function runsOnThread(args: string[]): boolean {
  if (process.env.L41SIM_NO_THREAD === '1') return false;
  const first = args.find((a) => !a.startsWith('-') || a === '--');
  return first !== undefined && THREADED_COMMANDS.has(first);
}

/**
 * Run `argv` on a worker thread (src/cli/thread.ts) and return its exit code. A
 * simulation is synchronous and a thread running one handles no signals, so this
 * thread takes SIGINT instead: the first sets the flag the run polls between events
 * (it stops and says where it got to, exit 1); a second ends the process at once (exit 130).
 */
async function runOnThread(argv: string[]): Promise<number> {
  const entry = new URL('./thread.js', import.meta.url);
  if (!existsSync(fileURLToPath(entry))) return run(argv); // running from the TypeScript sources
  const interrupt = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(entry, { workerData: { argv, interrupt, stderr: stderrTerminal() } satisfies ThreadData });
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write('l41sim: interrupted again: stopped without waiting for the run\n');
      process.exit(130);
    }
    Atomics.store(interrupt, 0, 1);
    worker.postMessage('SIGINT');
  };
  process.on('SIGINT', onSigint);
  try {
    return await new Promise<number>((resolve) => {
      let code: number | undefined;
      worker.on('message', (m: { exitCode?: unknown }) => {
        if (typeof m?.exitCode === 'number') code = m.exitCode;
      });
      worker.on('error', (err) => {
        code = report(err, wantsDebug(argv.slice(2)));
      });
      worker.on('exit', (exitCode) => resolve(code !== undefined && code !== 0 ? code : exitCode !== 0 ? exitCode : (code ?? 1)));
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function quietOnEpipe(err: NodeJS.ErrnoException): void {
  // The reader went away (e.g. `l41sim --help | head -1`): nothing left to say.
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
}
