// The installed `workload dd` runs its traced runs on helper threads (one per spare
// core: src/workloads/dd/parallel.ts). Each run is a pure function of its inputs,
// so the report must be the one the runs give one after another, byte for byte.
// (In-process tests run the TypeScript sources, where the compiled helper is absent
// and the runs are sequential; this one runs the compiled command.)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { ddReport } from '../src/workloads/dd/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('workload dd on helper threads', () => {
  it('prints the report the runs give one after another, byte for byte', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'l41sim.js'), 'workload', 'dd', '--bs', '64k', '--count', '20', '--trace', 'all,lockstat-count', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const profile = loadProfile('lecture');
    const { report } = ddReport(parseOperands({ bs: '64k', count: '20' }), { profile, seed: '1', features: profileFeatures(profile), tables: ['syscall-time', 'traps', 'profile'], scripts: ['lockstat-count'] });
    expect(r.stdout).toBe(`${JSON.stringify(report, null, 2)}\n`);
  });
});
