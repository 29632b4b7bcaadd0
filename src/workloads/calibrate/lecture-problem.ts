// The lecture profile as a calibration problem (../../costmodel/calibration/protocol.ts):
// the rows of calibration/data/l41-lecture-dd.json with the roles declared beside it, the
// unit costs fitted to them, the one quantity chosen from the data (start-up pages, from
// the trap count), and the model runs that account for every row: dd bs=10m count=1
// untraced (time(1)), under the syscall-time script (the per-syscall table), under the
// traps script (the trap run), and under profile-997 (the profile run).

import { readFileSync } from 'node:fs';
import { loadDeclaredRows } from '../../costmodel/calibration/roles.js';
import type { Evaluation, FitProblem, ParamSpec, Row, RowModel } from '../../costmodel/calibration/protocol.js';
import { validateProfile } from '../../costmodel/profile.js';
import { repoPath } from '../../costmodel/repo.js';
import { CostBook } from '../../kernel/meter.js';
import { parseOperands } from '../dd/operands.js';
import { profileFeatures } from '../../kernel/hooks.js';
import { runDd, type DdRun } from '../dd/run.js';
import { setValues, sig4, termParam, usageOf } from './terms.js';

type RawProfile = Record<string, any>;

export const LECTURE_DATA = 'calibration/data/l41-lecture-dd.json';
export const SEED = 'calibrate';
const LECTURE_DD = { bs: '10m', count: '1' };

/**
 * The unit costs fitted to the lecture's rows, and the rows that determine each. pmap_enter
 * is not among them: under the protocol its standard error exceeded its value (every fault
 * maps one page and first-touches one, so the trap rows cannot tell the two apart, and in
 * mmap it trades with vm_map_op), so it keeps its assumed value.
 */
export const LECTURE_PARAMS: { term: string; from: string }[] = [
  { term: 'namei_component', from: `${LECTURE_DATA} syscall_time_by_name (lstat, openat, access, readlink: path lookups)` },
  { term: 'vop', from: `${LECTURE_DATA} syscall_time_by_name (the calls that run vnode operations)` },
  { term: 'file_op', from: `${LECTURE_DATA} syscall_time_by_name (openat, close: descriptor-table work)` },
  { term: 'vm_map_op', from: `${LECTURE_DATA} syscall_time_by_name (mmap, munmap: map entries)` },
  { term: 'dtrace_probe', from: `${LECTURE_DATA} syscall_time_by_name and traps_run (every traced call includes one probe dispatch)` },
  { term: 'first_touch', from: `${LECTURE_DATA} traps_run.trap_time, time_fields and the calls that fault inside copyout (5185 first touches; profile_run shows pagezero)` },
  { term: 'mem.latency', from: `${LECTURE_DATA} syscall_time_by_name (the lines and page-table entries first calls and calls after the 10 MiB copy find cold)` },
  { term: 'mem.stream_write', from: `${LECTURE_DATA} syscall_time_by_name.read (10 MiB copyout into junk-filled pages)` },
];
export const LECTURE_FITTED = LECTURE_PARAMS.map((p) => p.term);

/** Quantities the lecture fit takes from its data: anonymous pages first touched by start-up. */
export interface LectureChoice {
  startup_user_pages: number;
}

export interface LectureEvaluation extends Evaluation {
  /** The syscall names the modelled table shows, sorted. */
  names: string[];
  /** The table's total (the script's @totaltime), ns. */
  total_ns: number;
  /** Innermost frame of the profile run's largest stack (when the profile row was wanted). */
  top_stack?: string;
}

export function loadBase(name: string): RawProfile {
  return JSON.parse(readFileSync(repoPath('calibration', 'base', `${name}.json`), 'utf8'));
}

/**
 * The lecture's base profile with what it takes from the fitted bbb profile: WITNESS's
 * cost per lock operation and DTrace's clause costs, in cycles (the same code on another
 * core; the lecture's data cannot separate them from its other per-call costs).
 */
export function lectureStart(bbb: RawProfile): RawProfile {
  const raw = loadBase('lecture');
  const w = bbb.costs.witness_lock_op;
  raw.costs.witness_lock_op = {
    value: w.value,
    unit: 'cycles',
    source: 'assumed',
    note: `the bbb profile's fitted value (from ${w.from}), in cycles: the same WITNESS code on another core; the lecture's data cannot separate it from its other per-call costs`,
  };
  const clockRatio = bbb.machine.clock_hz.value / raw.machine.clock_hz.value;
  for (const term of ['dtrace_predicate', 'dtrace_action', 'dtrace_stack'] as const) {
    const b = bbb.costs[term];
    raw.costs[term] = { value: sig4(b.value * clockRatio), unit: 'ns', source: 'assumed', note: `the bbb profile's ${b.source} value, ${b.value} ns at 1 GHz, as the same cycles at this profile's clock` };
  }
  return raw;
}

