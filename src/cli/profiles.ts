// `l41sim profiles`: the machine profiles, a line each: name, machine, and where
// their numbers come from.

import type { Command } from 'commander';
import type { Param } from '../costmodel/param.js';
import { listProfileNames, loadProfile, type Profile } from '../costmodel/profile.js';

/** Every parameter of a profile, for counting provenance. */
function params(p: Profile): Param[] {
  const m = p.machine;
  return [
    m.cpus, m.clock_hz, m.page_bytes, m.first_touch_ns, m.memory.latency_ns, m.memory.stream_read_ns_per_line, m.memory.stream_write_ns_per_line,
    ...m.caches.flatMap((c) => [c.size_bytes, c.ways, c.line_bytes, c.hit_cycles, c.stream_cycles_per_line]),
    p.kernel_config.hz, p.kernel_config.stathz, p.kernel_config.zero_chunk_bytes, p.kernel_config.background_lock_ops_per_tick,
    p.userland.startup_user_pages,
    ...Object.values(p.costs),
  ];
}

export function provenanceSummary(p: Profile): string {
  const counts = new Map<string, number>();
  for (const q of params(p)) counts.set(q.source, (counts.get(q.source) ?? 0) + 1);
  return ['measured', 'published', 'fitted', 'assumed'].filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(', ');
}

export function register(program: Command): void {
  program
    .command('profiles')
    .description('list the machine profiles: name, machine, and where their numbers come from')
    .action(() => {
      const lines: string[] = [];
      for (const name of listProfileNames()) {
        const p = loadProfile(name);
        const l1 = p.machine.caches[0]!;
        const machine = `${p.machine.isa}, ${p.machine.cpus.value} CPU at ${(p.machine.clock_hz.value / 1e9).toFixed(2)} GHz, ${l1.size_bytes.value / 1024} KiB L1D, ${p.kernel} kernel`;
        lines.push(`${name.padEnd(10)} ${machine}`);
        lines.push(`${''.padEnd(10)} ${p.description}`);
        lines.push(`${''.padEnd(10)} parameters: ${provenanceSummary(p)}`);
      }
      if (!listProfileNames().some((n) => n.startsWith('host-'))) lines.push(`${'host'.padEnd(10)} not calibrated on this machine yet: run 'l41sim calibrate host'`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
