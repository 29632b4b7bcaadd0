/**
 * Measuring system-call, read/write and page-fault costs of the Linux host from Node itself.
 *
 * Every timing is a loop of many calls, repeated; each repeat is timed twice:
 *  - wall: process.hrtime.bigint() (CLOCK_MONOTONIC, ns);
 *  - cpu:  process.cpuUsage() user + system (µs resolution). On Linux the user/system split
 *          is tick-sampled (CONFIG_HZ ticks) and useless for short runs, but the sum scales the
 *          scheduler's ns-precise sum_exec_runtime, so the sum is exact to the µs. It is the
 *          whole process's CPU time: V8 background threads (GC, compiler) are included.
 * and reported per call with its median and spread over the repeats.
 *
 * The loop's own cost is measured by a control loop: the same JS function calling
 * fs.readSync(fd, buf, 0, 0). Node's readSync validates its arguments and returns 0 for a
 * zero length before reaching the C++ binding (lib/fs.js `if (length === 0) return 0;`),
 * and strace shows no read(2) for it, whereas a 1-byte read makes one read(2) per call; so
 * the control costs the JS loop and readSync's argument checks but neither the binding nor
 * the kernel. "net" values subtract the control's median from every sample. Net fs costs
 * therefore include Node's fs binding (uv_fs_t set-up, ArrayBufferView unwrapping), which
 * is several hundred ns here; `minimal_syscall` measures getuid(2) through process.getuid()
 * (a plain C++ callback, one syscall per call, verified with strace) net of a control loop
 * calling another plain C++ callback that makes no syscall (util.types.isDate), which is
 * the closest Node gets to a bare syscall round trip.
 *
 * Page faults: read(2) of /dev/zero into fresh buffers (Buffer.allocUnsafeSlow >= 4 MiB,
 * from glibc malloc's mmap path, never touched) takes one kernel-mode write fault per page
 * inside clear_user; the cost per fault is (fresh read - warm re-read of the same buffers)
 * / faults actually taken (process.resourceUsage().minorPageFault delta).
 */
import * as fs from 'node:fs';
import { types as utilTypes } from 'node:util';
import { median } from 'simple-statistics';
import type { MachineSignature } from '../costmodel/fingerprint.js';
import { HostMeasureError } from './error.js';
import { probeHost, type HostFacts } from './facts.js';
import { sizeLabel, spreadOf, type Spread } from './stats.js';

/** A per-call (or per-event) cost in ns, by both clocks. */
export interface PerCall {
  wall_ns: Spread;
  cpu_ns: Spread;
}

export interface LoopMeasurement {
  label: string;
  /** What each call does. */
  call: string;
  calls_per_repeat: number;
  /** ns per call including the loop. */
  gross: PerCall;
  /** gross minus the median of the named control, sample by sample; null for a control itself. */
  net: PerCall | null;
  /** Which control `net` subtracts ("control" or "binding_control"). */
  net_of: 'control' | 'binding_control' | null;
}

export interface SizePoint extends LoopMeasurement {
  size_bytes: number;
}

export interface FaultPoint {
  /** Size of each fresh buffer. */
  size_bytes: number;
  buffers_per_repeat: number;
  /** Pages the reads touch per repeat, each expected to fault once. */
  expected_faults_per_repeat: number;
  faults_per_repeat: Spread;
  /** Minor faults per repeat / expected: 1 when every page was fresh. */
  fault_fraction: number;
  /** ns per read(2) of one fresh buffer (faults + clear + call). */
  fresh_read: PerCall;
  /** ns per read(2) re-reading the same, now resident, buffer (clear + call). */
  warm_read: PerCall;
  /** (fresh - warm) / faults taken, per repeat; repeats that took no fault are left out. */
  per_fault: PerCall;
}

