// `l41sim profiles`: the machine profiles, a line each: name, machine, and where
// their numbers come from (how many parameters are measured, published, fitted or
// assumed, and the data files they were measured on or fitted to).

import type { Command } from 'commander';
import type { Param } from '../costmodel/param.js';
import { describeDifferences } from '../costmodel/fingerprint.js';
import { listProfileNames, loadProfile, type Profile } from '../costmodel/profile.js';
import { CliError, UsageError } from '../errors.js';
import { HostMeasureError } from '../host/error.js';
import { HOST, matchHostProfiles, type HostMatch } from '../workloads/host-profile.js';

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

/** What `--profile host` means on this machine: the matching profile, or why there is none. */
function hostLine(): string {
  const head = HOST.padEnd(10);
  let match: HostMatch;
  try {
    match = matchHostProfiles();
  } catch (e) {
    if (e instanceof HostMeasureError) return `${head} this machine cannot be identified (${e.message})`;
    throw e;
  }
  const best = match.candidates[0];
  if (best && best.differences.length === 0) return `${head} = ${best.name}, the profile of this machine (${match.here.machine})`;
  const nearest = best ? `; the nearest, ${best.name}, differs (${describeDifferences(best.differences)})` : '';
  return `${head} no profile of this machine (${match.here.machine})${nearest}: run 'l41sim calibrate host'`;
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
        const measuredOn = p.fingerprint ? `; measured on ${p.fingerprint.machine}` : '';
        lines.push(`${name.padEnd(10)} ${machine(p)}. ${provenanceSummary(p)}${sources.length ? ` (from ${sources.join(', ')})` : ''}${text}${measuredOn}`);
        if (opts.verbose) {
          lines.push(`${''.padEnd(10)} ${p.description}`);
          for (const l of p.limitations) lines.push(`${''.padEnd(10)} - ${l}`);
        }
      }
      lines.push(hostLine());
      process.stdout.write(`${lines.join('\n')}\n`);
      if (invalid) throw new UsageError(invalid.field, `${invalid.problem} (the other profiles are listed above)`, invalid.expected);
    });
}
