// The starting point of a host profile: everything `l41sim calibrate host` does not
// fit, with its provenance — measured facts of this machine (CPU count, clock, page
// size, cache geometry from /sys, CONFIG_HZ), published facts of Linux x86-64, and
// assumptions with their reasons. calibrate host then replaces the fitted unit
// costs. Tests build Linux profiles from it without measuring anything.

import { costsFor, type CostName } from '../../../costmodel/costs.js';
import type { Param } from '../../../costmodel/param.js';
import type { Profile } from '../../../costmodel/profile.js';
import type { CacheProbe } from '../../../host/cache-probe.js';
import { profileNameFor } from '../../../costmodel/fingerprint.js';
import type { HostFacts } from '../../../host/facts.js';
import { fingerprintOf } from '../../../host/fingerprint.js';
import { LAB_FILES } from '../../files.js';
import { assumed, cacheGeometry, measured } from './geometry.js';

/** A host profile as written to its file: the profile and the command that made it. */
export type HostProfileDoc = Profile & { generated_by: string };

const published = (value: number, unit: Param['unit'], from: string): Param => ({ value, unit, source: 'published', from });

/** The clock where none is known: costs in cycles need one. */
const ASSUMED_CLOCK_HZ = 2.5e9;

/** Unit costs calibrate host does not fit, in cycles (ns where the unit says), with why each value. */
const ASSUMED_COSTS: Partial<Record<CostName, [number, string]>> = {
  syscall_entry: [150, 'placeholder: fitted from the minimal system call (getuid)'],
  syscall_exit: [60, 'SYSRET checks, register pops and sysretq beyond the mitigations (class C); its sum with syscall_entry is what the getuid fit determines'],
  trap_entry: [200, 'exception entry (error_entry, pt_regs) on x86-64, a little more than SYSCALL entry: the CPU pushes a frame and vectors through the IDT'],
  trap_exit: [150, 'IRET to user or kernel mode: serialising, more than sysretq'],
  guard: [1, 'a compare and a well-predicted branch after the load (the load is charged by the cache model)'],
  call: [12, 'class C of the reference: a direct call with a few instructions of work'],
  lock_op: [20, 'an uncontended atomic (lock cmpxchg / xadd) with its implied barrier'],
  copy_call: [30, 'placeholder: fitted from the read sweep (per clear_user chunk)'],
  page_alloc: [250, 'get_page_from_freelist from the per-CPU lists, outside the clear and memcg'],
  page_free: [300, 'placeholder: fitted from munmap of a populated region'],
  pmap_enter: [150, 'rmap, LRU batch and set_pte of one new page'],
  pmap_remove: [120, 'ptep_get_and_clear, rmap and folio reference drop of one page in zap_pte_range'],
  namei_component: [60, 'one RCU-walk component: hash_name, __d_lookup_rcu, may_lookup'],
  vop: [40, 'placeholder: fitted from GNU dd bs=512 (an indirect f_op call through a retpoline and its wrapper)'],
  file_op: [15, 'fdget without a reference (single-threaded) or alloc_fd bookkeeping'],
  vm_map_op: [100, 'one maple-tree walk or store'],
  vm_object_op: [150, 'anon_vma set-up beyond its allocations'],
  vm_fault: [600, 'placeholder: fitted from the page-fault measurement'],
  kmalloc: [60, 'a slab allocation or free from the per-CPU sheaf'],
  sig_op: [40, 'do_sigaction / sigprocmask bookkeeping beyond siglock'],
  signal_deliver: [2500, 'get_signal + setup_rt_frame with an XSAVE of the FPU state'],
  clock_intr: [3000, 'one scheduler tick (tick_sched_timer, update_process_times, scheduler_tick) on a VM; a small share of any run'],
  user_syscall_stub: [60, 'placeholder: fitted from GNU dd bs=512 user time'],
  user_startup: [1_000_000, 'placeholder: fitted from GNU dd count=0'],
  audit_record: [400, '__audit_syscall_entry: context set-up (not measured: audit is off here)'],
  audit_commit: [800, '__audit_syscall_exit: filters and record commit (not measured)'],
  ptrace_stop: [8000, 'ns: two context switches through the tracer (not measured)'],
  seccomp_filter: [300, 'one small classic-BPF filter run by __secure_computing (not measured)'],
  tracepoint: [150, 'trace_sys_enter/exit with one perf/ftrace consumer (not measured)'],
  memcg_charge: [300, 'charge_memcg: try_charge from the per-CPU stock and memcg1_commit_charge (the reference profile: 9% of dd bs=10M)'],
  dtrace_probe: [50, 'ns: kept for the schema; the Linux path has no DTrace'],
  dtrace_predicate: [10, 'ns: kept for the schema; the Linux path has no DTrace'],
  dtrace_action: [20, 'ns: kept for the schema; the Linux path has no DTrace'],
  dtrace_stack: [500, 'ns: kept for the schema; the Linux path has no DTrace'],
};

