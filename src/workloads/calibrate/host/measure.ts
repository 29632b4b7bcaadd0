// What `l41sim calibrate host` measures on this machine, through the host-measurement
// module (src/host): from Node, a minimal syscall, read(2)/write(2) of /dev/zero and
// /dev/null over buffer sizes and page faults inside read; with python3, munmap of a
// populated region; GNU dd's start-up and its per-block cost, with the user/system
// split; and the running kernel's text map. Everything the fit needs is in the
// HostCalibrationData it returns, which is written to a file, so a fit can be rerun
// from it without the machine.

import { childLocale, ddVersion, localeEnvironment, measureRealDd } from '../../../host/gnu-dd.js';
import { measureCacheProbe, type CacheProbe } from '../../../host/cache-probe.js';
import { detectChildRusageMethod, type ChildRusageMethod } from '../../../host/child.js';
import { readKallsyms, type KernelTextMap } from '../../../host/kallsyms.js';
import { measureMunmap, type MunmapMeasurement } from '../../../host/munmap.js';
import { FULL_SIZES, measureFromNode, type NodeMeasurements } from '../../../host/node-loops.js';
import { spreadOf, type Spread } from '../../../host/stats.js';
import { validateProfile } from '../../../costmodel/profile.js';
import { modelledTextNames } from '../text-census.js';
import { hostBaseProfile } from './base.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Read/write sweep sizes: quick covers every cache level and the knee of the last one. */
export const QUICK_SWEEP: readonly number[] = [KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
/** Blocks of the GNU dd bs=512 run that gives the per-block user and system time. */
const DD_BLOCKS = { quick: 100_000, full: 1_000_000 } as const;
/** Bytes of the populated region whose munmap is timed. */
const MUNMAP_BYTES = 10 * MiB;

export type Progress = (label: string, fraction: number) => void;

export interface DdCalibrationRuns {
  method: ChildRusageMethod;
  dd_version: string;
  /** LANG/LC_ALL the runs had (GNU dd's start-up depends on it). */
  locale: string | null;
  /** dd bs=512 count=0: start-up, exec to exit. */
  startup: { cpu_ns: Spread; minflt: Spread };
  /** dd bs=512 count=N: the copy loop's user and system time. */
  blocks: { count: number; cpu_ns: Spread; user_ns: Spread; sys_ns: Spread };
}

export interface HostCalibrationData {
  schema: 'l41sim/host-calibration@1';
  date: string;
  quick: boolean;
  node: NodeMeasurements;
  dd: DdCalibrationRuns | null;
  munmap: MunmapMeasurement | null;
  /** The kernel's text map for the functions the model names (/proc/kallsyms), or why there is none (absent in files from before it was measured). */
  kernel_text?: (KernelTextMap & { from: string }) | { skipped: string };
  /** Fallbacks taken, in words. */
  notes: string[];
  /** The locale environment (LANG, LANGUAGE, LC_*) of the measurement, which GNU dd ran in (absent in older files). */
  environment?: Record<string, string>;
  /** calibration/probes/cache-geometry.c's measurements, or why it did not run (absent in older files). */
  cache_probe?: CacheProbe | { skipped: string };
  /** Each row the fit reproduces, as measured (./rows.ts); the roles file beside the data points at them. */
  rows?: MeasuredRow[];
}

export type RowKind = 'getuid' | 'read-1b' | 'write-1b' | 'read' | 'write' | 'zero' | 'copy' | 'fault' | 'munmap' | 'dd-startup' | 'dd-startup-faults' | 'dd-block-sys' | 'dd-block-user';

/** A row of the fit as it is written with the measurements: what the model must reproduce, and how to run the same on the model. */
export interface MeasuredRow {
  id: string;
  kind: RowKind;
  measured: number;
  unit: 'ns' | 'count';
  /** Spread of the measurement (the repeats' interquartile range / 1.35, a standard deviation's estimate), where there is one. */
  sd?: number;
  /** Bytes per call (sweeps, probe points, fault buffers, the munmapped region). */
  size?: number;
  /** Node fs calls in the measured figure (each pays Node's binding). */
  binding: number;
}

/** The cache probe's run, when there was one. */
export function cacheProbeOf(data: HostCalibrationData): CacheProbe | null {
  return data.cache_probe && 'points' in data.cache_probe ? data.cache_probe : null;
}

/** How thoroughly the cache probe measures: --quick halves the sizes and the repeats. */
const CACHE_PROBE = {
  quick: { repeats: 3, maxBytes: 32 * MiB, perDoubling: 2, passUs: 500 },
  full: { repeats: 5, maxBytes: 64 * MiB, perDoubling: 4, passUs: 1000 },
} as const;

export interface MeasureHostOptions {
  quick: boolean;
  repeats?: number;
  onProgress?: Progress;
}

/** Measure everything the host fit uses. Throws HostMeasureError when the host cannot be measured (not Linux, no /dev/zero). */
export function measureForCalibration(opts: MeasureHostOptions): HostCalibrationData {
  const notes: string[] = [];
  const progress = opts.onProgress ?? (() => {});
  const node = measureFromNode({
    quick: opts.quick,
    sizes: [...(opts.quick ? QUICK_SWEEP : FULL_SIZES)],
    ...(opts.repeats !== undefined ? { repeats: opts.repeats } : {}),
    onProgress: (done, total, label) => progress(`Node: ${label}`, (0.7 * done) / total),
  });
  progress('cache probe: loads, zeroing and copying per working-set size (C)', 0.7);
  const probe = measureCacheProbe(opts.quick ? CACHE_PROBE.quick : CACHE_PROBE.full);
  if (typeof probe === 'string') notes.push(`no cache probe (${probe}): cache sizes as the CPU reports them, typical latencies, and the copy path fitted from Node's read sweep`);
  progress('munmap of a populated region (python3)', 0.78);
  let munmap: MunmapMeasurement | null = null;
  try {
    munmap = measureMunmap(MUNMAP_BYTES, opts.quick ? 3 : 7);
  } catch (e) {
    notes.push(`munmap not measured (${(e as Error).message}): page_free keeps its assumed value`);
  }
  progress('GNU dd start-up and per-block cost', 0.82);
  const dd = measureDdCalibration(opts.quick, opts.quick ? 3 : 5, notes, (f) => progress('GNU dd start-up and per-block cost', 0.82 + 0.16 * f));
  progress('kernel text map (/proc/kallsyms)', 0.98);
  const kernelText = measureKernelText(node, typeof probe === 'string' ? null : probe, notes);
  return {
    schema: 'l41sim/host-calibration@1',
    date: node.date,
    quick: opts.quick,
    node,
    dd,
    munmap,
    kernel_text: kernelText,
    notes,
    environment: localeEnvironment(),
    cache_probe: typeof probe === 'string' ? { skipped: probe } : probe,
  };
}

/** Where the running kernel has the functions the model names, and how big they are. */
function measureKernelText(node: NodeMeasurements, probe: CacheProbe | null, notes: string[]): HostCalibrationData['kernel_text'] {
  const names = modelledTextNames(validateProfile(hostBaseProfile(node.host, new Date(node.date), 'host', probe), 'host'));
  const map = readKallsyms(names);
  if (typeof map === 'string') {
    notes.push(`no kernel text map (${map}): each modelled function keeps the model's own placement and size`);
    return { skipped: map };
  }
  return { ...map, from: `/proc/kallsyms on ${node.host.hostname} (${node.host.kernel_release}), ${node.date}: offsets from _stext, sizes to the next text symbol` };
}

/** GNU dd bs=512 count=0 (start-up) and count=N (per block, with the user/system split). Null, with a note, when dd or a way to time it is missing. */
function measureDdCalibration(quick: boolean, repeats: number, notes: string[], progress: (fraction: number) => void): DdCalibrationRuns | null {
  const version = ddVersion('dd');
  if (version === null) {
    notes.push("no GNU dd on PATH: dd's start-up and per-block costs keep their assumed values");
    return null;
  }
  let method: ChildRusageMethod;
  try {
    method = detectChildRusageMethod().method;
  } catch {
    notes.push("neither perf nor python3 can time a child: dd's start-up and per-block costs keep their assumed values");
    return null;
  }
  const count = quick ? DD_BLOCKS.quick : DD_BLOCKS.full;
  const [startup, blocks] = measureRealDd(
    [
      { bs: '512', count: 0 },
      { bs: '512', count },
    ],
    repeats,
    { method, countSyscalls: false, onRun: (done, total) => progress(done / total) },
  );
  return {
    method,
    dd_version: version,
    locale: childLocale(),
    startup: { cpu_ns: spreadOf(startup!.cpu_ns_samples), minflt: spreadOf(startup!.minflt_samples) },
    blocks: { count, cpu_ns: spreadOf(blocks!.cpu_ns_samples), user_ns: spreadOf(blocks!.user_ns_samples), sys_ns: spreadOf(blocks!.sys_ns_samples) },
  };
}
