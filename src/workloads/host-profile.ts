// `--profile host`: the profile of the machine l41sim runs on. Host profiles carry the
// fingerprint of the machine they were measured on (src/costmodel/fingerprint.ts);
// `host` names the one whose fingerprint matches this machine's. When none does, a
// profile measured elsewhere is used only if the user allows it (--allow-stale-host),
// and then with a warning that says what differs: a profile of another machine is not
// "this machine".

import { describeDifferences, fingerprintDifferences, type FingerprintDifference, type MachineFingerprint } from '../costmodel/fingerprint.js';
import { listProfileNames, loadProfile, type Profile } from '../costmodel/profile.js';
import { CliError, UsageError } from '../errors.js';
import { HostMeasureError } from '../host/error.js';
import { readFingerprint } from '../host/fingerprint.js';
import { measureSignature } from '../host/node-loops.js';

/** The profile name that stands for this machine's profile. */
export const HOST = 'host';

export interface HostCandidate {
  name: string;
  fingerprint: MachineFingerprint;
  /** How this machine differs from where the profile was measured (empty: it is this machine). */
  differences: FingerprintDifference[];
}

export interface HostMatch {
  /** This machine's fingerprint (its signature measured only when some profile's identity matched). */
  here: MachineFingerprint;
  /** Every profile with a fingerprint, the matching one first, then by fewest differences. */
  candidates: HostCandidate[];
}

/** The shipped and calibrated profiles that carry a fingerprint (invalid files are left out: `l41sim profiles` reports them). */
function fingerprinted(): { name: string; fingerprint: MachineFingerprint }[] {
  const out: { name: string; fingerprint: MachineFingerprint }[] = [];
  for (const name of listProfileNames()) {
    let p: Profile;
    try {
      p = loadProfile(name);
    } catch (e) {
      if (e instanceof CliError) continue;
      throw e;
    }
    if (p.fingerprint) out.push({ name, fingerprint: p.fingerprint });
  }
  return out;
}

/** Compare this machine with every fingerprinted profile. Throws HostMeasureError off Linux. */
export function matchHostProfiles(): HostMatch {
  let here = readFingerprint({ signature: false });
  const profiles = fingerprinted();
  // The signature takes a fraction of a second to measure: only when an identity matches.
  if (profiles.some((p) => fingerprintDifferences(here, p.fingerprint).length === 0)) here = { ...here, signature: measureSignature() };
  const candidates = profiles.map((p) => ({ ...p, differences: fingerprintDifferences(here, p.fingerprint) }));
  candidates.sort((a, b) => a.differences.length - b.differences.length || a.name.localeCompare(b.name));
  return { here, candidates };
}

export interface ResolvedProfile {
  profile: Profile;
  /** Set when `host` resolved to a profile of another machine (--allow-stale-host): say so on stderr. */
  warning: string | null;
}

/**
 * Load the profile `name` names; `host` is this machine's (see the module comment).
 * `field` is the option or JSON path errors name.
 */
export function loadProfileFor(name: string, opts: { allowStaleHost: boolean; field?: string }): ResolvedProfile {
  const field = opts.field ?? '--profile';
  if (name !== HOST) {
    try {
      return { profile: loadProfile(name), warning: null };
    } catch (e) {
      if (e instanceof CliError && e.field === '--profile' && field !== '--profile') throw new UsageError(field, e.problem, e.expected);
      throw e;
    }
  }
  let match: HostMatch;
  try {
    match = matchHostProfiles();
  } catch (e) {
    if (e instanceof HostMeasureError) throw new UsageError(field, `host: this machine cannot be identified (${e.message})`, 'a shipped profile (see l41sim profiles)');
    throw e;
  }
  const best = match.candidates[0];
  if (best && best.differences.length === 0) return { profile: loadProfile(best.name), warning: null };
  const calibrate = "a profile of this machine: run 'l41sim calibrate host'";
  if (!best) throw new UsageError(field, `host: no host profile yet (this machine is ${match.here.machine})`, calibrate);
  const differs = describeDifferences(best.differences);
  if (!opts.allowStaleHost) throw new UsageError(field, `host: no profile was measured on this machine; the nearest, ${best.name}, differs (${differs})`, `${calibrate} (or pass --allow-stale-host to use ${best.name} anyway)`);
  return { profile: loadProfile(best.name), warning: `--allow-stale-host: using ${best.name}, measured on another machine (${differs}); run 'l41sim calibrate host' for a profile of this one` };
}
