// A sweep config: which workload to run on which profile, with which parameters
// fixed and which swept, how many seeds and repeats, which hooks on, and where the
// results go. Validated at the edge (every fault names its JSON path, exit 2) and
// expanded into points: the cartesian product of the swept values, in the order the
// config lists them (first key outermost), then seeds, then repeats.
//
//   {
//     "name": "io-static-bbb",                  optional: names the output files
//     "description": "...",                     optional
//     "workload": "io-static",                  io-static or dd
//     "profile": "bbb",                         a profile name (or swept: "sweep": {"profile": [...]})
//     "fixed": {"mode": "read", "total": "16m"},
//     "sweep": {
//       "buffer": {"powers_of_two": {"from": "1k", "to": "16m"}},
//       "path": ["/dev/zero", "/data/iofile"]     a list: [...] or {"list": [...]}
//     },                                        or {"range": {"from": 1, "to": 9, "step": 2}}
//     "seeds": ["1"], "repeats": 1,             a run per seed and repeat (repeat r > 0 runs seed "<seed>/r<r>")
//     "enable": ["audit"], "disable": [],       hooks on and off, on top of the profile's kernel options
//     "cold_cache": false,
//     "max_events": 50000000,                   per point, as --max-events
//     "outputs": {"dir": "results", "csv": true, "json": true,
//                 "plot": {"x": "buffer", "y": "bandwidth_kib_s", "series": ["path"], "log_y": "auto",
//                          "svg": true, "png": true}}
//   }
//
// Besides the workload's parameters, `profile`, `enable` (a comma-separated list of
// hooks, "" for none) and `cold_cache` may be fixed or swept.

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { profileHash, type Profile } from '../../costmodel/profile.js';
import { loadProfileFor } from '../host-profile.js';
import {
  ValidationError,
  describe,
  expectArray,
  expectBoolean,
  expectKeys,
  expectNumber,
  expectObject,
  expectOneOf,
  expectString,
} from '../../costmodel/validate.js';
import { CliError } from '../../errors.js';
import { FEATURE_NAMES, isFeature, type Feature } from '../../kernel/features.js';
import { FeatureError, checkFeatures, profileFeatures } from '../../kernel/hooks.js';
import { RUN_MAX_EVENTS } from '../runtime.js';
import { WORKLOAD_NAMES, normaliseParam, workloadDef, type ParamKind, type ParamValue, type WorkloadName } from './workloads.js';

/** Most points one sweep may have. */
export const MAX_POINTS = 100_000;

/** Keys that belong to the run rather than the workload; they may be fixed or swept too. */
const RUN_PARAMS: Record<string, Kind> = { profile: 'profile', enable: 'hooks', cold_cache: 'boolean' };

/** A parameter's kind: a workload's, or one of the run's own (hooks, a profile name). */
type Kind = ParamKind | 'hooks' | 'profile';

export interface PlotSpec {
  x: string;
  y: string;
  series: string[];
  logX: boolean;
  logY: boolean | 'auto';
  svg: boolean;
  png: boolean;
}

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
  outputs: { dir: string; csv: boolean; json: boolean; plot: PlotSpec | null };
  /** Where each fixed value came from. */
  fixedPaths: Record<string, string>;
}

/** One run of the sweep. */
export interface SweepPoint {
  index: number;
  /** Stable identity of the point's inputs (resume matches on it). */
  key: string;
  workload: WorkloadName;
  profile: string;
  profileHash: string;
  /** Workload parameters (all of them, defaults filled in). */
  params: Record<string, ParamValue>;
  /** Hooks on, sorted. */
  features: Feature[];
  coldCache: boolean;
  seed: string;
  repeat: number;
  maxEvents: number;
}

const TOP_KEYS = ['name', 'description', 'workload', 'profile', 'fixed', 'sweep', 'seeds', 'repeats', 'enable', 'disable', 'cold_cache', 'max_events', 'outputs', '$schema', 'comment'] as const;

function kindOf(workload: WorkloadName, name: string, path: string): Kind {
  // Own keys only: a config's "constructor" or "toString" is not a parameter.
  if (Object.hasOwn(RUN_PARAMS, name)) return RUN_PARAMS[name]!;
  const params = workloadDef(workload).params;
  const spec = Object.hasOwn(params, name) ? params[name] : undefined;
  if (!spec) {
    const known = [...Object.keys(workloadDef(workload).params), ...Object.keys(RUN_PARAMS)];
    throw new ValidationError(path, `'${name}' is not a parameter of ${workload}`, `one of ${known.join(', ')}`);
  }
  return spec.kind;
}

