// A profile: the modelled machine, its kernel and userland, and every unit cost,
// each with provenance. Profiles are JSON files in calibration/; this module
// declares their schema, validates them at the edge (naming the JSON path of any
// fault) and loads them. A profile that fails validation is refused whole.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../errors.js';
import { validate } from '../schema.js';
import { profileDocument, type Profile } from './profile-schema.js';
import { repoPath } from './repo.js';

export { KERNEL_TEXT_SPAN } from './profile-schema.js';
export type { AllocatorKind, CacheLevelProfile, DdFlavour, KernelConfig, KernelText, MachineProfile, Profile, UserlandProfile } from './profile-schema.js';

/** Validate a parsed profile document; a fault names its JSON path under `origin` (the profile's name). */
export function validateProfile(raw: unknown, origin = 'profile'): Profile {
  const { generated_by: _, ...profile } = validate(profileDocument, raw, origin);
  return profile;
}

// ---- Loading -----------------------------------------------------------------


export function calibrationDir(): string {
  return repoPath('calibration');
}

/** The file behind a profile name. (`host`, this machine's profile, is resolved by src/workloads/host-profile.ts before loading.) */
export function profilePath(name: string): string {
  return join(calibrationDir(), `${name}.json`);
}

/** Shipped and calibrated profile names (file stems in calibration/ that hold profiles). */
export function listProfileNames(): string[] {
  return readdirSync(calibrationDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadProfile(name: string): Profile {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ValidationError('--profile', `'${name}' is not a profile name`, `one of ${[...listProfileNames(), 'host'].join(', ')}`);
  }
  const path = profilePath(name);
  if (!existsSync(path)) {
    throw new ValidationError('--profile', `no profile named '${name}'`, `one of ${[...listProfileNames(), 'host'].join(', ')}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ValidationError(path, `cannot read the profile (${e.code ?? e.message})`, 'a readable profile document (JSON)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(path, `not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`, 'a profile document');
  }
  return validateProfile(raw, name);
}

/** A short stable hash of a profile's content, recorded with results. */
export function profileHash(profile: Profile): string {
  return createHash('sha256').update(JSON.stringify(profile)).digest('hex').slice(0, 12);
}
