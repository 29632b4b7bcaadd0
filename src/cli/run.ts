// The `l41sim` program: option parsing, subcommand registration and error reporting.
//
// Subcommands live in src/cli/<name>.ts, each exporting
//
//   export function register(program: Command): void
//
// which adds its command with `program.command('name')...action(async (opts) => ...)`
// (nested commands such as `workload dd` are added the same way under the command it
// creates). Actions and option parsers (`.argParser`) report bad input by throwing
// UsageError (exit 2) and failed runs by throwing RuntimeFailure (exit 1), both from
// ../errors.js; run() prints them as one line on stderr. Commander's own parse errors
// (unknown command or option, missing option value, ...) are rewritten into the same
// one-line form with exit code 2.
//
// Exit codes: 0 success (including --help and --version), 1 the run failed or an
// internal error, 2 usage error (including `l41sim` with no arguments, which prints the
// help on stderr).

import { Command, CommanderError } from 'commander';
import { packageVersion } from '../costmodel/repo.js';
import { CliError, UsageError, quote } from '../errors.js';
import { registersFor, type Register } from './commands.js';

const DESCRIPTION = [
  'Discrete-event simulator of FreeBSD system calls, traps and page faults on a',
  'modelled machine: runs dd and friends and prints what time(1) and DTrace would.',
].join('\n');

const AFTER_HELP = `
Exit status: 0 success, 1 the run failed, 2 usage error (also for \`l41sim\` with no command);
a modelled program that fails exits with its own status (io-static: 66 for a missing file).
Add --debug to any command to see stack traces of errors.`;

/**
 * Parse and run `argv` (node, script, arguments...) and return the exit code. Errors are
 * printed to stderr as `l41sim: <message>`, one line, with the stack only when
 * `--debug` is among the arguments.
 */
export async function run(argv: string[], registers?: readonly Register[]): Promise<number> {
  const debug = wantsDebug(argv.slice(2));
  try {
    const program = createProgram(registers ?? (await registersFor(argv.slice(2))));
    const args = helpTopicArgs(program, argv.slice(2));
    await program.parseAsync([...argv.slice(0, 2), ...args], { from: 'node' });
    return 0;
  } catch (err) {
    return report(err, debug);
  }
}

/**
 * Build the `l41sim` program with the given subcommands (./commands.ts has them all;
 * tests may pass their own).
 */
export function createProgram(registers: readonly Register[]): Command {
  const program = new Command('l41sim');
  program
    .description(DESCRIPTION)
    .version(packageVersion(), '-V, --version', 'print the version number and exit')
    .option('--debug', 'show stack traces of errors')
    .helpOption('-h, --help', 'print this help and exit')
    .configureHelp({ showGlobalOptions: true }) // inherited: subcommand help lists --debug
    .addHelpText('after', AFTER_HELP);

  for (const register of registers) register(program);

  // Set after registration: these settings would otherwise be copied into subcommands
  // made with program.command(). The root action sees whatever was not a subcommand.
  program
    .helpCommand(true)
    .allowExcessArguments(true)
    .allowUnknownOption(true)
    .action((_opts: unknown, cmd: Command) => rootAction(cmd));

  configureTree(program);
  return program;
}

/**
 * `l41sim [group] help <command...>`: commander prints the whole help on stderr for a
 * topic it does not know (and ignores words past a known one); refuse those in one line.
 * `help help` (and `help help help`...) asks about the help command itself, whose help is its level's: the
 * arguments come back with one `help`, so that help goes to stdout with status 0.
 */
function helpTopicArgs(program: Command, args: string[]): string[] {
  const words = args.filter((a) => a !== '--debug');
  const find = (cmd: Command, word: string) => cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
  let cmd = program;
  let i = 0;
  // The command path before `help` (commander judges anything else).
  for (; i < words.length && words[i] !== 'help'; i += 1) {
    const sub = find(cmd, words[i]!);
    if (!sub) return args;
    cmd = sub;
  }
  const topic = words.slice(i + 1);
  if (topic.length > 0 && topic.every((w) => w === 'help')) {
    const first = args.indexOf('help');
    return args.filter((a, j) => a !== 'help' || j === first);
  }
  for (const word of topic) {
    if (word.startsWith('-') || word === 'help') return args; // options, or help past a topic: commander's to judge
    const sub = find(cmd, word);
    if (!sub) throw unknownCommand(cmd, word);
    cmd = sub;
  }
  return args;
}