function hooksText(value: unknown, path: string): string {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : null;
  if (list === null) throw new ValidationError(path, `${describe(value)} is not a list of hooks`, `a comma-separated string or an array of ${FEATURE_NAMES.join(', ')}`);
  const out: string[] = [];
  list.forEach((h, i) => {
    if (typeof h !== 'string' || !isFeature(h)) throw new ValidationError(Array.isArray(value) ? `${path}[${i}]` : path, `${describe(h)} is not a hook`, `one of ${FEATURE_NAMES.join(', ')}`);
    out.push(h);
  });
  return [...new Set(out)].sort().join(',');
}

function normalise(kind: Kind, value: unknown, path: string): ParamValue {
  if (kind === 'profile') return expectString(value, path, 'a profile name such as lecture, bbb or host');
  return kind === 'hooks' ? hooksText(value, path) : normaliseParam(kind, value, path);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** The values of one swept parameter: a list, a range, or powers of two. */
function sweptValues(kind: Kind, raw: unknown, path: string): { values: ParamValue[]; paths: string[]; doubling: boolean } {
  if (Array.isArray(raw) || (typeof raw === 'object' && raw !== null && 'list' in raw)) {
    const listPath = Array.isArray(raw) ? path : `${path}.list`;
    if (!Array.isArray(raw)) expectKeys(raw as Record<string, unknown>, path, ['list']);
    const list = expectArray(Array.isArray(raw) ? raw : (raw as { list: unknown }).list, listPath, 'a list of values');
    if (list.length === 0) throw new ValidationError(listPath, 'an empty list', 'at least one value');
    const values = list.map((v, i) => normalise(kind, v, `${listPath}[${i}]`));
    const paths = list.map((_, i) => `${listPath}[${i}]`);
    const nums = values.filter((v): v is number => typeof v === 'number');
    const doubling = nums.length === values.length && nums.length > 1 && nums.every((v, i) => i === 0 || v === 2 * nums[i - 1]!);
    return { values, paths, doubling };
  }
  const obj = expectObject(raw, path);
  const form = Object.keys(obj);
  if (form.length !== 1 || (form[0] !== 'range' && form[0] !== 'powers_of_two')) {
    throw new ValidationError(path, `${describe(raw)} is not a sweep`, 'a list [...], {"list": [...]}, {"range": {"from", "to", "step"}} or {"powers_of_two": {"from", "to"}}');
  }
  if (kind !== 'size' && kind !== 'count') throw new ValidationError(`${path}.${form[0]}`, `a ${form[0]} of a ${kind} parameter`, 'a list of values');
  const spec = expectObject(obj[form[0]!], `${path}.${form[0]}`);
  const at = `${path}.${form[0]}`;
  const from = normaliseParam(kind, spec.from, `${at}.from`) as number;
  const to = normaliseParam(kind, spec.to, `${at}.to`) as number;
  if (to < from) throw new ValidationError(`${at}.to`, `${to} is below from (${from})`, `a value >= ${from}`);
  const values: number[] = [];
  if (form[0] === 'range') {
    expectKeys(spec, at, ['from', 'to', 'step']);
    const step = spec.step === undefined ? 1 : expectNumber(spec.step, `${at}.step`, { integer: true, min: 1 });
    if ((to - from) / step + 1 > MAX_POINTS) throw new ValidationError(`${at}.step`, `${step} gives more than ${MAX_POINTS} values`, 'a larger step or a narrower range');
    for (let v = from; v <= to; v += step) values.push(v);
  } else {
    expectKeys(spec, at, ['from', 'to']);
    if (!isPowerOfTwo(from)) throw new ValidationError(`${at}.from`, `${from} is not a power of two`, 'a power of two such as 1024 or "1k"');
    if (!isPowerOfTwo(to)) throw new ValidationError(`${at}.to`, `${to} is not a power of two`, 'a power of two such as 16777216 or "16m"');
    for (let v = from; v <= to; v *= 2) values.push(v);
  }
  return { values, paths: values.map((v) => `${at} (value ${v})`), doubling: form[0] === 'powers_of_two' && values.length > 1 };
}

function featureList(raw: unknown, path: string): Feature[] {
  if (raw === undefined) return [];
  return hooksText(raw, path)
    .split(',')
    .filter((s) => s !== '') as Feature[];
}

/** Validate a parsed config document. `origin` names the file (for the default name). */
export function validateSweepConfig(raw: unknown, origin = 'config.json'): SweepConfig {
  const obj = expectObject(raw, 'config');
  for (const key of Object.keys(obj)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) throw new ValidationError(key, 'unknown key', `one of ${TOP_KEYS.filter((k) => !k.startsWith('$') && k !== 'comment').join(', ')}`);
  }
  const workload = expectOneOf(obj.workload, 'workload', WORKLOAD_NAMES);
  const def = workloadDef(workload);
  const fixed: Record<string, ParamValue> = { ...def.defaults };
  const fixedPaths: Record<string, string> = {};
  if (obj.profile !== undefined) {
    fixed.profile = expectString(obj.profile, 'profile', 'a profile name such as lecture, bbb or host');
    fixedPaths.profile = 'profile';
  }
  if (obj.cold_cache !== undefined) {
    fixed.cold_cache = expectBoolean(obj.cold_cache, 'cold_cache');
    fixedPaths.cold_cache = 'cold_cache';
  }
  const fixedRaw = obj.fixed === undefined ? {} : expectObject(obj.fixed, 'fixed');
  for (const [name, v] of Object.entries(fixedRaw)) {
    if (name === 'profile' && obj.profile !== undefined) throw new ValidationError('fixed.profile', 'the profile is given twice', 'the profile at the top level or in fixed, not both');
    fixed[name] = normalise(kindOf(workload, name, `fixed.${name}`), v, `fixed.${name}`);
    fixedPaths[name] = `fixed.${name}`;
  }
  const sweepRaw = obj.sweep === undefined ? {} : expectObject(obj.sweep, 'sweep');
  const swept: SweepConfig['swept'] = [];
  for (const [name, v] of Object.entries(sweepRaw)) {
    if (Object.hasOwn(fixedRaw, name) || (name === 'profile' && obj.profile !== undefined) || (name === 'cold_cache' && obj.cold_cache !== undefined)) {
      throw new ValidationError(`sweep.${name}`, 'is also fixed', 'each parameter either fixed or swept');
    }
    swept.push({ name, ...sweptValues(kindOf(workload, name, `sweep.${name}`), v, `sweep.${name}`) });
  }
  if (fixed.profile === undefined && !swept.some((s) => s.name === 'profile')) {
    throw new ValidationError('profile', 'missing', 'a profile name such as lecture, bbb or host (or "profile" under sweep)');
  }
  const seeds = obj.seeds === undefined ? ['1'] : expectArray(obj.seeds, 'seeds', 'a list of seed strings').map((s, i) => {
    if (typeof s === 'number' && Number.isSafeInteger(s)) return String(s);
    return expectString(s, `seeds[${i}]`, 'a seed string such as "1"');
  });
  if (seeds.length === 0) throw new ValidationError('seeds', 'an empty list', 'at least one seed');
  if (new Set(seeds).size !== seeds.length) throw new ValidationError('seeds', 'a seed is listed twice', 'distinct seeds');
  const repeats = obj.repeats === undefined ? 1 : expectNumber(obj.repeats, 'repeats', { integer: true, min: 1, max: 1000 });
  const maxEvents = obj.max_events === undefined ? RUN_MAX_EVENTS : expectNumber(obj.max_events, 'max_events', { integer: true, min: 1 });
  const name = obj.name === undefined ? basename(origin).replace(/\.json$/i, '') : expectString(obj.name, 'name');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ValidationError('name', `${describe(name)} is not usable in file names`, 'letters, digits, ".", "_" and "-"');
  const config: SweepConfig = {
    name,
    description: obj.description === undefined ? '' : expectString(obj.description, 'description'),
    workload,
    fixed,
    fixedPaths,
    swept,
    seeds,
    repeats,
    enable: featureList(obj.enable, 'enable'),
    disable: featureList(obj.disable, 'disable'),
    maxEvents,
    outputs: parseOutputs(obj.outputs, workload, swept, name),
  };
  const count = swept.reduce((n, s) => n * s.values.length, 1) * seeds.length * repeats;
  if (count > MAX_POINTS) throw new ValidationError('sweep', `${count} points`, `at most ${MAX_POINTS} points (fewer values, seeds or repeats)`);
  return config;
}

