// The step tables (src/kernel/freebsd/steps.ts, src/kernel/linux/steps.ts): every
// step a path takes is declared and every declared step is taken; the ledger
// refuses an undeclared one; a hook's cost lands only in the steps its table says
// it adds work to; the hooks each flavour accepts are the ones its table names.

import { describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { bootKernel } from '../src/kernel/boot.js';
import type { Feature } from '../src/kernel/features.js';
import { FEATURE_KERNELS, featuresOf, profileFeatures, STEP_TABLES } from '../src/kernel/hooks.js';
import { OUTSIDE_STEPS, StepTable, UnknownStepError } from '../src/kernel/step-table.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { fastpathReport } from '../src/workloads/fastpath.js';

/** Top-level steps of every syscall and trap of a short dd run with the given hooks on. */
function stepsTaken(profileName: string, hooks: Feature[]): Set<string> {
  const profile = loadProfile(profileName);
  const features = new Set([...profileFeatures(profile), ...hooks]);
  const run = runDd(parseOperands({ bs: '64k', count: '2' }), { profile, seed: '1', features, scripts: [] });
  const out = new Set<string>();
  for (const table of [run.kernel.steps.syscalls, run.kernel.steps.traps]) for (const t of table.values()) for (const s of t.steps.keys()) out.add(s);
  return out;
}

describe('the step tables', () => {
  it('declare exactly the steps the paths take (FreeBSD on amd64 and ARMv7, Linux)', () => {
    const freebsd = new Set([...stepsTaken('lecture', featuresOf('freebsd')), ...stepsTaken('bbb', featuresOf('freebsd'))]);
    expect([...freebsd].sort()).toEqual(STEP_TABLES.freebsd.names().sort());
    expect([...stepsTaken('host-vm', featuresOf('linux'))].sort()).toEqual(STEP_TABLES.linux.names().sort());
  });

  it('the ledger refuses a step its table does not declare', () => {
    const k = bootKernel(loadProfile('lecture'), { seed: '1', features: new Set(), scripts: [] });
    const td = k.newProc('t', 0x1000_0000);
    k.steps.beginSpan('syscall', 'getppid', 0);
    expect(() => k.step(td, 'no_such_step', () => {})).toThrow(UnknownStepError);
    expect(() => k.step(td, 'sy_call', () => {})).not.toThrow();
    expect(() => STEP_TABLES.linux.get('sy_call')).toThrow(/linux kernel path took a step 'sy_call'/);
    expect(STEP_TABLES.freebsd.get(OUTSIDE_STEPS).kind).toBe('other');
  });

  it('a guard, and only a guard, names its word and hook', () => {
    for (const table of Object.values(STEP_TABLES)) for (const name of table.names()) {
      const d = table.get(name);
      expect(d.kind === 'guard', name).toBe(d.guard !== undefined);
      expect(d.does.length, name).toBeGreaterThan(0);
    }
    expect(() => new StepTable('freebsd', { x: { kind: 'guard', does: 'a test' } })).toThrow(/guard/);
    expect(() => new StepTable('freebsd', { x: { kind: 'other', does: 'a load', guard: { word: 'w', hook: 'h' } } })).toThrow(/guard/);
  });

  it('a flavour accepts exactly the hooks its table names', () => {
    expect(featuresOf('freebsd').sort()).toEqual([...STEP_TABLES.freebsd.features()].sort());
    expect(featuresOf('linux').sort()).toEqual([...STEP_TABLES.linux.features()].sort());
    for (const [f, kernels] of Object.entries(FEATURE_KERNELS)) expect(kernels.length, f).toBeGreaterThan(0);
  });
});

describe.each(['lecture', 'bbb', 'host-vm'])("each hook's cost lands only in the steps that declare it (%s)", (name) => {
  const profile = loadProfile(name);
  const table = STEP_TABLES[profile.kernel];
  const report = fastpathReport({ profile, seed: '1', features: new Set(), calls: 12, copyBytes: 0, each: true }).report;

  it.each(report.hooks!.filter((h) => !h.hook.startsWith('dtrace')).map((h) => [h.hook, h] as const))('%s', (hook, h) => {
    const declared = table.names().filter((s) => table.get(s).features?.includes(hook as Feature));
    for (const d of h.lands_in) expect(declared, `${hook} lands in ${d.step}`).toContain(d.step);
    expect(h.cheaper).toEqual([]);
    expect(h.lands_in.length > 0 || h.first_call_delta_ns > 0, hook).toBe(true);
  });
});
