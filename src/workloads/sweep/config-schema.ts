// The sweep config document, declared once: each key with what it means, its default
// and its checks (config.ts shows a config and what it does). The schema is built per
// workload from the workload's parameter table (workloads.ts), so each value is
// checked and normalised by its parameter's kind where the config gives it, and a
// fault names its JSON path. Its output is the SweepConfig the runner expands.
//
// Adding a config key is a one-place change: a line in configSchema's section (with
// .describe() and, if it has one, .default()), read from its output in the transform
// at the end. A workload parameter is declared in its workload's table instead.

import { CliError } from '../../errors.js';
import { FEATURE_NAMES, isFeature, type Feature } from '../../kernel/features.js';
import type { FileDecl } from '../../kernel/vfs.js';
import { anyOf, anything, Default, describe, flag, list, number, oneOf, Section, section, text, type Fail, type Out, type Schema } from '../../schema.js';
import { parseFileDecl } from '../files.js';
import { RUN_MAX_EVENTS } from '../runtime.js';
import { PARAM_KINDS, WORKLOAD_NAMES, workloadDef, type ParamValue, type WorkloadName } from './workloads.js';

/** Most points one sweep may have. */
export const MAX_POINTS = 100_000;

export interface PlotSpec {
  x: string;
  y: string;
  series: string[];
  logX: boolean;
  logY: boolean | 'auto';
  svg: boolean;
  png: boolean;
}

/** A config, validated and normalised. */
export interface SweepConfig {
  name: string;
  description: string;
  workload: WorkloadName;
  /** Fixed values (normalised), by parameter. */
  fixed: Record<string, ParamValue>;
  /** Swept parameters in config order, each with its values (normalised) and the JSON path of each value. */
  swept: { name: string; values: ParamValue[]; paths: string[]; doubling: boolean }[];
  seeds: string[];
  repeats: number;
  enable: Feature[];
  disable: Feature[];
  maxEvents: number;
  /** Data files on the machine besides the profile's ("files": ["PATH:SIZE", ...]). */
  files: FileDecl[];
  outputs: { dir: string; csv: boolean; json: boolean; plot: PlotSpec | null };
  /** Where each fixed value came from. */
  fixedPaths: Record<string, string>;
}

const PROFILE_NAME = 'a profile name such as lecture, bbb or host';
const notAHook = (h: unknown) => `${describe(h)} is not a hook`;

/** Hooks, as "a,b" or ["a", "b"], normalised to "a,b" (sorted, each once; "" for none). */
const hooks = anyOf(
  [
    text('a comma-separated list of hooks', { empty: true }).transform((s, fail) => {
      const words = s.split(',').map((w) => w.trim()).filter((w) => w !== '');
      const bad = words.find((w) => !isFeature(w));
      return bad === undefined ? words : fail([], notAHook(bad), `one of ${FEATURE_NAMES.join(', ')}`);
    }),
    list(oneOf(FEATURE_NAMES, notAHook)),
  ],
  'a list of hooks',
  `a comma-separated string or an array of ${FEATURE_NAMES.join(', ')}`,
).transform((words) => [...new Set(words)].sort().join(','));

/** A data file as --file takes it, "PATH:SIZE". */
const dataFile = text('"PATH:SIZE", such as "/data/iofile:16m"').transform((t, fail): FileDecl => {
  try {
    return parseFileDecl('', t);
  } catch (e) {
    if (e instanceof CliError) return fail([], e.problem, e.expected ?? '"PATH:SIZE"');
    throw e;
  }
});

/** The kinds of parameter: a workload's, and the run's own (hooks, a profile name). */
const KINDS = { ...PARAM_KINDS, hooks, profile: text(PROFILE_NAME) };
type Kind = keyof typeof KINDS;

/** Keys that belong to the run rather than the workload; they may be fixed or swept too. */
const RUN_PARAMS: Record<string, Kind> = { profile: 'profile', enable: 'hooks', cold_cache: 'boolean' };

/** The values of a swept parameter, in the form the config gave them. */
interface Swept {
  form: 'list' | 'list-object' | 'range' | 'powers_of_two';
  values: ParamValue[];
}

const powerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;

