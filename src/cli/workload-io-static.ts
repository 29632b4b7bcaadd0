// `l41sim workload io-static`: the L41 lab's I/O benchmark with its own flags
// (-c|-r|-w, -b, -t, -s, -v, -q, -B) and a path, run on the modelled machine. Prints
// what the benchmark prints (the bandwidth; with -v the configuration and time);
// --json prints the loop's figures as data. Also home of the --trace-out option
// that every workload command shares.

import { Command, Option } from 'commander';
import type { Profile } from '../costmodel/profile.js';
import { ProgramFailed, UsageError } from '../errors.js';
import { chromeTrace, chromeTraceJson, type TraceExportOptions } from '../kernel/trace-export.js';
import type { StepLedger } from '../kernel/steps.js';
import { formatIoStatic, runIoStatic } from '../workloads/io-static.js';
import { IO_STATIC_USAGE, parseIoStatic, type IoStaticOptions } from '../workloads/iostatic/options.js';
import { addRunOptions, parseCount, parsePath, resolveRun, type RunOptionValues } from './common.js';
import { checkBound, ioStaticEstimate } from './bounds.js';
import { checkWritableFile, writeFileAtomic } from './output.js';

export interface IoStaticOptionValues {
  c?: boolean;
  r?: boolean;
  w?: boolean;
  B?: boolean;
  d?: boolean;
  q?: boolean;
  s?: boolean;
  v?: boolean;
  b?: string;
  t?: string;
}

/** The benchmark's own flags (not the path argument), for `workload io-static` and `compare io-static`. */
export function addIoStaticFlags(cmd: Command): Command {
  return cmd
    .option('-c', "'create mode': create benchmark data file")
    .option('-r', "'read mode': read() benchmark")
    .option('-w', "'write mode': write() benchmark")
    .option('-B', 'run in bare mode: no preparatory activities (the model has none to skip)')
    .option('-d', 'set O_DIRECT to bypass the buffer cache (not modelled: refused)')
    .option('-q', "just run the benchmark, don't print stuff out")
    .option('-s', 'call fsync() on the file descriptor when complete (inside the timed loop)')
    .option('-v', 'provide a verbose benchmark description')
    .option('-b <buffersize>', 'buffer size in bytes (default: 16384; 16k-style suffixes accepted)')
    .option('-t <totalsize>', 'total I/O size in bytes (default: 16777216; 16m-style suffixes accepted)');
}

export function ioStaticFromFlags(opts: IoStaticOptionValues, path: string): IoStaticOptions {
  return parseIoStatic({ create: opts.c, read: opts.r, write: opts.w, bare: opts.B, direct: opts.d, quiet: opts.q, fsync: opts.s, verbose: opts.v, buffer: opts.b, total: opts.t, path });
}

/** Refuse, before running, what the profile's kernel path does not model: fsync, and storage I/O for a cold file, on Linux. */
export function checkIoStaticProfile(o: IoStaticOptions, profile: Profile, coldCache: boolean, field = '--profile'): void {
  if (profile.kernel !== 'linux') return;
  if (o.fsync) throw new UsageError('-s', `fsync(2) is not modelled on the Linux kernel path (${field} ${profile.name})`, 'no -s on a Linux profile');
  if (coldCache && o.mode !== 'create' && !o.path.startsWith('/dev/')) {
    throw new UsageError('--cold-cache', `the Linux kernel path models no storage I/O, so ${o.path} cannot start uncached (${field} ${profile.name})`, 'a FreeBSD profile, a device, or no --cold-cache');
  }
}

export interface TraceOptionValues {
  traceOut?: string;
  traceEvents: number;
}

export const DEFAULT_TRACE_EVENTS = 100_000;

/** --trace-out and --trace-events, for the workload commands. */
export function addTraceOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--trace-out <file>', 'write the simulated timeline (syscalls, steps, traps, faults, user time) as a Chrome trace (opens in Perfetto)').argParser(parsePath('--trace-out')))
    .addOption(new Option('--trace-events <n>', 'at most this many events in the trace file').argParser(parseCount('--trace-events')).default(DEFAULT_TRACE_EVENTS));
}

/** The ledger cap a run needs for --trace-out (0 without it). */
export function traceCap(opts: TraceOptionValues): number {
  return opts.traceOut === undefined ? 0 : opts.traceEvents;
}

/** Write the trace of a run to --trace-out. */
export function writeTrace(path: string, ledger: StepLedger, o: TraceExportOptions): void {
  writeFileAtomic(path, chromeTraceJson(chromeTrace(ledger, o)), '--trace-out');
}

interface CommandValues extends RunOptionValues, IoStaticOptionValues, TraceOptionValues {}

export function registerIoStatic(workload: Command): void {
  const cmd = workload
    .command('io-static')
    .description("the L41 lab's I/O benchmark: read() or write() totalsize bytes in buffersize chunks, timed between two clock_gettime() calls")
    .argument('[path]', 'file or device to read or write (e.g. /dev/zero, /data/iofile)');
  addIoStaticFlags(cmd);
  addRunOptions(cmd);
  const cold = cmd.options.find((opt) => opt.long === '--cold-cache');
  if (cold) cold.description = "start cold: every cache line invalid and the file's pages not in the buffer cache (reads pay storage I/O)";
  addTraceOptions(cmd);
  cmd.addHelpText('after', `\nThe real program's usage:\n\n${IO_STATIC_USAGE.replace(/^/gm, '  ')}\n\nThe machine's files are the profile's (the lab's /data/iofile, 16 MiB) and --file's; a path it does not have fails as the real program does (exit 66).\nExample: l41sim workload io-static -r -v -b 1m --profile bbb /dev/zero`);
  cmd.action((path: string | undefined, opts: CommandValues) => {
    if (path === undefined) throw new UsageError('path', 'no path given', `a file or device; usage: io-static -c|-r|-w [-Bdqsv] [-b buffersize] [-t totalsize] path`);
    const o = ioStaticFromFlags(opts, path);
    const run = resolveRun(opts);
    const coldCache = opts.coldCache ?? false;
    checkIoStaticProfile(o, run.profile, coldCache);
    checkBound(ioStaticEstimate(o, { ...run, coldCache }, 1), opts.maxEvents ?? Infinity, '-b', 'a larger buffer or a smaller total');
    if (opts.traceOut !== undefined) checkWritableFile(opts.traceOut, '--trace-out');
    const r = runIoStatic(o, { ...run, coldCache, traceEvents: traceCap(opts), maxEvents: opts.maxEvents });
    if (opts.traceOut !== undefined) {
      writeTrace(opts.traceOut, r.kernel.steps, {
        pid: r.pid,
        tid: r.tid,
        processName: 'io-static',
        startPs: r.startPs,
        endPs: r.endPs,
        maxEvents: opts.traceEvents,
        info: { command: r.report.command, profile: r.report.profile, seed: r.report.seed },
      });
    }
    process.stdout.write(opts.json ? `${JSON.stringify(r.report, null, 2)}\n` : formatIoStatic(r.report));
    if (r.report.exit_status !== 0) {
      throw new ProgramFailed('io-static', r.report.exit_status, r.report.stderr);
    }
  });
}
