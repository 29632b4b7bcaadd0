// The host fit's rows, as measured: each measurement of calibrate host reduced to the one
// figure the model must reproduce (per call, per fault, per page, per block), and the role
// of each row, declared by the rules below before any fitting and written beside the data
// (calibration/data/NAME-measurements.roles.json, read back by the calibration protocol).
//
// Roles. The copy path's costs per cache level come from the C cache probe's read(2) of
// /dev/zero at each working-set size (clear_user, no Node binding in the way): fit. Node's
// read sweep is the same path through Node's binding, measured by another program, and the
// probe's reads of a cached file (copy_to_user) use the same per-level costs: validate, to
// test them. Without the probe the copy path is fitted from Node's read sweep, and the
// sizes of QUICK_HELD_OUT or FULL_HELD_OUT (one in two, between fitted ones, at every
// level) validate. A sweep point whose repeats spread more than NOISE_DROP validates
// instead of fitting: a rule on the measurement's spread, not on the model's error.

import type { DeclaredRow } from '../../../costmodel/calibration/roles.js';
import type { Role } from '../../../costmodel/calibration/protocol.js';
import type { PerCall } from '../../../host/node-loops.js';
import { sizeLabel, type Spread } from '../../../host/stats.js';
import type { DdOperands } from '../../dd/operands.js';
import { cacheProbeOf, type HostCalibrationData, type MeasuredRow, type RowKind } from './measure.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Read sizes kept out of the fit when there is no cache probe, whose error is reported. */
export const QUICK_HELD_OUT: readonly number[] = [16 * KiB, 256 * KiB, 4 * MiB];
export const FULL_HELD_OUT: readonly number[] = [2 * KiB, 8 * KiB, 32 * KiB, 128 * KiB, 512 * KiB, 2 * MiB, 8 * MiB];
/** A sweep point whose repeats spread more than this (IQR / median) validates instead of fitting. */
const NOISE_DROP = 0.5;

/**
 * Which of the probe's points become rows (the model streams about 100 MiB a second):
 * read(2) of /dev/zero at every doubling up to `zeroMax`, and the cached-file copies at
 * every `copyEvery`-th doubling up to `copyMax`.
 */
export const PROBE_ROWS = {
  quick: { zeroMax: 16 * MiB, copyMax: 16 * MiB, copyEvery: 2 },
  full: { zeroMax: 32 * MiB, copyMax: 16 * MiB, copyEvery: 1 },
} as const;

/** One row as measured, with its declared role and why. */
export interface HostRow extends MeasuredRow {
  role: Role;
  reason: string;
}

/**
 * A loop's per-call cost: the lower of its wall-clock and CPU-time medians (net of its
 * control). Preemption inflates wall time; V8's background threads inflate the
 * process's CPU time; neither makes a call cheaper, so the lower is the better estimate.
 */
export function netMedian(m: { net: PerCall | null; gross: PerCall }): number {
  return chosen(m).median;
}

/** The series netMedian uses: CPU time when it is the lower, else wall time. */
export function chosen(m: { net: PerCall | null; gross: PerCall }): Spread {
  const t = m.net ?? m.gross;
  return t.cpu_ns.median > 0 && t.cpu_ns.median < t.wall_ns.median ? t.cpu_ns : t.wall_ns;
}

/** A point whose chosen series spreads too much (IQR relative to the gross median, since net medians can be small). */
export function noisy(s: Spread, gross: Spread): boolean {
  return s.n >= 3 && gross.median > 0 && s.iqr / Math.max(s.median, gross.median) > NOISE_DROP;
}

const sdOf = (s: Spread) => (s.n >= 3 && s.iqr > 0 ? s.iqr / 1.35 : undefined);

const FIT = {
  syscall: "the boundary's cost: the null call, and the binding a Node fs call adds",
  write: "write(2) to /dev/null at every size: the kernel's write path and Node's binding (write_null reads nothing, so sizes differ only in Node's noise)",
  zero: "the C cache probe's read(2) of /dev/zero at one working-set size a doubling: clear_user's cost per line through each cache level, without Node in the way",
  readNoProbe: "Node's read(2) of /dev/zero at a size between held-out ones: the copy path's cost per level (no cache probe ran)",
  fault: 'page faults inside read(2) of fresh buffers: the fault path',
  munmap: 'munmap(2) of a populated region: freeing pages',
  dd: "GNU dd's own start-up and per-block cost, in the environment it ran in",
  faults: "GNU dd count=0's page faults: the start-up pages first touched in user mode (chosen from this row)",
} as const;
const VALIDATE = {
  read: "Node's read(2) of /dev/zero: the copy path fitted from the C probe, measured again through Node's binding by another program",
  heldOut: 'a read size between fitted ones, held out (declared before fitting) to test the copy path between them',
  copy: "the C probe's pread(2) of a cached file: copy_to_user streams through the same levels at the costs fitted from clear_user",
  noisy: (s: Spread) => `its repeats spread ${((100 * s.iqr) / s.median).toFixed(0)}% of their median (more than ${100 * NOISE_DROP}%, a rule on the measurement): not fitted`,
} as const;