/** A swept parameter of `kind`: a list, {"list": [...]}, or (sizes and counts) a range or powers of two. */
function swept(kind: Kind): Schema<Swept> {
  const values = list<ParamValue>(KINDS[kind], 'a list of values', { problem: 'an empty list', expected: 'at least one value' });
  const lists = [values.transform((v): Swept => ({ form: 'list', values: v })), section({ list: values }).transform((o): Swept => ({ form: 'list-object', values: o.list }))];
  if (kind !== 'size' && kind !== 'count') return anyOf(lists, 'a sweep', 'a list [...] or {"list": [...]}');
  const n = KINDS[kind];
  const ordered = (from: number, to: number, fail: Fail) => to < from && fail(['to'], `${to} is below from (${from})`, `a value >= ${from}`);
  const range = section({ from: n, to: n, step: number({ integer: true, min: 1 }).default(1) }).transform(({ from, to, step }, fail): Swept => {
    ordered(from, to, fail);
    if ((to - from) / step + 1 > MAX_POINTS) fail(['step'], `${step} gives more than ${MAX_POINTS} values`, 'a larger step or a narrower range');
    return { form: 'range', values: Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step) };
  });
  const powers = section({ from: n, to: n }).transform(({ from, to }, fail): Swept => {
    ordered(from, to, fail);
    if (!powerOfTwo(from)) fail(['from'], `${from} is not a power of two`, 'a power of two such as 1024 or "1k"');
    if (!powerOfTwo(to)) fail(['to'], `${to} is not a power of two`, 'a power of two such as 16777216 or "16m"');
    return { form: 'powers_of_two', values: Array.from({ length: Math.log2(to / from) + 1 }, (_, i) => from * 2 ** i) };
  });
  return anyOf(
    [...lists, section({ range }).transform((o) => o.range), section({ powers_of_two: powers }).transform((o) => o.powers_of_two)],
    'a sweep',
    'a list [...], {"list": [...]}, {"range": {"from", "to", "step"}} or {"powers_of_two": {"from", "to"}}',
  );
}

/** The parameters of `workload` that a config may fix or sweep, with their kinds. */
function kindsOf(workload: WorkloadName): Record<string, Kind> {
  const params = workloadDef(workload).params;
  return { ...Object.fromEntries(Object.entries(params).map(([name, spec]) => [name, spec.kind])), ...RUN_PARAMS };
}

const plotSection = section({
  x: text('a swept size or count').optional().describe('the x axis: a swept size or count (default: the first with two values or more)'),
  y: text('an output figure').optional().describe("the y axis: an output figure (default: the workload's headline figure)"),
  series: anyOf([text('a swept parameter'), list(text('a swept parameter'))], 'a swept parameter or a list of them', 'a swept parameter or a list of them').optional().describe('a line per value of these (default: every other swept parameter)'),
  log_x: flag().optional().describe('a log x axis (default: when x doubles from value to value)'),
  log_y: anyOf([oneOf(['auto']), flag()], 'a log-axis choice', '"auto", true or false').default('auto').describe('a log y axis; "auto" when the figures span a wide range'),
  svg: flag().default(true).describe('write the plot as SVG'),
  png: flag().default(true).describe('write the plot as PNG'),
});

const outputsSection = section({
  dir: text('a directory for the results').optional().describe('where the results go (default: sweep-results/<name>)'),
  csv: flag().default(true).describe('write the results as CSV'),
  json: flag().default(true).describe('write the results as JSON'),
  plot: anyOf([flag(), plotSection], 'a plot', 'true, false or a plot object').optional().describe('plot a figure against a swept parameter (false: none)'),
});

/**
 * The config schema for a `workload`. `sweepOrder` lists the config's swept keys as it
 * gives them: they come first in the sweep section's shape, so its output (in shape
 * order) keeps the config's order, which is the order points are expanded in.
 * `defaultName` names a config that gives no name.
 */
