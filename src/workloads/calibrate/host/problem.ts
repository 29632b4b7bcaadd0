// The host fit as a calibration problem (../../../costmodel/calibration/protocol.ts): the
// rows of a calibrate host measurement with the roles declared beside them (./rows.ts),
// the Linux unit costs fitted to them, the quantities chosen from the fit rows (GNU dd's
// start-up pages, from its count=0 fault row; without the cache probe, the last-level
// cache one core sees, from the knee of Node's fitted read sizes), and the model runs
// that account for every row (./usage.ts).
//
// The model is linear in its unit costs but for where clock interrupts land, so it runs
// once per choice, at the parameters' starting values, and a row's time at other values
// is its meter counts times the costs: every fold of the cross-validation costs a
// least-squares solve, not a model run. The fitted profile is then run again, whole, to
// check (./fit.ts).

import type { Evaluation, FitProblem, ParamSpec, Row, RowModel } from '../../../costmodel/calibration/protocol.js';
import { validateProfile } from '../../../costmodel/profile.js';
import type { CostBook } from '../../../kernel/meter.js';
import { ModelBench } from './bench.js';
import { hostBaseProfile, type HostProfileDoc } from './base.js';
import { effectiveLlc } from './geometry.js';
import { cacheProbeOf, type HostCalibrationData } from './measure.js';
import type { HostRow } from './rows.js';
import { psPerUnit, termParam } from '../terms.js';
import { ddUsage, machineUsage, type RowUsage } from './usage.js';

/** Node's fs binding per call: a cost of the measurements, not of the modelled machine (never written to a profile). */
export const NODE_FS_BINDING = 'node_fs_binding';
/** Its starting value: a few hundred ns, as Node's own benchmarks show for a synchronous fs call. */
const BINDING_START_NS = 300;

/** Parameters the host fit determines, with the rows that determine each. */
const FIT_FROM: Record<string, string> = {
  syscall_entry: 'getuid(2) round trip (Node process.getuid net of a C++ callback), with syscall_exit and the mitigations assumed',
  vop: "GNU dd bs=512 system time per block (read + write beyond the bare syscall), with Node's read/write rows",
  copy_call: 'read(2) of /dev/zero at small sizes (per clear_user chunk)',
  vm_fault: 'page faults inside read(2) of fresh buffers (Node: fresh minus warm re-read, per fault taken)',
  page_free: 'munmap(2) of a populated 10 MiB region, per page (python3 helper)',
  user_syscall_stub: 'GNU dd bs=512 user time per block (perf user_time: the tick-sampled split of a long run)',
  user_startup: 'GNU dd bs=512 count=0 CPU time (perf task-clock), minus the modelled syscalls and faults',
  'mem.stream_write': 'read(2) of /dev/zero beyond the last-level cache (clear_user at memory speed)',
  [NODE_FS_BINDING]: "Node's read/write rows against the C probe's and GNU dd's, which pay no binding",
};

export function fitFrom(term: string, probe: boolean): string {
  return FIT_FROM[term] ?? `read(2) of /dev/zero by ${probe ? 'the C cache probe' : 'Node'}: clear_user streaming through ${term.split('.')[0]}`;
}

/** Quantities the host fit takes from its fit rows. */
export interface HostChoice {
  /** Anonymous pages GNU dd's start-up first touches in user mode. */
  startup_pages: number;
  /** The last-level cache one core sees, when chosen from Node's read sweep (no cache probe). */
  llc: { bytes: number; evidence: string } | null;
}

export interface HostEvaluation extends Evaluation {
  /** Notes per row (faults taken). */
  notes: Record<string, string>;
}

