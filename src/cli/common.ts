// Options shared by the commands that run a workload: the profile, the seed, the
// hooks switched on or off, and bounds. Parsed and checked here, once.

import { Command, Option } from 'commander';
import { listProfileNames, type Profile } from '../costmodel/profile.js';
import { RuntimeFailure, UsageError, quote } from '../errors.js';
import { FEATURE_NAMES, isFeature, type Feature } from '../kernel/features.js';
import { profileFeatures } from '../kernel/hooks.js';
import { mergeFiles, type FileDecl } from '../kernel/vfs.js';
import { parseFileDecl } from '../workloads/files.js';
import { HOST, loadProfileFor } from '../workloads/host-profile.js';
import { interruptRequested } from '../workloads/runtime.js';
import { CLI_MAX_EVENTS } from './bounds.js';

export interface RunOptionValues {
  profile: string;
  seed: string;
  enable?: string;
  disable?: string;
  coldCache?: boolean;
  maxEvents?: number;
  exact?: boolean;
  json?: boolean;
  /** --file, once per data file: PATH:SIZE. */
  file?: string[];
  allowStaleHost?: boolean;
}

export const DEFAULT_SEED = '1';

export function addRunOptions(cmd: Command): Command {
  cmd
    .option('--profile <name>', `machine profile: ${profileChoices()} (see 'l41sim profiles')`, 'lecture')
    .option('--allow-stale-host', ALLOW_STALE_HOST)
    .addOption(new Option('--seed <seed>', 'run seed: the same seed gives the same output, byte for byte').argParser(parseSeed).default(DEFAULT_SEED))
    .option('--enable <hooks>', `switch hooks on, comma-separated: ${FEATURE_NAMES.join(', ')}`)
    .option('--disable <hooks>', "switch hooks off (e.g. the profile's witness or invariants)")
    .option('--cold-cache', 'start with every cache line invalid')
    .addOption(fileOption())
    .addOption(new Option('--max-events <n>', 'refuse runs estimated to need more simulated events than this').argParser(parseCount('--max-events')).default(CLI_MAX_EVENTS));
  addExactOption(cmd);
  return cmd.option('--json', 'print one JSON object instead of tables');
}

/** --exact: no steady-state fast-forward (kernel/steady/fast-forward.ts). */
export function addExactOption(cmd: Command): Command {
  return cmd.option('--exact', "simulate every iteration of the workload's loop instead of fast-forwarding those that repeat exactly (the same results, bit for bit, only slower)");
}

/** --file PATH:SIZE, repeatable: a data file on the modelled machine besides the profile's (the same path replaces the profile's). */
export function fileOption(): Option {
  return new Option('--file <path:size>', "a data file on the modelled machine, its pages cached, such as /data/iofile:16m (repeatable; the same path replaces the profile's)").argParser(
    (text: string, previous: string[] | undefined) => [...(previous ?? []), text],
  );
}

/** The data files of --file. */
export function parseFiles(texts: readonly string[] | undefined): FileDecl[] {
  return mergeFiles((texts ?? []).map((t) => parseFileDecl('--file', t)));
}

/** The profile names an option accepts, for help text: the files, and `host` for this machine's. */
export function profileChoices(): string {
  return [...listProfileNames(), HOST].join(', ');
}

export const ALLOW_STALE_HOST = "with --profile host: use the nearest host profile even when it was measured on another machine (a warning on stderr says what differs)";

/** Load a profile by name (`host`: this machine's), printing the warning a stale host profile brings. */
export function loadProfileOption(name: string, allowStaleHost: boolean | undefined, field = '--profile'): Profile {
  const { profile, warning } = loadProfileFor(name, { allowStaleHost: allowStaleHost ?? false, field });
  if (warning) process.stderr.write(`l41sim: warning: ${warning}\n`);
  return profile;
}

export function parseCount(field: string): (text: string) => number {
  return (text: string) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(field, `${quote(text)} is not a positive whole number`, 'a count such as 1000000');
    return n;
  };
}

/** --workers: a number of worker threads. */
export function parseWorkers(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 256) throw new UsageError('--workers', `'${text}' is not a worker count`, 'a whole number from 1 to 256');
  return n;
}

/** A host file or directory path given as an option: not empty (which would mean the working directory). */
export function parsePath(field: string): (text: string) => string {
  return (text: string) => {
    if (text.trim() === '' || text.includes('\u0000')) throw new UsageError(field, `${quote(text)} is not a path`, 'a file or directory path');
    return text;
  };
}

/** A run seed: any text of 1 to 200 printable characters (it is shown in reports and recorded with results). */
export function parseSeed(text: string): string {
  if (text === '' || text.length > 200 || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new UsageError('--seed', `${quote(text)} is not a seed`, 'a word of 1 to 200 printable characters, such as 1 or lecture-a');
  }
  return text;
}

export function parseFeatureList(field: string, text: string | undefined): Feature[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((name) => {
    const f = name.trim();
    if (!isFeature(f)) throw new UsageError(field, `${quote(f)} is not a hook`, `a comma-separated list of ${FEATURE_NAMES.join(', ')}`);
    return f;
  });
}

export interface ResolvedRun {
  profile: Profile;
  seed: string;
  features: Set<Feature>;
  /** Simulate every loop iteration (no fast-forward). */
  exact: boolean;
  /** Data files besides the profile's (--file). */
  files: FileDecl[];
}

/** The profile, seed and hooks a run uses: the profile's kernel options, plus --enable, minus --disable. */
export function resolveRun(opts: RunOptionValues): ResolvedRun {
  const profile = loadProfileOption(opts.profile, opts.allowStaleHost);
  const features = profileFeatures(profile);
  for (const f of parseFeatureList('--enable', opts.enable)) features.add(f);
  for (const f of parseFeatureList('--disable', opts.disable)) features.delete(f);
  return { profile, seed: opts.seed, features, files: parseFiles(opts.file), exact: opts.exact ?? false };
}

/**
 * What a command that writes only at its end reports when SIGINT stopped it: one line
 * saying so, whatever the interrupted step threw (a model run stopping, a measuring
 * child killed by the same SIGINT); otherwise the error itself.
 */
export function interruptedOr(e: unknown, command: string): unknown {
  return interruptRequested() ? new RuntimeFailure('', `${command} interrupted; nothing was written`, undefined, { cause: e }) : e;
}

/** Throw the interruption now if SIGINT has come (for work between model runs: measuring, fitting). */
export function stopIfInterrupted(command: string): void {
  if (interruptRequested()) throw interruptedOr(undefined, command);
}
