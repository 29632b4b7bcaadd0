// `l41sim profiles`: the machine profiles, a line each: name, machine, and where
// their numbers come from (how many parameters are measured, published, fitted or
// assumed, and the data files they were measured on or fitted to).

import type { Command } from 'commander';
import type { Param } from '../costmodel/param.js';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { listProfileNames, loadProfile, profilePath, type Profile } from '../costmodel/profile.js';
import { CliError, UsageError } from '../errors.js';

/** Every parameter of a profile, for counting provenance. */
function params(p: Profile): Param[] {
  const m = p.machine;
  return [
    m.cpus, m.clock_hz, m.page_bytes, m.first_touch_ns, m.memory.latency_ns, m.memory.stream_read_ns_per_line, m.memory.stream_write_ns_per_line,
    m.tlb.entries, m.tlb.kernel_page_bytes, m.tlb.miss_ns, m.tlb.walk_loads,
    ...m.caches.flatMap((c) => [c.size_bytes, c.ways, c.line_bytes, c.hit_cycles, c.stream_cycles_per_line]),
    p.kernel_config.hz, p.kernel_config.stathz, p.kernel_config.zero_chunk_bytes, p.kernel_config.background_lock_ops_per_tick,
    p.userland.startup_user_pages,
    ...Object.values(p.costs),
    ...(p.kernel_text ? [p.kernel_text.hot_fraction] : []),
  ];
}

export function provenanceSummary(p: Profile): string {
  const counts = new Map<string, number>();
  for (const q of params(p)) counts.set(q.source, (counts.get(q.source) ?? 0) + 1);
  return ['measured', 'published', 'fitted', 'assumed'].filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(', ');
}

/** The data files the measured and fitted parameters name. */
export function dataSources(p: Profile): string[] {
  const files = new Set<string>();
  for (const q of params(p)) for (const m of (q.from ?? '').matchAll(/[\w.-]+\.json/g)) files.add(m[0]);
  return [...files].sort();
}

function machine(p: Profile): string {
  const m = p.machine;
  const caches = m.caches.map((c) => `${c.size_bytes.value >= 1 << 20 ? `${c.size_bytes.value / (1 << 20)} MiB` : `${c.size_bytes.value / 1024} KiB`} ${c.name}`).join(', ');
  const os = p.kernel === 'freebsd' ? 'FreeBSD' : 'Linux';
  return `${m.isa}, ${m.cpus.value} CPU at ${(m.clock_hz.value / 1e9).toFixed(2)} GHz, ${caches}; ${os} kernel, ${p.userland.dd === 'gnu' ? 'GNU' : 'FreeBSD'} dd`;
}

export function register(program: Command): void {
  program
    .command('profiles')
    .description('list the machine profiles, a line each: name, machine, and where their numbers come from')
    .option('--verbose', "also print each profile's description and what it does not capture")
    .action((opts: { verbose?: boolean }) => {
      const lines: string[] = [];
      // A profile file that fails validation is listed as such and the others still
      // are; the command then fails (exit 2) with that file's one-line error.
      let invalid: CliError | undefined;
      for (const name of listProfileNames()) {
        let p: Profile;
        try {
          p = loadProfile(name);
        } catch (e) {
          if (!(e instanceof CliError)) throw e;
          invalid ??= e;
          lines.push(`${name.padEnd(10)} INVALID: ${e.message}`);
          continue;
        }
        const sources = dataSources(p);
        const text = p.kernel_text ? `; kernel text map of ${Object.keys(p.kernel_text.functions).length} functions` : '';
        lines.push(`${name.padEnd(10)} ${machine(p)}. ${provenanceSummary(p)}${sources.length ? ` (from ${sources.join(', ')})` : ''}${text}`);
        if (opts.verbose) {
          lines.push(`${''.padEnd(10)} ${p.description}`);
          for (const l of p.limitations) lines.push(`${''.padEnd(10)} - ${l}`);
        }
      }
      if (!existsSync(profilePath('host'))) lines.push(`${'host'.padEnd(10)} not calibrated on this machine (${hostname()}) yet: run 'l41sim calibrate host'`);
      else lines.push(`${'host'.padEnd(10)} = ${basename(profilePath('host'), '.json')}, this machine's profile`);
      process.stdout.write(`${lines.join('\n')}\n`);
      if (invalid) throw new UsageError(invalid.field, `${invalid.problem} (the other profiles are listed above)`, invalid.expected);
    });
}