function parseOutputs(raw: unknown, workload: WorkloadName, swept: SweepConfig['swept'], name: string): SweepConfig['outputs'] {
  const obj = raw === undefined ? {} : expectObject(raw, 'outputs');
  expectKeys(obj, 'outputs', ['dir', 'csv', 'json', 'plot']);
  const def = workloadDef(workload);
  const out: SweepConfig['outputs'] = {
    dir: obj.dir === undefined ? `sweep-results/${name}` : expectString(obj.dir, 'outputs.dir', 'a directory for the results'),
    csv: obj.csv === undefined ? true : expectBoolean(obj.csv, 'outputs.csv'),
    json: obj.json === undefined ? true : expectBoolean(obj.json, 'outputs.json'),
    plot: null,
  };
  if (obj.plot === false) return out;
  // A plot asked for (true, or an object) must have something to plot against; the default may quietly have none.
  const asked = obj.plot !== undefined;
  const plot = obj.plot === undefined || obj.plot === true ? {} : expectObject(obj.plot, 'outputs.plot');
  expectKeys(plot, 'outputs.plot', ['x', 'y', 'series', 'log_x', 'log_y', 'svg', 'png']);
  const sweptNames = swept.map((s) => s.name);
  let x: string;
  if (plot.x === undefined) {
    const numeric = swept.find((s) => s.values.every((v) => typeof v === 'number') && s.values.length > 1);
    if (!numeric && asked) throw new ValidationError('outputs.plot', 'nothing to plot against: no swept size or count has two values or more', 'a sweep of a size or count, or "plot": false');
    if (!numeric) return out; // nothing to plot against
    x = numeric.name;
  } else {
    if (sweptNames.length === 0) throw new ValidationError('outputs.plot.x', `${describe(plot.x)} is not swept (the config sweeps nothing)`, 'a swept size or count, or "plot": false');
    x = expectOneOf(plot.x, 'outputs.plot.x', sweptNames);
  }
  const xs = swept.find((s) => s.name === x)!;
  if (!xs.values.every((v) => typeof v === 'number')) throw new ValidationError('outputs.plot.x', `'${x}' is not numeric`, 'a swept size or count');
  const y = plot.y === undefined ? def.headline.name : expectOneOf(plot.y, 'outputs.plot.y', Object.keys(def.outputs));
  let series: string[];
  if (plot.series === undefined) series = sweptNames.filter((n) => n !== x);
  else {
    const list = typeof plot.series === 'string' ? [plot.series] : expectArray(plot.series, 'outputs.plot.series', 'a swept parameter or a list of them');
    series = list.map((s, i) => expectOneOf(s, `outputs.plot.series[${i}]`, sweptNames.filter((n) => n !== x)));
  }
  const logY = plot.log_y === undefined || plot.log_y === 'auto' ? 'auto' : expectBoolean(plot.log_y, 'outputs.plot.log_y');
  out.plot = {
    x,
    y,
    series,
    logX: plot.log_x === undefined ? xs.doubling : expectBoolean(plot.log_x, 'outputs.plot.log_x'),
    logY,
    svg: plot.svg === undefined ? true : expectBoolean(plot.svg, 'outputs.plot.svg'),
    png: plot.png === undefined ? true : expectBoolean(plot.png, 'outputs.plot.png'),
  };
  return out;
}

