// `l41sim compare dd|io-static ...`: run one workload twice, a baseline (the
// profile's kernel options, or --baseline-enable/--baseline-disable) and a variant
// (the baseline plus --enable, minus --disable, maybe on --variant-profile or with
// --variant-cold-cache), and print per-syscall and per-step times with the
// difference, absolute and relative, and the fast-path story (--json for data).

import { Command, Option } from 'commander';
import type { Profile } from '../costmodel/profile.js';
import { ProgramFailed, UsageError } from '../errors.js';
import { FEATURE_NAMES, type Feature } from '../kernel/features.js';
import { compareRuns, formatCompare, type Side } from '../workloads/compare.js';
import { parseOperands } from '../workloads/dd/operands.js';
import { ddCommand } from '../workloads/dd/report.js';
import { runDd } from '../workloads/dd/run.js';
import { profileFeatures } from '../kernel/hooks.js';
import { runIoStatic } from '../workloads/io-static.js';
import { ioStaticCommand } from '../workloads/iostatic/options.js';
import { checkBound, CLI_MAX_EVENTS, ddEstimate, ioStaticEstimate } from './bounds.js';
import type { FileDecl } from '../kernel/vfs.js';
import { ALLOW_STALE_HOST, DEFAULT_SEED, addExactOption, fileOption, loadProfileOption, parseCount, parseFeatureList, parseFiles, parseSeed, profileChoices } from './common.js';
import { addDdOperandOptions, type DdOperandValues } from './workload-dd.js';
import { addIoStaticFlags, checkIoStaticProfile, ioStaticFromFlags, type IoStaticOptionValues } from './workload-io-static.js';

interface CompareOptionValues {
  profile: string;
  seed: string;
  enable?: string;
  disable?: string;
  baselineEnable?: string;
  baselineDisable?: string;
  coldCache?: boolean;
  variantProfile?: string;
  variantColdCache?: boolean;
  maxEvents: number;
  exact?: boolean;
  json?: boolean;
  file?: string[];
  allowStaleHost?: boolean;
}

interface SideSpec {
  profile: Profile;
  features: Set<Feature>;
  coldCache: boolean;
  /** Data files besides the profile's (--file: both runs). */
  files: FileDecl[];
}

function addCompareOptions(cmd: Command): Command {
  const hooks = FEATURE_NAMES.join(', ');
  cmd
    .option('--profile <name>', `machine profile of both runs: ${profileChoices()}`, 'lecture')
    .option('--allow-stale-host', ALLOW_STALE_HOST)
    .addOption(new Option('--seed <seed>', 'run seed of both runs').argParser(parseSeed).default(DEFAULT_SEED))
    .option('--enable <hooks>', `the variant: switch these hooks on (comma-separated: ${hooks})`)
    .option('--disable <hooks>', 'the variant: switch these hooks off')
    .option('--baseline-enable <hooks>', "the baseline: hooks on besides the profile's kernel options")
    .option('--baseline-disable <hooks>', "the baseline: the profile's kernel options to switch off (e.g. witness,invariants)")
    .option('--variant-profile <name>', 'the variant runs on this profile')
    .option('--cold-cache', 'both runs start cold')
    .option('--variant-cold-cache', 'the variant starts cold (every cache line invalid, files not in the buffer cache)')
    .addOption(fileOption())
    .addOption(new Option('--max-events <n>', 'refuse runs estimated to need more simulated events than this').argParser(parseCount('--max-events')).default(CLI_MAX_EVENTS))
    .option('--json', 'print one JSON object instead of tables');
  return addExactOption(cmd);
}

function sides(opts: CompareOptionValues): { base: SideSpec; variant: SideSpec } {
  const profile = loadProfileOption(opts.profile, opts.allowStaleHost);
  const baseFeatures = profileFeatures(profile);
  for (const f of parseFeatureList('--baseline-enable', opts.baselineEnable)) baseFeatures.add(f);
  for (const f of parseFeatureList('--baseline-disable', opts.baselineDisable)) baseFeatures.delete(f);
  const variantProfile = opts.variantProfile === undefined ? profile : loadProfileOption(opts.variantProfile, opts.allowStaleHost, '--variant-profile');
  if (variantProfile.kernel !== profile.kernel) {
    throw new UsageError('--variant-profile', `profile '${variantProfile.name}' runs the ${variantProfile.kernel} kernel path and '${profile.name}' the ${profile.kernel} one`, 'a profile with the same kernel, so steps compare');
  }
  const variantFeatures = new Set(baseFeatures);
  // A variant profile brings its own kernel options in place of the baseline profile's.
  if (variantProfile !== profile) {
    for (const f of profileFeatures(profile)) variantFeatures.delete(f);
    for (const f of profileFeatures(variantProfile)) variantFeatures.add(f);
  }
  for (const f of parseFeatureList('--enable', opts.enable)) variantFeatures.add(f);
  for (const f of parseFeatureList('--disable', opts.disable)) variantFeatures.delete(f);
  const cold = opts.coldCache ?? false;
  const files = parseFiles(opts.file);
  return {
    base: { profile, features: baseFeatures, coldCache: cold, files },
    variant: { profile: variantProfile, features: variantFeatures, coldCache: cold || (opts.variantColdCache ?? false), files },
  };
}