export function configSchema(workload: WorkloadName, sweepOrder: readonly string[], defaultName: string) {
  const kinds = kindsOf(workload);
  const notAParam = (key: string): [string, string] => [`'${key}' is not a parameter of ${workload}`, `one of ${Object.keys(kinds).join(', ')}`];
  const fixed = section(Object.fromEntries(Object.entries(kinds).map(([name, kind]) => [name, (KINDS[kind] as Schema<ParamValue>).optional()])), { unknown: notAParam });
  const sweptNames = [...sweepOrder.filter((n) => Object.hasOwn(kinds, n)), ...Object.keys(kinds).filter((n) => !sweepOrder.includes(n))];
  const sweep = section(Object.fromEntries(sweptNames.map((name) => [name, swept(kinds[name]!).optional()])), { unknown: notAParam });
  return section(
    {
      name: text().optional().describe('names the output files (default: the config file name)'),
      description: text().optional().describe('what the sweep shows, for the results and the plot'),
      workload: oneOf([workload]).describe('the workload to run: io-static or dd'),
      profile: text(PROFILE_NAME).optional().describe('the machine profile (it may also be fixed or swept like a parameter)'),
      fixed: fixed.default({}).describe('parameters held at one value (the workload defaults the rest)'),
      sweep: sweep.default({}).describe('parameters swept: a list, a range or powers of two each; the first is outermost'),
      seeds: list(anyOf([number({ integer: true }, 'a seed string such as "1" (or a whole number)').transform(String), text('a seed string such as "1"')], 'a seed', 'a seed string such as "1"'), 'a list of seed strings', { problem: 'an empty list', expected: 'at least one seed' })
        .refine((seeds, fail) => new Set(seeds).size === seeds.length || fail([], 'a seed is listed twice', 'distinct seeds'))
        .default(['1'])
        .describe('a run per seed (and repeat)'),
      repeats: number({ integer: true, min: 1, max: 1000 }).default(1).describe('runs per seed; repeat r > 0 runs seed "<seed>/r<r>"'),
      enable: hooks.optional().describe("hooks on, on top of the profile's kernel options"),
      disable: hooks.optional().describe("hooks off, on top of the profile's kernel options"),
      cold_cache: flag().optional().describe('start every run with cold caches (it may also be fixed or swept)'),
      max_events: number({ integer: true, min: 1 }).default(RUN_MAX_EVENTS).describe('most simulated events per point, as --max-events'),
      files: list(dataFile, 'a list of "PATH:SIZE" strings')
        .refine((fs, fail) => fs.forEach((f, i) => fs.findIndex((g) => g.path === f.path) < i && fail([i], `${f.path} is declared twice`, 'each path once')))
        .default([])
        .describe("data files on every point's machine, as --file (a path the profile has takes this size)"),
      outputs: outputsSection.default(() => ({ csv: true, json: true })).describe('what to write, and where'),
      $schema: anything().optional(),
      comment: anything().optional(),
    },
    { unlisted: ['$schema', 'comment'] },
  )
    .transform((c, fail): SweepConfig => {
      if (c.fixed.profile !== undefined && c.profile !== undefined) fail(['fixed', 'profile'], 'the profile is given twice', 'the profile at the top level or in fixed, not both');
      for (const name of Object.keys(c.sweep)) {
        if (c.fixed[name] !== undefined || (name === 'profile' && c.profile !== undefined) || (name === 'cold_cache' && c.cold_cache !== undefined)) {
          fail(['sweep', name], 'is also fixed', 'each parameter either fixed or swept');
        }
      }
      if (c.profile === undefined && c.fixed.profile === undefined && c.sweep.profile === undefined) {
        fail(['profile'], 'missing', 'a profile name such as lecture, bbb or host (or "profile" under sweep)');
      }
      const def = workloadDef(workload);
      const fixed: Record<string, ParamValue> = { ...def.defaults };
      const fixedPaths: Record<string, string> = {};
      const give = (name: string, value: ParamValue | undefined, path: string) => {
        if (value === undefined) return;
        fixed[name] = value;
        fixedPaths[name] = path;
      };
      give('profile', c.profile, 'profile');
      give('cold_cache', c.cold_cache, 'cold_cache');
      for (const [name, value] of Object.entries(c.fixed)) give(name, value, `fixed.${name}`);
      const swept = Object.entries(c.sweep).map(([name, s]) => ({ name, ...valuesOf(s as Swept, `sweep.${name}`) }));
      const count = swept.reduce((n, s) => n * s.values.length, 1) * c.seeds.length * c.repeats;
      if (count > MAX_POINTS) fail(['sweep'], `${count} points`, `at most ${MAX_POINTS} points (fewer values, seeds or repeats)`);
      const name = c.name ?? defaultName;
      if (!/^[A-Za-z0-9._-]+$/.test(name)) fail(['name'], `${describe(name)} is not usable in file names`, 'letters, digits, ".", "_" and "-"');
      const plot = plotOf(c.outputs.plot, swept, def.headline.name, Object.keys(def.outputs), fail);
      return {
        name,
        description: c.description ?? '',
        workload,
        fixed,
        fixedPaths,
        swept,
        seeds: c.seeds,
        repeats: c.repeats,
        enable: features(c.enable),
        disable: features(c.disable),
        maxEvents: c.max_events,
        files: c.files,
        outputs: { dir: c.outputs.dir ?? `sweep-results/${name}`, csv: c.outputs.csv, json: c.outputs.json, plot },
      };
    });
}

function features(hookText: string | undefined): Feature[] {
  return (hookText ?? '').split(',').filter((s) => s !== '') as Feature[];
}

/** A swept parameter's values, the JSON path of each, and whether they double from one to the next (a log axis). */
function valuesOf(s: Swept, at: string): { values: ParamValue[]; paths: string[]; doubling: boolean } {
  const { values } = s;
  if (s.form === 'list' || s.form === 'list-object') {
    const listPath = s.form === 'list' ? at : `${at}.list`;
    const nums = values.filter((v): v is number => typeof v === 'number');
    const doubling = nums.length === values.length && nums.length > 1 && nums.every((v, i) => i === 0 || v === 2 * nums[i - 1]!);
    return { values, paths: values.map((_, i) => `${listPath}[${i}]`), doubling };
  }
  return { values, paths: values.map((v) => `${at}.${s.form} (value ${v})`), doubling: s.form === 'powers_of_two' && values.length > 1 };
}

