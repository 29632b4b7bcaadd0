// Errors the `l41sim` command reports to its user.
//
// Any code (the CLI, and the parsers and validators it calls, such as parseDdSize or
// the profile schema) reports a problem with what the user asked for by throwing one
// of these; src/cli/run.ts catches it, prints `l41sim: <message>` as one line on stderr (plus the stack when
// `--debug` was given) and exits with the error's exit code:
//
//   UsageError      exit 2   the command line, a config or a profile is wrong
//   RuntimeFailure  exit 1   the run itself failed (an output file could not be written,
//                            the run was interrupted or outgrew its bounds)
//   ProgramFailed   its own  the modelled program failed as the real one would (dd: 1,
//                            io-static: 66 for a file it cannot open): l41sim exits with
//                            the program's status, as time(1) does
//
// Any other exception is a bug in l41sim and is reported as an internal error (exit 1).
// Messages follow DESIGN.md: `<field>: <what is wrong>; expected <what is accepted>`,
// where the field is the option (`--bs`), JSON path (`sweep.points[2].bs`) or file
// that is wrong.

/** Base class of the errors main() reports without a stack trace. */
export abstract class CliError extends Error {
  /** Process exit code main() uses for this error. */
  abstract readonly exitCode: number;
  /** The option, JSON path or file at fault; '' when the message names no field. */
  readonly field: string;
  /** What is wrong, e.g. `'10q' is not a size`. */
  readonly problem: string;
  /** What would have been accepted, e.g. `a number with an optional b/k/m/g/w suffix`. */
  readonly expected: string | undefined;

  /**
   * Build `<field>: <problem>; expected <expected>`. An empty `field` drops the prefix
   * and an omitted `expected` drops the suffix. `cause` (an OS error, say) is kept for
   * `--debug` but never printed otherwise.
   */
  constructor(field: string, problem: string, expected?: string, options?: { cause?: unknown }) {
    const head = field === '' ? problem : `${field}: ${problem}`;
    super(expected === undefined ? head : `${head}; expected ${expected}`, options);
    this.field = field;
    this.problem = problem;
    this.expected = expected;
  }
}

/** The user asked for something l41sim does not accept (exit code 2). */
export class UsageError extends CliError {
  override readonly exitCode = 2;
  override readonly name = 'UsageError';
}

/** A JSON document (a profile, a sweep config) failed validation: a usage error (exit 2) whose field is the JSON path at fault. */
export class ValidationError extends UsageError {
  get path(): string {
    return this.field;
  }
}

/** A valid request failed while running or writing its results (exit code 1). */
export class RuntimeFailure extends CliError {
  override readonly exitCode = 1;
  override readonly name = 'RuntimeFailure';
}

/** The modelled program ran and failed: its status becomes l41sim's, its error output the message. */
export class ProgramFailed extends CliError {
  override readonly name = 'ProgramFailed';

  constructor(
    program: string,
    /** The program's exit status (1..255). */
    readonly exitCode: number,
    stderr: readonly string[],
  ) {
    super(program, `the modelled ${program} exited with status ${exitCode}: ${stderr.join('; ')}`);
  }
}

/**
 * Quote a user-supplied value for an error message: `'10q'`. Control characters are
 * escaped (so the message stays on one line) and long values are shortened.
 */
export function quote(value: string, maxLength = 60): string {
  let shown = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  shown = shown.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\\']/gu, (c) => {
    if (c === '\\') return '\\\\';
    if (c === "'") return "\\'";
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `'${shown}'`;
}
