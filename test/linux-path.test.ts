// The Linux x86-64 kernel path (src/kernel/linux) and GNU dd's life on it, on a
// host profile built from fixed facts (no measurement): the step ledger, the
// guards' slow paths, faults inside read(), and strace's syscall count.

import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../src/host/facts.js';
import { validateProfile, type Profile } from '../src/costmodel/profile.js';
import { bootKernel } from '../src/kernel/boot.js';
import { Mode } from '../src/kernel/cpu.js';
import type { Feature } from '../src/kernel/features.js';
import { FeatureError } from '../src/kernel/hooks.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { LinuxKernelPath } from '../src/kernel/linux/path.js';
import { AccessKind } from '../src/kernel/machine/cache.js';
import { Errno } from '../src/kernel/vfs.js';
import { hostBaseProfile } from '../src/workloads/calibrate/host/base.js';
import { gnuOperands } from '../src/workloads/calibrate/host/rows.js';
import { GNU_LAYOUT } from '../src/workloads/dd/gnu.js';
import { runDd, type DdRun } from '../src/workloads/dd/run.js';
import { UserProcess } from '../src/workloads/runtime.js';

const FACTS: HostFacts = {
  hostname: 'testhost',
  os_type: 'Linux',
  platform: 'linux',
  arch: 'x64',
  kernel_release: '6.18.44-test',
  kernel_version: '#1 SMP',
  cpu_model: 'Test x86-64 CPU',
  cpu_count: 2,
  clock_hz: 2.5e9,
  clock_source: 'test',
  clocksource: 'tsc',
  config_hz: 250,
  virtualized: true,
  caches: [
    { level: 1, type: 'Data', size_bytes: 32768, ways: 8, line_bytes: 64, sets: 64, shared_cpu_list: '0' },
    { level: 1, type: 'Instruction', size_bytes: 32768, ways: 8, line_bytes: 64, sets: 64, shared_cpu_list: '0' },
    { level: 2, type: 'Unified', size_bytes: 524288, ways: 8, line_bytes: 64, sets: 1024, shared_cpu_list: '0' },
    { level: 3, type: 'Unified', size_bytes: 8 * 1024 * 1024, ways: 16, line_bytes: 64, sets: 8192, shared_cpu_list: '0-1' },
  ],
  mitigations: { spectre_v1: 'Mitigation: usercopy/swapgs barriers', spectre_v2: 'Mitigation: Retpolines', spec_rstack_overflow: 'Mitigation: Safe RET' },
  page_size_bytes: 4096,
  transparent_hugepage: 'madvise',
  notes: [],
};

const PROFILE: Profile = validateProfile(hostBaseProfile(FACTS, new Date('2026-01-01T00:00:00Z')), 'test-host');
const LINUX_FEATURES: Feature[] = ['ptrace', 'audit', 'signals', 'seccomp', 'tracepoint'];

/** A booted Linux kernel and a process with /dev/zero and /dev/null open. */
function bench(features: Feature[] = [], seed = 's') {
  const k: Kernel = bootKernel(PROFILE, { seed, features: new Set(features), scripts: [] });
  const u = new UserProcess(k, 'bench', GNU_LAYOUT);
  u.td.cpu.mode = Mode.User;
  const sys = (name: string, a: Record<string, number | string> = {}) => k.path.syscall(u.td, name, a);
  const zero = sys('openat', { path: '/dev/zero', pathVa: -1, flags: 'r' });
  const nul = sys('openat', { path: '/dev/null', pathVa: -1, flags: 'w' });
  const mmap = (bytes: number) => sys('mmap', { len: bytes, prot: 'rw', fd: -1, name: `m${bytes}` });
  return { k, u, td: u.td, sys, zero, nul, mmap };
}

function gnuDd(bs: number, count: number, seed = '1'): DdRun {
  return runDd(gnuOperands(bs, count), { profile: PROFILE, seed, features: new Set(), scripts: [], locale: 'C.UTF-8' });
}

