// The workloads a sweep can run, each as a table of parameters (name, kind, what it
// means) and a function from one point's parameters to its output figures. A kind is
// a schema (PARAM_KINDS) that checks and normalises a value where the config gives it;
// a workload's options() checks the combinations, with the JSON path each value came
// from, so a bad value or an impossible combination names the place in the config to fix.

import type { Profile } from '../../costmodel/profile.js';
import { CliError, UsageError, ValidationError } from '../../errors.js';
import { anyOf, flag, number, oneOf, text, type Schema } from '../../schema.js';
import type { Feature } from '../../kernel/features.js';
import { parseDdSize } from '../ddsize.js';
import { ddEventEstimate, parseOperands, type DdOperands } from '../dd/operands.js';
import { runDd } from '../dd/run.js';
import { ioStaticEventEstimate, runIoStatic } from '../io-static.js';
import { parseIoStatic, type IoStaticOptions } from '../iostatic/options.js';
import type { FileDecl } from '../../kernel/vfs.js';

export type ParamValue = string | number | boolean;

/** A size or count: a whole number, or dd's notation ("16k", "2x512"). */
function ddNumber(kind: 'size' | 'count') {
  const min = kind === 'size' ? 1 : 0;
  const expected = kind === 'size' ? 'a size in bytes, e.g. 16384 or "16k"' : 'a count, e.g. 1024';
  const written = text(expected, { empty: true }).transform((s, fail) => {
    try {
      return parseDdSize('', s, { min });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      return fail([], e.problem, e.expected ?? expected);
    }
  });
  return anyOf([number({ integer: true, min }, expected), written], `a ${kind}`, expected);
}

/** The kinds of workload parameter: each checks a value and gives it in normal form (sizes and counts as numbers). */
export const PARAM_KINDS = {
  size: ddNumber('size'),
  count: ddNumber('count'),
  string: text('a path such as /dev/zero'),
  boolean: flag(),
  mode: oneOf(['read', 'write', 'create']),
} satisfies Record<string, Schema<ParamValue>>;
export type ParamKind = keyof typeof PARAM_KINDS;

export interface ParamSpec {
  kind: ParamKind;
  doc: string;
}

export interface RunContext {
  profile: Profile;
  seed: string;
  features: ReadonlySet<Feature>;
  coldCache: boolean;
  maxEvents: number;
  /** Simulate every loop iteration (no fast-forward): the same figures, more slowly. */
  exact: boolean;
  /** Data files besides the profile's. */
  files: readonly FileDecl[];
}

export type Outputs = Record<string, number | string>;

export interface WorkloadDef<O> {
  params: Record<string, ParamSpec>;
  /** Values used when the config gives none. */
  defaults: Record<string, ParamValue>;
  /** The figure plotted by default, and its label. */
  headline: { name: string; label: string };
  /** Output figures, in column order, with their meaning. */
  outputs: Record<string, string>;
  /** Build the workload's options; `where` maps each parameter to the JSON path it came from. */
  options(params: Record<string, ParamValue>, where: Record<string, string>): O;
  /** Simulated events the point needs, about. */
  events(o: O, pageBytes: number): number;
  run(o: O, ctx: RunContext): Outputs;
}

/** Re-throw a workload's own usage error (naming an option) as one naming the JSON path of the value at fault. */
function atPath<T>(where: Record<string, string>, optionToParam: Record<string, string>, fallback: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    if (Object.values(where).includes(e.field)) throw new ValidationError(e.field, e.problem, e.expected);
    const param = optionToParam[e.field] ?? e.field;
    throw new ValidationError(where[param] ?? fallback, e.problem, e.expected);
  }
}

const IO_OPTION_TO_PARAM: Record<string, string> = { '-c|-r|-w': 'mode', '-b': 'buffer', '-t': 'total', path: 'path', '-d': 'mode' };

