// Readers of /proc and /sys: the CPU as /proc/cpuinfo lists it, cpu0's caches, the
// speculative-execution mitigations, the page size, CONFIG_HZ, the transparent huge
// page mode and the clock. Every reader takes a root directory standing in for "/"
// (tests use a temporary tree); anything that cannot be read is null, and the reader
// adds a note saying what was missing and what that means for a profile.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

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

/** A file under `root` as text, or null when it cannot be read. */
export function readText(root: string, rel: string): string | null {
  try {
    return fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return null;
  }
}

export interface CpuinfoFacts {
  model: string | null;
  mhz: number | null;
  count: number;
  hypervisor: boolean;
  /** vendor_id, cpu family, model, stepping and microcode of the first CPU (x86; null where absent). */
  id: { vendor: string | null; family: number | null; model: number | null; stepping: number | null; microcode: string | null };
}

/** Parse /proc/cpuinfo (x86 "model name"/"cpu MHz"/"flags"; ARM "Processor"/"Hardware"/"model name"). */
export function parseCpuinfo(text: string): CpuinfoFacts {
  let model: string | null = null;
  let armProcessor: string | null = null;
  let hardware: string | null = null;
  let mhz: number | null = null;
  let count = 0;
  let hypervisor = false;
  const id: CpuinfoFacts['id'] = { vendor: null, family: null, model: null, stepping: null, microcode: null };
  const int = (v: string): number | null => (/^\d+$/.test(v) ? Number(v) : null);
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
    else if (count <= 1) {
      // The first CPU's identity (every CPU of a machine reports the same).
      if (key === 'vendor_id') id.vendor ??= value || null;
      else if (key === 'cpu family') id.family ??= int(value);
      else if (key === 'model') id.model ??= int(value);
      else if (key === 'stepping') id.stepping ??= int(value);
      else if (key === 'microcode') id.microcode ??= value || null;
    }
  }
  return { model: model ?? armProcessor ?? hardware, mhz, count, hypervisor, id };
}

/** The CPU clock: /proc/cpuinfo's "cpu MHz", else cpufreq's; null (with a note) when neither says. */
export function readClock(root: string, cpu: CpuinfoFacts | null, notes: string[]): { hz: number | null; source: string | null } {
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

/** cpu0's caches from /sys/devices/system/cpu/cpu0/cache/index*, in index order; null (with a note) when there are none. */
export function readSysCaches(root: string, notes: string[]): CacheInfo[] | null {
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

/** /sys/devices/system/cpu/vulnerabilities/<name> -> text; null (with a note) when absent. */
export function readMitigations(root: string, notes: string[]): Record<string, string> | null {
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

/** The page size from /proc/self/smaps; null (with a note) when it does not say. */
export function readPageSize(root: string, notes: string[]): number | null {
  // KernelPageSize of the first mapping in /proc/self/smaps (Node has no sysconf binding).
  const smaps = readText(root, 'proc/self/smaps');
  const m = smaps === null ? null : /^KernelPageSize:\s+(\d+)\s+kB/m.exec(smaps);
  if (m) return Number.parseInt(m[1]!, 10) * 1024;
  notes.push('page size unknown (/proc/self/smaps has no KernelPageSize); assuming nothing');
  return null;
}

/** CONFIG_HZ from /proc/config.gz or /boot/config-<release>; null when neither has it. */
export function readConfigHz(root: string): number | null {
  let text: string | null = null;
  try {
    text = gunzipSync(fs.readFileSync(path.join(root, 'proc/config.gz'))).toString('utf8');
  } catch {
    text = readText(root, `boot/config-${os.release()}`);
  }
  const m = text === null ? null : /^CONFIG_HZ=(\d+)$/m.exec(text);
  return m ? Number.parseInt(m[1]!, 10) : null;
}

/** The selected mode of /sys/kernel/mm/transparent_hugepage/enabled (always | madvise | never), or null. */
export function readThp(root: string): string | null {
  const text = readText(root, 'sys/kernel/mm/transparent_hugepage/enabled');
  return text === null ? null : (/\[(\w+)\]/.exec(text)?.[1] ?? null);
}

/** The kernel's timekeeping clocksource (tsc, kvm-clock, arch_sys_counter, ...), or null. */
export function readClocksource(root: string): string | null {
  return readText(root, 'sys/devices/system/clocksource/clocksource0/current_clocksource')?.trim() || null;
}