export interface NodeMeasurements {
  schema: 'l41sim/host-measurements@1';
  /** ISO date of the measurement. */
  date: string;
  node_version: string;
  v8_version: string;
  quick: boolean;
  host: HostFacts;
  method: {
    wall_clock: string;
    cpu_clock: string;
    repeats: number;
    target_repeat_ms: number;
    notes: string[];
  };
  /** fs.readSync(fd, buf, 0, 0): the JS loop and readSync's argument checks, no binding, no syscall. */
  control: LoopMeasurement;
  /** util.types.isDate(d): a JS -> C++ callback round trip, no syscall. */
  binding_control: LoopMeasurement;
  /** getuid(2) via process.getuid(), net of binding_control. */
  minimal_syscall: LoopMeasurement;
  /** read(2) of 1 byte from /dev/zero via fs.readSync, net of control (includes Node's fs binding). */
  read_1b: LoopMeasurement;
  /** write(2) of 1 byte to /dev/null via fs.writeSync, net of control (includes Node's fs binding). */
  write_1b: LoopMeasurement;
  /** read(2) of /dev/zero into a warm buffer, per size. */
  read_sweep: SizePoint[];
  /** write(2) of a warm buffer to /dev/null, per size. */
  write_sweep: SizePoint[];
  faults: {
    points: FaultPoint[];
    /** All per-fault samples pooled. */
    per_fault: PerCall;
    /** Total faults taken / expected over all points. */
    fault_fraction: number;
  };
  /** Things a user should know before trusting the numbers (noise, reused memory, ...). */
  warnings: string[];
  duration_ms: number;
}

export interface MeasureOptions {
  /** Few sizes and 3 repeats (CI) instead of 1 KiB..16 MiB and 9 repeats. */
  quick: boolean;
  /** Called after every step; `label` names the step just done. */
  onProgress?: (done: number, total: number, label: string) => void;
  /** Override the sweep sizes (bytes). */
  sizes?: number[];
  /** Override the number of repeats (>= 1). */
  repeats?: number;
  /** Override the target duration of one repeat, ms. */
  targetRepeatMs?: number;
  /** Override the fresh-buffer sizes of the fault measurement (bytes, >= 4 MiB recommended). */
  faultSizes?: number[];
  /** Override the bytes of fresh buffers read per fault repeat. */
  faultBytesPerRepeat?: number;
}

const KiB = 1024;
const MiB = 1024 * 1024;
/** Sizes of the full sweep: powers of two 1 KiB .. 16 MiB. */
export const FULL_SIZES: readonly number[] = Array.from({ length: 15 }, (_, i) => KiB << i);
/** Sizes of the quick sweep. */
export const QUICK_SIZES: readonly number[] = [KiB, 16 * KiB, 256 * KiB, 4 * MiB, 16 * MiB];

// ---------------------------------------------------------------------------------------
// The loops. Each is one small function so V8 compiles it once and the control runs the
// very same code as the measurement. The callees are captured once in module constants:
// module loaders that wrap namespaces (vitest/vite SSR) otherwise add a proxy lookup of
// hundreds of ns to every call.

const readSync = fs.readSync;
const writeSync = fs.writeSync;
const isDate = utilTypes.isDate;

function readLoop(fd: number, buf: Buffer, len: number, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += readSync(fd, buf, 0, len, null);
  return total;
}

function writeLoop(fd: number, buf: Buffer, len: number, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += writeSync(fd, buf, 0, len);
  return total;
}

const getuid: () => number =
  process.getuid?.bind(process) ??
  (() => {
    throw new HostMeasureError('process.getuid is unavailable on this platform');
  });

function getuidLoop(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += getuid();
  return total;
}

const aDate = new Date(0);
function bindingLoop(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) if (isDate(aDate)) total++;
  return total;
}

interface Sample {
  wall_ns: number;
  cpu_ns: number;
}

/** Time one call of `run` by both clocks. */
function timeOnce(run: () => void): Sample {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  run();
  const t1 = process.hrtime.bigint();
  const c = process.cpuUsage(c0);
  return { wall_ns: Number(t1 - t0), cpu_ns: (c.user + c.system) * 1000 };
}

interface Item {
  key: string;
  label: string;
  call: string;
  size_bytes?: number;
  netOf: 'control' | 'binding_control' | null;
  /** Runs n calls; returns the number of bytes moved (for short-count checks) or anything. */
  loop: (n: number) => number;
  expectedPerCall?: number;
  calls: number;
  samples: Sample[];
}

