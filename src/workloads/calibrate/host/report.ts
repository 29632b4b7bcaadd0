// The fit and check reports of calibrate host, as Markdown and text.

import { COLD_WRITE_SOURCE } from '../../../host/cold-write.js';
import { sizeLabel } from '../../../host/stats.js';
import { sig4 } from '../terms.js';
import type { HostCheckReport } from './check.js';
import type { HostFitReport } from './fit.js';

const ms = (ns: number) => (ns / 1e6).toFixed(3);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const nsFmt = (ns: number) => (ns >= 1e5 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(1)} ns`);

export function formatFitReport(r: HostFitReport): string {
  const out = [`# Host fit: ${r.profile}`, '', `${r.date}, \`${r.command}\`. R^2 ${r.rSquared.toFixed(4)} on the fitted rows; relative RMS ${(100 * r.fittedRms).toFixed(1)}% (re-run on the fitted profile).`];
  out.push(`Held-out read sizes: median |error| ${r.heldOutMedianAbsError === null ? '-' : `${(100 * r.heldOutMedianAbsError).toFixed(1)}%`} (goal <= 10%).`, '');
  out.push('## Fitted parameters', '', '| parameter | value | unit | std. error | from |', '|---|---:|---|---:|---|');
  for (const p of r.params) out.push(`| ${p.term} | ${p.value} | ${p.unit} | ${p.stderr === null ? '-' : p.stderr} | ${p.from}${p.atBound ? ' (at bound 0)' : ''} |`);
  out.push(`| node_fs_binding (not in the profile) | ${sig4(r.node_fs_binding_ns)} | ns | - | Node fs.readSync/writeSync's binding per call |`, '');
  if (r.effectiveLlc) out.push(`Last-level cache: modelled as ${sizeLabel(r.effectiveLlc.effective_bytes)} (${r.effectiveLlc.evidence}).`, '');
  if (r.startupPages) out.push(`Start-up pages: ${r.startupPages.pages} = ${r.startupPages.measured_faults} faults of dd count=0 - ${r.startupPages.other_faults} taken by the model elsewhere.`, '');
  out.push('## Rows', '', '| row | measured | modelled | error | role |', '|---|---:|---:|---:|---|');
  for (const row of r.rows) out.push(`| ${row.id} | ${nsFmt(row.measured_ns)} | ${nsFmt(row.modelled_ns)} | ${pct(row.error)} | ${row.role}${row.note ? ` (${row.note})` : ''} |`);
  if (r.warnings.length > 0) out.push('', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`));
  if (r.notes.length > 0) out.push('', '## Notes', '', ...r.notes.map((w) => `- ${w}`));
  return `${out.join('\n')}\n`;
}

export function formatCheckReport(r: HostCheckReport): string {
  const out = [
    `# l41sim calibrate host --check: real GNU dd vs the model on profile '${r.profile}'`,
    `# ${r.date}; ${r.method}; ${r.repeats} repeats, medians; LANG=${r.locale ?? '(unset)'}`,
    '',
    `${'case'.padEnd(18)} ${'CPU measured ms (min-max)'.padEnd(28)} ${'modelled'.padStart(9)} ${'error'.padStart(8)}   ${'faults meas.'.padStart(12)} ${'model'.padStart(6)} ${'error'.padStart(7)}   syscalls meas./model`,
  ];
  for (const row of r.rows) {
    const range = `${ms(row.measured_cpu_ns.median)} (${ms(row.measured_cpu_ns.min)}-${ms(row.measured_cpu_ns.max)})`;
    out.push(
      `${row.case.padEnd(18)} ${range.padEnd(28)} ${ms(row.modelled_cpu_ns).padStart(9)} ${pct(row.cpu_error).padStart(8)}${row.cpu_ok ? ' ' : '!'}  ${String(row.measured_faults).padStart(12)} ${String(row.modelled_faults).padStart(6)} ${pct(row.fault_error).padStart(7)}${row.faults_ok ? ' ' : '!'}  ${row.measured_syscalls ?? '-'}/${row.modelled_syscalls}`,
    );
  }
  const cpuOk = r.rows.every((x) => x.cpu_ok);
  const fOk = r.rows.every((x) => x.faults_ok);
  out.push('', `goals: CPU time within ${100 * r.goals.cpu_within}%: ${cpuOk ? 'met' : 'NOT met (! marks the cases)'}; faults within ${100 * r.goals.faults_within}%: ${fOk ? 'met' : 'NOT met'}`);
  out.push('', `one call right after a read(2) copy (${COLD_WRITE_SOURCE}; reported, not a goal; see calibration/REPORT.md, "Cold paths"):`);
  if ('skipped' in r.cold_write) out.push(`  skipped: ${r.cold_write.skipped}`);
  else {
    out.push(`  ${'call'.padEnd(8)} ${'copy'.padEnd(10)} ${'measured'.padStart(10)} ${'modelled'.padStart(10)} ${'error'.padStart(8)}`);
    for (const c of r.cold_write) out.push(`  ${c.call.padEnd(8)} ${sizeLabel(c.copy_bytes).padEnd(10)} ${nsFmt(c.measured_ns).padStart(10)} ${nsFmt(c.modelled_ns).padStart(10)} ${pct(c.error).padStart(8)}`);
  }
  return `${out.join('\n')}\n`;
}
