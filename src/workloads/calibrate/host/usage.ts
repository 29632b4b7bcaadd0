// The model's side of the host rows: each measured operation run on the modelled kernel,
// and the meter's count of every cost term it paid (per call, per fault, per page, per
// block). A row's modelled time is then its counts times the unit costs, so a fit can
// try other values without running the model again (./problem.ts).

import type { Profile } from '../../../costmodel/profile.js';
import { AccessKind } from '../../../kernel/machine/cache.js';
import { gnuLocale } from '../../dd/gnu.js';
import { runDd } from '../../dd/run.js';
import { ModelBench, SEED } from './bench.js';
import type { HostCalibrationData } from './measure.js';
import { gnuOperands, type HostRow } from './rows.js';

const KiB = 1024;
const PAGE = 4096;

/** What the model did for one row: the meter's counts per call, or a count (faults). */
export interface RowUsage {
  usage: Float64Array;
  /** For count rows (page faults): the modelled count. */
  count?: number;
  /** What a reader should know (faults taken). */
  note?: string;
}

const repeat = (n: number, f: () => void) => () => {
  for (let i = 0; i < n; i++) f();
};

/**
 * Run every row except GNU dd's on the model (they do not depend on dd's start-up pages).
 * `progress` gets a fraction done.
 */
export function machineUsage(profile: Profile, data: HostCalibrationData, rows: readonly HostRow[], progress: (f: number) => void = () => {}): Map<string, RowUsage> {
  const out = new Map<string, RowUsage>();
  const b = new ModelBench(profile);
  const zero = b.open('/dev/zero', 'r');
  const nul = b.open('/dev/null', 'w');
  const sizes = rows.filter((r) => r.kind === 'read' || r.kind === 'write').map((r) => r.size!);
  const warm = b.buffer(Math.max(1, ...sizes), true);
  const per = (size: number) => (size <= 64 * KiB ? 8 : 1);
  // Each loop row: a few calls to warm up, then the mean of n calls.
  const loopRow = (r: HostRow, call: () => void, n: number) => {
    b.usage(repeat(Math.min(5, n + 1), call));
    out.set(r.id, { usage: b.usage(repeat(n, call), n) });
  };
  for (const r of rows) {
    if (r.kind === 'getuid') loopRow(r, () => b.sys('getuid', {}), 10);
    else if (r.kind === 'read-1b') loopRow(r, () => b.sys('read', { fd: zero, bufVa: warm, len: 1 }), 10);
    else if (r.kind === 'write-1b') loopRow(r, () => b.sys('write', { fd: nul, bufVa: warm, len: 1 }), 10);
    else if (r.kind === 'read' || r.kind === 'write') {
      const fd = r.kind === 'read' ? zero : nul;
      loopRow(r, () => b.sys(r.kind, { fd, bufVa: warm, len: r.size! }), per(r.size!));
    }
  }
  progress(0.2);
  probeUsage(b, zero, rows, out);
  progress(0.6);
  for (const r of rows.filter((x) => x.kind === 'fault')) {
    const fp = data.node.faults.points.find((p) => p.size_bytes === r.size)!;
    const bufs = Array.from({ length: fp.buffers_per_repeat }, () => b.buffer(fp.size_bytes, false));
    const f0 = b.minflt;
    const fresh = b.usage(() => bufs.forEach((v) => b.sys('read', { fd: zero, bufVa: v, len: fp.size_bytes })));
    const taken = b.minflt - f0;
    const again = b.usage(() => bufs.forEach((v) => b.sys('read', { fd: zero, bufVa: v, len: fp.size_bytes })));
    out.set(r.id, { usage: fresh.map((v, i) => (v - again[i]!) / Math.max(1, taken)), note: `${taken} faults modelled, ${fp.faults_per_repeat.median} measured per repeat` });
    for (const v of bufs) b.sys('munmap', { addr: v - 16, len: fp.size_bytes + 16 + PAGE });
  }
  for (const r of rows.filter((x) => x.kind === 'munmap')) {
    const len = r.size!;
    const addr = b.sys('mmap', { len, prot: 'rw', fd: -1, name: 'populated' });
    b.k.touchUser(b.u.td, addr, len, AccessKind.Write, false);
    out.set(r.id, { usage: b.usage(() => b.sys('munmap', { addr, len }), len / PAGE) });
  }
  progress(1);
  return out;
}

/**
 * The cache probe's reads on the model, as a C program makes them: read(2) of /dev/zero
 * and pread(2) of a cached file into a resident, page-aligned buffer; each row is the
 * second call at its size (the first leaves the buffer where it fits).
 */
function probeUsage(b: ModelBench, zero: number, rows: readonly HostRow[], out: Map<string, RowUsage>): void {
  const probeRows = rows.filter((r) => r.kind === 'zero' || r.kind === 'copy');
  if (probeRows.length === 0) return;
  const max = Math.max(...probeRows.map((r) => r.size!));
  const buf = b.residentRegion(max);
  for (const r of probeRows.filter((x) => x.kind === 'zero')) {
    const call = () => b.sys('read', { fd: zero, bufVa: buf, len: r.size! });
    call();
    out.set(r.id, { usage: b.usage(call) });
  }
  // The probe's file, written once: every page in the page cache.
  b.k.fs.mkdirp('/tmp');
  b.k.fs.addFile('/tmp/cache-geometry', max);
  const file = b.open('/tmp/cache-geometry', 'r');
  b.sys('read', { fd: file, bufVa: buf, len: max });
  for (const r of probeRows.filter((x) => x.kind === 'copy')) {
    const call = () => b.sys('pread64', { fd: file, bufVa: buf, len: r.size!, pos: 0 });
    call();
    out.set(r.id, { usage: b.usage(call) });
  }
}

/** GNU dd's rows on the model: start-up (count=0: its time and its page faults) and the copy loop's cost per block, split as perf splits it. */
export function ddUsage(profile: Profile, data: HostCalibrationData, rows: readonly HostRow[]): Map<string, RowUsage> {
  const out = new Map<string, RowUsage>();
  if (!data.dd || !rows.some((r) => r.kind.startsWith('dd-'))) return out;
  const locale = gnuLocale(data.dd.locale);
  const run = (count: number) => runDd(gnuOperands(512, count), { profile, seed: SEED, features: new Set(), scripts: [], locale });
  const r0 = run(0);
  const M = 256;
  const rM = run(M);
  const perBlock = rM.usage.map((v, i) => (v - r0.usage[i]!) / M);
  const stub = r0.kernel.book.id('user_syscall_stub');
  const sys = perBlock.slice();
  sys[stub] = 0;
  const user = new Float64Array(perBlock.length);
  user[stub] = perBlock[stub]!;
  for (const r of rows) {
    if (r.kind === 'dd-startup') out.set(r.id, { usage: r0.usage.slice() });
    else if (r.kind === 'dd-startup-faults') out.set(r.id, { usage: new Float64Array(r0.usage.length), count: r0.faults.minor });
    else if (r.kind === 'dd-block-sys') out.set(r.id, { usage: sys });
    else if (r.kind === 'dd-block-user') out.set(r.id, { usage: user });
  }
  return out;
}
