import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectChildRusageMethod } from '../src/host/child.js';
import { HostMeasureError } from '../src/host/error.js';
import { assertLinux, probeHost } from '../src/host/facts.js';
import { measureRealDd, parseGnuDdSize } from '../src/host/gnu-dd.js';
import { measureFromNode, type PerCall } from '../src/host/node-loops.js';
import { parsePerfCsv, perfRusageOf } from '../src/host/perf.js';
import { parseCpuinfo, parseSysSize } from '../src/host/procfs.js';
import { sizeLabel, spreadOf } from '../src/host/stats.js';

const onLinux = process.platform === 'linux';
const tmpRoots: string[] = [];
afterAll(() => {
  for (const d of tmpRoots) fs.rmSync(d, { recursive: true, force: true });
});

/** Build a fake root directory from a map of relative path -> content. */
function fakeRoot(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'l41sim-fakeroot-'));
  tmpRoots.push(root);
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return root;
}

const X86_CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Test CPU @ 2.60GHz
cpu MHz\t\t: 2600.000
flags\t\t: fpu vme sse2 hypervisor avx512f
processor\t: 1
model name\t: Intel(R) Xeon(R) Test CPU @ 2.60GHz
cpu MHz\t\t: 2600.000
flags\t\t: fpu vme sse2 hypervisor avx512f
`;

const cache = (idx: number, level: number, type: string, size: string, ways: string | null, line = '64', sets = '64'): Record<string, string> => {
  const base = `sys/devices/system/cpu/cpu0/cache/index${idx}`;
  const out: Record<string, string> = {
    [`${base}/level`]: `${level}\n`,
    [`${base}/type`]: `${type}\n`,
    [`${base}/size`]: `${size}\n`,
    [`${base}/coherency_line_size`]: `${line}\n`,
    [`${base}/number_of_sets`]: `${sets}\n`,
    [`${base}/shared_cpu_list`]: '0\n',
  };
  if (ways !== null) out[`${base}/ways_of_associativity`] = `${ways}\n`;
  return out;
};

describe('probe on a fake /proc and /sys', () => {
  it('reads CPU, clock, caches, mitigations, page size and THP', () => {
    const root = fakeRoot({
      'proc/cpuinfo': X86_CPUINFO,
      ...cache(0, 1, 'Data', '48K', '12'),
      ...cache(1, 1, 'Instruction', '32K', '8'),
      ...cache(2, 2, 'Unified', '2048K', '16', '64', '2048'),
      ...cache(10, 3, 'Unified', '480M', '15'), // index10 sorts after index2
      'sys/devices/system/cpu/vulnerabilities/meltdown': 'Not affected\n',
      'sys/devices/system/cpu/vulnerabilities/spectre_v2': 'Mitigation: Retpolines; STIBP: disabled\n',
      'sys/devices/system/clocksource/clocksource0/current_clocksource': 'tsc\n',
      'sys/kernel/mm/transparent_hugepage/enabled': 'always [madvise] never\n',
      'proc/self/smaps': '55d0-55e0 r--p 00000000 08:01 1 /bin/x\nSize:                  4 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n',
    });
    const h = probeHost({ root, platform: 'linux', tools: false });
    expect(h.cpu_model).toBe('Intel(R) Xeon(R) Test CPU @ 2.60GHz');
    expect(h.cpu_count).toBe(2);
    expect(h.clock_hz).toBe(2.6e9);
    expect(h.clock_source).toMatch(/cpu MHz/);
    expect(h.virtualized).toBe(true);
    expect(h.clocksource).toBe('tsc');
    expect(h.caches).toEqual([
      { level: 1, type: 'Data', size_bytes: 48 * 1024, ways: 12, line_bytes: 64, sets: 64, shared_cpu_list: '0' },
      { level: 1, type: 'Instruction', size_bytes: 32 * 1024, ways: 8, line_bytes: 64, sets: 64, shared_cpu_list: '0' },
      { level: 2, type: 'Unified', size_bytes: 2 * 1024 * 1024, ways: 16, line_bytes: 64, sets: 2048, shared_cpu_list: '0' },
      { level: 3, type: 'Unified', size_bytes: 480 * 1024 * 1024, ways: 15, line_bytes: 64, sets: 64, shared_cpu_list: '0' },
    ]);
    expect(h.mitigations).toEqual({ meltdown: 'Not affected', spectre_v2: 'Mitigation: Retpolines; STIBP: disabled' });
    expect(h.page_size_bytes).toBe(4096);
    expect(h.transparent_hugepage).toBe('madvise');
    expect(h.kernel_release).toBe(os.release());
    expect(h.notes.filter((n) => !/CONFIG_HZ/.test(n))).toEqual([]);
  });

  it('gives null plus a note for whatever is missing', () => {
    const root = fakeRoot({
      'proc/cpuinfo': 'processor\t: 0\nProcessor\t: ARMv7 Processor rev 2 (v7l)\nFeatures\t: half thumb neon\nHardware\t: Generic AM33XX\n',
      'sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq': '1000000\n',
      ...cache(0, 1, 'Data', '32K', null),
    });
    const h = probeHost({ root, platform: 'linux', tools: false });
    expect(h.cpu_model).toBe('ARMv7 Processor rev 2 (v7l)');
    expect(h.clock_hz).toBe(1e9);
    expect(h.clock_source).toMatch(/cpuinfo_max_freq/);
    expect(h.virtualized).toBe(false);
    expect(h.caches).toEqual([{ level: 1, type: 'Data', size_bytes: 32768, ways: null, line_bytes: 64, sets: 64, shared_cpu_list: '0' }]);
    expect(h.mitigations).toBeNull();
    expect(h.page_size_bytes).toBeNull();
    expect(h.transparent_hugepage).toBeNull();
    const notes = h.notes.join('\n');
    expect(notes).toMatch(/ways not exposed/);
    expect(notes).toMatch(/mitigations unknown/);
    expect(notes).toMatch(/page size unknown/);

    const bare = probeHost({ root: fakeRoot({ 'proc/cpuinfo': 'processor\t: 0\n' }), platform: 'linux', tools: false });
    expect(bare.caches).toBeNull();
    expect(bare.clock_hz).toBeNull();
    expect(bare.cpu_model).toBeNull();
    expect(bare.notes.join('\n')).toMatch(/no cache geometry: \/sys\/devices\/system\/cpu\/cpu0\/cache\/index\* absent/);
    expect(bare.notes.join('\n')).toMatch(/clock rate unknown/);
  });

  it('refuses anything but Linux with a one-line HostMeasureError', () => {
    expect(() => probeHost({ platform: 'darwin' })).toThrow(HostMeasureError);
    expect(() => assertLinux('freebsd')).toThrow(/host measurement needs Linux.*'freebsd'/);
    try {
      assertLinux('win32');
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('parses sizes and cpuinfo', () => {
    expect(parseSysSize('32K')).toBe(32768);
    expect(parseSysSize('32768K')).toBe(32 << 20);
    expect(parseSysSize('2M')).toBe(2 << 20);
    expect(parseSysSize('bogus')).toBeNull();
    expect(parseCpuinfo(X86_CPUINFO).mhz).toBe(2600);
  });

  it.runIf(onLinux)('probes this host', () => {
    const h = probeHost();
    expect(h.hostname).toBe(os.hostname());
    expect(h.os_type).toBe('Linux');
    expect(h.cpu_count).toBeGreaterThan(0);
  });
});

function positive(pc: PerCall | null): void {
  expect(pc).not.toBeNull();
  for (const s of [pc!.wall_ns, pc!.cpu_ns]) {
    expect(Number.isFinite(s.median)).toBe(true);
    expect(s.median).toBeGreaterThan(0);
    expect(s.min).toBeLessThanOrEqual(s.median);
    expect(s.max).toBeGreaterThanOrEqual(s.median);
    expect(s.iqr).toBeGreaterThanOrEqual(0);
  }
}

describe('measureFromNode (tiny quick run)', () => {
  it.runIf(onLinux)('measures syscalls, read/write sweeps and page faults with sane numbers', () => {
    const progress: [number, number, string][] = [];
    const sizes = [4096, 65536, 1 << 20];
    const m = measureFromNode({
      quick: true,
      sizes,
      repeats: 3,
      targetRepeatMs: 5,
      faultSizes: [4 << 20],
      faultBytesPerRepeat: 8 << 20,
      onProgress: (d, t, l) => progress.push([d, t, l]),
    });
    expect(m.schema).toBe('l41sim/host-measurements@1');
    expect(m.node_version).toBe(process.version);
    expect(Number.isNaN(Date.parse(m.date))).toBe(false);
    expect(m.host.os_type).toBe('Linux');
    expect(m.method.repeats).toBe(3);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);

    positive(m.control.gross);
    expect(m.control.net).toBeNull();
    positive(m.binding_control.gross);
    for (const x of [m.minimal_syscall, m.read_1b, m.write_1b]) {
      positive(x.gross);
      positive(x.net);
      expect(x.gross.wall_ns.samples).toHaveLength(3);
    }
    // a syscall costs more than the loop that makes it
    expect(m.read_1b.gross.wall_ns.median).toBeGreaterThan(m.control.gross.wall_ns.median);

    expect(m.read_sweep.map((p) => p.size_bytes)).toEqual(sizes);
    expect(m.write_sweep.map((p) => p.size_bytes)).toEqual(sizes);
    for (const p of [...m.read_sweep, ...m.write_sweep]) {
      positive(p.net);
      expect(p.calls_per_repeat).toBeGreaterThan(0);
    }
    // clearing 1 MiB costs far more than clearing 4 KiB (the quickest repeats: another process can only slow one down)
    expect(m.read_sweep[2]!.gross.wall_ns.min).toBeGreaterThan(4 * m.read_sweep[0]!.gross.wall_ns.min);

    const fp = m.faults.points[0]!;
    expect(fp.size_bytes).toBe(4 << 20);
    expect(fp.buffers_per_repeat).toBe(2);
    expect(fp.expected_faults_per_repeat).toBe(2048);
    expect(fp.faults_per_repeat.median).toBeGreaterThan(0);
    expect(m.faults.fault_fraction).toBeGreaterThan(0);
    positive(fp.per_fault);
    positive(m.faults.per_fault);
    expect(fp.fresh_read.wall_ns.median).toBeGreaterThan(fp.warm_read.wall_ns.median);

    expect(progress.length).toBeGreaterThan(0);
    const last = progress[progress.length - 1]!;
    expect(last[0]).toBe(last[1]);
    expect(progress.every(([d, t], i) => d === i + 1 && t === last[1])).toBe(true);
    expect(m.duration_ms).toBeLessThan(10_000);
  });

  it('spread and labels', () => {
    const s = spreadOf([5, 1, 3, 2, 4]);
    expect(s).toMatchObject({ median: 3, min: 1, max: 5, n: 5 });
    expect(s.iqr).toBeCloseTo(s.q3 - s.q1, 12);
    expect(sizeLabel(1024)).toBe('1 KiB');
    expect(sizeLabel(16 << 20)).toBe('16 MiB');
    expect(sizeLabel(1000)).toBe('1000 B');
  });
});

describe('real dd', () => {
  it('parses GNU dd sizes and refuses others', () => {
    expect(parseGnuDdSize('4k')).toBe(4096);
    expect(parseGnuDdSize('64K')).toBe(65536);
    expect(parseGnuDdSize('1M')).toBe(1 << 20);
    expect(parseGnuDdSize('10M')).toBe(10 << 20);
    expect(parseGnuDdSize('1MB')).toBe(1e6);
    expect(parseGnuDdSize('512')).toBe(512);
    expect(() => parseGnuDdSize('10m')).toThrow(/bs: '10m' is not a GNU dd block size/);
    expect(() => parseGnuDdSize('0')).toThrow(HostMeasureError);
  });

  it('parses perf stat CSV with the ns running time', () => {
    const text = '# started on Sat\n\n9.52,msec,task-clock,9518727,100.00,0.765,CPUs utilized\n2639,,minor-faults,9518727,100.00,277.243,K/sec\n';
    expect(parsePerfCsv(text)).toHaveLength(2);
    expect(perfRusageOf(text)).toEqual({ cpu_ns: 9518727, minflt: 2639, user_ns: 0, sys_ns: 0 });
    // running time that disagrees with the value is not trusted
    expect(perfRusageOf('1.00,msec,task-clock,5000000,100.00,,\n7,,minor-faults,5000000,100.00,,\n').cpu_ns).toBe(1e6);
    expect(() => perfRusageOf('<not supported>,,task-clock,0,100.00,,\n')).toThrow(/no task-clock/);
  });

  let method: string | null = null;
  try {
    method = onLinux ? detectChildRusageMethod().method : null;
  } catch {
    method = null;
  }
  it.runIf(method !== null)('measures a real dd: CPU time and faults grow with the buffer', () => {
    const runs = measureRealDd(
      [
        { bs: '4k', count: 16 },
        { bs: '4M', count: 1 },
        { bs: '4M', count: 0 },
      ],
      2,
    );
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      expect(r.method).toBe(method);
      expect(r.cpu_ns.median).toBeGreaterThan(0);
      expect(r.cpu_ns.min).toBeLessThanOrEqual(r.cpu_ns.median);
      expect(r.cpu_ns_samples).toHaveLength(2);
      expect(r.minflt).toBeGreaterThan(0);
    }
    expect(runs[1]!.bs_bytes).toBe(4 << 20);
    // a 4 MiB buffer read once takes ~1024 more faults than dd's start-up alone
    expect(runs[1]!.minflt - runs[2]!.minflt).toBeGreaterThan(900);
    if (method === 'perf-stat' && runs[0]!.syscalls !== undefined) {
      expect(runs[0]!.syscalls - runs[2]!.syscalls!).toBe(2 * 16);
    }
  });
});

describe('the host-measurement module', () => {
  it('is used by workloads and cli only: no kernel or cost-model module imports src/host', () => {
    const src = path.resolve(__dirname, '..', 'src');
    const offenders: string[] = [];
    for (const layer of ['kernel', 'costmodel', 'events']) {
      for (const f of fs.readdirSync(path.join(src, layer), { recursive: true }) as string[]) {
        if (!f.endsWith('.ts')) continue;
        const text = fs.readFileSync(path.join(src, layer, f), 'utf8');
        if (/from '(\.\.\/)+host\//.test(text)) offenders.push(`${layer}/${f}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
