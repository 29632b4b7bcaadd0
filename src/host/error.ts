// How the host-measurement module fails: one line that says what could not be
// measured and why, never a stack trace. Tools' own output is cut to its first or
// last line for such messages.

/** The host cannot be measured (not Linux, missing device files, a tool that fails). One line. */
export class HostMeasureError extends Error {
  override readonly name = 'HostMeasureError';
}

/** The first line of a measuring tool's output, for a one-line message ('' for none). */
export function firstLine(text: string | null): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}

/** The last line of a tool's output (where Python puts the exception of a traceback). */
export function lastLine(text: string | null): string {
  return (text ?? '').trim().split('\n').pop() ?? '';
}