const ioStatic: WorkloadDef<IoStaticOptions> = {
  params: {
    mode: { kind: 'mode', doc: 'read, write or create (-r, -w, -c)' },
    buffer: { kind: 'size', doc: 'buffer size in bytes (-b)' },
    total: { kind: 'size', doc: 'total I/O size in bytes (-t)' },
    path: { kind: 'string', doc: 'file or device, e.g. /dev/zero or /data/iofile' },
    fsync: { kind: 'boolean', doc: 'fsync() at the end of the timed loop (-s)' },
  },
  defaults: { mode: 'read', buffer: 16384, total: 16 * 1024 * 1024, path: '/dev/zero', fsync: false },
  headline: { name: 'bandwidth_kib_s', label: 'bandwidth (KiB/s)' },
  outputs: {
    bandwidth_kib_s: 'KiB per second over the timed loop (what io-static prints)',
    time_ns: 'the timed loop, between the two clock_gettime() calls',
    syscalls_count: 'system calls in the timed loop',
    syscalls_time_ns: 'time in those system calls',
    faults_minor: 'page faults in the timed loop',
    faults_in_syscalls: 'of which taken inside system calls (copyout/copyin)',
    storage_read_pages: 'pages read from storage in the loop (a cold cache)',
    storage_write_pages: 'pages written to storage in the loop (fsync)',
    storage_time_ns: 'time charged for storage I/O in the loop',
    process_user_s: 'the whole process: user time, as time(1) reports it',
    process_system_s: 'the whole process: system time',
    process_elapsed_s: 'the whole process: elapsed (simulated) time',
    exit_status: "the modelled program's exit status",
  },
  options(p, where) {
    const buffer = p.buffer as number;
    const total = p.total as number;
    if (typeof buffer === 'number' && typeof total === 'number' && total % buffer !== 0) {
      // Name the value that varies: the swept one, if either is.
      const at = where.buffer?.startsWith('sweep.') || !where.total?.startsWith('sweep.') ? where.buffer ?? 'buffer' : where.total ?? 'total';
      throw new ValidationError(at, `${total} bytes is not a whole number of ${buffer}-byte buffers`, 'a total size that is a multiple of the buffer size');
    }
    return atPath(where, IO_OPTION_TO_PARAM, 'workload', () =>
      parseIoStatic(
        { mode: String(p.mode), buffer: p.buffer as number, total: p.total as number, path: String(p.path), fsync: p.fsync === true },
        { mode: where.mode ?? 'mode', buffer: where.buffer ?? 'buffer', total: where.total ?? 'total', path: where.path ?? 'path', direct: 'mode' },
      ),
    );
  },
  events: (o, pageBytes) => ioStaticEventEstimate(o, pageBytes),
  run(o, ctx) {
    const r = runIoStatic({ ...o, quiet: true }, { profile: ctx.profile, seed: ctx.seed, features: ctx.features, coldCache: ctx.coldCache, maxEvents: ctx.maxEvents, files: ctx.files, exact: ctx.exact }).report;
    return {
      bandwidth_kib_s: r.bandwidth_kib_s,
      time_ns: r.time_ns,
      syscalls_count: r.syscalls.count,
      syscalls_time_ns: r.syscalls.time_ns,
      faults_minor: r.faults.minor,
      faults_in_syscalls: r.faults.in_syscalls,
      storage_read_pages: r.storage.read_pages,
      storage_write_pages: r.storage.write_pages,
      storage_time_ns: r.storage.time_ns,
      process_user_s: r.process.user_s,
      process_system_s: r.process.system_s,
      process_elapsed_s: r.process.elapsed_s,
      exit_status: r.exit_status,
    };
  },
};

const DD_OPTION_TO_PARAM: Record<string, string> = { '--bs': 'bs', '--ibs': 'ibs', '--obs': 'obs', '--count': 'count', '--skip': 'skip', '--seek': 'seek', '--if': 'if', '--of': 'of' };

const dd: WorkloadDef<DdOperands> = {
  params: {
    bs: { kind: 'size', doc: 'block size for input and output (bs=)' },
    ibs: { kind: 'size', doc: 'input block size (ibs=)' },
    obs: { kind: 'size', doc: 'output block size (obs=)' },
    count: { kind: 'count', doc: 'input blocks to copy (count=)' },
    skip: { kind: 'count', doc: 'input blocks to skip (skip=)' },
    seek: { kind: 'count', doc: 'output blocks to seek (seek=)' },
    if: { kind: 'string', doc: 'input file or device (if=)' },
    of: { kind: 'string', doc: 'output file or device (of=)' },
  },
  defaults: { count: 1, if: '/dev/zero', of: '/dev/null' },
  headline: { name: 'elapsed_s', label: 'elapsed time (s)' },
  outputs: {
    elapsed_s: 'elapsed (simulated) time of the whole dd, as time(1) reports it',
    user_s: 'user time',
    system_s: 'system time',
    syscalls_count: 'system calls',
    syscalls_time_ns: 'time in system calls',
    traps_count: 'traps taken in user mode (page faults)',
    traps_time_ns: 'time in those traps',
    faults_minor: 'page faults',
    faults_in_syscalls: 'of which taken inside system calls',
    exit_status: "the modelled dd's exit status",
  },
  options(p, where) {
    const text = (k: string) => (p[k] === undefined ? undefined : String(p[k]));
    return atPath(where, DD_OPTION_TO_PARAM, 'workload', () =>
      parseOperands({ bs: text('bs'), ibs: text('ibs'), obs: text('obs'), count: text('count'), skip: text('skip'), seek: text('seek'), if: text('if'), of: text('of') }),
    );
  },
  events: (o) => ddEventEstimate(o),
  run(o, ctx) {
    const r = runDd(o, { profile: ctx.profile, seed: ctx.seed, features: ctx.features, scripts: [], coldCaches: ctx.coldCache, maxEvents: ctx.maxEvents, files: ctx.files, exact: ctx.exact });
    return {
      elapsed_s: r.time.elapsed_s,
      user_s: r.time.user_s,
      system_s: r.time.system_s,
      syscalls_count: r.syscalls.count,
      syscalls_time_ns: r.syscalls.time_ns,
      traps_count: r.traps.count,
      traps_time_ns: r.traps.time_ns,
      faults_minor: r.faults.minor,
      faults_in_syscalls: r.faults.in_syscalls,
      exit_status: r.exitStatus,
    };
  },
};

export const WORKLOADS = { 'io-static': ioStatic, dd } as const;
export type WorkloadName = keyof typeof WORKLOADS;
export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function workloadDef(name: WorkloadName): WorkloadDef<any> {
  return WORKLOADS[name];
}
