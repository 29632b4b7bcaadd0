// `--profile host`: a host profile is used as "this machine" only where its machine
// fingerprint matches; elsewhere it is refused with one line naming what differs, or
// used with --allow-stale-host and a warning. The comparison itself, the name a
// profile gets, and the readers behind the fingerprint (cpuinfo, getconf, lscpu).
// The CLI cases run in a copy of the package whose profiles the test writes, so they
// do not depend on which machine runs them.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDifferences, fingerprintDifferences, hostFingerprint, profileNameFor, SIGNATURE_FACTOR, type MachineFingerprint } from '../src/costmodel/fingerprint.js';
import { validate } from '../src/schema.js';
import { validateProfile } from '../src/costmodel/profile.js';
import { readFingerprint } from '../src/host/fingerprint.js';
import { parseGetconfCaches } from '../src/host/getconf.js';
import { parseLscpuHypervisor } from '../src/host/lscpu.js';
import { parseCpuinfo } from '../src/host/procfs.js';

const ROOT = join(__dirname, '..');
const onLinux = process.platform === 'linux';

const FP: MachineFingerprint = {
  machine: 'vm: AMD EPYC family 26 model 2 stepping 1, 2 CPUs, virtualised; Linux 6.18.44-fc-v1252',
  hostname: 'vm',
  cpu: { vendor: 'AuthenticAMD', family: 26, model: 2, stepping: 1, name: 'AMD EPYC' },
  cpus: 2,
  caches: 'L1d 48K 12-way, L1i 32K, L2 1M 8-way, L3 508M',
  kernel: { release: '6.18.44-fc-v1252', version: '#1 SMP PREEMPT_DYNAMIC @0' },
  mitigations: { meltdown: 'Mitigation: PTI', retbleed: 'Not affected' },
  hypervisor: 'unknown',
  page_bytes: 4096,
  hz: 250,
  signature: { null_syscall_ns: 1300, page_fault_ns: 15000 },
};

describe('machine fingerprints', () => {
  it('match themselves, and name every identity field that differs, recorded ones first', () => {
    expect(fingerprintDifferences(FP, FP)).toEqual([]);
    const other: MachineFingerprint = { ...FP, kernel: { ...FP.kernel, release: '6.18.44-fc-v782' }, cpu: { name: FP.cpu.name, family: 26, model: 2, stepping: 1 }, mitigations: { ...FP.mitigations, meltdown: 'Not affected' } };
    const d = fingerprintDifferences(FP, other);
    expect(d.map((x) => x.field)).toEqual(['kernel release', 'mitigation meltdown', 'CPU vendor']);
    expect(d[2]).toEqual({ field: 'CPU vendor', here: 'AuthenticAMD', profile: 'not recorded' });
    expect(describeDifferences(d, 2)).toBe('kernel release 6.18.44-fc-v1252 here, 6.18.44-fc-v782 in the profile; mitigation meltdown Mitigation: PTI here, Not affected in the profile (and 1 more)');
  });

  it('compare the signature only between machines of one identity, within a factor of two either way', () => {
    const sig = (k: number): MachineFingerprint => ({ ...FP, signature: { null_syscall_ns: 1300 * k, page_fault_ns: 15000 } });
    expect(fingerprintDifferences(sig(1.9), FP)).toEqual([]);
    expect(fingerprintDifferences(sig(1 / 1.9), FP)).toEqual([]);
    expect(fingerprintDifferences(sig(SIGNATURE_FACTOR * 1.1), FP)).toEqual([{ field: 'null system call', here: '2.9 us', profile: '1.3 us' }]);
    expect(fingerprintDifferences({ ...FP, signature: { null_syscall_ns: 1300, page_fault_ns: 1700 } }, FP).map((x) => x.field)).toEqual(['page fault']);
    // A different machine is reported by its identity, not by its speed.
    expect(fingerprintDifferences({ ...sig(5), hz: 1000 }, FP).map((x) => x.field)).toEqual(['HZ']);
    // No signature on either side: the identity decides.
    expect(fingerprintDifferences({ ...sig(5), signature: undefined }, FP)).toEqual([]);
  });

  it('name a profile after the machine: host name, kernel release, and a hash of the whole identity', () => {
    expect(profileNameFor(FP)).toMatch(/^host-vm-6\.18\.44-fc-v1252-[0-9a-f]{6}$/);
    expect(profileNameFor({ ...FP, signature: undefined })).toBe(profileNameFor(FP));
    expect(profileNameFor({ ...FP, mitigations: { ...FP.mitigations, meltdown: 'Not affected' } })).not.toBe(profileNameFor(FP));
  });

  it('validate in a profile, naming the JSON path of a fault', () => {
    const check = (v: unknown) => validate(hostFingerprint, v, 'p.fingerprint');
    expect(check(JSON.parse(JSON.stringify(FP)))).toEqual(FP);
    expect(() => check({ ...FP, cpus: 0 })).toThrow(/^p\.fingerprint\.cpus: 0 is out of range/);
    expect(() => check({ ...FP, cpu: { ...FP.cpu, family: 'x' } })).toThrow(/^p\.fingerprint\.cpu\.family: /);
    expect(() => check({ ...FP, kernel: { release: '6.1' } })).toThrow(/^p\.fingerprint\.kernel\.version: missing is not a non-empty string/);
    // What a machine does not say is absent: it compares as not recorded.
    const { hz: _hz, ...noHz } = FP;
    expect(fingerprintDifferences(check(noHz), FP)).toEqual([{ field: 'HZ', here: 'not recorded', profile: '250' }]);
  });

  it('come from cpuinfo, getconf and lscpu', () => {
    const cpu = parseCpuinfo('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\nmicrocode\t: 0xb002116\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n');
    expect(cpu.id).toEqual({ vendor: 'AuthenticAMD', family: 26, model: 2, stepping: 1, microcode: '0xb002116' });
    expect(cpu.model).toBe('AMD EPYC');
    const getconf = 'LEVEL1_ICACHE_SIZE                 32768\nLEVEL1_ICACHE_ASSOC                \nLEVEL1_DCACHE_SIZE                 49152\nLEVEL1_DCACHE_ASSOC                12\nLEVEL1_DCACHE_LINESIZE             64\nLEVEL2_CACHE_SIZE                  1048576\nLEVEL2_CACHE_ASSOC                 8\nLEVEL2_CACHE_LINESIZE              64\nLEVEL3_CACHE_SIZE                  532676608\nLEVEL3_CACHE_ASSOC                 0\nLEVEL3_CACHE_LINESIZE              64\nLEVEL4_CACHE_SIZE                  \n';
    expect(parseGetconfCaches(getconf)).toEqual([
      { level: 1, type: 'Data', size_bytes: 49152, ways: 12, line_bytes: 64, sets: 64, shared_cpu_list: null },
      { level: 1, type: 'Instruction', size_bytes: 32768, ways: null, line_bytes: null, sets: null, shared_cpu_list: null },
      { level: 2, type: 'Unified', size_bytes: 1 << 20, ways: 8, line_bytes: 64, sets: 2048, shared_cpu_list: null },
      { level: 3, type: 'Unified', size_bytes: 532676608, ways: null, line_bytes: 64, sets: null, shared_cpu_list: null },
    ]);
    expect(parseLscpuHypervisor('Architecture:  x86_64\nHypervisor vendor:     KVM\nVirtualization type:  full\n')).toBe('KVM');
    expect(parseLscpuHypervisor('Architecture:  x86_64\n')).toBeNull();
  });
});