type PlotInput = Out<typeof plotSection> | boolean | undefined;

/** The plot a config asks for (or, by default, the one it implies), or null for none. */
function plotOf(raw: PlotInput, swept: SweepConfig['swept'], headline: string, figures: string[], fail: Fail): PlotSpec | null {
  if (raw === false) return null;
  // A plot asked for (true, or an object) must have something to plot against; the default may quietly have none.
  const asked = raw !== undefined;
  const plot = typeof raw === 'object' ? raw : { log_y: 'auto' as const, svg: true, png: true };
  const sweptNames = swept.map((s) => s.name);
  const at = (...p: (string | number)[]) => ['outputs', 'plot', ...p];
  let x = plot.x;
  if (x === undefined) {
    x = swept.find((s) => s.values.length > 1 && s.values.every((v) => typeof v === 'number'))?.name;
    if (x === undefined && asked) fail(at(), 'nothing to plot against: no swept size or count has two values or more', 'a sweep of a size or count, or "plot": false');
    if (x === undefined) return null;
  } else if (sweptNames.length === 0) {
    fail(at('x'), `${describe(x)} is not swept (the config sweeps nothing)`, 'a swept size or count, or "plot": false');
  } else if (!sweptNames.includes(x)) {
    fail(at('x'), `${describe(x)} is not accepted`, `one of ${sweptNames.join(', ')}`);
  }
  const xs = swept.find((s) => s.name === x)!;
  if (!xs.values.every((v) => typeof v === 'number')) {
    fail(at('x'), `'${x}' is not numeric`, 'a swept size or count');
  }
  if (plot.y !== undefined && !figures.includes(plot.y)) {
    fail(at('y'), `${describe(plot.y)} is not accepted`, `one of ${figures.join(', ')}`);
  }
  const others = sweptNames.filter((n) => n !== x);
  const series = plot.series === undefined ? others : typeof plot.series === 'string' ? [plot.series] : plot.series;
  const bad = series.findIndex((s) => !others.includes(s));
  if (bad >= 0) {
    fail(typeof plot.series === 'string' ? at('series') : at('series', bad), `${describe(series[bad])} is not accepted`, `one of ${others.join(', ')}`);
  }
  return { x, y: plot.y ?? headline, series, logX: plot.log_x ?? xs.doubling, logY: plot.log_y === 'auto' ? 'auto' : plot.log_y, svg: plot.svg, png: plot.png };
}

/** The config's keys and each workload's parameters, with what each is and its default, for `l41sim sweep --help`. */
export function configHelp(): string {
  const top = configSchema(WORKLOAD_NAMES[0]!, [], 'name').inner;
  if (!(top instanceof Section)) throw new Error('the config schema is not a section');
  const defaultOf = (s: Schema<unknown>) => {
    if (!(s instanceof Default)) return '';
    const v: unknown = typeof s.value === 'function' ? (s.value as () => unknown)() : s.value;
    return typeof v === 'object' && !Array.isArray(v) ? '' : ` (default ${JSON.stringify(v)})`;
  };
  const described = (shape: Record<string, Schema<unknown>>, prefix = '') => Object.entries(shape).flatMap(([k, s]): [string, Schema<unknown>][] => (s.doc === undefined ? [] : [[prefix + k, s]]));
  const keys = [...described(top.shape), ...described(outputsSection.shape, 'outputs.'), ...described(plotSection.shape, 'outputs.plot.')];
  const width = Math.max(...keys.map(([k]) => k.length), ...WORKLOAD_NAMES.flatMap((w) => Object.keys(workloadDef(w).params).map((p) => p.length + 2)));
  const lines = ['Config keys (JSON):', ...keys.map(([k, s]) => `  ${k.padEnd(width)}  ${s.doc}${defaultOf(s)}`)];
  for (const w of WORKLOAD_NAMES) {
    const def = workloadDef(w);
    lines.push(`Parameters of ${w} (under "fixed" or "sweep"; also profile, enable, cold_cache):`);
    for (const [name, spec] of Object.entries(def.params)) {
      const given = def.defaults[name];
      lines.push(`    ${name.padEnd(width - 2)}  ${spec.kind}: ${spec.doc}${given === undefined ? '' : ` (default ${JSON.stringify(given)})`}`);
    }
  }
  return lines.join('\n');
}
