// Profile variants that tests use to isolate one effect from the others.

import type { Profile } from '../../src/costmodel/profile.js';

/**
 * Every load costs what an L1 hit costs and every streamed line what an L1 line
 * costs, wherever it is; no TLB cost. Nothing then depends on what is cached, so a
 * hook's own cost can be compared exactly.
 */
export function flatMemory(profile: Profile): Profile {
  const p = structuredClone(profile);
  const l1 = p.machine.caches[0]!;
  for (const level of p.machine.caches) {
    level.hit_cycles = { ...l1.hit_cycles };
    level.stream_cycles_per_line = { ...l1.stream_cycles_per_line };
  }
  const ns = (cycles: number) => (cycles * 1e9) / p.machine.clock_hz.value;
  p.machine.memory.latency_ns = { ...p.machine.memory.latency_ns, value: ns(l1.hit_cycles.value) };
  p.machine.memory.stream_read_ns_per_line = { ...p.machine.memory.stream_read_ns_per_line, value: ns(l1.stream_cycles_per_line.value) };
  p.machine.memory.stream_write_ns_per_line = { ...p.machine.memory.stream_write_ns_per_line, value: ns(l1.stream_cycles_per_line.value) };
  p.machine.tlb.miss_ns = { ...p.machine.tlb.miss_ns, value: 0 };
  p.machine.tlb.walk_loads = { ...p.machine.tlb.walk_loads, value: 0 };
  return p;
}