/** Reached when no subcommand matched: no arguments, an unknown command or an unknown option. */
function rootAction(cmd: Command): void {
  const first = cmd.args[0];
  if (first === undefined) {
    cmd.outputHelp({ error: true });
    throw new Exit(2);
  }
  if (first.startsWith('-') && first !== '-') {
    throw unknownOption(cmd, first);
  }
  throw unknownCommand(cmd, first);
}

/** Apply the output and exit handling to every command, however it was created. */
function configureTree(cmd: Command): void {
  cmd.configureOutput({
    writeOut: (str) => process.stdout.write(str),
    writeErr: (str) => process.stderr.write(str),
    outputError: () => {
      // Commander's messages are rewritten and printed by report().
    },
  });
  cmd.exitOverride((err) => {
    throw translate(cmd, err);
  });
  for (const sub of cmd.commands) configureTree(sub);
}

/** A request to end with an exit code after commander already printed what it had to. */
class Exit extends Error {
  /** `line`, if given, is printed as `l41sim: <line>`. */
  constructor(readonly exitCode: number, readonly line?: string) {
    super(line ?? `exit ${exitCode}`);
  }
}

/** Turn a CommanderError raised while parsing for `cmd` into an Exit or a UsageError. */
function translate(cmd: Command, err: CommanderError): Error {
  const text = err.message.replace(/^error: /, '');
  const path = commandPath(cmd);
  const forCmd = path === '' ? '' : ` for '${path}'`;
  const seeHelp = `see 'l41sim${path === '' ? '' : ` ${path}`} --help'`;
  let m: RegExpExecArray | null;
  switch (err.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return new Exit(0);
    case 'commander.help':
      // `l41sim <group>` without its subcommand: the help went to stderr.
      return new Exit(err.exitCode === 0 ? 0 : 2);
    case 'commander.unknownCommand':
      return unknownCommand(cmd, cmd.args[0] ?? '');
    case 'commander.unknownOption':
      if ((m = /^unknown option '(.*?)'(?:\s*\(Did you mean .*\?\))?$/s.exec(text))) {
        return unknownOption(cmd, m[1] ?? '');
      }
      break;
    case 'commander.optionMissingArgument':
      if ((m = /^option '(.*)' argument missing$/s.exec(text))) {
        const flags = m[1] ?? '';
        return new UsageError(longFlag(flags), 'needs a value', `'${flags}'; ${seeHelp}`);
      }
      break;
    case 'commander.missingMandatoryOptionValue': {
      // Commander checks required options before unknown ones; `--bz 1` for `--bs 1`
      // is better reported as the unknown option it is.
      const stray = cmd.args.find((a) => a.startsWith('-') && a !== '-' && a !== '--');
      if (stray !== undefined) return unknownOption(cmd, stray);
      if ((m = /^required option '(.*)' not specified$/s.exec(text))) {
        const flags = m[1] ?? '';
        return new UsageError(longFlag(flags), 'required option not given', `'${flags}'; ${seeHelp}`);
      }
      break;
    }
    case 'commander.missingArgument':
      if ((m = /^missing required argument '(.*)'$/s.exec(text))) {
        return new UsageError(m[1] ?? '', `missing required argument${forCmd}`, `'l41sim ${path} ${cmd.usage()}'`);
      }
      break;
    case 'commander.excessArguments': {
      const extra = cmd.args.slice(cmd.registeredArguments.length).map((a) => quote(a));
      return new UsageError('', `unexpected argument${extra.length === 1 ? '' : 's'} ${extra.join(' ')}${forCmd}`,
        `'l41sim ${path} ${cmd.usage()}'; ${seeHelp}`);
    }
    case 'commander.invalidArgument':
      if ((m = /^option '(.*?)' argument '(.*)' is invalid\.\s*(.*)$/s.exec(text))) {
        return invalidValue(longFlag(m[1] ?? ''), m[2] ?? '', m[3] ?? '');
      }
      if ((m = /^command-argument value '(.*)' is invalid for argument '(.*?)'\.\s*(.*)$/s.exec(text))) {
        return invalidValue(m[2] ?? '', m[1] ?? '', m[3] ?? '');
      }
      break;
    case 'commander.conflictingOption':
      if ((m = /^(?:option|environment variable) '(.*?)' cannot be used with (?:option|environment variable) '(.*?)'$/s.exec(text))) {
        return new UsageError(longFlag(m[1] ?? ''), `cannot be used with ${longFlag(m[2] ?? '')}`, 'only one of them');
      }
      break;
    case 'commander.error':
      // cmd.error() called by a subcommand: keep its message and exit code.
      return new Exit(err.exitCode, oneLine(text));
  }
  return new UsageError('', `${oneLine(text)}${forCmd}`, undefined);
}

