/**
 * Facts about the Linux machine l41sim runs on: identity, kernel, CPU, clock, cache
 * geometry, speculative-execution mitigations, page size and transparent huge pages.
 *
 * Every reader takes a root directory (default "/") so tests can stand a temporary tree in
 * for /proc and /sys. Anything that cannot be read is null, with a note saying what was
 * missing and what that means for a profile; nothing is guessed silently.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The host cannot be measured (not Linux, missing device files, a tool that fails). One line. */
export class HostMeasureError extends Error {
  override readonly name = 'HostMeasureError';
}

/** The first line of a measuring tool's output, for a one-line message ('' for none). */
export function firstLine(text: string | null): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}

/** One cache from /sys/devices/system/cpu/cpu0/cache/index*. */
export interface CacheInfo {
  level: number;
  /** "Data", "Instruction" or "Unified". */
  type: string;
  size_bytes: number;
  /** Associativity; null when the file is absent (some ARM kernels). */
  ways: number | null;
  line_bytes: number | null;
  sets: number | null;
  /** CPUs sharing this cache, as the kernel lists them (e.g. "0-1"). */
  shared_cpu_list: string | null;
}

export interface HostFacts {
  hostname: string;
  /** os.type(): "Linux" on Linux. */
  os_type: string;
  platform: string;
  arch: string;
  /** os.release(), e.g. "6.18.44-fc-v782". */
  kernel_release: string;
  /** os.version(): build string, e.g. "#1 SMP PREEMPT_DYNAMIC ...". */
  kernel_version: string;
  cpu_model: string | null;
  cpu_count: number;
  /** Clock estimate in Hz, or null (see clock_source / notes). */
  clock_hz: number | null;
  /** Where clock_hz came from. */
  clock_source: string | null;
  /** The kernel's timekeeping clocksource (tsc, kvm-clock, arch_sys_counter, ...). */
  clocksource: string | null;
  /** CONFIG_HZ from /proc/config.gz (the tick that samples the user/system split), if exposed. */
  config_hz: number | null;
  /** True when /proc/cpuinfo flags contain "hypervisor". */
  virtualized: boolean | null;
  /** Caches of cpu0 in index order, or null when /sys has no cache directory. */
  caches: CacheInfo[] | null;
  /** /sys/devices/system/cpu/vulnerabilities/<name> -> text, or null when absent. */
  mitigations: Record<string, string> | null;
  page_size_bytes: number | null;
  /** Selected mode of /sys/kernel/mm/transparent_hugepage/enabled: always | madvise | never. */
  transparent_hugepage: string | null;
  /** What could not be read, and what a profile should do about it. */
  notes: string[];
}

export interface ProbeOptions {
  /** Root directory standing in for "/" (tests use a temporary tree). */
  root?: string;
  /** Platform to check (default process.platform); anything but "linux" is refused. */
  platform?: string;
}

/** Throw HostMeasureError unless the platform is Linux. */
export function assertLinux(platform: string = process.platform): void {
  if (platform !== 'linux') {
    throw new HostMeasureError(
      `host measurement needs Linux (its /proc, /sys, /dev/zero and kernel path); this host is '${platform}' (${os.type()}): use a shipped profile instead`,
    );
  }
}

