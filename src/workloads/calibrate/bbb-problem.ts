// The BeagleBone profile as two calibration problems (../../costmodel/calibration/protocol.ts),
// each on a data file with the roles declared beside it: the probe-effect runs of
// l41-probe-effect-dd.json (dd bs=10m count=1 untraced and under five D scripts: WITNESS's
// cost per lock operation, DTrace's per firing, per predicate and per stack()) and TI's
// lmbench lat_syscall figures for the AM335x (am335x-lmbench.json: the per-call costs of
// the system-call path, from Linux on the same SoC with its debug options off). The lmbench
// fit comes first and the probe-effect fit runs on its values (the lmbench tests run without
// WITNESS and DTrace, so nothing flows back). The one quantity chosen from the data is the
// share of lock events that are dd's: the lockstat
// stack runs with and without the execname predicate differ by the stack walks the
// predicate saves, which sets the rest of the system's lock events per clock tick.

import { loadDeclaredRows } from '../../costmodel/calibration/roles.js';
import type { Evaluation, FitProblem, ParamSpec, Row, RowModel } from '../../costmodel/calibration/protocol.js';
import { validateProfile } from '../../costmodel/profile.js';
import { repoPath } from '../../costmodel/repo.js';
import { CostBook } from '../../kernel/meter.js';
import { lmbenchLatency, type LmbenchTest } from '../lmbench.js';
import { loadBase, runCalibrationDd, SEED } from './lecture-problem.js';
import { setValues, sig4, termParam, usageOf } from './terms.js';

type RawProfile = Record<string, any>;

export const PROBE_DATA = 'calibration/data/l41-probe-effect-dd.json';
export const AM335X_DATA = 'calibration/data/am335x-lmbench.json';

/** Probe-effect rows: the script's text in the data -> the modelled script (none: untraced). */
export const PROBE_SCRIPTS: Record<string, string | null> = {
  none: null,
  'dtmalloc::: { @count = count(); }': 'dtmalloc-count',
  'lockstat::: { @count = count(); }': 'lockstat-count',
  'lockstat::: /execname == "dd"/ { @count = count(); }': 'lockstat-count-dd',
  'lockstat::: { @stacks[stack()] = count(); }': 'lockstat-stacks',
  'lockstat::: /execname == "dd"/ { @stacks[stack()] = count(); }': 'lockstat-stacks-dd',
};
const LOCK_EVENTS_ROW = 'lockstat events[lockstat::: { @count = count(); }]';
const elapsedId = (script: string) => `elapsed[${script}]`;

const LMBENCH_FROM = `${AM335X_DATA} lmbench_latency_us (lat_syscall null, read, write, stat, fstat; Linux on the same SoC, run with the debug options off)`;
/** The system-call path's per-call costs, fitted to lmbench. */
export const BBB_LMBENCH_PARAMS: { term: string; from: string }[] = [
  { term: 'syscall_entry', from: LMBENCH_FROM },
  { term: 'vop', from: LMBENCH_FROM },
  { term: 'namei_component', from: LMBENCH_FROM },
];
/** WITNESS's and DTrace's costs, fitted to the probe-effect runs. */
export const BBB_PROBE_PARAMS: { term: string; from: string }[] = [
  { term: 'witness_lock_op', from: `${PROBE_DATA} (the untraced baseline, 0.21 s)` },
  { term: 'dtrace_probe', from: `${PROBE_DATA} (the lockstat rows)` },
  { term: 'dtrace_predicate', from: `${PROBE_DATA} (the lockstat rows)` },
  { term: 'dtrace_stack', from: `${PROBE_DATA} (the lockstat rows)` },
];

/** The lmbench rows: the row id -> the modelled test. */
const LMBENCH_TESTS: Record<string, LmbenchTest> = Object.fromEntries(
  (['null', 'read', 'write', 'stat', 'fstat', 'open'] as const).map((t) => [`lmbench[lat_syscall ${t}]`, t]),
);

const specs = (start: RawProfile, list: { term: string; from: string }[]): ParamSpec[] =>
  list.map((p) => {
    const sp = termParam(start, p.term);
    return { term: p.term, unit: sp.unit, start: sp.value, from: p.from };
  });

/** A trial bbb profile: the base with the given values (in their own units) set. */
function trial(start: RawProfile, ...values: Readonly<Record<string, number>>[]): RawProfile {
  const raw = JSON.parse(JSON.stringify(start)) as RawProfile;
  for (const v of values) setValues(raw, v);
  return raw;
}

/**
 * The board's system-call path fitted to lmbench lat_syscall: Linux on the same SoC, so the
 * modelled tests run with the profile's debug options (INVARIANTS, WITNESS) off, as in TI's
 * kernel. Nothing here depends on the probe-effect fit.
 */
