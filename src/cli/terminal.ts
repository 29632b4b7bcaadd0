// stderr as a terminal: whether it is one and how wide, and the progress bar drawn on it.
// A worker thread's process.stderr is a pipe to the main thread's, so it never reports a
// terminal; the main thread passes what it sees (ThreadData), and the bar asks here.

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

/**
 * A progress bar on stderr when it is a terminal, nothing otherwise: `[####......] text`,
 * redrawn in place when it changes and cut to the terminal's width. done() clears it, or
 * with `keep` leaves its last line standing.
 */
export function progressBar(): { draw(fraction: number, text: string): void; done(keep?: boolean): void } {
  const terminal = stderrTerminal();
  let last = '';
  return {
    draw(fraction, text) {
      if (!terminal.isTTY) return;
      const width = 30;
      const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`.slice(0, (terminal.columns || 80) - 1); // a pty may say 0 columns: unknown
      if (line !== last) process.stderr.write(`\r${line}\x1b[K`);
      last = line;
    },
    done(keep = false) {
      if (last !== '') process.stderr.write(keep ? '\n' : '\r\x1b[K');
      last = '';
    },
  };
}
