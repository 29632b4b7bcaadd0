// `l41sim workload fastpath`: the lecture's "making nothing fast", measured. A null
// system call with every hook off, split into entry/exit, the guards and the body,
// warm and right after a 10 MiB copy; --enable switches hooks on, --each measures
// each hook alone and shows where its cost lands.

import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { FEATURE_NAMES } from '../kernel/features.js';
import { checkFeatures, FEATURE_KERNELS, FeatureError } from '../kernel/hooks.js';
import { MAX_SIM_TIME, PS_PER_US, formatTime } from '../events/index.js';
import { SCRIPT_NAMES } from '../kernel/dtrace/scripts.js';
import { fastpathReport, formatFastpath } from '../workloads/fastpath.js';
import { parseDdSize } from '../workloads/ddsize.js';
import { checkBound, CLI_MAX_EVENTS } from './bounds.js';
import { ALLOW_STALE_HOST, DEFAULT_SEED, fileOption, loadProfileOption, parseCount, parseFeatureList, parseFiles, parseSeed } from './common.js';

interface FastpathOptionValues {
  profile: string;
  seed: string;
  enable?: string;
  trace?: string;
  calls: number;
  copy: string;
  coldCalls: number;
  gapUs?: number;
  each?: boolean;
  maxEvents: number;
  json?: boolean;
  file?: string[];
  allowStaleHost?: boolean;
}

export function registerFastpath(workload: Command): void {
  workload
    .command('fastpath')
    .description('a null syscall (getppid) with every hook off: entry/exit, guards and body, warm and after a 10 MiB copy')
    .option('--profile <name>', "machine profile (see 'l41sim profiles')", 'lecture')
    .option('--allow-stale-host', ALLOW_STALE_HOST)
    .addOption(new Option('--seed <seed>', 'run seed: the same seed gives the same output, byte for byte').argParser(parseSeed).default(DEFAULT_SEED))
    .option('--enable <hooks>', 'switch hooks on for the measurement, comma-separated (default: none, the fast path)')
    .option('--trace <scripts>', `DTrace scripts running during the measurement, comma-separated: ${SCRIPT_NAMES.join(', ')}`)
    .addOption(new Option('--calls <n>', 'back-to-back warm calls (the first two are not averaged)').argParser(parseCount('--calls')).default(100))
    .option('--copy <size>', 'bytes copied (read from /dev/zero) before each cold call; 0 skips the cold measurement', '10m')
    .addOption(new Option('--cold-calls <n>', 'cold calls, each after its own copy').argParser(parseCount('--cold-calls')).default(3))
    .addOption(new Option('--gap-us <n>', 'user-mode time between the warm calls, microseconds (lets clock ticks post the signals/suspend hooks\' work)').argParser(parseCount('--gap-us')))
    .option('--each', 'also measure each hook switched on alone, and show where its cost lands')
    .addOption(fileOption())
    .addOption(new Option('--max-events <n>', 'refuse measurements estimated to need more simulated events than this').argParser(parseCount('--max-events')).default(CLI_MAX_EVENTS))
    .option('--json', 'print one JSON object instead of the table')
    .action((opts: FastpathOptionValues) => {
      const profile = loadProfileOption(opts.profile, opts.allowStaleHost);
      const features = new Set(parseFeatureList('--enable', opts.enable));
      try {
        checkFeatures(profile.kernel, features, profile.name);
      } catch (e) {
        if (e instanceof FeatureError) throw new UsageError('--enable', e.message.replace(/^--[a-z-]+: /, ''));
        throw e;
      }
      const scripts = parseScripts(opts.trace);
      const copyBytes = opts.copy === '0' ? 0 : parseDdSize('--copy', opts.copy, { min: 1, max: 1 << 30 });
      if (opts.calls > 1_000_000) throw new UsageError('--calls', `${opts.calls} is more calls than the measurement needs`, 'at most 1000000');
      if (opts.coldCalls > 100) throw new UsageError('--cold-calls', `${opts.coldCalls} copies is more than the measurement needs`, 'at most 100');
      const gapUs = opts.gapUs ?? 0;
      // The warm calls' user-mode gaps alone must fit in the engine's time range (with room for the rest).
      if (gapUs * PS_PER_US * opts.calls > MAX_SIM_TIME / 2) {
        throw new UsageError('--gap-us', `${opts.calls} calls ${gapUs} us apart take ${formatTime(gapUs * PS_PER_US * opts.calls)} of simulated time, more than the engine represents (${formatTime(MAX_SIM_TIME)})`, 'fewer --calls or a smaller --gap-us');
      }
      // Events: start-up, one per call, one per page of each cold copy; --each runs once per hook more.
      const pageBytes = profile.machine.page_bytes.value;
      const hooks = FEATURE_NAMES.filter((f) => FEATURE_KERNELS[f].includes(profile.kernel) && !features.has(f)).length;
      const eachRuns = opts.each ? hooks + 3 : 0; // each hook, the D script, and the baselines
      const events = 200 + opts.calls + (copyBytes > 0 ? opts.coldCalls * (2 + Math.ceil(copyBytes / pageBytes)) : 0);
      checkBound(
        { events: Math.ceil((events + eachRuns * (200 + opts.calls)) / (1 + eachRuns)), runs: 1 + eachRuns, what: 'runs of the measurement (--each runs it once per hook)', simulatedPs: () => undefined, fastForwarded: () => undefined },
        opts.maxEvents,
        '--calls',
        'fewer --calls, --cold-calls or a smaller --copy',
      );
      const { report } = fastpathReport({
        profile,
        seed: opts.seed,
        features,
        scripts,
        calls: opts.calls,
        copyBytes,
        coldRounds: opts.coldCalls,
        each: opts.each ?? false,
        userGapNs: gapUs * 1000,
        files: parseFiles(opts.file),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatFastpath(report));
    });
}

function parseScripts(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((t) => {
    const s = t.trim();
    if (!SCRIPT_NAMES.includes(s)) throw new UsageError('--trace', `'${s}' is not a script`, `a comma-separated list of ${SCRIPT_NAMES.join(', ')}`);
    return s;
  });
}
