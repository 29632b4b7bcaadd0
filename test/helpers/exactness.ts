// Comparing a fast-forwarded run with an exact one: every figure the model keeps.

import type { Kernel } from '../../src/kernel/kernel.js';

/** Every output of a run the model keeps: the meter, the step ledger, the caches, the TLBs, DTrace, statclock ticks, faults, locks, the cursors. */
export function kernelFigures(k: Kernel): Record<string, unknown> {
  const spans = (m: Kernel['steps']['syscalls']) =>
    [...m].map(([name, t]) => ({ name, count: t.count, ps: t.ps, steps: [...t.steps], interruptPs: t.interruptPs, stepInterruptPs: [...t.stepInterruptPs] }));
  return {
    usage: [...k.usage.counts],
    syscalls: spans(k.steps.syscalls),
    traps: spans(k.steps.traps),
    interrupts: { ...k.steps.interrupts },
    nestedTraps: k.steps.nestedTraps,
    caches: k.caches.statsByLevel(),
    memory: k.caches.memoryStats(),
    cpus: k.cpus.map((c) => ({ t: c.t, idlePs: c.idlePs, tlbHits: c.tlb.hits, tlbMisses: c.tlb.misses })),
    dtrace: [...k.dtrace.aggregations].map(([name, m]) => [name, [...m].map(([key, v]) => [key, v instanceof Map ? [...v] : v])]),
    firings: { ...k.dtrace.firings },
    threads: k.procs.flatMap((p) => p.threads.map((td) => ({ ticks: { ...td.ticks }, ru: { ...p.ru } }))),
    locks: [k.lockOps, k.backgroundLockOps],
  };
}

/**
 * Where two sets of figures differ beyond the exactness rule: counts (integers in
 * both) must be equal, times (any other number) equal within 1e-9 relative, and
 * everything else equal. Returns one line per difference (none if they agree).
 */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Object.is(a, b)) return [];
    if (Number.isInteger(a) && Number.isInteger(b)) return [`${path}: ${a} != ${b}`];
    const rel = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
    return rel <= 1e-9 ? [] : [`${path}: ${a} vs ${b} (relative ${rel})`];
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((key) => differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`));
  }
  return Object.is(a, b) ? [] : [`${path}: ${String(a)} != ${String(b)}`];
}
