/**
 * Facts about the Linux machine l41sim runs on: identity, kernel, CPU, clock, cache
 * geometry, speculative-execution mitigations, page size and transparent huge pages.
 *
 * The readers (./procfs.ts) take a root directory (default "/") so tests can stand a
 * temporary tree in for /proc and /sys. Anything that cannot be read is null, with a note
 * saying what was missing and what that means for a profile; nothing is guessed silently.
 */
import * as os from 'node:os';
import { HostMeasureError } from './error.js';
import {
  parseCpuinfo,
  readClock,
  readClocksource,
  readConfigHz,
  readMitigations,
  readPageSize,
  readSysCaches,
  readText,
  readThp,
  type CacheInfo,
  type CpuinfoFacts,
} from './procfs.js';
import { readGetconfCaches } from './getconf.js';
import { readLscpuHypervisor } from './lscpu.js';

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
  /** Caches of cpu0 in index order (from /sys, else getconf), or null when neither reports any. */
  caches: CacheInfo[] | null;
  /** Where `caches` came from (absent in files from before getconf was read: /sys). */
  caches_source?: string | null;
  /** vendor_id, family, model, stepping and microcode from /proc/cpuinfo (absent in files from before they were read). */
  cpu_id?: CpuinfoFacts['id'];
  /** The hypervisor's vendor (lscpu), "unknown" when the CPU has the hypervisor flag but lscpu names none, "none" without the flag (absent in older files). */
  hypervisor?: string | null;
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
  /** Ask getconf and lscpu too (default true; tests of a fake root turn them off). */
  tools?: boolean;
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

  const clock = readClock(root, cpu, notes);
  const sysNotes: string[] = [];
  let caches = readSysCaches(root, sysNotes);
  let cachesSource: string | null = caches === null ? null : '/sys/devices/system/cpu/cpu0/cache';
  if (caches === null && (opts.tools ?? true)) {
    caches = readGetconfCaches();
    if (caches !== null) {
      cachesSource = 'getconf -a (the CPU\'s cpuid leaves, through glibc)';
      sysNotes.length = 0;
      notes.push('no cache directory under /sys/devices/system/cpu/cpu0/cache: cache geometry as getconf reports it (cpuid; under a hypervisor, what it lets the CPU say)');
    }
  }
  notes.push(...sysNotes);
  const mitigations = readMitigations(root, notes);
  const pageSize = readPageSize(root, notes);

  const cpuModel = cpu?.model ?? null;
  if (cpuinfo !== null && cpuModel === null) notes.push('no "model name" (or ARM "Processor"/"Hardware") line in /proc/cpuinfo: CPU model unknown');

  const thp = readThp(root);
  if (thp === null) notes.push('transparent huge page mode unknown (/sys/kernel/mm/transparent_hugepage/enabled unreadable)');
  else if (thp === 'always') notes.push('transparent huge pages are "always": large fresh buffers may be faulted 2 MiB at a time, so per-fault costs differ from 4 KiB faults');

  const configHz = readConfigHz(root);
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
    clocksource: readClocksource(root),
    config_hz: configHz,
    virtualized: cpu === null ? null : cpu.hypervisor,
    caches,
    caches_source: cachesSource,
    cpu_id: cpu?.id ?? { vendor: null, family: null, model: null, stepping: null, microcode: null },
    hypervisor: cpu === null ? null : !cpu.hypervisor ? 'none' : ((opts.tools ?? true) ? readLscpuHypervisor() : null) ?? 'unknown',
    mitigations,
    page_size_bytes: pageSize,
    transparent_hugepage: thp,
    notes,
  };
}