/** Probe the host; see HostFacts. Throws HostMeasureError when not on Linux. */
export function probeHost(opts: ProbeOptions = {}): HostFacts {
  const root = opts.root ?? '/';
  assertLinux(opts.platform ?? process.platform);
  const notes: string[] = [];

  const cpuinfo = readText(root, 'proc/cpuinfo');
  if (cpuinfo === null) notes.push('/proc/cpuinfo unreadable: CPU model and clock unknown');
  const cpu = cpuinfo === null ? null : parseCpuinfo(cpuinfo);

  const clock = probeClock(root, cpu, notes);
  const caches = probeCaches(root, notes);
  const mitigations = probeMitigations(root, notes);
  const pageSize = probePageSize(root, notes);

  const cpuModel = cpu?.model ?? null;
  if (cpuinfo !== null && cpuModel === null) notes.push('no "model name" (or ARM "Processor"/"Hardware") line in /proc/cpuinfo: CPU model unknown');

  const thpText = readText(root, 'sys/kernel/mm/transparent_hugepage/enabled');
  const thp = thpText === null ? null : (/\[(\w+)\]/.exec(thpText)?.[1] ?? null);
  if (thp === null) notes.push('transparent huge page mode unknown (/sys/kernel/mm/transparent_hugepage/enabled unreadable)');
  else if (thp === 'always') notes.push('transparent huge pages are "always": large fresh buffers may be faulted 2 MiB at a time, so per-fault costs differ from 4 KiB faults');

  const configHz = probeConfigHz(root);
  if (configHz === null) notes.push('CONFIG_HZ unknown (/proc/config.gz absent or without CONFIG_HZ)');

  return {
    hostname: os.hostname(),
    os_type: os.type(),
    platform: opts.platform ?? process.platform,
    arch: os.arch(),
    kernel_release: os.release(),
    kernel_version: os.version(),
    cpu_model: cpuModel,
    cpu_count: cpu?.count && cpu.count > 0 ? cpu.count : os.cpus().length,
    clock_hz: clock.hz,
    clock_source: clock.source,
    clocksource: readText(root, 'sys/devices/system/clocksource/clocksource0/current_clocksource')?.trim() || null,
    config_hz: configHz,
    virtualized: cpu === null ? null : cpu.hypervisor,
    caches,
    mitigations,
    page_size_bytes: pageSize,
    transparent_hugepage: thp,
    notes,
  };
}

// ---------------------------------------------------------------------------------------

function readText(root: string, rel: string): string | null {
  try {
    return fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return null;
  }
}

interface CpuinfoFacts {
  model: string | null;
  mhz: number | null;
  count: number;
  hypervisor: boolean;
}

/** Parse /proc/cpuinfo (x86 "model name"/"cpu MHz"/"flags"; ARM "Processor"/"Hardware"/"model name"). */
export function parseCpuinfo(text: string): CpuinfoFacts {
  let model: string | null = null;
  let armProcessor: string | null = null;
  let hardware: string | null = null;
  let mhz: number | null = null;
  let count = 0;
  let hypervisor = false;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (key === 'processor') {
      if (/^\d+$/.test(value)) count++;
      else armProcessor ??= value; // old ARM kernels: "Processor : ARMv7 Processor rev 2 (v7l)"
    } else if (key === 'model name' && model === null && value !== '') model = value;
    else if (key === 'hardware' && hardware === null) hardware = value;
    else if (key === 'cpu mhz' && mhz === null) {
      const v = Number.parseFloat(value);
      if (Number.isFinite(v) && v > 0) mhz = v;
    } else if ((key === 'flags' || key === 'features') && /(^|\s)hypervisor(\s|$)/.test(value)) hypervisor = true;
  }
  return { model: model ?? armProcessor ?? hardware, mhz, count, hypervisor };
}

function probeClock(root: string, cpu: CpuinfoFacts | null, notes: string[]): { hz: number | null; source: string | null } {
  if (cpu?.mhz) {
    return { hz: Math.round(cpu.mhz * 1e6), source: '/proc/cpuinfo "cpu MHz" of the first CPU (current clock; varies with frequency scaling)' };
  }
  for (const f of ['base_frequency', 'cpuinfo_max_freq', 'scaling_cur_freq']) {
    const t = readText(root, `sys/devices/system/cpu/cpu0/cpufreq/${f}`);
    const khz = t === null ? NaN : Number.parseInt(t.trim(), 10);
    if (Number.isFinite(khz) && khz > 0) return { hz: khz * 1000, source: `/sys/devices/system/cpu/cpu0/cpufreq/${f}` };
  }
  notes.push('clock rate unknown: no "cpu MHz" in /proc/cpuinfo and no cpufreq in /sys; costs stay in ns, cycles cannot be derived');
  return { hz: null, source: null };
}

