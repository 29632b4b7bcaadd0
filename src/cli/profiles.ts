// `l41sim profiles`: the machine profiles, a line each: name, machine, and where
// their numbers come from (how many parameters are measured, published, fitted or
// assumed, and the data files they were measured on or fitted to). `--params NAME`
// lists one profile's parameters and settings with their declarations (profile-schema.ts).

import type { Command } from 'commander';
import type { Param } from '../costmodel/param.js';
import { describeDifferences } from '../costmodel/fingerprint.js';
import { listProfileNames, loadProfile, type Profile } from '../costmodel/profile.js';
import { profileEntries } from '../costmodel/profile-schema.js';
import { CliError, UsageError } from '../errors.js';
import { HostMeasureError } from '../host/error.js';
import { HOST, matchHostProfiles, type HostMatch } from '../workloads/host-profile.js';

/** Every parameter of a profile. */
function params(p: Profile): Param[] {
  return profileEntries(p).flatMap((e) => (e.param ? [e.param.value] : []));
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
    .option('--verbose', "also print each profile's description and what it does not capture (with --params: where each value came from)")
    .option('--params <profile>', "list one profile's parameters and settings: JSON path, value, unit, source and what each is")
    .action((opts: { verbose?: boolean; params?: string }) => {
      if (opts.params !== undefined) {
        let p: Profile;
        try {
          p = loadProfile(opts.params);
        } catch (e) {
          if (e instanceof CliError && e.field === '--profile') throw new UsageError('--params', e.problem, e.expected);
          throw e;
        }
        process.stdout.write(`${paramListing(p, opts.verbose === true).join('\n')}\n`);
        return;
      }
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

/** One line per parameter and setting: path, value and unit, source, description; with `verbose`, its provenance beneath. */
function paramListing(p: Profile, verbose: boolean): string[] {
  const entries = profileEntries(p);
  const rows = entries.map((e) => {
    if (!e.param) return { e, value: String(e.setting), source: '' };
    const v = e.param.value;
    return { e, value: `${v.value} ${v.unit}`, source: v.source };
  });
  const pathWidth = Math.max(...rows.map((r) => r.e.path.length));
  const valueWidth = Math.max(...rows.map((r) => r.value.length).filter((n) => n <= 24)); // a long text (kernel_text.from) just runs over
  const lines = [`${p.name}: ${entries.filter((e) => e.param).length} parameters (${provenanceSummary(p)}) and ${entries.filter((e) => !e.param).length} settings`];
  for (const { e, value, source } of rows) {
    lines.push(`${e.path.padEnd(pathWidth)}  ${value.padEnd(valueWidth)}  ${source.padEnd(9)}  ${e.doc}`);
    if (!verbose || !e.param) continue;
    const { from, note, residual, stderr } = e.param.value;
    const fit = [residual !== undefined ? `residual ${residual}` : '', stderr !== undefined ? `stderr ${stderr}` : ''].filter((x) => x).join(', ');
    for (const [label, text] of [['from', from], ['note', note], ['fit', fit || undefined]] as const) if (text) lines.push(`${''.padEnd(pathWidth)}    ${label}: ${text}`);
  }
  return lines;
}
