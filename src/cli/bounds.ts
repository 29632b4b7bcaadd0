// Bounds on a run, checked before it starts. Every workload command estimates the
// simulated events its runs need (system calls, traps and the pages of its buffers:
// what the host pays for) and refuses, past --max-events, with the estimate, the
// simulated time it would cover and the option that raises the bound. The simulated
// time is extrapolated from two short runs of the same program (2 and 4 blocks), made
// only when the run is refused, so a run within its bound pays nothing for it.

import type { Profile } from '../costmodel/profile.js';
import { UsageError } from '../errors.js';
import { MAX_SIM_TIME, formatTime } from '../events/index.js';
import type { Feature } from '../kernel/features.js';
import type { FileDecl } from '../kernel/vfs.js';
import { ddEventEstimate, type DdOperands } from '../workloads/dd/operands.js';
import { runDd } from '../workloads/dd/run.js';
import { ioStaticEventEstimate, runIoStatic } from '../workloads/io-static.js';
import type { IoStaticOptions } from '../workloads/iostatic/options.js';

/** --max-events by default: about a minute or two of host time at ~30k events/s. */
export const CLI_MAX_EVENTS = 5_000_000;

/** Blocks larger than this are not test-run for a time estimate (the test runs would be slow themselves). */
const PILOT_MAX_BLOCK_BYTES = 16 * (1 << 20);

export interface RunContext {
  profile: Profile;
  seed: string;
  features: ReadonlySet<Feature>;
  coldCache: boolean;
  files: readonly FileDecl[];
}

export interface Estimate {
  /** Events of one run. */
  events: number;
  /** Runs the command makes (dd: one per D script besides the untraced one; compare: two). */
  runs: number;
  /** What the runs are, for the message, e.g. `runs of dd (untraced, and one per D script)`. */
  what: string;
  /** Simulated time of one run (ps), computed only when needed; undefined when not estimated. */
  simulatedPs: () => number | undefined;
}

/**
 * Throw UsageError naming `field` when the runs need more than `maxEvents` events in
 * all: `--count: this run needs about N simulated events (about T of simulated time),
 * more than --max-events M; expected <smaller>, or --max-events N or more`.
 */
export function checkBound(est: Estimate, maxEvents: number, field: string, smaller: string): void {
  const total = est.events * est.runs;
  if (total <= maxEvents) return;
  let time = '';
  let ps: number | undefined;
  try {
    ps = est.simulatedPs();
  } catch {
    ps = undefined; // no time estimate, the event count still stands
  }
  if (ps !== undefined && Number.isFinite(ps)) {
    time = ps > MAX_SIM_TIME ? `, past the longest simulated time the engine represents (${formatTime(MAX_SIM_TIME)})` : `, about ${formatTime(Math.round(ps))} of simulated time`;
    if (est.runs > 1) time += ' each';
  }
  const runs = est.runs > 1 ? ` in ${est.runs} ${est.what}` : '';
  throw new UsageError(field, `this run needs about ${total} simulated events${runs}${time}, more than --max-events ${maxEvents}`, `${smaller}, or --max-events ${total} or more`);
}

/** Linear extrapolation of the simulated time of `n` blocks from runs of 2 and 4 blocks. */
function extrapolate(n: number, runBlocks: (blocks: number) => number): number {
  const a = runBlocks(2);
  const b = runBlocks(4);
  return a + ((n - 2) * (b - a)) / 2;
}

/** Test runs are bounded too: a few blocks, a generous event cap. */
const PILOT_MAX_EVENTS = 1_000_000;

/** dd's events (ddEventEstimate) and, when refusing, its simulated time from two short runs. */
export function ddEstimate(op: DdOperands, ctx: RunContext, runs: number): Estimate {
  const blocks = (op.count ?? 0) + op.skip;
  return {
    events: ddEventEstimate(op),
    runs,
    what: 'runs of dd (the untraced one and one per D script)',
    simulatedPs: () => {
      if (op.count === null || blocks <= 4 || op.ibs + op.obs > PILOT_MAX_BLOCK_BYTES) return undefined;
      return extrapolate(blocks, (n) => {
        const r = runDd({ ...op, count: n, skip: 0, seek: 0 }, { profile: ctx.profile, seed: ctx.seed, features: ctx.features, scripts: [], coldCaches: ctx.coldCache, maxEvents: PILOT_MAX_EVENTS, files: ctx.files });
        return r.endPs - r.startPs;
      });
    },
  };
}

/** io-static's events: one per buffer, and the pages of its buffer. */
export function ioStaticEstimate(o: IoStaticOptions, ctx: RunContext, runs: number): Estimate {
  const buffers = o.totalBytes / o.bufferBytes;
  return {
    events: ioStaticEventEstimate(o, ctx.profile.machine.page_bytes.value),
    runs,
    what: 'runs of io-static',
    simulatedPs: () => {
      if (buffers <= 4 || o.bufferBytes > PILOT_MAX_BLOCK_BYTES) return undefined;
      return extrapolate(buffers, (n) => {
        const r = runIoStatic({ ...o, totalBytes: n * o.bufferBytes, quiet: true }, { profile: ctx.profile, seed: ctx.seed, features: ctx.features, coldCache: ctx.coldCache, maxEvents: PILOT_MAX_EVENTS, files: ctx.files });
        return r.endPs - r.startPs;
      });
    },
  };
}