describe('Linux syscall path', () => {
  it("a null syscall's top-level steps partition its time, in the kernel's order", () => {
    const b = bench();
    for (let i = 0; i < 3; i++) b.sys('getuid');
    const before = b.k.steps.syscalls.get('getuid')!;
    const ps0 = before.ps;
    const steps0 = new Map(before.steps);
    b.sys('getuid');
    const after = b.k.steps.syscalls.get('getuid')!;
    const time = after.ps - ps0;
    let sum = 0;
    const names: string[] = [];
    for (const [name, ps] of after.steps) {
      sum += ps - (steps0.get(name) ?? 0);
      names.push(name);
    }
    expect(time).toBeGreaterThan(0);
    expect(Math.abs(sum - time)).toBeLessThan(1e-6 * time);
    expect(names).toEqual([
      'entry_SYSCALL_64',
      'add_random_kstack_offset',
      'syscall_enter_from_user_mode_work',
      'x64_sys_call',
      'syscall_exit_to_user_mode_work',
      'exit_to_user_mode_prepare',
      'arch_exit_to_user_mode_prepare',
      'sysret',
    ]);
  });

  it('turning a Linux feature on never makes a syscall cheaper', () => {
    const workload = (features: Feature[]) => {
      const b = bench(features);
      const buf = b.mmap(65536);
      b.u.td.cpu.mode = Mode.User;
      b.k.touchUser(b.td, buf, 65536, AccessKind.Write, false);
      for (let i = 0; i < 200; i++) {
        b.sys('getuid');
        b.sys('read', { fd: b.zero, bufVa: buf, len: 65536 });
        b.sys('write', { fd: b.nul, bufVa: buf, len: 65536 });
      }
      return new Map([...b.k.steps.syscalls].map(([n, t]) => [n, t.ps / t.count]));
    };
    const base = workload([]);
    for (const f of LINUX_FEATURES) {
      const on = workload([f]);
      for (const name of ['getuid', 'read', 'write']) {
        expect(on.get(name)!, `${f}: ${name}`).toBeGreaterThanOrEqual(base.get(name)!);
      }
      if (f !== 'signals') expect(on.get('getuid')!, f).toBeGreaterThan(base.get('getuid')!);
    }
  });

  it('refuses FreeBSD-only features, naming the feature and the profile', () => {
    for (const f of ['ktrace', 'capsicum', 'witness', 'invariants'] as Feature[]) {
      expect(() => bootKernel(PROFILE, { seed: 's', features: new Set([f]), scripts: [] })).toThrow(FeatureError);
      expect(() => bootKernel(PROFILE, { seed: 's', features: new Set([f]), scripts: [] })).toThrow(new RegExp(`'${f}'.*'host-testhost-6\\.18\\.44-test-[0-9a-f]{6}'.*Linux`));
    }
  });

  it('read of /dev/zero into untouched memory faults inside read() once per page, and not the second time', () => {
    const b = bench();
    const pages = 16;
    const buf = b.mmap(pages * 4096);
    const inSys = () => b.k.steps.traps.get('page fault (in syscall)')?.count ?? 0;
    const minflt0 = b.td.proc.ru.minflt;
    expect(b.sys('read', { fd: b.zero, bufVa: buf, len: pages * 4096 })).toBe(pages * 4096);
    expect(inSys()).toBe(pages);
    expect(b.td.proc.ru.minflt - minflt0).toBe(pages);
    expect(b.k.steps.traps.get('page fault')).toBeUndefined(); // none in user mode
    expect(b.sys('read', { fd: b.zero, bufVa: buf, len: pages * 4096 })).toBe(pages * 4096);
    expect(inSys()).toBe(pages);
  });

  it('a read fault maps the zero page (no allocation, no clear); a later write allocates and clears', () => {
    const b = bench();
    const buf = b.mmap(4096);
    const alloc = b.k.book.id('page_alloc');
    const a0 = b.k.usage.counts[alloc]!;
    const frames0 = b.k.phys.allocated;
    b.k.touchUser(b.td, buf, 8, AccessKind.Read, false);
    expect(b.k.usage.counts[alloc]! - a0).toBe(1); // the page-table page only
    expect(b.k.phys.allocated - frames0).toBe(1);
    const path = b.k.path as LinuxKernelPath;
    expect(b.td.proc.vmspace.pmap.get(buf / 4096)).toBe(path.mm.zeroPfn);
    b.k.touchUser(b.td, buf, 8, AccessKind.Write, false);
    expect(b.k.usage.counts[alloc]! - a0).toBe(2);
    expect(b.td.proc.vmspace.pmap.get(buf / 4096)).not.toBe(path.mm.zeroPfn);
    expect(b.td.proc.ru.minflt).toBe(2);
  });

  it('write of /dev/null returns the count without touching the buffer', () => {
    const b = bench();
    const buf = b.mmap(1 << 20);
    expect(b.sys('write', { fd: b.nul, bufVa: buf, len: 1 << 20 })).toBe(1 << 20);
    expect(b.td.proc.ru.minflt).toBe(0);
  });

  it('real errors: ENOENT for an absent file, EBADF for a closed descriptor', () => {
    const b = bench();
    expect(() => b.sys('openat', { path: '/usr/lib/locale/C.UTF-8/LC_CTYPE', pathVa: -1, flags: 'r' })).toThrow(Errno);
    try {
      b.sys('openat', { path: '/usr/lib/locale/locale-archive', pathVa: -1, flags: 'r' });
    } catch (e) {
      expect((e as Errno).errno).toBe('ENOENT');
    }
    b.sys('close', { fd: b.zero });
    expect(() => b.sys('read', { fd: b.zero, bufVa: 0, len: 1 })).toThrow(/Bad file descriptor/);
  });

  it('close() of the last reference defers __fput to the exit-to-user loop (TIF_NOTIFY_RESUME)', () => {
    const b = bench();
    const loop = () => b.k.steps.syscalls.get('close')?.steps.get('exit_to_user_mode_prepare') ?? 0;
    b.sys('close', { fd: b.zero });
    const withWork = loop();
    const fd = b.sys('openat', { path: '/dev/zero', pathVa: -1, flags: 'r' });
    b.sys('dup2', { oldfd: fd, newfd: 7 });
    const before = loop();
    b.sys('close', { fd }); // fd 7 still holds the file: no work
    expect(loop() - before).toBeLessThan(withWork);
  });
});