/** How `host` in a config is resolved (./host-profile.ts): whether a profile of another machine may stand in, and where its warning goes. */
export interface HostProfileOptions {
  allowStaleHost?: boolean;
  onWarning?: (text: string) => void;
}

/** Profiles a config uses, loaded and hashed once (a missing one fails naming its JSON path). */
export function loadSweepProfiles(config: SweepConfig, host: HostProfileOptions = {}): Map<string, { profile: Profile; hash: string }> {
  const names = new Map<string, string>();
  if (typeof config.fixed.profile === 'string') names.set(config.fixed.profile, config.fixedPaths.profile ?? 'profile');
  const swept = config.swept.find((s) => s.name === 'profile');
  swept?.values.forEach((v, i) => names.set(String(v), swept.paths[i]!));
  const out = new Map<string, { profile: Profile; hash: string }>();
  for (const [name, path] of names) {
    let profile: Profile;
    try {
      const resolved = loadProfileFor(name, { allowStaleHost: host.allowStaleHost ?? false, field: path });
      if (resolved.warning) host.onWarning?.(resolved.warning);
      profile = resolved.profile;
    } catch (e) {
      if (e instanceof CliError && e.field !== path) throw new ValidationError(path, e.problem, e.expected);
      throw e;
    }
    out.set(name, { profile, hash: profileHash(profile) });
  }
  return out;
}

