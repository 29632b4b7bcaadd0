// Which hooks each kernel flavour models: those its step table (./freebsd/steps.ts,
// ./linux/steps.ts) says add work to one of its steps. A run that switches on a
// hook its profile's kernel does not model is refused with a usage error.

import type { KernelFlavour } from '../costmodel/costs.js';
import type { Profile } from '../costmodel/profile.js';
import { UsageError } from '../errors.js';
import { FEATURE_NAMES, type Feature } from './features.js';
import { FREEBSD_STEPS } from './freebsd/steps.js';
import { LINUX_STEPS } from './linux/steps.js';
import type { StepTable } from './step-table.js';

/** Each kernel flavour's step table. */
export const STEP_TABLES: Readonly<Record<KernelFlavour, StepTable>> = { freebsd: FREEBSD_STEPS, linux: LINUX_STEPS };

const FLAVOURS: readonly KernelFlavour[] = ['freebsd', 'linux'];

/** Which kernel paths model each hook (from their step tables); the others refuse it (checkFeatures). */
export const FEATURE_KERNELS: Readonly<Record<Feature, readonly KernelFlavour[]>> = (() => {
  const out = {} as Record<Feature, readonly KernelFlavour[]>;
  for (const f of FEATURE_NAMES) out[f] = FLAVOURS.filter((k) => STEP_TABLES[k].features().has(f));
  return out;
})();

/** The hooks the flavour models, in FEATURE_NAMES order. */
export function featuresOf(kernel: KernelFlavour): Feature[] {
  return FEATURE_NAMES.filter((f) => FEATURE_KERNELS[f].includes(kernel));
}

/** The features a profile has on by default: its kernel's debug options (INVARIANTS, WITNESS). */
export function profileFeatures(profile: Profile): Set<Feature> {
  const f = new Set<Feature>();
  if (profile.kernel_config.invariants) f.add('invariants');
  if (profile.kernel_config.witness) f.add('witness');
  return f;
}

/** A feature the profile's kernel does not have: a usage error naming the feature, the profile and what that kernel accepts. */
export class FeatureError extends UsageError {
  constructor(
    readonly feature: Feature,
    readonly kernel: KernelFlavour,
    readonly profile: string,
  ) {
    super(
      '--enable',
      `'${feature}' is ${kernel === 'linux' ? 'a FreeBSD-only hook' : 'a Linux-only hook'} and profile '${profile}' runs the ${kernel === 'linux' ? 'Linux' : 'FreeBSD'} kernel path`,
      `one of ${featuresOf(kernel).join(', ')}`,
    );
  }
}

/** Refuse features the kernel flavour does not model (throws FeatureError naming the feature and the profile). */
export function checkFeatures(kernel: KernelFlavour, features: Iterable<Feature>, profile: string): void {
  for (const f of features) if (!FEATURE_KERNELS[f].includes(kernel)) throw new FeatureError(f, kernel, profile);
}
