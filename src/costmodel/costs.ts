// The unit costs a kernel path may charge, declared once with unit and meaning
// (gem5-style). A profile must give a value, with provenance, for every cost its
// kernel path uses, and no others. Costs are per occurrence; the model counts
// occurrences from what each step does.

import type { Unit } from './param.js';

export type KernelFlavour = 'freebsd' | 'linux';

export interface CostDecl {
  unit: Extract<Unit, 'cycles' | 'ns'>;
  doc: string;
  kernels: readonly KernelFlavour[];
}

const BOTH = ['freebsd', 'linux'] as const;
const FREEBSD = ['freebsd'] as const;
const LINUX = ['linux'] as const;

export const COSTS = {
  // Entry and exit, common steps.
  syscall_entry: { unit: 'cycles', kernels: BOTH, doc: 'MD system-call entry up to syscallenter/do_syscall_64: mode switch, trapframe save' },
  syscall_exit: { unit: 'cycles', kernels: BOTH, doc: 'MD system-call return: frame restore and the return-to-user instruction' },
  trap_entry: { unit: 'cycles', kernels: BOTH, doc: 'exception entry for a fault: mode switch, trapframe, handler prologue' },
  trap_exit: { unit: 'cycles', kernels: BOTH, doc: 'return from an exception to the interrupted context' },
  guard: { unit: 'cycles', kernels: BOTH, doc: 'compare and branch of a guard, on top of the load of its word (charged by the cache model)' },
  call: { unit: 'cycles', kernels: BOTH, doc: 'a small call with fixed work (class C in the reference)' },
  lock_op: { unit: 'cycles', kernels: BOTH, doc: 'one uncontended lock acquire or release (an atomic and its barrier)' },
  copy_call: { unit: 'cycles', kernels: BOTH, doc: 'fixed overhead of one copyin/copyout/uiomove/clear_user call (the bytes move through the cache model)' },
  page_alloc: { unit: 'cycles', kernels: BOTH, doc: 'allocate one physical page (free lists or reservation)' },
  page_free: { unit: 'cycles', kernels: BOTH, doc: 'free one physical page' },
  pmap_enter: { unit: 'cycles', kernels: BOTH, doc: 'enter one page mapping: PTE write and its bookkeeping (pv entry / rmap)' },
  pmap_remove: { unit: 'cycles', kernels: BOTH, doc: 'remove one page mapping, including its TLB invalidation' },
  namei_component: { unit: 'cycles', kernels: BOTH, doc: 'look up one path component in the name cache (locks charged separately)' },
  vop: { unit: 'cycles', kernels: BOTH, doc: 'one vnode/inode operation call (getattr, open, close, access, readlink, read, write)' },
  file_op: { unit: 'cycles', kernels: BOTH, doc: 'descriptor-table work for one operation: allocate, install, look up, close' },
  vm_map_op: { unit: 'cycles', kernels: BOTH, doc: 'one address-space map operation: entry insert, delete, clip or tree lookup' },
  vm_object_op: { unit: 'cycles', kernels: BOTH, doc: 'allocate, reference or release one VM object (anon_vma on Linux)' },
  vm_fault: { unit: 'cycles', kernels: BOTH, doc: 'fixed work of one page fault in the VM layer, outside its locks, page allocation, zeroing and pmap' },
  kmalloc: { unit: 'cycles', kernels: BOTH, doc: 'one kernel malloc/free or zone allocation' },
  sig_op: { unit: 'cycles', kernels: BOTH, doc: 'update of signal state (sigaction, sigprocmask bodies) beyond their locks' },
  signal_deliver: { unit: 'cycles', kernels: BOTH, doc: 'deliver one signal: build and copy out a signal frame' },
  clock_intr: { unit: 'cycles', kernels: BOTH, doc: 'one periodic clock interrupt (hardclock/tick handler), charged to whoever runs' },
  user_syscall_stub: { unit: 'cycles', kernels: BOTH, doc: 'user-mode work around one system call: the libc stub and its caller' },
  user_startup: { unit: 'cycles', kernels: BOTH, doc: 'user-mode work of run-time linker and libc start-up (relocation, symbol binding), in total' },
  // Storage, for regular files whose pages are not in the buffer cache (a cold cache) and for fsync.
  // The model has no idle time: a thread waiting for its I/O is charged the wait on its CPU.
  storage_io: { unit: 'ns', kernels: FREEBSD, doc: 'one storage request: driver submission, device command latency, completion interrupt and the waiting thread\'s wake-up' },
  storage_read_page: { unit: 'ns', kernels: FREEBSD, doc: 'transfer of one page from storage into the buffer cache (the device\'s sequential read bandwidth)' },
  storage_write_page: { unit: 'ns', kernels: FREEBSD, doc: 'transfer of one dirty page from the buffer cache to storage (the device\'s sequential write bandwidth)' },
  // FreeBSD's hooks and debug options.
  kassert: { unit: 'cycles', kernels: FREEBSD, doc: 'one INVARIANTS assertion (KASSERT)' },
  witness_warn: { unit: 'cycles', kernels: FREEBSD, doc: 'one WITNESS_WARN/WITNESS_CHECK scan of held locks' },
  witness_lock_op: { unit: 'cycles', kernels: FREEBSD, doc: "WITNESS's extra work per lock acquire (checkorder + lock) or release" },
  ktrace_record: { unit: 'cycles', kernels: FREEBSD, doc: 'build and queue one ktrace record (ktrsyscall, ktrsysret)' },
  ktrace_write: { unit: 'cycles', kernels: FREEBSD, doc: 'write one queued ktrace record to the trace vnode (ktruserret)' },
  audit_record: { unit: 'cycles', kernels: BOTH, doc: 'audit_syscall_enter (FreeBSD) / __audit_syscall_entry (Linux): preselection and record set-up' },
  audit_commit: { unit: 'cycles', kernels: BOTH, doc: 'audit_syscall_exit (FreeBSD) / __audit_syscall_exit (Linux): commit one record to the audit queue' },
  ptrace_stop: { unit: 'ns', kernels: BOTH, doc: 'one ptrace stop: wake the debugger, sleep, be resumed (debugger think time excluded)' },
  racct: { unit: 'cycles', kernels: FREEBSD, doc: 'racct throttle check on return (beyond its PROC_LOCK)' },
  profil: { unit: 'cycles', kernels: FREEBSD, doc: 'addupc_task: charge one profil(2) tick' },
  suspend_check: { unit: 'cycles', kernels: FREEBSD, doc: 'thread_suspend_check slow path' },
  // Linux-only work.
  mitigation_entry: { unit: 'cycles', kernels: LINUX, doc: 'speculation mitigations run on every kernel entry (swapgs lfence, kstack offset); zero where patched out' },
  mitigation_exit: { unit: 'cycles', kernels: LINUX, doc: 'speculation mitigations on every exit (return thunks, VERW where enabled)' },
  seccomp_filter: { unit: 'cycles', kernels: LINUX, doc: 'run one seccomp BPF filter' },
  tracepoint: { unit: 'cycles', kernels: LINUX, doc: 'one enabled syscall tracepoint firing (sys_enter/sys_exit) with a minimal consumer' },
  memcg_charge: { unit: 'cycles', kernels: LINUX, doc: 'memory-cgroup charge of one new anonymous page' },
  // Tracing (the probe effect).
  dtrace_probe: { unit: 'ns', kernels: BOTH, doc: 'dispatch of one enabled DTrace probe firing, before its clauses' },
  dtrace_predicate: { unit: 'ns', kernels: BOTH, doc: 'evaluate one clause predicate' },
  dtrace_action: { unit: 'ns', kernels: BOTH, doc: 'one clause action: variable store, timestamp, aggregation update' },
  dtrace_stack: { unit: 'ns', kernels: BOTH, doc: 'one stack() walk and its aggregation key' },
} as const satisfies Record<string, CostDecl>;

export type CostName = keyof typeof COSTS;
export const COST_NAMES = Object.keys(COSTS) as CostName[];

export function costsFor(kernel: KernelFlavour): CostName[] {
  return COST_NAMES.filter((name) => (COSTS[name].kernels as readonly string[]).includes(kernel));
}
