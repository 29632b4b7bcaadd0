// The fit and check reports of calibrate host, as Markdown and text.

import { formatCalibration, type Check } from '../../../costmodel/calibration/report.js';
import { COLD_WRITE_SOURCE } from '../../../host/cold-write.js';
import { sizeLabel } from '../../../host/stats.js';
import { sig4 } from '../terms.js';
import type { HostCheckReport } from './check.js';
import type { HostFitReport } from './fit.js';

const ms = (ns: number) => (ns / 1e6).toFixed(3);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const nsFmt = (ns: number) => (ns >= 1e5 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(1)} ns`);

/** The fit's goals and checks beside the protocol's tables. */
export function fitChecks(r: HostFitReport): Check[] {
  const checks: Check[] = [];
  const pctOf = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  checks.push({ what: 'held-out read sizes (Node read(2) of /dev/zero, the declared sizes): median |CV error| <= 10%', measured: '-', modelled: pctOf(r.heldOutMedianAbsError), ok: r.heldOutMedianAbsError !== null && r.heldOutMedianAbsError <= 0.1 });
  for (const [name, g] of Object.entries(r.heldOutByGroup)) checks.push({ what: `validate rows, ${name}: median |CV error| (${g.rows} rows; reported)`, measured: '-', modelled: pctOf(g.medianAbsError), ok: true });
  checks.push({ what: 'fit rows on the fitted profile (GNU dd run again, whole): relative RMS (reported)', measured: '-', modelled: pctOf(r.fittedRms), ok: true });
  return checks;
}

/** The fit report: the protocol's tables, then what calibrate host chose and measured. */
export function formatFitReport(r: HostFitReport, roles: string[]): string {
  const intro = [
    `Host measurements of ${r.date}. Held-out read sizes: median |CV error| ${r.heldOutMedianAbsError === null ? '-' : `${(100 * r.heldOutMedianAbsError).toFixed(1)}%`} (goal <= 10%); the fit rows on the fitted profile (GNU dd run again, whole): relative RMS ${(100 * r.fittedRms).toFixed(1)}%.`,
  ];
  if (r.node_fs_binding_ns !== null) intro.push(`Node's fs binding (node_fs_binding, a cost of the measurements, not in the profile): ${sig4(r.node_fs_binding_ns)} ns per call.`);
  if (r.effectiveLlc) intro.push(`Last-level cache: modelled as ${sizeLabel(r.effectiveLlc.bytes)}, chosen from the fit rows (${r.effectiveLlc.evidence}).`);
  if (r.startupPages) intro.push(`Start-up pages: ${r.startupPages.pages}, chosen so that dd count=0 takes the ${r.startupPages.measured_faults} faults measured (chosen again in every fold).`);
  let text = formatCalibration(r.calibration.name, [r.calibration], { command: r.command, date: new Date(r.date), roles, intro, checks: fitChecks(r), misses: {} });
  if (r.warnings.length > 0) text += ['', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`), ''].join('\n');
  if (r.notes.length > 0) text += ['', '## Notes', '', ...r.notes.map((w) => `- ${w}`), ''].join('\n');
  return text;
}

export function formatCheckReport(r: HostCheckReport): string {
  const out = [
    `# l41sim calibrate host --check: real GNU dd vs the model on profile '${r.profile}'`,
    `# ${r.date}; ${r.method}; ${r.repeats} repeats, medians; LANG=${r.locale ?? '(unset)'}`,
    '# every case validates (no fit row runs dd at these sizes), so its cross-validated error is its error; the copy part is the case minus count=0 (median of the paired repeats)',
    '',
    `${'case'.padEnd(18)} ${'CPU measured ms (min-max)'.padEnd(27)} ${'modelled'.padStart(8)} ${'error'.padStart(7)}   ${'copy part ms: meas.'.padStart(19)} ${'model'.padStart(7)} ${'error'.padStart(7)}   ${'faults meas.'.padStart(12)} ${'model'.padStart(5)} ${'error'.padStart(6)}   syscalls`,
  ];
  const mark = (ok: boolean | null) => (ok === false ? '!' : ' ');
  for (const row of r.rows) {
    const range = `${ms(row.measured_cpu_ns.median)} (${ms(row.measured_cpu_ns.min)}-${ms(row.measured_cpu_ns.max)})`;
    const copy = row.copy ? `${ms(row.copy.measured).padStart(19)} ${ms(row.copy.modelled).padStart(7)} ${pct(row.copy.error).padStart(7)}` : `${'-'.padStart(19)} ${'-'.padStart(7)} ${'-'.padStart(7)}`;
    out.push(
      `${row.case.padEnd(18)} ${range.padEnd(27)} ${ms(row.modelled_cpu_ns).padStart(8)} ${pct(row.cpu_error).padStart(7)}${mark(row.cpu_ok)}  ${copy}${mark(row.copy_ok)}  ${String(row.measured_faults).padStart(12)} ${String(row.modelled_faults).padStart(5)} ${pct(row.fault_error).padStart(6)}${mark(row.faults_ok)}  ${row.measured_syscalls ?? '-'}/${row.modelled_syscalls}`,
    );
  }
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met (! marks the cases)');
  out.push(
    '',
    `goals: CPU time within ${100 * r.goals.cpu_within}%: ${met(r.rows.every((x) => x.cpu_ok))}; copy part within ${100 * r.goals.copy_within}%: ${met(r.rows.every((x) => x.copy_ok !== false))}; minor faults within ${100 * r.goals.faults_within}%: ${met(r.rows.every((x) => x.faults_ok))}`,
  );
  const reasons = new Map<string, string[]>();
  for (const x of r.rows) reasons.set(x.reason, [...(reasons.get(x.reason) ?? []), x.case]);
  out.push('', ...[...reasons].map(([why, cases]) => `validate (${cases.join(', ')}): ${why}`));
  out.push('', `one call right after a read(2) copy (${COLD_WRITE_SOURCE}; reported, not a goal; see calibration/REPORT.md, "Cold paths"):`);
  if ('skipped' in r.cold_write) out.push(`  skipped: ${r.cold_write.skipped}`);
  else {
    out.push(`  ${'call'.padEnd(8)} ${'copy'.padEnd(10)} ${'measured'.padStart(10)} ${'modelled'.padStart(10)} ${'error'.padStart(8)}`);
    for (const c of r.cold_write) out.push(`  ${c.call.padEnd(8)} ${sizeLabel(c.copy_bytes).padEnd(10)} ${nsFmt(c.measured_ns).padStart(10)} ${nsFmt(c.modelled_ns).padStart(10)} ${pct(c.error).padStart(8)}`);
  }
  return `${out.join('\n')}\n`;
}
