// Which kernel functions the model names on a profile's kernel path: the ones a
// kernel text map (calibrate host, from /proc/kallsyms) should place and size. The
// model is run through what its workloads do: dd's whole life, io-static creating,
// writing and reading a file (with fsync where the path has it), and the fast-path report with every hook
// of that kernel on, so the hooks' slow paths are named too. A function only some
// other path reaches keeps the model's own placement and size.

import type { Profile } from '../../costmodel/profile.js';
import { FEATURE_NAMES, type Feature } from '../../kernel/features.js';
import { FEATURE_KERNELS } from '../../kernel/hooks.js';
import type { Kernel } from '../../kernel/kernel.js';
import { parseOperands } from '../dd/operands.js';
import { runDd } from '../dd/run.js';
import { runFastpath } from '../fastpath.js';
import { runIoStatic } from '../io-static.js';
import { parseIoStatic } from '../iostatic/options.js';

const SEED = 'text-census';

export function modelledTextNames(profile: Profile): Set<string> {
  const names = new Set<string>();
  const take = (k: Kernel) => k.mem.textNames().forEach((n) => names.add(n));
  const none = new Set<Feature>();
  take(runDd(parseOperands({ bs: '64k', count: '2' }), { profile, seed: SEED, features: none, scripts: [] }).kernel);
  for (const mode of ['create', 'write', 'read']) {
    const o = parseIoStatic({ mode, buffer: '16k', total: '64k', path: '/tmp/l41sim-census', fsync: profile.kernel === 'freebsd' });
    take(runIoStatic({ ...o, quiet: true }, { profile, seed: SEED, features: none }).kernel);
  }
  const hooks = new Set(FEATURE_NAMES.filter((f) => FEATURE_KERNELS[f].includes(profile.kernel) && f !== 'invariants' && f !== 'witness'));
  take(runFastpath({ profile, seed: SEED, features: hooks, calls: 4, warmup: 1, copyBytes: 64 * 1024, coldRounds: 1 }).kernel);
  return names;
}