export function runCalibrationDd(raw: RawProfile, scripts: string[]): DdRun {
  const profile = validateProfile(raw, raw.name);
  return runDd(parseOperands(LECTURE_DD), { profile, seed: SEED, features: profileFeatures(profile), scripts, recordUsage: true });
}

/** The lecture's calibration problem, on top of the fitted bbb profile. */
export function lectureProblem(bbb: RawProfile, rows: readonly Row[] = loadDeclaredRows(repoPath(LECTURE_DATA)).rows): FitProblem<LectureChoice, LectureEvaluation> {
  const start = lectureStart(bbb);
  const params: ParamSpec[] = LECTURE_PARAMS.map((p) => {
    const sp = termParam(start, p.term);
    return { term: p.term, unit: sp.unit, start: sp.value, from: p.from };
  });
  return {
    name: 'lecture',
    rows,
    params,
    weighting: 'relative',
    round: sig4,
    choose: (fitRows, last) => {
      // Every trap the mechanism does not take (junk fill, execve) is a start-up page:
      // solved from the trap count, when the fit has it; without it, none.
      const traps = fitRows.find((r) => r.id === 'traps_run.traps');
      if (!traps) return { startup_user_pages: 0 };
      if (!last) return { startup_user_pages: 0 };
      const modelled = last.evaluation.rows['traps_run.traps']!.modelled;
      return { startup_user_pages: Math.max(0, last.chosen.startup_user_pages + traps.measured - modelled) };
    },
    evaluate: (values, chosen, need) => evaluateLecture(start, values, chosen, need),
  };
}

function evaluateLecture(start: RawProfile, values: Readonly<Record<string, number>>, chosen: LectureChoice, need: ReadonlySet<string>): LectureEvaluation {
  const raw = JSON.parse(JSON.stringify(start)) as RawProfile;
  setValues(raw, values);
  raw.userland.startup_user_pages.value = chosen.startup_user_pages;
  const book = new CostBook(validateProfile(raw, 'lecture'));
  const terms = Object.keys(values);
  const untraced = runCalibrationDd(raw, []);
  const table = runCalibrationDd(raw, ['syscall-time']);
  const traps = runCalibrationDd(raw, ['traps']);
  const rows: Record<string, RowModel> = {};
  const timed = (counts: Float64Array | undefined, modelled: number, unit: string): RowModel => ({ modelled, usage: counts ? usageOf(raw, book, counts, terms, unit, modelled) : {} });
  const d = table.kernel.dtrace;
  const sysUsage = d.usageAggregations.get('syscall_time');
  for (const [name, ns] of d.keyed('syscall_time')) rows[`syscall_time[${name}]`] = timed(sysUsage?.get(name), ns, 'ns');
  const t = traps.kernel.dtrace;
  rows['traps_run.syscalls'] = { modelled: t.scalar('syscalls'), usage: {} };
  rows['traps_run.traps'] = { modelled: t.scalar('traps'), usage: {} };
  rows['traps_run.syscall_time'] = timed(t.usageAggregations.get('syscall_time')?.get(''), t.scalar('syscall_time'), 'ns');
  rows['traps_run.trap_time'] = timed(t.usageAggregations.get('trap_time')?.get(''), t.scalar('trap_time'), 'ns');
  // time(1): user+system is the run's metered time, less any interrupt ticks' share.
  rows['time.user_s+system_s'] = timed(untraced.usage, untraced.time.user_s + untraced.time.system_s, 's');
  const ev: LectureEvaluation = { rows, names: [...(d.aggregations.get('syscall_time')?.keys() ?? [])].sort(), total_ns: d.scalar('totaltime') };
  if (need.has('profile_run.samples[pagezero]')) {
    const stacks = runCalibrationDd(raw, ['profile']).kernel.dtrace.keyed('traces').filter(([k]) => k !== '');
    rows['profile_run.samples[pagezero]'] = { modelled: stacks.filter(([k]) => k.split(';')[0] === 'pagezero').reduce((a, [, n]) => a + n, 0), usage: {} };
    ev.top_stack = stacks[0]?.[0].split(';')[0] ?? '(none)';
  }
  return ev;
}