/** The profile a choice describes, from the base profile (the fitted costs at their starting values). */
export function choiceProfile(base: HostProfileDoc, chosen: HostChoice): HostProfileDoc {
  let doc: HostProfileDoc = { ...base, userland: { ...base.userland, startup_user_pages: { value: chosen.startup_pages, unit: 'pages', source: 'assumed', note: 'chosen from the fit rows' } } };
  if (chosen.llc) {
    const caches = doc.machine.caches.map((c, i, all) => {
      if (i !== all.length - 1) return c;
      const sets = chosen.llc!.bytes / (c.ways.value * c.line_bytes.value);
      const ways = Number.isInteger(Math.log2(sets)) ? c.ways : { value: 16, unit: 'count' as const, source: 'assumed' as const, note: 'chosen so the effective capacity has a power-of-two number of sets' };
      return { ...c, ways, size_bytes: { value: chosen.llc!.bytes, unit: 'bytes' as const, source: 'measured' as const, from: chosen.llc!.evidence, note: 'effective capacity for one core, chosen from the fit rows of the read sweep; ways and line size as reported' } };
    });
    doc = { ...doc, machine: { ...doc.machine, caches } };
  }
  return doc;
}

export interface HostProblemInput {
  data: HostCalibrationData;
  /** The measured rows with their declared roles (as the roles file gives them). */
  rows: readonly Row[];
  /** The profile's name. */
  name: string;
  onModelRun?: (label: string) => void;
}

/** The host fit as a protocol problem. */
export function hostProblem(input: HostProblemInput): FitProblem<HostChoice, HostEvaluation> & { base: HostProfileDoc; hostRows: HostRow[]; terms: string[] } {
  const { data } = input;
  const probe = cacheProbeOf(data);
  const base = hostBaseProfile(data.node.host, new Date(data.date), input.name, probe);
  const hostRows = joinRows(data, input.rows);
  const book = new ModelBench(validateProfile(base, base.name)).k.book;
  const terms = fittedTerms(base, data, hostRows, book);
  const params: ParamSpec[] = terms.map((term) => {
    if (term === NODE_FS_BINDING) return { term, unit: 'ns', start: BINDING_START_NS, from: FIT_FROM[term]! };
    const p = termParam(base, term);
    return { term, unit: p.unit, start: p.value, from: fitFrom(term, probe !== null) };
  });
  const faultsRow = hostRows.find((r) => r.kind === 'dd-startup-faults');
  const startPages = base.userland.startup_user_pages.value;
  const machineRuns = new Map<string, Map<string, RowUsage>>();
  const ddRuns = new Map<string, Map<string, RowUsage>>();
  return {
    name: input.name,
    rows: input.rows,
    params,
    weighting: 'relative',
    base,
    hostRows,
    terms,
    round: (v) => Number(v.toPrecision(4)),
    choose(fitRows, last) {
      const faults = faultsRow && fitRows.find((r) => r.id === faultsRow.id);
      let pages = startPages;
      // Solved against the model: the pages that make dd count=0 take the measured faults.
      if (faults && last) pages = Math.max(0, last.chosen.startup_pages + faults.measured - last.evaluation.rows[faults.id]!.modelled);
      else if (faults) pages = Math.max(0, faults.measured - 5);
      let llc: HostChoice['llc'] = null;
      const levels = base.machine.caches;
      if (!probe && levels.length >= 2) {
        const fitted = new Set(fitRows.map((r) => r.id));
        const sweep = hostRows.filter((r) => r.kind === 'read' && fitted.has(r.id)).map((r) => ({ size_bytes: r.size!, ns: r.measured }));
        const knee = effectiveLlc(sweep, levels.at(-1)!.size_bytes.value, levels.at(-2)!.size_bytes.value);
        llc = knee && { bytes: knee.effective_bytes, evidence: knee.evidence };
      }
      return { startup_pages: Math.round(pages), llc };
    },
    evaluate(values, chosen, need) {
      const doc = choiceProfile(base, chosen);
      const profile = validateProfile(doc, doc.name);
      const llcKey = JSON.stringify(chosen.llc);
      let machine = machineRuns.get(llcKey);
      if (!machine) {
        input.onModelRun?.('model: system calls, reads, faults and munmap');
        machineRuns.set(llcKey, (machine = machineUsage(profile, data, hostRows)));
      }
      const ddKey = JSON.stringify(chosen);
      let dd = ddRuns.get(ddKey);
      if (!dd) {
        input.onModelRun?.(`model: GNU dd start-up (${chosen.startup_pages} pages) and copy loop`);
        ddRuns.set(ddKey, (dd = ddUsage(profile, data, hostRows)));
      }
      const rows: Record<string, RowModel> = {};
      const notes: Record<string, string> = {};
      for (const r of hostRows) {
        if (!need.has(r.id)) continue;
        const u = machine.get(r.id) ?? dd.get(r.id);
        if (!u) continue;
        if (u.note) notes[r.id] = u.note;
        rows[r.id] = u.count !== undefined ? { modelled: u.count, usage: {} } : rowModel(u.usage, r.binding, values, book, doc, terms);
      }
      return { rows, notes };
    },
  };
}