function summary(s: SideSpec, headline: Record<string, number>): Side['summary'] {
  return { profile: s.profile.name, features: [...s.features].sort(), cold_cache: s.coldCache, headline };
}

function print(report: ReturnType<typeof compareRuns>, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatCompare(report));
}

export function register(program: Command): void {
  const compare = program
    .command('compare')
    .description('run a workload twice, baseline and variant (hooks, profile, cold cache), and show per-syscall and per-step differences')
    .addHelpText('after', "\nThe per-syscall and per-step figures cover the whole process (start-up included); the headline figures are the workload's own (io-static: its timed loop). Clock interrupts are measured and left out of the per-call times.");

  const dd = compare.command('dd').description("compare two runs of dd (default: the lecture's dd, bs=10m count=1)");
  addDdOperandOptions(dd);
  addCompareOptions(dd);
  dd.addHelpText('after', '\nExample: l41sim compare dd --bs 64k --count 100 --enable audit');
  dd.action((opts: CompareOptionValues & DdOperandValues) => {
    const op = parseOperands({ ...opts, bs: opts.bs ?? (opts.ibs === undefined && opts.obs === undefined ? '10m' : undefined) });
    const { base, variant } = sides(opts);
    checkBound({ ...ddEstimate(op, { ...base, seed: opts.seed, exact: opts.exact }, [[], []]), what: 'runs of dd (baseline and variant)' }, opts.maxEvents, '--count', 'fewer blocks');
    const run = (s: SideSpec) => {
      const r = runDd(op, { profile: s.profile, seed: opts.seed, features: s.features, scripts: [], coldCaches: s.coldCache, maxEvents: opts.maxEvents, files: s.files, exact: opts.exact });
      if (r.exitStatus !== 0) throw new ProgramFailed('dd', r.exitStatus, r.stderr);
      return { ledger: r.kernel.steps, summary: summary(s, { elapsed_s: r.time.elapsed_s, system_s: r.time.system_s, syscall_time_ns: r.syscalls.time_ns }) };
    };
    print(compareRuns({ workload: 'dd', command: ddCommand(op, base.profile.userland.dd), seed: opts.seed, kernel: base.profile.kernel }, run(base), run(variant)), opts.json);
  });

  const io = compare.command('io-static').description('compare two runs of io-static (its own flags, then the path)').argument('<path>', 'file or device');
  addIoStaticFlags(io);
  addCompareOptions(io);
  io.addHelpText('after', '\nExample: l41sim compare io-static -r -b 4k --profile bbb --enable ktrace /dev/zero');
  io.action((path: string, opts: CompareOptionValues & IoStaticOptionValues) => {
    const o = ioStaticFromFlags(opts, path);
    const { base, variant } = sides(opts);
    checkIoStaticProfile(o, base.profile, base.coldCache, '--profile');
    checkIoStaticProfile(o, variant.profile, variant.coldCache, '--variant-profile');
    checkBound({ ...ioStaticEstimate(o, { ...base, seed: opts.seed, exact: opts.exact }, 2), what: 'runs of io-static (baseline and variant)' }, opts.maxEvents, '-b', 'a larger buffer or a smaller total');
    const run = (s: SideSpec): Side => {
      const r = runIoStatic({ ...o, quiet: true }, { profile: s.profile, seed: opts.seed, features: s.features, coldCache: s.coldCache, maxEvents: opts.maxEvents, files: s.files, exact: opts.exact });
      const rep = r.report;
      if (rep.exit_status !== 0) throw new ProgramFailed('io-static', rep.exit_status, rep.stderr);
      return { ledger: r.kernel.steps, summary: summary(s, { bandwidth_kib_s: rep.bandwidth_kib_s, time_ns: rep.time_ns }) };
    };
    print(compareRuns({ workload: 'io-static', command: ioStaticCommand(o), seed: opts.seed, kernel: base.profile.kernel }, run(base), run(variant)), opts.json);
  });
}
