// `l41sim workload dd`: FreeBSD dd's operands (GNU dd's on a Linux profile), run on
// the modelled machine; prints the lecture's time(1) line and DTrace tables.

import { Command, Option } from 'commander';
import { RuntimeFailure, UsageError } from '../errors.js';
import { parseOperands, type DdOperands } from '../workloads/dd/operands.js';
import { DD_TABLES, ddReport, type DdReport, type DdTable } from '../workloads/dd/report.js';
import { addRunOptions, resolveRun, type RunOptionValues } from './common.js';

interface DdOptionValues extends RunOptionValues {
  bs?: string;
  ibs?: string;
  obs?: string;
  count?: string;
  skip?: string;
  seek?: string;
  if?: string;
  of?: string;
  trace: string;
}

export function registerDd(workload: Command): void {
  const cmd = workload
    .command('dd')
    .description("dd(1) on the modelled machine (default: the lecture's dd if=/dev/zero of=/dev/null bs=10m count=1 status=none)")
    .option('--bs <size>', 'block size for input and output (dd sizes: 512, 10m, 4k, 2x512k; b k m g w suffixes)')
    .option('--ibs <size>', 'input block size (default 512)')
    .option('--obs <size>', 'output block size (default 512)')
    .option('--count <n>', 'copy this many input blocks (default 1; 0 means until end of input)', '1')
    .option('--skip <n>', 'skip this many input blocks first')
    .option('--seek <n>', 'seek this many output blocks first')
    .option('--if <path>', 'input file or device', '/dev/zero')
    .option('--of <path>', 'output file or device', '/dev/null')
    .addOption(
      new Option('--trace <tables>', `DTrace tables to produce, each from its own traced run: ${DD_TABLES.join(', ')}, all or none`).default('all'),
    );
  addRunOptions(cmd);
  cmd.action((opts: DdOptionValues) => {
    const op = parseOperands(opts);
    const run = resolveRun(opts);
    const tables = parseTables(opts.trace);
    checkBound(op, opts.maxEvents ?? Infinity);
    const { report } = ddReport(op, { ...run, tables });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (report.exit_status !== 0) {
      throw new RuntimeFailure('dd', `the modelled dd exited with status ${report.exit_status}: ${report.stderr.join('; ')}`);
    }
  });
}

function parseTables(text: string): DdTable[] {
  if (text === 'all') return [...DD_TABLES];
  if (text === 'none') return [];
  return text.split(',').map((t) => {
    if (!(DD_TABLES as readonly string[]).includes(t)) throw new UsageError('--trace', `'${t}' is not a table`, `a comma-separated list of ${DD_TABLES.join(', ')}, or all, or none`);
    return t as DdTable;
  });
}

/** Refuse runs that would take too long, before running them: events are syscalls and traps. */
function checkBound(op: DdOperands, maxEvents: number): void {
  const blocks = (op.count ?? 0) + op.skip;
  const estimate = 200 + 2 * blocks + Math.ceil((op.ibs + op.obs) / 4096);
  if (estimate > maxEvents) {
    throw new UsageError('--count', `this run needs about ${estimate} simulated events, more than --max-events ${maxEvents}`, 'fewer blocks, or a larger --max-events');
  }
}

export function formatReport(r: DdReport): string {
  const out: string[] = [];
  out.push(`# time ${r.command}        (profile ${r.profile}, seed ${r.seed}, untraced run)`);
  for (const line of r.stderr) out.push(line);
  out.push(r.time.line, '');
  const d = r.dtrace;
  if (d.syscall_time_by_name) {
    out.push('# dtrace -s syscall-time.d   (@syscall_time[probefunc] = sum(return - entry), ns; a traced run)');
    for (const [name, ns] of Object.entries(d.syscall_time_by_name)) out.push(`  ${name.padEnd(32)}${String(Math.round(ns)).padStart(14)}`);
    out.push('', `  ${''.padEnd(32)}${String(Math.round(d.syscall_time_total_ns ?? 0)).padStart(14)}`, '');
  }
  if (d.syscalls !== undefined) {
    out.push('# dtrace -s traps.d   (syscalls, their time, traps outside syscalls and their time; a traced run)');
    for (const v of [d.syscalls, d.syscall_time_ns, d.traps, d.trap_time_ns]) out.push(`  ${String(Math.round(v ?? 0)).padStart(46)}`);
    out.push('');
  }
  if (d.profile_stacks) {
    out.push('# dtrace -s profile.d   (profile-997 /execname == "dd"/ { @traces[stack()] = count(); }: top kernel stacks)');
    for (const s of d.profile_stacks.filter((s) => s.frames.length > 0).slice(0, 3).reverse()) {
      for (const f of s.frames) out.push(`              kernel\`${f}`);
      out.push(`  ${String(s.samples).padStart(46)}`, '');
    }
    const user = d.profile_stacks.find((s) => s.frames.length === 0);
    if (user) out.push(`  (${user.samples} samples in user mode, with no kernel stack)`, '');
  }
  return `${out.join('\n')}\n`;
}
