// `l41sim workload dd`: FreeBSD dd's operands (GNU dd's on a Linux profile), run on
// the modelled machine; prints the lecture's time(1) line and DTrace tables.

import { Command, Option } from 'commander';
import { ProgramFailed, UsageError, quote } from '../errors.js';
import { SCRIPT_NAMES } from '../kernel/dtrace/scripts.js';
import { parseOperands, type DdOperandText } from '../workloads/dd/operands.js';
import { ddReportParallel } from '../workloads/dd/parallel.js';
import { DD_TABLES, type DdReport, type DdTable } from '../workloads/dd/report.js';
import { checkBound, ddEstimate } from './bounds.js';
import { addRunOptions, resolveRun, type RunOptionValues } from './common.js';
import { checkWritableFile } from './output.js';
import { addTraceOptions, traceCap, writeTrace, type TraceOptionValues } from './workload-io-static.js';

/** The operand options as commander hands them over: dd's own text, parsed by parseOperands. */
export type DdOperandValues = DdOperandText;

interface DdOptionValues extends RunOptionValues, DdOperandValues, TraceOptionValues {
  trace: string;
}

/** dd's operands as options (shared with `compare dd`). */
export function addDdOperandOptions(cmd: Command): Command {
  return cmd
    .option('--bs <size>', 'block size for input and output (dd sizes: 512, 10m, 4k, 2x512k; b k m g w suffixes)')
    .option('--ibs <size>', 'input block size (default 512)')
    .option('--obs <size>', 'output block size (default 512)')
    .option('--count <n>', 'copy this many input blocks (default 1; 0 means until end of input)', '1')
    .option('--skip <n>', 'skip this many input blocks first')
    .option('--seek <n>', 'seek this many output blocks first')
    .option('--if <path>', 'input file or device', '/dev/zero')
    .option('--of <path>', 'output file or device', '/dev/null');
}

export function registerDd(workload: Command): void {
  const cmd = workload
    .command('dd')
    .description("dd(1) on the modelled machine, with FreeBSD dd's operands (GNU dd's on a Linux profile); defaults if=/dev/zero of=/dev/null count=1 status=none and dd's bs=512: the lecture's run is --bs 10m");
  addDdOperandOptions(cmd)
    .addOption(
      new Option(
        '--trace <scripts>',
        `D scripts to run, each with its own run of dd (so each pays only its own probe effect): the lecture's tables ${DD_TABLES.join(', ')} (or all, or none), and any of ${OTHER_SCRIPTS.join(', ')}`,
      ).default('all'),
    );
  addRunOptions(cmd);
  addTraceOptions(cmd);
  cmd.action(async (opts: DdOptionValues) => {
    const run = resolveRun(opts);
    const op = parseOperands(opts, run.profile.userland.dd);
    const { tables, scripts } = parseTrace(opts.trace);
    const coldCache = opts.coldCache ?? false;
    const traced = [[], ...[...tables, ...scripts].map((s) => [s])];
    checkBound(ddEstimate(op, { ...run, coldCache }, traced), opts.maxEvents ?? Infinity, '--count', traced.length > 1 ? 'fewer blocks, fewer D scripts (--trace none runs dd once)' : 'fewer blocks');
    if (opts.traceOut !== undefined) checkWritableFile(opts.traceOut, '--trace-out');
    const { report, untraced } = await ddReportParallel(op, { ...run, tables, scripts, coldCaches: coldCache, maxEvents: opts.maxEvents, traceEvents: traceCap(opts) });
    if (opts.traceOut !== undefined) {
      const td = untraced.kernel.procs[0]!.threads[0]!;
      writeTrace(opts.traceOut, untraced.kernel.steps, {
        pid: td.proc.pid,
        tid: td.tid,
        processName: td.proc.comm,
        startPs: untraced.startPs,
        endPs: untraced.endPs,
        maxEvents: opts.traceEvents,
        info: { command: report.command, profile: report.profile, seed: report.seed },
      });
    }
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (report.exit_status !== 0) {
      throw new ProgramFailed('dd', report.exit_status, report.stderr);
    }
  });
}

const OTHER_SCRIPTS = SCRIPT_NAMES.filter((n) => !(DD_TABLES as readonly string[]).includes(n));

function parseTrace(text: string): { tables: DdTable[]; scripts: string[] } {
  const tables: DdTable[] = [];
  const scripts: string[] = [];
  for (const t of text.split(',').map((x) => x.trim())) {
    if (t === 'all') tables.push(...DD_TABLES);
    else if (t === 'none') continue;
    else if ((DD_TABLES as readonly string[]).includes(t)) tables.push(t as DdTable);
    else if (OTHER_SCRIPTS.includes(t)) scripts.push(t);
    else throw new UsageError('--trace', `${quote(t)} is not a script`, `a comma-separated list of ${[...DD_TABLES, ...OTHER_SCRIPTS].join(', ')}, or all, or none`);
  }
  return { tables: [...new Set(tables)], scripts: [...new Set(scripts)] };
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
  for (const run of d.scripts ?? []) {
    out.push(`# dtrace -n '${run.text}' -c '${r.command}'   (a traced run; its time under the script:)`);
    out.push(`  elapsed ${run.time.elapsed_s.toFixed(3)} s, system ${run.time.system_s.toFixed(3)} s (untraced: elapsed ${r.time.elapsed_s.toFixed(3)} s)`);
    for (const [name, value] of Object.entries(run.aggregations)) {
      if (typeof value === 'number') out.push(`  @${name}`.padEnd(34) + String(Math.round(value)).padStart(14));
      else {
        out.push(`  @${name} (top 3 of ${Object.keys(value).length} keys)`);
        for (const [key, v] of Object.entries(value).slice(0, 3)) out.push(`    ${key.split(';').slice(0, 4).join(' <- ')}`.padEnd(60) + String(v).padStart(10));
      }
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