/** Cycles of the mitigations /sys says this boot runs on each kernel entry and exit (estimates, with the sysfs text they come from). */
export function mitigationCycles(mit: Record<string, string> | null): { entry: number; exit: number; note: string } {
  if (mit === null) return { entry: 30, exit: 20, note: 'mitigations unknown (/sys/devices/system/cpu/vulnerabilities absent): swapgs fences and return thunks assumed' };
  let entry = 10; // spectre_v1: lfence after swapgs (FENCE_SWAPGS_*_ENTRY)
  let exit = 10; // retpoline / return-thunk cost of the exit path's returns
  const why: string[] = ['swapgs lfence'];
  const has = (k: string, re: RegExp) => re.test(mit[k] ?? '');
  if (has('meltdown', /PTI/)) {
    entry += 150;
    exit += 150;
    why.push('PTI CR3 switches');
  }
  if (has('spectre_v2', /(^|[^_])IBRS(?!_FW)/) && !has('spectre_v2', /eIBRS|Enhanced/)) {
    entry += 100;
    exit += 100;
    why.push('kernel IBRS MSR writes');
  }
  if (has('spec_rstack_overflow', /Safe RET|IBPB/)) {
    entry += 40;
    exit += 20;
    why.push('SRSO untrain on entry and the safe-RET return thunk');
  }
  if (has('retbleed', /untrained|IBPB/i)) {
    entry += 40;
    why.push('retbleed untraining');
  }
  if (has('mds', /Clear CPU buffers/) || has('mmio_stale_data', /Clear CPU buffers/)) {
    exit += 250;
    why.push('VERW on exit');
  }
  if (has('spectre_v2', /BHI: (SW loop|BHI_DIS_S)/)) {
    entry += 60;
    why.push('BHB clearing');
  }
  return { entry, exit, note: `estimate from /sys/devices/system/cpu/vulnerabilities: ${why.join(', ')}` };
}