/** Every point of the sweep, in order, checked (options, event bounds) before any runs. */
export function expandPoints(config: SweepConfig, profiles: Map<string, { profile: Profile; hash: string }>, version: string): SweepPoint[] {
  const def = workloadDef(config.workload);
  const points: SweepPoint[] = [];
  const combos: { values: Record<string, ParamValue>; paths: Record<string, string> }[] = [{ values: { ...config.fixed }, paths: { ...config.fixedPaths } }];
  for (const s of config.swept) {
    const next: typeof combos = [];
    for (const c of combos) {
      s.values.forEach((v, i) => next.push({ values: { ...c.values, [s.name]: v }, paths: { ...c.paths, [s.name]: s.paths[i]! } }));
    }
    combos.splice(0, combos.length, ...next);
  }
  for (const c of combos) {
    const profileName = String(c.values.profile);
    const prof = profiles.get(profileName)!;
    const features = profileFeatures(prof.profile);
    const enableText = typeof c.values.enable === 'string' ? c.values.enable : '';
    for (const f of [...config.enable, ...enableText.split(',').filter((s) => s !== '')]) features.add(f as Feature);
    for (const f of config.disable) features.delete(f);
    const params: Record<string, ParamValue> = {};
    for (const name of Object.keys(def.params)) if (c.values[name] !== undefined) params[name] = c.values[name]!;
    const options = def.options(params, c.paths);
    // Combinations the profile's kernel path cannot run are refused here, not when the point runs.
    try {
      checkFeatures(prof.profile.kernel, features, profileName);
    } catch (e) {
      if (!(e instanceof FeatureError)) throw e;
      throw new ValidationError(c.paths.enable ?? 'enable', e.problem, e.expected);
    }
    const coldCache = c.values.cold_cache === true;
    if (config.workload === 'io-static' && prof.profile.kernel === 'linux') {
      if (params.fsync === true) throw new ValidationError(c.paths.fsync ?? 'fsync', `fsync(2) is not modelled on the Linux kernel path (profile '${profileName}')`, 'fsync false on a Linux profile');
      if (coldCache && params.mode !== 'create' && !String(params.path).startsWith('/dev/')) {
        throw new ValidationError(c.paths.cold_cache ?? 'cold_cache', `the Linux kernel path (profile '${profileName}') models no storage I/O, so ${String(params.path)} cannot start uncached`, 'a FreeBSD profile, a device, or cold_cache false');
      }
    }
    const events = def.events(options, prof.profile.machine.page_bytes.value);
    if (events > config.maxEvents) {
      const at = config.swept.map((s) => c.paths[s.name]).find((p) => p !== undefined) ?? 'max_events';
      throw new ValidationError(at, `this point needs about ${events} simulated events, more than max_events ${config.maxEvents}`, 'a smaller run, or a larger max_events');
    }
    for (const seed of config.seeds) {
      for (let repeat = 0; repeat < config.repeats; repeat++) {
        const runSeed = repeat === 0 ? seed : `${seed}/r${repeat}`;
        const identity = { workload: config.workload, profile: profileName, profileHash: prof.hash, params, features: [...features].sort(), coldCache, seed: runSeed, maxEvents: config.maxEvents, version };
        points.push({
          index: points.length,
          key: createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16),
          workload: config.workload,
          profile: profileName,
          profileHash: prof.hash,
          params,
          features: identity.features,
          coldCache,
          seed: runSeed,
          repeat,
          maxEvents: config.maxEvents,
        });
      }
    }
  }
  return points;
}