/** Choose a call count so one repeat takes about targetMs (and warm the loop up). */
function calibrate(item: Item, targetMs: number): number {
  const targetNs = targetMs * 1e6;
  // First calls are slow (lazy compilation, first touch of code and data): warm up, then grow
  // n until a run is long enough to extrapolate from, then check the extrapolation once.
  for (let i = 0; i < 3; i++) item.loop(1);
  let n = 1;
  for (;;) {
    const s = timeOnce(() => item.loop(n));
    if (s.wall_ns >= targetNs / 8 || n >= 1 << 30) {
      n = Math.max(1, Math.round((n * targetNs) / Math.max(s.wall_ns, 1)));
      break;
    }
    n = s.wall_ns < targetNs / 1000 ? n * 10 : Math.ceil((n * targetNs) / 4 / Math.max(s.wall_ns, 1));
  }
  const check = timeOnce(() => item.loop(n));
  if (check.wall_ns < targetNs / 2 || check.wall_ns > targetNs * 2) {
    n = Math.max(1, Math.round((n * targetNs) / Math.max(check.wall_ns, 1)));
  }
  return n;
}

/** Measure the host. Throws HostMeasureError when not on Linux or /dev/zero, /dev/null cannot be opened. */
export function measureFromNode(opts: MeasureOptions): NodeMeasurements {
  const started = process.hrtime.bigint();
  const host = probeHost();
  const quick = opts.quick;
  const repeats = Math.max(1, Math.floor(opts.repeats ?? (quick ? 3 : 9)));
  const targetMs = opts.targetRepeatMs ?? (quick ? 20 : 40);
  const sizes = [...(opts.sizes ?? (quick ? QUICK_SIZES : FULL_SIZES))].sort((a, b) => a - b);
  const faultSizes = opts.faultSizes ?? (quick ? [4 * MiB] : [4 * MiB, 16 * MiB]);
  const faultBytes = opts.faultBytesPerRepeat ?? 16 * MiB;
  const pageSize = host.page_size_bytes ?? 4096;
  const warnings: string[] = [];
  const notes: string[] = [
    'control: fs.readSync(fd, buf, 0, 0) returns 0 in lib/fs.js before the binding; strace shows no read(2) for it, one per call for 1-byte reads',
    'net fs costs (read_1b, write_1b, sweeps) include Node\'s fs binding (uv_fs_t set-up, ~hundreds of ns); minimal_syscall (getuid via process.getuid, net of a no-syscall C++ callback) is the closest to a bare syscall round trip',
    'the write sweep uses the readSync control: writeSync\'s own argument checks differ slightly',
    'cpu time is process.cpuUsage() user+system of the whole process (µs resolution; the split is tick-sampled, the sum is precise)',
    'Node cannot page-align its buffers: malloc\'s mmap chunks start 16 bytes into a page',
    'page faults: prefer wall_ns; the fresh buffers are large external allocations, and V8 may run GC work on other threads meanwhile, which cpu_ns (whole process) includes',
  ];
  if (sizes.some((s) => !(Number.isInteger(s) && s > 0))) throw new HostMeasureError(`sizes: ${sizes.join(', ')}: expected positive integers (bytes)`);

  let zeroFd: number;
  let nullFd: number;
  try {
    zeroFd = fs.openSync('/dev/zero', 'r');
    nullFd = fs.openSync('/dev/null', 'w');
  } catch (e) {
    throw new HostMeasureError(`cannot open /dev/zero or /dev/null: ${(e as Error).message}`);
  }

  try {
    const maxSize = Math.max(...sizes, 1);
    const warm = Buffer.allocUnsafeSlow(maxSize);
    warm.fill(0x5a); // touch every page before timing

    const mk = (
      key: string,
      label: string,
      call: string,
      netOf: Item['netOf'],
      loop: (n: number) => number,
      expectedPerCall?: number,
      size_bytes?: number,
    ): Item => ({ key, label, call, netOf, loop, calls: 0, samples: [], ...(expectedPerCall !== undefined ? { expectedPerCall } : {}), ...(size_bytes !== undefined ? { size_bytes } : {}) });

    const items: Item[] = [
      mk('control', 'control loop', 'fs.readSync(fd, buf, 0, 0) (no syscall)', null, (n) => readLoop(zeroFd, warm, 0, n), 0),
      mk('binding_control', 'binding control', 'util.types.isDate(d) (C++ callback, no syscall)', null, bindingLoop),
      mk('minimal_syscall', 'getuid', 'getuid(2) via process.getuid()', 'binding_control', getuidLoop),
      mk('read_1b', 'read 1 B', 'read(2) of 1 byte from /dev/zero via fs.readSync', 'control', (n) => readLoop(zeroFd, warm, 1, n), 1),
      mk('write_1b', 'write 1 B', 'write(2) of 1 byte to /dev/null via fs.writeSync', 'control', (n) => writeLoop(nullFd, warm, 1, n), 1),
    ];
    for (const s of sizes) {
      items.push(mk(`read:${s}`, `read ${sizeLabel(s)}`, `read(2) of ${s} bytes from /dev/zero into a warm buffer`, 'control', (n) => readLoop(zeroFd, warm, s, n), s, s));
    }
    for (const s of sizes) {
      items.push(mk(`write:${s}`, `write ${sizeLabel(s)}`, `write(2) of ${s} bytes to /dev/null from a warm buffer`, 'control', (n) => writeLoop(nullFd, warm, s, n), s, s));
    }

    const faultSteps = faultSizes.length * repeats;
    const total = faultSteps + items.length * (repeats + 1);
    let done = 0;
    const progress = (label: string): void => {
      done++;
      opts.onProgress?.(done, total, label);
    };

    // Faults first: nothing big has been freed yet, so glibc's mmap threshold is still at its
    // default and every >= 4 MiB buffer is a fresh, untouched mmap.
    readLoop(zeroFd, warm, Math.min(4096, maxSize), 1000); // warm the read loop up
    const faultPoints = faultSizes.map((size) => measureFaults(zeroFd, size, Math.max(1, Math.round(faultBytes / size)), repeats, pageSize, warnings, progress));

    for (const item of items) {
      item.calls = calibrate(item, targetMs);
      progress(`calibrate ${item.label}`);
    }
    // Round-robin over the repeats so slow drift of the machine spreads over every item.
    for (let r = 0; r < repeats; r++) {
      for (const item of items) {
        let moved = 0;
        const s = timeOnce(() => {
          moved = item.loop(item.calls);
        });
        if (item.expectedPerCall !== undefined && moved !== item.expectedPerCall * item.calls) {
          warnings.push(`${item.label}: ${moved} bytes moved in ${item.calls} calls, expected ${item.expectedPerCall * item.calls} (short reads/writes)`);
        }
        item.samples.push({ wall_ns: s.wall_ns / item.calls, cpu_ns: s.cpu_ns / item.calls });
        progress(`${item.label} ${r + 1}/${repeats}`);
      }
    }

    const byKey = new Map(items.map((i) => [i.key, i]));
    const medians = (key: string): Sample => {
      const it = byKey.get(key)!;
      return { wall_ns: median(it.samples.map((s) => s.wall_ns)), cpu_ns: median(it.samples.map((s) => s.cpu_ns)) };
    };
    const ctl = { control: medians('control'), binding_control: medians('binding_control') };
    const result = (item: Item): LoopMeasurement => {
      const gross: PerCall = { wall_ns: spreadOf(item.samples.map((s) => s.wall_ns)), cpu_ns: spreadOf(item.samples.map((s) => s.cpu_ns)) };
      let net: PerCall | null = null;
      if (item.netOf) {
        const c = ctl[item.netOf];
        net = { wall_ns: spreadOf(item.samples.map((s) => s.wall_ns - c.wall_ns)), cpu_ns: spreadOf(item.samples.map((s) => s.cpu_ns - c.cpu_ns)) };
        if (net.wall_ns.median <= 0 || net.cpu_ns.median <= 0) warnings.push(`${item.label}: net cost is not positive (${net.wall_ns.median.toFixed(1)} ns wall): the control loop costs as much as the call`);
      }
      checkNoise(item.label, gross, warnings);
      return { label: item.label, call: item.call, calls_per_repeat: item.calls, gross, net, net_of: item.netOf };
    };
    const sizePoint = (item: Item): SizePoint => ({ size_bytes: item.size_bytes!, ...result(item) });

    const out: NodeMeasurements = {
      schema: 'l41sim/host-measurements@1',
      date: new Date().toISOString(),
      node_version: process.version,
      v8_version: process.versions.v8,
      quick,
      host,
      method: {
        wall_clock: 'process.hrtime.bigint() (CLOCK_MONOTONIC, ns)',
        cpu_clock: 'process.cpuUsage() user+system, whole process (µs)',
        repeats,
        target_repeat_ms: targetMs,
        notes,
      },
      control: result(byKey.get('control')!),
      binding_control: result(byKey.get('binding_control')!),
      minimal_syscall: result(byKey.get('minimal_syscall')!),
      read_1b: result(byKey.get('read_1b')!),
      write_1b: result(byKey.get('write_1b')!),
      read_sweep: sizes.map((s) => sizePoint(byKey.get(`read:${s}`)!)),
      write_sweep: sizes.map((s) => sizePoint(byKey.get(`write:${s}`)!)),
      faults: {
        points: faultPoints,
        per_fault: {
          wall_ns: spreadOf(faultPoints.flatMap((p) => p.per_fault.wall_ns.samples)),
          cpu_ns: spreadOf(faultPoints.flatMap((p) => p.per_fault.cpu_ns.samples)),
        },
        fault_fraction:
          faultPoints.reduce((s, p) => s + p.faults_per_repeat.samples.reduce((a, b) => a + b, 0), 0) /
          Math.max(1, faultPoints.reduce((s, p) => s + p.expected_faults_per_repeat * p.faults_per_repeat.n, 0)),
      },
      warnings,
      duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
    };
    if (out.faults.per_fault.wall_ns.n === 0) warnings.push('no fresh buffer took a page fault: the per-fault cost could not be measured');
    return out;
  } finally {
    fs.closeSync(zeroFd);
    fs.closeSync(nullFd);
  }
}