function unknownCommand(cmd: Command, name: string): UsageError {
  const path = commandPath(cmd);
  const names = cmd.createHelp().visibleCommands(cmd).map((c) => c.name());
  const forCmd = path === '' ? '' : ` for '${path}'`;
  if (names.every((n) => n === 'help')) {
    return new UsageError('', `unknown command ${quote(name)}${forCmd} (there are no commands yet); see 'l41sim --help'`);
  }
  return new UsageError('', `unknown command ${quote(name)}${forCmd}${didYouMean(name, names)}`, `one of: ${names.join(', ')}`);
}

/** `unknown option '--bz' for 'workload dd' (did you mean --bs?); see 'l41sim workload dd --help'` */
function unknownOption(cmd: Command, arg: string): UsageError {
  const flag = arg.startsWith('--') ? arg.replace(/=.*$/s, '') : arg;
  const path = commandPath(cmd);
  const forCmd = path === '' ? '' : ` for '${path}'`;
  const known: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) {
    for (const o of c.createHelp().visibleOptions(c)) if (o.long !== undefined) known.push(o.long);
  }
  const hint = known.includes(flag) ? ` (${flag} takes no value)` : flag.startsWith('--') ? didYouMean(flag, known) : '';
  return new UsageError('', `unknown option ${quote(arg)}${forCmd}${hint}; see 'l41sim${path === '' ? '' : ` ${path}`} --help'`);
}

/** ` (did you mean --bs?)` when exactly one candidate is within edit distance 2 (1 for short words). */
function didYouMean(word: string, candidates: readonly string[]): string {
  const bare = word.replace(/^-+/, '');
  const limit = bare.length <= 3 ? 1 : 2;
  const close = [...new Set(candidates)].filter((c) => editDistance(bare, c.replace(/^-+/, '')) <= limit);
  return close.length === 1 ? ` (did you mean ${close[0]}?)` : '';
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 99;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 99;
  for (let i = 1; i <= a.length; i += 1) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      row[j] = v;
    }
  }
  return at(a.length, b.length);
}

function invalidValue(field: string, value: string, reason: string): UsageError {
  const choices = /^Allowed choices are (.*)\.$/s.exec(reason);
  if (choices) return new UsageError(field, `${quote(value)} is not accepted`, `one of: ${choices[1] ?? ''}`);
  return new UsageError(field, `${quote(value)} is invalid${reason === '' ? '' : ` (${oneLine(reason)})`}`);
}

/** `workload dd` for the dd command under workload; '' for the program itself. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null && c.parent !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `--bs` from `-b, --bs <size>`. */
function longFlag(flags: string): string {
  const long = /--[^\s,|<[]+/.exec(flags);
  if (long) return long[0];
  const short = /-[^\s,|<[]+/.exec(flags);
  return short ? short[0] : flags;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** True if `--debug` appears among the arguments (before any `--`). */
export function wantsDebug(args: string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--debug') return true;
  }
  return false;
}

/** Print `err` as the user should see it and return the exit code. */
export function report(err: unknown, debug: boolean): number {
  if (err instanceof Exit) {
    if (err.line !== undefined) printError(err.line, debug ? err.stack : undefined);
    return err.exitCode;
  }
  if (err instanceof CliError) {
    printError(oneLine(err.message), debug ? stackOf(err) : undefined);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (debug) {
    printError(`internal error: ${oneLine(message)}`, stackOf(err));
  } else {
    printError(`internal error: ${oneLine(message)} (a bug in l41sim; rerun with --debug for the stack trace)`);
  }
  return 1;
}

function printError(line: string, stack?: string): void {
  process.stderr.write(`l41sim: ${line}\n`);
  if (stack !== undefined) process.stderr.write(`${stack}\n`);
}

/** The stack of an error and of its causes. */
function stackOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 5; depth += 1) {
    parts.push(e instanceof Error ? (e.stack ?? String(e)) : String(e));
    e = e instanceof Error ? e.cause : undefined;
    if (e !== undefined) parts.push('caused by:');
  }
  return parts.join('\n');
}
