// Whether stderr is a terminal, and how wide, as the process's own stderr is. A worker
// thread's process.stderr is a pipe to the main thread's, so it never reports a
// terminal; the main thread passes what it sees (ThreadData), and progress bars ask here.

interface Terminal {
  isTTY: boolean;
  columns: number | undefined;
}

let mainThreadStderr: Terminal | undefined;

/** What the main thread's stderr is (called on a worker thread, before the command runs). */
export function setMainThreadStderr(t: Terminal): void {
  mainThreadStderr = t;
}

/** What this thread should treat stderr as: its own, or the main thread's on a worker. */
export function stderrTerminal(): Terminal {
  return mainThreadStderr ?? { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns };
}