/** Parse a /sys cache size: "32K", "512K", "32768K", "2M", "1024" (bytes). */
export function parseSysSize(text: string): number | null {
  const m = /^\s*(\d+)\s*([KMG]?)\s*$/i.exec(text);
  if (!m) return null;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number.parseInt(m[1]!, 10) * mult;
}

function probeCaches(root: string, notes: string[]): CacheInfo[] | null {
  const dir = path.join(root, 'sys/devices/system/cpu/cpu0/cache');
  let entries: string[];
  try {
    entries = fs.readdirSync(dir).filter((e) => /^index\d+$/.test(e));
  } catch {
    entries = [];
  }
  if (entries.length === 0) {
    notes.push('no cache geometry: /sys/devices/system/cpu/cpu0/cache/index* absent; the profile must assume cache sizes (say so in their provenance)');
    return null;
  }
  entries.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const caches: CacheInfo[] = [];
  for (const e of entries) {
    const rd = (f: string): string | null => readText(dir, path.join(e, f))?.trim() ?? null;
    const int = (f: string): number | null => {
      const t = rd(f);
      const v = t === null ? NaN : Number.parseInt(t, 10);
      return Number.isFinite(v) ? v : null;
    };
    const level = int('level');
    const type = rd('type');
    const sizeText = rd('size');
    const size = sizeText === null ? null : parseSysSize(sizeText);
    if (level === null || type === null || size === null) {
      notes.push(`cache ${e}: level/type/size unreadable or malformed; skipped`);
      continue;
    }
    const c: CacheInfo = {
      level,
      type,
      size_bytes: size,
      ways: int('ways_of_associativity'),
      line_bytes: int('coherency_line_size'),
      sets: int('number_of_sets'),
      shared_cpu_list: rd('shared_cpu_list'),
    };
    if (c.ways === null || c.line_bytes === null) notes.push(`cache L${level} ${type}: ${c.ways === null ? 'ways' : 'line size'} not exposed by /sys; the profile must assume it`);
    caches.push(c);
  }
  if (caches.length === 0) {
    notes.push('no usable cache entries under /sys/devices/system/cpu/cpu0/cache; the profile must assume cache sizes');
    return null;
  }
  return caches;
}

function probeMitigations(root: string, notes: string[]): Record<string, string> | null {
  const dir = path.join(root, 'sys/devices/system/cpu/vulnerabilities');
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    notes.push('mitigations unknown: /sys/devices/system/cpu/vulnerabilities absent');
    return null;
  }
  const out: Record<string, string> = {};
  for (const n of names) {
    const t = readText(dir, n);
    if (t !== null) out[n] = t.trim();
  }
  return out;
}

function probePageSize(root: string, notes: string[]): number | null {
  // KernelPageSize of the first mapping in /proc/self/smaps (Node has no sysconf binding).
  const smaps = readText(root, 'proc/self/smaps');
  const m = smaps === null ? null : /^KernelPageSize:\s+(\d+)\s+kB/m.exec(smaps);
  if (m) return Number.parseInt(m[1]!, 10) * 1024;
  notes.push('page size unknown (/proc/self/smaps has no KernelPageSize); assuming nothing');
  return null;
}

function probeConfigHz(root: string): number | null {
  let text: string | null = null;
  try {
    text = gunzipSync(fs.readFileSync(path.join(root, 'proc/config.gz'))).toString('utf8');
  } catch {
    const rel = readText(root, `boot/config-${os.release()}`);
    text = rel;
  }
  const m = text === null ? null : /^CONFIG_HZ=(\d+)$/m.exec(text);
  return m ? Number.parseInt(m[1]!, 10) : null;
}