/** Every row of a calibration's measurements, with its declared role (see the module comment). */
export function deriveRows(data: HostCalibrationData): HostRow[] {
  const m = data.node;
  const probe = cacheProbeOf(data);
  const held = new Set(data.quick ? QUICK_HELD_OUT : FULL_HELD_OUT);
  const rows: HostRow[] = [];
  const loop = (id: string, kind: RowKind, lm: { net: PerCall | null; gross: PerCall }, binding: number, size?: number): HostRow => {
    const s = chosen(lm);
    const row: HostRow = { id, kind, measured: netMedian(lm), unit: 'ns', binding, role: 'fit', reason: FIT.syscall };
    const sd = sdOf(s);
    if (sd !== undefined) row.sd = sd;
    if (size !== undefined) row.size = size;
    return row;
  };
  rows.push(loop('getuid', 'getuid', m.minimal_syscall, 0), loop('read 1 B', 'read-1b', m.read_1b, 1), loop('write 1 B', 'write-1b', m.write_1b, 1));
  for (const [kind, sweep] of [['read', m.read_sweep], ['write', m.write_sweep]] as const) {
    for (const p of sweep) {
      const row = loop(`${kind} ${sizeLabel(p.size_bytes)}`, kind, p, 1, p.size_bytes);
      if (kind === 'write') row.reason = FIT.write;
      else if (probe) Object.assign(row, { role: 'validate', reason: VALIDATE.read });
      else if (held.has(p.size_bytes)) Object.assign(row, { role: 'validate', reason: VALIDATE.heldOut });
      else row.reason = FIT.readNoProbe;
      const s = chosen(p);
      if (row.role === 'fit' && noisy(s, p.gross.wall_ns)) Object.assign(row, { role: 'validate', reason: VALIDATE.noisy(s) });
      rows.push(row);
    }
  }
  if (probe) {
    const o = data.quick ? PROBE_ROWS.quick : PROBE_ROWS.full;
    const pts = probe.points.filter((p) => (p.bytes & (p.bytes - 1)) === 0 && p.bytes <= o.zeroMax);
    for (const p of pts) rows.push({ id: `C read ${sizeLabel(p.bytes)} of /dev/zero`, kind: 'zero', measured: p.zero_ns[0], unit: 'ns', size: p.bytes, binding: 0, role: 'fit', reason: FIT.zero });
    for (const p of pts.filter((q) => q.bytes <= o.copyMax && Math.round(Math.log2(q.bytes)) % o.copyEvery === 0)) {
      rows.push({ id: `C pread ${sizeLabel(p.bytes)} of a cached file`, kind: 'copy', measured: p.copy_ns[0], unit: 'ns', size: p.bytes, binding: 0, role: 'validate', reason: VALIDATE.copy });
    }
  }
  for (const fp of m.faults.points) {
    if (fp.per_fault.wall_ns.n === 0) continue;
    const row = loop(`page fault in read, ${sizeLabel(fp.size_bytes)} buffers`, 'fault', { net: fp.per_fault, gross: fp.per_fault }, 0, fp.size_bytes);
    rows.push({ ...row, reason: FIT.fault });
  }
  if (data.munmap) {
    const s = data.munmap.per_page_ns;
    rows.push({ id: `munmap of ${sizeLabel(data.munmap.bytes)} populated, per page`, kind: 'munmap', measured: s.median, unit: 'ns', ...(sdOf(s) ? { sd: sdOf(s)! } : {}), size: data.munmap.bytes, binding: 0, role: 'fit', reason: FIT.munmap });
  }
  if (data.dd) {
    const d = data.dd;
    const loopNs = Math.max(0, d.blocks.cpu_ns.median - d.startup.cpu_ns.median);
    const userShare = d.blocks.user_ns.median / Math.max(1, d.blocks.user_ns.median + d.blocks.sys_ns.median);
    rows.push(
      { id: 'GNU dd bs=512 count=0 (start-up, exec to exit)', kind: 'dd-startup', measured: d.startup.cpu_ns.median, unit: 'ns', ...(sdOf(d.startup.cpu_ns) ? { sd: sdOf(d.startup.cpu_ns)! } : {}), binding: 0, role: 'fit', reason: FIT.dd },
      { id: 'GNU dd bs=512 count=0, page faults', kind: 'dd-startup-faults', measured: Math.round(d.startup.minflt.median), unit: 'count', binding: 0, role: 'fit', reason: FIT.faults },
      { id: 'GNU dd bs=512, per block, system time', kind: 'dd-block-sys', measured: (loopNs * (1 - userShare)) / d.blocks.count, unit: 'ns', binding: 0, role: 'fit', reason: FIT.dd },
      { id: 'GNU dd bs=512, per block, user time', kind: 'dd-block-user', measured: (loopNs * userShare) / d.blocks.count, unit: 'ns', binding: 0, role: 'fit', reason: FIT.dd },
    );
  }
  return rows.filter((r) => Number.isFinite(r.measured) && r.measured > 0);
}

/** The roles file's rows for measurements whose `rows` are `rows` (paths into the data file). */
export function declaredRows(rows: readonly HostRow[]): DeclaredRow[] {
  return rows.map((r, i) => ({
    id: r.id,
    path: ['rows', i, 'measured'],
    ...(r.sd !== undefined ? { sd_path: ['rows', i, 'sd'] } : {}),
    unit: r.unit,
    role: r.role,
    reason: r.reason,
  }));
}

/** GNU dd's operands for if=/dev/zero of=/dev/null bs=<bytes> count=<n>. */
export function gnuOperands(bs: number, count: number): DdOperands {
  return { inputPath: '/dev/zero', outputPath: '/dev/null', ibs: bs, obs: bs, bsGiven: true, count, skip: 0, seek: 0 };
}
