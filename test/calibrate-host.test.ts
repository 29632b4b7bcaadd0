// `l41sim calibrate host`: the CLI end to end on this machine (--quick, into a
// temporary path, then --check against it), and the pieces that do not need a
// machine: the base profile's fallbacks, the mitigation estimate, the effective
// last-level cache.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COSTS } from '../src/costmodel/costs.js';
import { findCompiler } from '../src/host/cc.js';
import { measureColdWrite } from '../src/host/cold-write.js';
import type { HostFacts } from '../src/host/facts.js';
import { validateProfile } from '../src/costmodel/profile.js';
import { hostBaseProfile, mitigationCycles } from '../src/workloads/calibrate/host/base.js';
import { fitHostProfile } from '../src/workloads/calibrate/host/fit.js';
import { cacheGeometry, effectiveLlc, latencyLevels } from '../src/workloads/calibrate/host/geometry.js';
import { measureCacheProbe } from '../src/host/cache-probe.js';
import { loadDeclaredRows } from '../src/costmodel/calibration/roles.js';
import { probeHost } from '../src/host/facts.js';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'l41sim.js');
const onLinux = process.platform === 'linux';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'l41sim-host-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], timeout = 120_000) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout });
}

const FACTS: HostFacts = {
  hostname: 'h',
  os_type: 'Linux',
  platform: 'linux',
  arch: 'x64',
  kernel_release: '6.1.0',
  kernel_version: '#1',
  cpu_model: null,
  cpu_count: 4,
  clock_hz: null,
  clock_source: null,
  clocksource: null,
  config_hz: null,
  virtualized: false,
  caches: null,
  mitigations: null,
  page_size_bytes: null,
  transparent_hugepage: null,
  notes: [],
};

