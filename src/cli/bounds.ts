// Bounds on a run, checked before it starts. Every workload command estimates the
// simulated events its runs need (system calls, traps and the pages of its buffers:
// what the host pays for) and refuses, past --max-events, with the estimate, the
// simulated time it would cover and the option that raises the bound. That first
// estimate simulates every loop iteration; a run over the bound by it is estimated
// again as it will really run, with fast-forward (kernel/steady/fast-forward.ts), from
// two short runs of each kind of run it makes (a loop that does not fast-forward, such
// as a read of a regular file, measures as many events per iteration as the first
// estimate). The simulated time is extrapolated from two short runs of 2 and 4 blocks.
// The short runs are made only when the first estimate is over the bound, so a run
// within it pays nothing for them.

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
  /** --exact: no fast-forward, so every iteration is an event. */
  exact?: boolean;
  files: readonly FileDecl[];
}

export interface Estimate {
  /** Events of one run, every loop iteration simulated: an upper bound. */
  events: number;
  /** Runs the command makes (dd: one per D script besides the untraced one; compare: two). */
  runs: number;
  /** What the runs are, for the message, e.g. `runs of dd (untraced, and one per D script)`. */
  what: string;
  /** Simulated time of one run (ps), computed only when needed; undefined when not estimated. */
  simulatedPs: () => number | undefined;
  /**
   * Events of all the runs with fast-forward (kernel/steady/fast-forward.ts), computed
   * only when `events` is over the bound: undefined with --exact, or when the loop is
   * too short to tell.
   */
  fastForwarded: () => number | undefined;
}

/**
 * Throw UsageError naming `field` when the runs need more than `maxEvents` events in
 * all: `--count: this run needs about N simulated events (about T of simulated time),
 * more than --max-events M; expected <smaller>, or --max-events N or more`. Runs whose
 * loops fast-forward are judged by the events they are estimated to make with it.
 */
export function checkBound(est: Estimate, maxEvents: number, field: string, smaller: string): void {
  if (est.events * est.runs <= maxEvents) return;
  const fastForwarded = tryEstimate(est.fastForwarded);
  if (fastForwarded !== undefined && fastForwarded <= maxEvents) return;
  const total = Math.ceil(fastForwarded ?? est.events * est.runs);
  let time = '';
  const ps = tryEstimate(est.simulatedPs);
  if (ps !== undefined && Number.isFinite(ps)) {
    time = ps > MAX_SIM_TIME ? `, past the longest simulated time the engine represents (${formatTime(MAX_SIM_TIME)})` : `, about ${formatTime(Math.round(ps))} of simulated time`;
    if (est.runs > 1) time += ' each';
  }
  const runs = est.runs > 1 ? ` in ${est.runs} ${est.what}` : '';
  const ff = fastForwarded === undefined ? '' : ' (with fast-forward)';
  throw new UsageError(field, `this run needs about ${total} simulated events${ff}${runs}${time}, more than --max-events ${maxEvents}`, `${smaller}, or --max-events ${total} or more`);
}

/** An estimate that may fail (a test run refused or failing): then there is none. */
function tryEstimate(f: () => number | undefined): number | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Test runs are bounded too: a generous event cap. */
const PILOT_MAX_EVENTS = 1_000_000;

/**
 * Simulated time a fast-forward test run covers: several clock ticks, so the events
 * per iteration it measures are those of the loop's steady rhythm (check, jump,
 * tick), not of its first iterations.
 */
const PILOT_FAST_FORWARD_PS = 5e9;

/**
 * Estimates for a program whose loop runs `n` times, made by test runs of `run(n)`
 * (which returns the run's simulated time and engine events); each test run is made
 * once. The time: a linear extrapolation from 2 and 4 iterations. The events with
 * fast-forward: from two test runs of p and 2p iterations, p covering
 * PILOT_FAST_FORWARD_PS, extrapolated linearly (none if the loop is not much longer).
 */
function loopEstimates(n: number, run: (iterations: number, exact: boolean) => { ps: number; events: number }) {
  const memo = new Map<string, { ps: number; events: number }>();
  const once = (iterations: number, exact: boolean) => {
    const key = `${iterations} ${exact}`;
    let r = memo.get(key);
    if (r === undefined) memo.set(key, (r = run(iterations, exact)));
    return r;
  };
  const perIterationPs = () => (once(4, true).ps - once(2, true).ps) / 2;
  return {
    simulatedPs: () => once(2, true).ps + (n - 2) * perIterationPs(),
    fastForwarded: () => {
      const p = Math.max(16, Math.ceil(PILOT_FAST_FORWARD_PS / Math.max(1, perIterationPs())));
      if (4 * p > n) return undefined;
      const a = once(p, false).events;
      const b = once(2 * p, false).events;
      return b + ((n - 2 * p) * (b - a)) / p;
    },
  };
}

/**
 * dd's events (ddEventEstimate) and, when refusing, its simulated time and its events
 * with fast-forward, from short runs. `traced` lists each run's D scripts (the
 * untraced run: none).
 */
export function ddEstimate(op: DdOperands, ctx: RunContext, traced: readonly (readonly string[])[]): Estimate {
  const blocks = (op.count ?? 0) + op.skip;
  const testable = op.count !== null && blocks > 4 && op.ibs + op.obs <= PILOT_MAX_BLOCK_BYTES;
  const estimates = traced.map((scripts) =>
    loopEstimates(blocks, (n, exact) => {
      const r = runDd({ ...op, count: n, skip: 0, seek: 0 }, { profile: ctx.profile, seed: ctx.seed, features: ctx.features, scripts, coldCaches: ctx.coldCache, maxEvents: PILOT_MAX_EVENTS, files: ctx.files, exact });
      return { ps: r.endPs - r.startPs, events: r.events };
    }),
  );
  return {
    events: ddEventEstimate(op),
    runs: traced.length,
    what: 'runs of dd (the untraced one and one per D script)',
    simulatedPs: () => (testable ? estimates[0]!.simulatedPs() : undefined),
    fastForwarded: () => (testable && !ctx.exact ? sumOrUndefined(estimates.map((e) => e.fastForwarded())) : undefined),
  };
}

/** io-static's events: one per buffer, and the pages of its buffer; when refusing, its simulated time and its events with fast-forward. */
export function ioStaticEstimate(o: IoStaticOptions, ctx: RunContext, runs: number): Estimate {
  const buffers = o.totalBytes / o.bufferBytes;
  const testable = buffers > 4 && o.bufferBytes <= PILOT_MAX_BLOCK_BYTES;
  const estimate = loopEstimates(buffers, (n, exact) => {
    const r = runIoStatic({ ...o, totalBytes: n * o.bufferBytes, quiet: true }, { profile: ctx.profile, seed: ctx.seed, features: ctx.features, coldCache: ctx.coldCache, maxEvents: PILOT_MAX_EVENTS, files: ctx.files, exact });
    return { ps: r.endPs - r.startPs, events: r.events };
  });
  return {
    events: ioStaticEventEstimate(o, ctx.profile.machine.page_bytes.value),
    runs,
    what: 'runs of io-static',
    simulatedPs: () => (testable ? estimate.simulatedPs() : undefined),
    fastForwarded: () => {
      const one = testable && !ctx.exact ? estimate.fastForwarded() : undefined;
      return one === undefined ? undefined : one * runs;
    },
  };
}

function sumOrUndefined(xs: (number | undefined)[]): number | undefined {
  return xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a + x!, 0);
}