describe.runIf(onLinux)('--profile host on the command line (a copy of the package)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l41sim-host-profile-'));
  const pkg = join(dir, 'pkg');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const here = onLinux ? readFingerprint({ signature: false }) : FP;
  const hostVm = JSON.parse(readFileSync(join(ROOT, 'calibration', 'host-vm.json'), 'utf8'));
  const put = (name: string, fingerprint: MachineFingerprint) => writeFileSync(join(pkg, 'calibration', `${name}.json`), JSON.stringify({ ...hostVm, name, fingerprint }));
  const l41sim = (args: string[]) => spawnSync(process.execPath, [join(pkg, 'bin', 'l41sim.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });

  beforeAll(() => {
    mkdirSync(pkg);
    for (const f of ['package.json', 'bin', join('dist', 'src')]) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
    mkdirSync(join(pkg, 'calibration'));
    for (const f of readdirSync(join(ROOT, 'calibration'))) if (f.endsWith('.json') && !f.startsWith('host')) cpSync(join(ROOT, 'calibration', f), join(pkg, 'calibration', f));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  });

  it('with no host profile at all, says to calibrate (exit 2)', () => {
    const r = l41sim(['workload', 'dd', '--bs', '4k', '--profile', 'host']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^l41sim: --profile: host: no host profile yet \(this machine is .+\); expected a profile of this machine: run 'l41sim calibrate host'\n$/);
  });

  it('refuses a profile of another machine, naming what differs; --allow-stale-host uses it and says so on stderr', () => {
    put('host-elsewhere', { ...here, kernel: { ...here.kernel, release: 'another-kernel' }, signature: undefined });
    const r = l41sim(['workload', 'dd', '--bs', '4k', '--profile', 'host']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `l41sim: --profile: host: no profile was measured on this machine; the nearest, host-elsewhere, differs (kernel release ${here.kernel.release} here, another-kernel in the profile); expected a profile of this machine: run 'l41sim calibrate host' (or pass --allow-stale-host to use host-elsewhere anyway)\n`,
    );
    const stale = l41sim(['workload', 'dd', '--bs', '4k', '--trace', 'none', '--profile', 'host', '--allow-stale-host']);
    expect(stale.status).toBe(0);
    expect(stale.stderr).toMatch(/^l41sim: warning: --allow-stale-host: using host-elsewhere, measured on another machine \(kernel release .* here, another-kernel in the profile\); run 'l41sim calibrate host' for a profile of this one\n$/);
    expect(stale.stdout).toContain('(profile host-elsewhere,');
    expect(l41sim(['profiles']).stdout).toMatch(/\nhost +no profile of this machine \(.+\); the nearest, host-elsewhere, differs \(kernel release .*\): run 'l41sim calibrate host'\n$/);
  });

  it('picks the profile whose fingerprint matches this machine, and `profiles` says which', () => {
    put('host-here', { ...here, signature: undefined });
    const r = l41sim(['workload', 'dd', '--bs', '4k', '--trace', 'none', '--profile', 'host']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(profile host-here,');
    const list = l41sim(['profiles']).stdout;
    expect(list).toMatch(/\nhost += host-here, the profile of this machine \(.+\)\n$/);
    expect(list).toMatch(/\nhost-here +.*; measured on /);
    expect(validateProfile(JSON.parse(readFileSync(join(pkg, 'calibration', 'host-here.json'), 'utf8')), 'host-here').fingerprint).toEqual({ ...here, signature: undefined });
  });
});
