// One point of a sweep: its workload run on a fresh modelled kernel, and the row
// that records it. A point's figures depend only on its inputs (parameters, profile,
// hooks, seed), never on which thread ran it or when: that is what makes a sweep's
// results the same whatever the worker count.

import type { Profile } from '../../costmodel/profile.js';
import type { SweepPoint } from './config.js';
import { workloadDef, type Outputs, type ParamValue } from './workloads.js';

export type Row = Record<string, string | number | boolean>;

/** Run one point (on whatever thread calls it); `exact` simulates every loop iteration (the same figures). */
export function runPoint(point: SweepPoint, profile: Profile, exact = false): Outputs {
  const def = workloadDef(point.workload);
  const options = def.options(point.params, {});
  return def.run(options, { profile, seed: point.seed, features: new Set(point.features), coldCache: point.coldCache, maxEvents: point.maxEvents, files: point.files, exact });
}

/** The result row of a point: its identity and inputs, then every output figure. */
export function rowFor(point: SweepPoint, outputs: Outputs, version: string): Row {
  const def = workloadDef(point.workload);
  const row: Row = {
    point: point.index,
    key: point.key,
    workload: point.workload,
    profile: point.profile,
    profile_hash: point.profileHash,
    l41sim_version: version,
    seed: point.seed,
    repeat: point.repeat,
    hooks: point.features.join('+'),
    cold_cache: point.coldCache,
  };
  for (const name of Object.keys(def.params)) {
    const v: ParamValue | undefined = point.params[name];
    row[name] = v === undefined ? '' : v;
  }
  for (const name of Object.keys(def.outputs)) row[name] = outputs[name] ?? '';
  return row;
}