describe('calibrate host (on this machine)', () => {
  const out = path.join(tmp, 'host-test.json');

  it.skipIf(!onLinux)('--quick writes a profile that validates, with provenance on every parameter', () => {
    const r = cli(['calibrate', 'host', '--quick', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const raw = JSON.parse(fs.readFileSync(out, 'utf8'));
    const p = validateProfile(raw, 'host-test');
    expect(p.kernel).toBe('linux');
    expect(p.userland).toMatchObject({ dd: 'gnu', allocator: 'glibc', junk_fill: false });
    expect(p.machine.isa).toBe('x86_64');
    expect(p.description).toContain(os.release());
    expect(p.description).toMatch(/Mitigations:/);
    // Fitted costs say from what, with a residual; caches come from /sys (or say they are assumed).
    expect(p.costs.syscall_entry.source).toBe('fitted');
    expect(p.costs.syscall_entry.from).toMatch(/getuid/);
    expect(p.costs.syscall_entry.residual).toBeTypeOf('number');
    for (const c of p.machine.caches) expect(['measured', 'assumed']).toContain(c.size_bytes.source);
    for (const [name, param] of Object.entries(p.costs)) {
      expect(param.unit, name).toBe(COSTS[name as keyof typeof COSTS].unit);
      expect(param.from ?? param.note, name).toBeTruthy();
    }
    // It knows its machine: --profile host would pick it here.
    expect(p.fingerprint!.kernel.release).toBe(os.release());
    expect(p.userland.environment).toBeDefined();
    // The measurements, the roles declared for their rows, and the fit reports are written next to it.
    const dataPath = path.join(tmp, 'data', 'host-test-measurements.json');
    const declared = loadDeclaredRows(dataPath);
    expect(declared.data.schema).toBe('l41sim/host-calibration@1');
    expect(declared.rows.some((row) => row.role === 'validate')).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(tmp, 'reports', 'host-test-fit.json'), 'utf8'));
    expect(report.rows.every((row: { cv_error: unknown; cv_note?: string }) => row.cv_error !== null || typeof row.cv_note === 'string')).toBe(true);
    expect(fs.readFileSync(path.join(tmp, 'reports', 'host-test-fit.md'), 'utf8')).toMatch(/Held-out read sizes: median \|CV error\|/);
    expect(r.stdout).toContain(`wrote ${out}`);
  });

  it.skipIf(!onLinux)('--check runs the real dd cases and the model on that profile', () => {
    if (!fs.existsSync(out)) return;
    const r = cli(['calibrate', 'host', '--check', '--quick', '--repeats', '2', '--out', out, '--json']);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.rows.map((x: { case: string }) => x.case)).toEqual(['bs=4k count=2560', 'bs=64k count=160', 'bs=1M count=10', 'bs=10M count=1', 'bs=10M count=0']);
    for (const row of rep.rows) {
      expect(row.modelled_cpu_ns).toBeGreaterThan(0);
      expect(row.measured_faults).toBeGreaterThan(0);
    }
    // The modelled syscall counts are what perf's sys_enter counts (exit_group in, execve out).
    expect(rep.rows.map((x: { modelled_syscalls: number }) => x.modelled_syscalls)).toEqual([5245, 445, 146, 128, 125]);
    // Agreement on this machine, within a band a busy machine cannot break: each case's
    // total CPU time (the median of the repeats) within a factor of two, and so its copy
    // part where that is most of the run. Under load the same dd varies by 10-30% from
    // minute to minute (calibration/REPORT.md), so a fit and a check minutes apart can
    // differ by a third; a model without the machine's page-fault cost (issue 13: 9 ms
    // modelled, 34 ms real) is far outside it. A copy part that is a small share of its
    // run (64 KiB x 160 is a sixth) is the difference of two noisy figures: with two
    // repeats, only the goals' own measurement (REPORT.md) says how close it is.
    for (const row of rep.rows) {
      expect(Math.abs(Math.log(row.modelled_cpu_ns / row.measured_cpu_ns.median)), row.case).toBeLessThan(Math.log(2));
      if (row.copy && row.copy.measured > row.measured_cpu_ns.median / 2) expect(Math.abs(Math.log(row.copy.modelled / row.copy.measured)), `${row.case} copy part`).toBeLessThan(Math.log(2));
    }
    // Faults are counts, not times: within 10%, unless transparent huge pages may fault a
    // big buffer 2 MiB at a time (the model has no THP).
    if (probeHost({ tools: false }).transparent_hugepage !== 'always') for (const row of rep.rows) expect(Math.abs(row.fault_error), row.case).toBeLessThan(0.1);
    // The cold-write probe: measured and modelled after a small and a big copy; skipped only for want of a compiler.
    if (findCompiler() === null) expect(rep.cold_write).toEqual({ skipped: 'no C compiler (cc, gcc or clang) on PATH' });
    else {
      expect(rep.cold_write.skipped).toBeUndefined();
      const [small, big] = rep.cold_write as { copy_bytes: number; measured_ns: number; modelled_ns: number }[];
      expect([small!.copy_bytes, big!.copy_bytes >= 64 << 20]).toEqual([64 << 10, true]);
      expect(big!.measured_ns).toBeGreaterThan(small!.measured_ns);
      expect(big!.modelled_ns).toBeGreaterThan(small!.modelled_ns);
    }
  });

  it('fitHostProfile puts the measured kernel text map into the profile, with its assumed hot fraction', () => {
    const { data, rows } = loadDeclaredRows(path.join(ROOT, 'calibration', 'data', 'host-vm-measurements.json'));
    const { profile: raw } = fitHostProfile({ data, rows }, { name: 'host-vm' });
    expect(raw.kernel_text!.functions).toEqual(data.kernel_text.functions);
    expect(raw.kernel_text!.from).toBe(data.kernel_text.from);
    expect(raw.kernel_text!.hot_fraction).toMatchObject({ value: 0.5, unit: 'ratio', source: 'assumed' });
    // Without a map (an unprivileged run, or a file from before maps), none.
    expect(fitHostProfile({ data: { ...data, kernel_text: { skipped: 'hidden' } }, rows }, { name: 'host-vm' }).profile.kernel_text).toBeUndefined();
  });

  // When a model change moves these fits, regenerate each shipped host profile from its data:
  //   l41sim calibrate host --from calibration/data/NAME-measurements.json --out calibration/NAME.json
  const shippedHost = fs
    .readdirSync(path.join(ROOT, 'calibration'))
    .map((f) => f.replace(/\.json$/, ''))
    .filter((stem) => fs.existsSync(path.join(ROOT, 'calibration', 'data', `${stem}-measurements.json`)));
  it.each(shippedHost)('--from refits the recorded measurements of %s without the machine, giving the shipped profile byte for byte', (stem) => {
    const dir = path.join(tmp, `refit-${stem}`);
    const out = path.join(dir, `${stem}.json`);
    fs.mkdirSync(dir);
    const r = cli(['calibrate', 'host', '--from', path.join(ROOT, 'calibration', 'data', `${stem}-measurements.json`), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'calibration', `${stem}.json`), 'utf8'));
    const refit = JSON.parse(fs.readFileSync(path.join(dir, 'reports', `${stem}-fit.json`), 'utf8'));
    const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'calibration', 'reports', `${stem}-fit.json`), 'utf8'));
    const unCommanded = (j: { host: object }) => ({ ...j, command: '', host: { ...j.host, command: '' } });
    expect(unCommanded(refit)).toEqual(unCommanded(shipped));
    // The recorded measurements are the input, not rewritten.
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('--from refuses a file that is not host measurements, and --check with it', () => {
    const bad = path.join(tmp, 'not-measurements.json');
    fs.writeFileSync(bad, '{"schema":"other"}');
    const r = cli(['calibrate', 'host', '--from', bad, '--out', path.join(tmp, 'x.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^l41sim: --from: cannot read .*not-measurements\.json or not-measurements\.roles\.json \(.*\); expected a measurements file written by calibrate host, with its roles file/);
    expect(cli(['calibrate', 'host', '--check', '--from', bad]).stderr).toMatch(/--from: cannot be used with --check/);
  });

  it('the cold-write probe is skipped, with the reason, when there is no C compiler', () => {
    const saved = process.env.PATH;
    process.env.PATH = tmp; // an empty directory: no cc, gcc or clang
    try {
      expect(measureColdWrite([64 << 10], 1)).toBe('no C compiler (cc, gcc or clang) on PATH');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('--check without a profile says to calibrate first (exit 2)', () => {
    const r = cli(['calibrate', 'host', '--check', '--out', path.join(tmp, 'absent.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^l41sim: --out: no host profile at .*absent\.json; expected a profile written by 'l41sim calibrate host'/);
  });

  it('refuses a bad --repeats and an --out that is not .json', () => {
    expect(cli(['calibrate', 'host', '--repeats', 'x']).stderr).toMatch(/--repeats: 'x' is not a number of repeats/);
    expect(cli(['calibrate', 'host', '--out', path.join(tmp, 'p.txt')]).stderr).toMatch(/--out: .* does not end in \.json/);
  });
});

describe('host profile pieces', () => {
  it('the base profile validates without /sys caches, clock or mitigations, and says what it assumed', () => {
    const raw = hostBaseProfile(FACTS);
    const p = validateProfile(raw, 'h');
    expect(p.machine.caches.map((c) => c.size_bytes.source)).toEqual(['assumed', 'assumed', 'assumed']);
    expect(p.machine.clock_hz.source).toBe('assumed');
    expect(raw.limitations.join(' ')).toMatch(/no cache geometry/);
    expect(p.costs.mitigation_entry.note).toMatch(/mitigations unknown/);
  });

  it('estimates mitigation costs from the sysfs text', () => {
    const none = mitigationCycles({ meltdown: 'Not affected', spectre_v2: 'Mitigation: Enhanced / Automatic IBRS' });
    const pti = mitigationCycles({ meltdown: 'Mitigation: PTI', mds: 'Mitigation: Clear CPU buffers; SMT vulnerable', spectre_v2: 'Mitigation: IBRS' });
    expect(pti.entry).toBeGreaterThan(none.entry + 200);
    expect(pti.exit).toBeGreaterThan(none.exit + 400);
    expect(pti.note).toMatch(/PTI.*IBRS.*VERW/);
  });

  it('finds the last-level cache one core sees from the read sweep knee', () => {
    const MiB = 1 << 20;
    const sweep = [1, 2, 4, 8, 16].map((m) => ({ size_bytes: m * MiB, ns: m * MiB * (m <= 8 ? 0.035 : 0.12) }));
    expect(effectiveLlc(sweep, 32 * MiB, MiB / 2)).toMatchObject({ effective_bytes: 8 * MiB });
    // No knee below what /sys says: keep /sys.
    expect(effectiveLlc(sweep.map((p) => ({ ...p, ns: p.size_bytes * 0.035 })), 32 * MiB, MiB / 2)).toBeNull();
    expect(effectiveLlc(sweep, 8 * MiB, MiB / 2)).toBeNull();
  });
});

describe('cache geometry from the probe', () => {
  // A latency curve like the second VM's (calibration/REPORT.md): 1.2 ns to 48 KiB, 2.7 ns to
  // 1 MiB, 7 ns to 8 MiB, then memory; four sizes a doubling, with a neighbour's noise in memory.
  const sizes = Array.from({ length: 57 }, (_, i) => Math.round((4096 * 2 ** (i / 4)) / 64) * 64);
  const curve = sizes.map((bytes, i) => ({ bytes, ns: bytes <= 44 << 10 ? 1.2 : bytes <= 900 << 10 ? 2.7 : bytes <= 7 << 20 ? 7 : 60 + 120 * (i % 3) }));
  const point = (p: { bytes: number; ns: number }) => ({ bytes: p.bytes, load_ns: [p.ns, p.ns] as [number, number], zero_ns: [1, 1] as [number, number], copy_ns: [1, 1] as [number, number] });
  const probe = { compiler: 'cc', line_bytes: 64, page_bytes: 4096, repeats: 3, pass_us: 1000, points: curve.map(point) };
  const getconf = [
    { level: 1, type: 'Data', size_bytes: 48 << 10, ways: 12, line_bytes: 64, sets: 64, shared_cpu_list: null },
    { level: 2, type: 'Unified', size_bytes: 1 << 20, ways: 8, line_bytes: 64, sets: 2048, shared_cpu_list: null },
    { level: 3, type: 'Unified', size_bytes: 532676608, ways: null, line_bytes: 64, sets: null, shared_cpu_list: null },
  ];

  it('finds each level on its plateau, and memory however noisy', () => {
    const levels = latencyLevels(curve);
    expect(levels.caches.map((c) => c.ns)).toEqual([1.2, 2.7, 7]);
    levels.caches.forEach((c, i) => {
      const ratio = c.capacity! / [48 << 10, 1 << 20, 8 << 20][i]!;
      expect(ratio).toBeGreaterThan(0.75);
      expect(ratio).toBeLessThan(1.3);
    });
    expect(levels.memory!.ns).toBeGreaterThan(25);
  });

  it('keeps the sizes the CPU reports where the probe agrees, takes the knee where it does not, and measures the latencies', () => {
    const g = cacheGeometry(getconf, 'getconf -a', probe, 2e9);
    expect(g.caches.map((c) => c.size_bytes.value)).toEqual([48 << 10, 1 << 20, 8 << 20]);
    expect(g.caches[0]!.size_bytes.from).toMatch(/^getconf -a; the cache probe's latency steps up at/);
    expect(g.caches[2]!.size_bytes.note).toMatch(/getconf -a reports 508 MiB; one core sees/);
    expect(g.caches[2]!.ways).toMatchObject({ value: 16, source: 'assumed' });
    expect(g.caches.map((c) => c.hit_cycles.value)).toEqual([2.4, 5.4, 14]);
    expect(g.memoryLatency).toMatchObject({ source: 'measured', unit: 'ns' });
  });

  it('without the probe, keeps what the CPU reports, with typical latencies, and says so', () => {
    const g = cacheGeometry(getconf, 'getconf -a', null, 2e9);
    expect(g.caches.map((c) => [c.size_bytes.value, c.size_bytes.source, c.hit_cycles.source])).toEqual([
      [48 << 10, 'measured', 'assumed'],
      [1 << 20, 'measured', 'assumed'],
      [8 << 20, 'assumed', 'assumed'], // 508 MiB with no associativity is not believed
    ]);
    expect(g.memoryLatency).toBeNull();
    expect(g.notes.join(' ')).toMatch(/no cache probe/);
  });

  it('the probe is skipped, with the reason, when there is no C compiler', () => {
    const saved = process.env.PATH;
    process.env.PATH = tmp;
    try {
      expect(measureCacheProbe({ repeats: 1, maxBytes: 1 << 16, perDoubling: 1, passUs: 10 })).toBe('no C compiler (cc, gcc or clang) on PATH');
    } finally {
      process.env.PATH = saved;
    }
  });
});
