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
//     "files": ["/data/big:64m"],               data files besides the profile's, as --file
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
import { CliError, ValidationError } from '../../errors.js';
import type { Feature } from '../../kernel/features.js';
import type { FileDecl } from '../../kernel/vfs.js';
import { checkFeatures, FeatureError, profileFeatures } from '../../kernel/hooks.js';
import { anything, oneOf, record, validate } from '../../schema.js';
import { configSchema, type SweepConfig } from './config-schema.js';
import { WORKLOAD_NAMES, workloadDef, type ParamValue, type WorkloadName } from './workloads.js';

export { MAX_POINTS, type PlotSpec, type SweepConfig } from './config-schema.js';

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
  /** Data files besides the profile's. */
  files: FileDecl[];
}

/** Validate a parsed config document. `origin` names the file (for the default name). */
export function validateSweepConfig(raw: unknown, origin = 'config.json'): SweepConfig {
  // The workload's schema is built from its parameter table, and keeps the order the config sweeps in.
  const doc = validate(record(anything()), raw, '', 'config');
  const workload = validate(oneOf(WORKLOAD_NAMES), doc.workload, 'workload');
  const sweepOrder = typeof doc.sweep === 'object' && doc.sweep !== null ? Object.keys(doc.sweep) : [];
  return validate(configSchema(workload, sweepOrder, basename(origin).replace(/\.json$/i, '')), raw, '', 'config');
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
        // Declared files join the identity only when there are some, so a config without them keeps its points' keys.
        const identity = { workload: config.workload, profile: profileName, profileHash: prof.hash, params, features: [...features].sort(), coldCache, seed: runSeed, maxEvents: config.maxEvents, version, ...(config.files.length > 0 ? { files: config.files } : {}) };
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
          files: config.files,
        });
      }
    }
  }
  return points;
}