/**
 * Costs the fitted profile sets equal to a fitted one: the measurements stream writes
 * only (clear_user), so memory's read stream is given the write stream's cost (./fit.ts).
 */
const TIED: Record<string, string> = { 'mem.stream_read': 'mem.stream_write' };

/** A row's time at `values`: the meter's counts times each cost (fitted ones, and those tied to them, at `values`), plus Node's binding. */
function rowModel(usage: Float64Array, binding: number, values: Readonly<Record<string, number>>, book: CostBook, doc: HostProfileDoc, terms: readonly string[]): RowModel {
  const out: Record<string, number> = {};
  let ns = binding * (values[NODE_FS_BINDING] ?? BINDING_START_NS);
  if (binding !== 0 && terms.includes(NODE_FS_BINDING)) out[NODE_FS_BINDING] = binding;
  for (let i = 0; i < book.size; i++) {
    const n = usage[i]!;
    if (n === 0) continue;
    const own = book.names[i]!;
    const name = TIED[own] !== undefined && terms.includes(TIED[own]) ? TIED[own] : own;
    if (terms.includes(name)) {
      const nsPer = psPerUnit(doc, termParam(doc, name)) / 1000;
      out[name] = (out[name] ?? 0) + n * nsPer;
      ns += n * nsPer * values[name]!;
    } else ns += (n * book.psPer[i]!) / 1000;
  }
  return { modelled: ns, usage: out };
}

/** The measured rows joined to what calibrate host knows of each (its kind, size, binding), in the declared order. */
function joinRows(data: HostCalibrationData, declared: readonly Row[]): HostRow[] {
  const byId = new Map((data.rows ?? []).map((r) => [r.id, r]));
  return declared.map((d) => {
    const r = byId.get(d.id);
    if (!r) throw new Error(`the roles declare row '${d.id}', which the measurements do not have`);
    return { ...r, measured: d.measured, role: d.role, reason: d.reason };
  });
}

/** The costs the data can determine: those some fit row exercises. */
function fittedTerms(base: HostProfileDoc, data: HostCalibrationData, rows: readonly HostRow[], book: CostBook): string[] {
  const levels = base.machine.caches.map((c) => `${c.name}.stream`);
  const terms = ['syscall_entry', 'vop', 'copy_call', ...levels, 'mem.stream_write', 'vm_fault'];
  if (rows.some((r) => r.kind === 'munmap' && r.role === 'fit')) terms.push('page_free');
  if (data.dd) terms.push('user_syscall_stub', 'user_startup');
  else terms.splice(terms.indexOf('vop'), 1); // without dd's per-block time the binding and vop cannot be told apart
  if (rows.some((r) => r.binding > 0 && r.role === 'fit')) terms.push(NODE_FS_BINDING);
  for (const t of terms) if (t !== NODE_FS_BINDING) book.id(t as never); // every term is a cost the meter knows
  return terms;
}