/** The host profile before fitting, named `name` (by default after the machine: see profileNameFor). */
export function hostBaseProfile(facts: HostFacts, date = new Date(), name = profileNameFor(fingerprintOf(facts, null)), probe: CacheProbe | null = null): HostProfileDoc {
  const clock = facts.clock_hz;
  const geometry = cacheGeometry(facts.caches, facts.caches === null ? null : (facts.caches_source ?? '/sys/devices/system/cpu/cpu0/cache'), probe, clock ?? ASSUMED_CLOCK_HZ);
  const mit = mitigationCycles(facts.mitigations);
  const costs = {} as Record<CostName, Param>;
  for (const name of costsFor('linux')) {
    if (name === 'mitigation_entry') costs[name] = assumed(mit.entry, 'cycles', mit.note);
    else if (name === 'mitigation_exit') costs[name] = assumed(mit.exit, 'cycles', mit.note);
    else {
      const a = ASSUMED_COSTS[name];
      if (!a) throw new Error(`no host estimate for the Linux cost '${name}' (add it to ASSUMED_COSTS in host-base.ts)`);
      const unit = name.startsWith('dtrace_') || name === 'ptrace_stop' ? 'ns' : 'cycles';
      costs[name] = assumed(a[0], unit, a[1]);
    }
  }
  const limitations: string[] = [];
  if (facts.caches === null && probe === null) limitations.push('no cache geometry under /sys/devices/system/cpu/cpu0/cache, from getconf or from the cache probe: cache sizes are assumed');
  limitations.push(...geometry.notes);
  if (clock === null) limitations.push('clock rate unknown: 2.5 GHz assumed to convert cycles');
  const mitText = facts.mitigations ? Object.entries(facts.mitigations).filter(([, v]) => !/^Not affected$/.test(v)).map(([k, v]) => `${k}: ${v}`).join('; ') : 'unknown';
  return {
    name,
    description:
      `The machine ${facts.hostname}: ${facts.cpu_model ?? 'unknown CPU'}, ${facts.cpu_count} CPU(s)${facts.virtualized ? ', virtualised' : ''}; ` +
      `Linux ${facts.kernel_release} (${facts.kernel_version}); GNU dd and glibc. Measured ${date.toISOString()}. Mitigations: ${mitText || 'none reported'}.`,
    kernel: 'linux',
    userland: {
      dd: 'gnu',
      allocator: 'glibc',
      junk_fill: false,
      startup_user_pages: assumed(74, 'pages', 'placeholder: from perf minor-faults of GNU dd count=0 minus the faults the model takes elsewhere'),
    },
    machine: {
      isa: 'x86_64',
      cpus: measured(facts.cpu_count, 'count', '/proc/cpuinfo processor entries'),
      clock_hz: clock !== null ? measured(clock, 'hz', facts.clock_source ?? '/proc/cpuinfo') : assumed(ASSUMED_CLOCK_HZ, 'hz', 'clock unknown on this host'),
      page_bytes: facts.page_size_bytes !== null ? measured(facts.page_size_bytes, 'bytes', '/proc/self/smaps KernelPageSize') : published(4096, 'bytes', 'x86-64 base page size'),
      caches: geometry.caches,
      memory: {
        latency_ns: geometry.memoryLatency ?? assumed(110, 'ns', 'typical DRAM load-to-use of a current x86-64 server (90-120 ns), more under a hypervisor; not measured'),
        stream_read_ns_per_line: assumed(8, 'ns', 'placeholder: set to the fitted write cost (clearing streams only writes; no read stream is measured)'),
        stream_write_ns_per_line: assumed(8, 'ns', 'placeholder: fitted from the read sweep beyond the last-level cache'),
      },
      tlb: {
        entries: assumed(2048, 'count', 'second-level data TLB of AMD Zen 2-4 / Intel Ice Lake and later (1.5-3 K entries); the first level folded in'),
        kernel_page_bytes: published(2 * 1024 * 1024, 'bytes', 'Linux x86-64 maps the kernel image and the direct map with 2 MiB (or 1 GiB) pages'),
        miss_ns: assumed(5, 'ns', "the page walker's fixed work beyond its loads"),
        walk_loads: assumed(facts.virtualized ? 8 : 4, 'count', facts.virtualized ? 'a two-dimensional (nested) walk under the hypervisor: guest levels plus part of their nested walks' : 'four levels of page table'),
      },
      first_touch_ns: assumed(0, 'ns', 'guest memory is already backed: the cost of a hypervisor fault on a page is part of the fitted vm_fault'),
    },
    kernel_config: {
      hz: facts.config_hz !== null ? measured(facts.config_hz, 'hz', 'CONFIG_HZ in /proc/config.gz') : assumed(250, 'hz', 'CONFIG_HZ unknown: the common distribution default'),
      stathz: facts.config_hz !== null ? measured(facts.config_hz, 'hz', 'CONFIG_HZ in /proc/config.gz: Linux samples user/system time on the scheduler tick') : assumed(250, 'hz', 'Linux samples user/system time on the scheduler tick (CONFIG_HZ unknown)'),
      invariants: false,
      witness: false,
      zero_chunk_bytes: published(4096, 'bytes', 'drivers/char/mem.c read_zero: clear_user in chunks of at most PAGE_SIZE'),
      background_lock_ops_per_tick: assumed(5, 'count', 'not measured; the other CPU is mostly idle'),
    },
    costs,
    files: LAB_FILES.map((f) => ({ ...f })),
    limitations,
    generated_by: 'l41sim calibrate host',
  };
}
