// The fit's rows: each host measurement beside the model's usage of the same operation
// (per call), from running it on the modelled kernel. Which rows fit and which are held
// out is declared here, before any fitting: the read sizes of QUICK_HELD_OUT and
// FULL_HELD_OUT are held out.

import type { Profile } from '../../../costmodel/profile.js';
import { AccessKind } from '../../../kernel/machine/cache.js';
import type { PerCall } from '../../../host/node-loops.js';
import { sizeLabel, type Spread } from '../../../host/stats.js';
import type { DdOperands } from '../../dd/operands.js';
import { runDd } from '../../dd/run.js';
import { ModelBench, SEED } from './bench.js';
import type { HostCalibrationData, Progress } from './measure.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;

/** Read sizes kept out of the fit, whose error is reported. */
export const QUICK_HELD_OUT: readonly number[] = [16 * KiB, 256 * KiB, 4 * MiB];
export const FULL_HELD_OUT: readonly number[] = [2 * KiB, 8 * KiB, 32 * KiB, 128 * KiB, 512 * KiB, 2 * MiB, 8 * MiB];
/** A sweep point whose repeats spread more than this (IQR / median) is dropped from the fit as noise. */
const NOISE_DROP = 0.5;

/** One fit row: what was measured, and the model's usage of the same operation (per call). */
export interface Row {
  id: string;
  group: 'syscall' | 'read' | 'write' | 'fault' | 'munmap' | 'dd';
  target_ns: number;
  usage: Float64Array;
  /** Node fs calls in the measured figure (the binding's own cost). */
  binding: number;
  heldOut: boolean;
  dropped?: string;
  size?: number;
  /** Faults per call the model took (fault rows). */
  note?: string;
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

/** Build every row by running the model; `quick` decides the held-out sizes. */
export function modelRows(profile: Profile, data: HostCalibrationData, progress: Progress): Row[] {
  const m = data.node;
  const rows: Row[] = [];
  const held = new Set(data.quick ? QUICK_HELD_OUT : FULL_HELD_OUT);
  const b = new ModelBench(profile);
  const td = b.u.td;
  const zero = b.open('/dev/zero', 'r');
  const nul = b.open('/dev/null', 'w');
  const maxSize = Math.max(...m.read_sweep.map((p) => p.size_bytes), 1);
  const warm = b.buffer(maxSize, true);
  const per = (size: number) => (size <= 64 * KiB ? 8 : 1);
  const repeat = (n: number, f: () => void) => () => {
    for (let i = 0; i < n; i++) f();
  };

  // getuid(2): a bare round trip (net of Node's C++ callback).
  b.usage(repeat(5, () => b.sys('getuid', {})));
  rows.push({ id: 'getuid', group: 'syscall', target_ns: netMedian(m.minimal_syscall), usage: b.usage(repeat(10, () => b.sys('getuid', {})), 10), binding: 0, heldOut: false });
  for (const [id, name, fd, lm] of [['read 1 B', 'read', zero, m.read_1b], ['write 1 B', 'write', nul, m.write_1b]] as const) {
    b.usage(repeat(5, () => b.sys(name, { fd, bufVa: warm, len: 1 })));
    rows.push({ id, group: name, target_ns: netMedian(lm), usage: b.usage(repeat(10, () => b.sys(name, { fd, bufVa: warm, len: 1 })), 10), binding: 1, heldOut: false });
  }
  progress('model: read and write sweeps', 0.05);
  for (const [group, sweep, fd] of [['read', m.read_sweep, zero], ['write', m.write_sweep, nul]] as const) {
    for (const p of sweep) {
      const call = () => b.sys(group, { fd, bufVa: warm, len: p.size_bytes });
      b.usage(repeat(2, call));
      const n = per(p.size_bytes);
      const row: Row = {
        id: `${group} ${sizeLabel(p.size_bytes)}`,
        group,
        size: p.size_bytes,
        target_ns: netMedian(p),
        usage: b.usage(repeat(n, call), n),
        binding: 1,
        heldOut: group === 'read' && held.has(p.size_bytes),
      };
      const series = chosen(p);
      if (noisy(series, p.gross.wall_ns)) row.dropped = `noisy: IQR ${((100 * series.iqr) / series.median).toFixed(0)}% of the median`;
      rows.push(row);
    }
  }
  progress('model: page faults inside read()', 0.35);
  for (const fp of m.faults.points) {
    if (fp.per_fault.wall_ns.n === 0) continue;
    const bufs = Array.from({ length: fp.buffers_per_repeat }, () => b.buffer(fp.size_bytes, false));
    const f0 = b.minflt;
    const fresh = b.usage(() => bufs.forEach((v) => b.sys('read', { fd: zero, bufVa: v, len: fp.size_bytes })));
    const taken = b.minflt - f0;
    const again = b.usage(() => bufs.forEach((v) => b.sys('read', { fd: zero, bufVa: v, len: fp.size_bytes })));
    const usage = fresh.map((v, i) => (v - again[i]!) / Math.max(1, taken));
    rows.push({ id: `page fault in read, ${sizeLabel(fp.size_bytes)} buffers`, group: 'fault', target_ns: netMedian({ net: fp.per_fault, gross: fp.per_fault }), usage, binding: 0, heldOut: false, note: `${taken} faults modelled, ${fp.faults_per_repeat.median} measured per repeat` });
    for (const v of bufs) b.sys('munmap', { addr: v - 16, len: fp.size_bytes + 16 + PAGE });
  }
  if (data.munmap) {
    progress('model: munmap of a populated region', 0.5);
    const len = data.munmap.bytes;
    const addr = b.sys('mmap', { len, prot: 'rw', fd: -1, name: 'populated' });
    b.k.touchUser(td, addr, len, AccessKind.Write, false);
    const usage = b.usage(() => b.sys('munmap', { addr, len }), len / PAGE);
    rows.push({ id: `munmap of ${sizeLabel(len)} populated, per page`, group: 'munmap', target_ns: data.munmap.per_page_ns.median, usage, binding: 0, heldOut: false });
  }
  if (data.dd) {
    progress('model: GNU dd start-up and copy loop', 0.6);
    const locale = localeOf(data.dd.locale);
    const run = (count: number) => runDd(gnuOperands(512, count), { profile, seed: SEED, features: new Set(), scripts: [], locale });
    const r0 = run(0);
    const M = 256;
    const rM = run(M);
    rows.push({ id: 'GNU dd bs=512 count=0 (start-up, exec to exit)', group: 'dd', target_ns: data.dd.startup.cpu_ns.median, usage: r0.usage.slice(), binding: 0, heldOut: false });
    const perBlock = rM.usage.map((v, i) => (v - r0.usage[i]!) / M);
    const stub = b.k.book.id('user_syscall_stub');
    const sys = perBlock.slice();
    sys[stub] = 0;
    const user = new Float64Array(perBlock.length);
    user[stub] = perBlock[stub]!;
    const d = data.dd.blocks;
    const loopNs = Math.max(0, d.cpu_ns.median - data.dd.startup.cpu_ns.median);
    const userShare = d.user_ns.median / Math.max(1, d.user_ns.median + d.sys_ns.median);
    rows.push({ id: 'GNU dd bs=512, per block, system time', group: 'dd', target_ns: (loopNs * (1 - userShare)) / d.count, usage: sys, binding: 0, heldOut: false });
    rows.push({ id: 'GNU dd bs=512, per block, user time', group: 'dd', target_ns: (loopNs * userShare) / d.count, usage: user, binding: 0, heldOut: false });
  }
  return rows;
}

export function localeOf(text: string | null): 'C.UTF-8' | 'C' {
  return text !== null && /utf-?8/i.test(text) ? 'C.UTF-8' : 'C';
}

/** GNU dd's operands for if=/dev/zero of=/dev/null bs=<bytes> count=<n>. */
export function gnuOperands(bs: number, count: number): DdOperands {
  return { inputPath: '/dev/zero', outputPath: '/dev/null', ibs: bs, obs: bs, bsGiven: true, count, skip: 0, seek: 0 };
}