describe('GNU dd on the Linux path', () => {
  const count = (r: DdRun) => [...r.kernel.steps.syscalls].reduce((s, [name, t]) => s + (name === 'exit_group' ? 0 : t.count), 0);

  it('makes 128 system calls for bs=10M count=1 as strace -c counts them (execve in, exit_group out)', () => {
    const r = gnuDd(10 * 1024 * 1024, 1);
    expect(r.exitStatus).toBe(0);
    expect(count(r)).toBe(128);
    expect(r.kernel.steps.syscalls.get('execve')!.count).toBe(1);
    // 2560 pages of the buffer fault inside read(); the buffer's header page faults in user mode.
    const read = r.kernel.steps.syscalls.get('read')!;
    expect(read.count).toBe(4);
    expect(r.faults.in_syscalls).toBeGreaterThanOrEqual(2560);
    expect(r.stderr[0]).toBe('1+0 records in');
  });

  it('makes 125 for count=0 and 5245 for bs=4k count=2560 (the buffer from the brk heap)', () => {
    expect(count(gnuDd(10 * 1024 * 1024, 0))).toBe(125);
    const small = gnuDd(4096, 2560);
    expect(count(small)).toBe(5245);
    expect(small.kernel.steps.syscalls.get('mmap')!.count).toBe(gnuDd(10 * 1024 * 1024, 0).kernel.steps.syscalls.get('mmap')!.count);
  });

  it('takes the profile-driven start-up faults plus one per buffer page', () => {
    const z = gnuDd(10 * 1024 * 1024, 0);
    const one = gnuDd(10 * 1024 * 1024, 1);
    expect(one.faults.minor - z.faults.minor).toBe(2561); // the buffer's 2560 pages and the malloc header page
    expect(z.faults.minor).toBeGreaterThan(PROFILE.userland.startup_user_pages.value);
  });

  it('is deterministic per seed', () => {
    const a = gnuDd(65536, 160, 'x');
    const b = gnuDd(65536, 160, 'x');
    expect(b.endPs - b.startPs).toBe(a.endPs - a.startPs);
    expect([...b.usage]).toEqual([...a.usage]);
    expect(b.faults).toEqual(a.faults);
  });
});