export function bbbLmbenchProblem(rows: readonly Row[] = loadDeclaredRows(repoPath(AM335X_DATA)).rows): FitProblem<Record<string, never>, Evaluation> {
  const start = loadBase('bbb');
  return {
    name: 'bbb: lmbench',
    rows,
    params: specs(start, BBB_LMBENCH_PARAMS),
    weighting: 'relative',
    round: sig4,
    choose: () => ({}),
    evaluate: (values, _chosen, need) => {
      const raw = trial(start, values);
      const profile = validateProfile(raw, 'bbb');
      const book = new CostBook(profile);
      const rows: Record<string, RowModel> = {};
      for (const [id, test] of Object.entries(LMBENCH_TESTS)) {
        if (!need.has(id)) continue;
        const r = lmbenchLatency(profile, test, { features: new Set(), seed: SEED });
        rows[id] = { modelled: r.ns_per_call / 1000, usage: usageOf(raw, book, r.usage, Object.keys(values), 'us', r.ns_per_call / 1000) };
      }
      return { rows };
    },
  };
}

export interface BbbChoice {
  /** Lock events per hardclock tick by the rest of the system. */
  background_lock_ops_per_tick: number;
  /** dd's share of lock events, from the stack rows; null when the fit lacks one of them. */
  dd_share: number | null;
}

export interface BbbEvaluation extends Evaluation {
  /** The lockstat stack run's lock operations by dd and its clock ticks (background events / per-tick rate). */
  stacks_run: { lock_ops: number; ticks: number };
}

/** dd's share of lock events from the four lockstat rows and the baseline; null without all five. */
export function ddShare(fitRows: readonly Row[]): number | null {
  const median = (script: string) => fitRows.find((r) => r.id === elapsedId(script))?.measured;
  const none = median('none');
  const [c, cdd, s, sdd] = ['lockstat::: { @count = count(); }', 'lockstat::: /execname == "dd"/ { @count = count(); }', 'lockstat::: { @stacks[stack()] = count(); }', 'lockstat::: /execname == "dd"/ { @stacks[stack()] = count(); }'].map(median);
  if (none === undefined || c === undefined || cdd === undefined || s === undefined || sdd === undefined) return null;
  return (sdd - none - (cdd - none)) / (s - none - (c - none));
}

/** WITNESS's and DTrace's costs fitted to the probe-effect runs, on the lmbench fit's per-call costs. */
export function bbbProbeProblem(lmbench: Readonly<Record<string, number>>, rows: readonly Row[] = loadDeclaredRows(repoPath(PROBE_DATA)).rows): FitProblem<BbbChoice, BbbEvaluation> {
  const start = trial(loadBase('bbb'), lmbench);
  const assumedPerTick: number = start.kernel_config.background_lock_ops_per_tick.value;
  return {
    name: 'bbb: probe effect',
    rows,
    params: specs(start, BBB_PROBE_PARAMS),
    weighting: 'relative',
    round: sig4,
    choose: (fitRows, last) => {
      const share = ddShare(fitRows);
      // Without the stack rows (or before the first run), the base profile's assumed rate stands.
      if (share === null || !last) return { background_lock_ops_per_tick: assumedPerTick, dd_share: share };
      const { lock_ops, ticks } = last.evaluation.stacks_run;
      return { background_lock_ops_per_tick: sig4((lock_ops * (1 / share - 1)) / Math.max(1, ticks)), dd_share: share };
    },
    evaluate: (values, chosen, need) => evaluateProbe(start, values, chosen, need),
  };
}

function evaluateProbe(start: RawProfile, values: Readonly<Record<string, number>>, chosen: BbbChoice, need: ReadonlySet<string>): BbbEvaluation {
  const raw = trial(start, values);
  raw.kernel_config.background_lock_ops_per_tick.value = chosen.background_lock_ops_per_tick;
  const book = new CostBook(validateProfile(raw, 'bbb'));
  const terms = Object.keys(values);
  const rows: Record<string, RowModel> = {};
  let stacksRun: BbbEvaluation['stacks_run'] = { lock_ops: 0, ticks: 1 };
  for (const [text, script] of Object.entries(PROBE_SCRIPTS)) {
    const id = elapsedId(text);
    // The stack run is always wanted: the choice of the background rate reads it.
    if (!need.has(id) && script !== 'lockstat-stacks' && !(script === 'lockstat-count' && need.has(LOCK_EVENTS_ROW))) continue;
    const run = runCalibrationDd(raw, script ? [script] : []);
    rows[id] = { modelled: run.time.elapsed_s, usage: usageOf(raw, book, run.usage, terms, 's', run.time.elapsed_s) };
    if (script === 'lockstat-stacks') stacksRun = { lock_ops: run.kernel.lockOps, ticks: run.kernel.backgroundLockOps / Math.max(1e-9, chosen.background_lock_ops_per_tick) };
    if (script === 'lockstat-count') rows[LOCK_EVENTS_ROW] = { modelled: run.kernel.dtrace.scalar('count'), usage: {} };
  }
  return { rows, stacks_run: stacksRun };
}