/** Warn when repeats disagree (IQR > 20% of the median) or wall and CPU time disagree (> 25%). */
function checkNoise(label: string, t: PerCall, warnings: string[]): void {
  const w = t.wall_ns;
  const c = t.cpu_ns;
  if (w.n >= 3 && w.median > 0 && w.iqr / w.median > 0.2) {
    warnings.push(`${label}: noisy (IQR ${((100 * w.iqr) / w.median).toFixed(0)}% of the median wall time); rerun on a quieter machine or with more repeats`);
  }
  if (w.median > 0 && c.median > 0 && Math.abs(w.median - c.median) / c.median > 0.25) {
    warnings.push(`${label}: wall ${w.median.toFixed(0)} ns vs cpu ${c.median.toFixed(0)} ns per call: the process was preempted or other threads ran; prefer the lower`);
  }
}

function measureFaults(
  fd: number,
  size: number,
  buffers: number,
  repeats: number,
  pageSize: number,
  warnings: string[],
  progress: (label: string) => void,
): FaultPoint {
  const expected = Math.ceil(size / pageSize) * buffers;
  const keep: Buffer[][] = []; // keep every buffer alive until this size is done: freed memory is not fresh
  const fresh: Sample[] = [];
  const warmS: Sample[] = [];
  const perFault: Sample[] = [];
  const faults: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const bufs = Array.from({ length: buffers }, () => Buffer.allocUnsafeSlow(size));
    keep.push(bufs);
    let moved = 0;
    const f0 = process.resourceUsage().minorPageFault;
    const sf = timeOnce(() => {
      for (const b of bufs) moved += readSync(fd, b, 0, size, null);
    });
    const f1 = process.resourceUsage().minorPageFault;
    const sw = timeOnce(() => {
      for (const b of bufs) moved += readSync(fd, b, 0, size, null);
    });
    if (moved !== 2 * size * buffers) warnings.push(`fault test ${sizeLabel(size)}: short reads (${moved} of ${2 * size * buffers} bytes)`);
    const taken = f1 - f0;
    faults.push(taken);
    fresh.push({ wall_ns: sf.wall_ns / buffers, cpu_ns: sf.cpu_ns / buffers });
    warmS.push({ wall_ns: sw.wall_ns / buffers, cpu_ns: sw.cpu_ns / buffers });
    if (taken > 0) perFault.push({ wall_ns: (sf.wall_ns - sw.wall_ns) / taken, cpu_ns: (sf.cpu_ns - sw.cpu_ns) / taken });
    progress(`page faults ${sizeLabel(size)} ${r + 1}/${repeats}`);
  }
  keep.length = 0;
  const fraction = faults.reduce((a, b) => a + b, 0) / (expected * repeats);
  if (fraction < 0.5) {
    warnings.push(
      `fresh ${sizeLabel(size)} buffers took ${(fraction * 100).toFixed(0)}% of the expected ${expected} faults per repeat: malloc reused memory; the per-fault cost is over the faults actually taken`,
    );
  }
  const pc = (xs: Sample[]): PerCall => ({ wall_ns: spreadOf(xs.map((s) => s.wall_ns)), cpu_ns: spreadOf(xs.map((s) => s.cpu_ns)) });
  return {
    size_bytes: size,
    buffers_per_repeat: buffers,
    expected_faults_per_repeat: expected,
    faults_per_repeat: spreadOf(faults),
    fault_fraction: fraction,
    fresh_read: pc(fresh),
    warm_read: pc(warmS),
    per_fault: pc(perFault),
  };
}

/** Fresh buffers of the signature's fault measurement: above glibc's largest mmap threshold (32 MiB), so always a new mapping. */
const SIGNATURE_BUFFER = 33 << 20;
/** Bytes read into each fresh buffer: 256 faults of 4 KiB pages. */
const SIGNATURE_READ = 1 << 20;

/**
 * A sub-second signature of this machine, by the loops measureFromNode times: one
 * getuid(2) round trip (the getuid loop, loop included; as minimal_syscall.gross) and
 * one page fault inside read(2) into a fresh buffer (fresh read minus a warm re-read,
 * per fault taken; as faults.per_fault). Each is the lower of the wall and CPU medians
 * of a few repeats.
 */
export function measureSignature(repeats = 5): MachineSignature {
  const lower = (xs: Sample[]) => Math.min(median(xs.map((x) => x.wall_ns)), median(xs.map((x) => x.cpu_ns)) || Infinity);
  const calls = 2000;
  getuidLoop(10 * calls); // warm up: V8 compiles the loop, and its pages are touched
  const syscall: Sample[] = [];
  for (let r = 0; r < repeats; r++) {
    const s = timeOnce(() => getuidLoop(calls));
    syscall.push({ wall_ns: s.wall_ns / calls, cpu_ns: s.cpu_ns / calls });
  }
  const fd = fs.openSync('/dev/zero', 'r');
  const faults: Sample[] = [];
  try {
    for (let r = 0; r < repeats; r++) {
      const buf = Buffer.allocUnsafeSlow(SIGNATURE_BUFFER);
      const f0 = process.resourceUsage().minorPageFault;
      const fresh = timeOnce(() => readSync(fd, buf, 0, SIGNATURE_READ, null));
      const taken = process.resourceUsage().minorPageFault - f0;
      const warm = timeOnce(() => readSync(fd, buf, 0, SIGNATURE_READ, null));
      if (taken > 0) faults.push({ wall_ns: (fresh.wall_ns - warm.wall_ns) / taken, cpu_ns: (fresh.cpu_ns - warm.cpu_ns) / taken });
    }
  } finally {
    fs.closeSync(fd);
  }
  if (faults.length === 0) throw new HostMeasureError('no fresh buffer took a page fault: the signature cannot be measured');
  return { null_syscall_ns: lower(syscall), page_fault_ns: lower(faults) };
}

/** The signature measureSignature would give, from a full measurement (null when it took no page fault). */
export function signatureOf(m: NodeMeasurements): MachineSignature | null {
  const lower = (t: PerCall) => Math.min(t.wall_ns.median, t.cpu_ns.median > 0 ? t.cpu_ns.median : Infinity);
  if (m.faults.per_fault.wall_ns.n === 0) return null;
  return { null_syscall_ns: lower(m.minimal_syscall.gross), page_fault_ns: lower(m.faults.per_fault) };
}
