// FreeBSD's step table: every top-level step of the syscall path (syscallenter and
// syscallret in sys/kern/subr_syscall.c, userret in subr_trap.c, the MD entry and
// exit) and of the page-fault trap path (amd64 trap.c, ARM trap-v6.c), in path order: its
// kind, what it does, for a guard the word it loads and the hook it tests for, and
// the features that add work to it; then what switching each hook on sets in those
// words. ./syscall.ts, ./userret.ts and ./trap.ts take exactly these steps; a
// function entered between two steps (Kernel.enter) fetches its code in a step of
// its own name, declared here as such.

import type { Feature } from '../features.js';
import { KTRFAC_SYSCALL, KTRFAC_SYSRET, P_PROFIL, P_TRACED, S_PT_SCE, S_PT_SCX, TDP_RFPPWAIT, type Thread } from '../proc.js';
import { StepTable } from '../step-table.js';

const fetched = (fn: string) => `code fetch of ${fn}(), entered between the steps`;

export const FREEBSD_STEPS = new StepTable('freebsd', {
  // ---- the system call: MD entry, syscallenter() ----
  fast_syscall: { kind: 'entry/exit', does: 'amd64 entry: the trapframe onto the kernel stack, PCPU_INC(cnt.v_syscall)' },
  swi_entry: { kind: 'entry/exit', does: 'ARMv7 entry (SWI): the trapframe onto the kernel stack, PCPU_INC(cnt.v_syscall)' },
  amd64_syscall: { kind: 'other', does: fetched('amd64_syscall') },
  swi_handler: { kind: 'other', does: fetched('swi_handler') },
  syscallenter: { kind: 'other', does: fetched('syscallenter') },
  td_pticks: { kind: 'other', does: 'td->td_pticks = 0' },
  cow_refresh: {
    kind: 'guard',
    does: 'td_cowgen != p_cowgen: thread_cow_update() refreshes the thread\'s credential and limits',
    guard: { word: 'td_cowgen, p_cowgen', hook: 'credential update (td_cowgen != p_cowgen)' },
  },
  debugger_premark: {
    kind: 'guard',
    does: 'a traced process: under PROC_LOCK clear TDB_USERWR, set TDB_SCE',
    guard: { word: 'p_flag', hook: 'ptrace (P_TRACED)' },
    features: ['ptrace'],
  },
  sv_fetch_syscall_args: { kind: 'other', does: 'p_sysent->sv_fetch_syscall_args: the sysent entry, arguments past the registers copied in, td_retval cleared' },
  ktrsyscall: { kind: 'guard', does: 'KTRPOINT(td, KTR_SYSCALL): ktrsyscall() queues a record', guard: { word: 'p_traceflag', hook: 'ktrace (KTRFAC_SYSCALL)' }, features: ['ktrace'] },
  stopevent_sce: {
    kind: 'guard',
    does: "STOPEVENT(p, S_SCE): procfs stop events; the macro's WITNESS_WARN under WITNESS",
    guard: { word: 'p_stops', hook: 'procfs stop events (p_stops)' },
    features: ['witness'],
  },
  ptracestop_sce: { kind: 'guard', does: 'P_TRACED and S_PT_SCE: ptracestop() stops for the debugger', guard: { word: 'p_flag, p_stops', hook: 'ptrace (S_PT_SCE)' }, features: ['ptrace'] },
  refetch_args: { kind: 'guard', does: 'TDB_USERWR: the debugger wrote the registers, fetch the arguments again', guard: { word: 'td_dbgflags', hook: 'ptrace (TDB_USERWR)' }, features: ['ptrace'] },
  capsicum_check: {
    kind: 'guard',
    does: 'IN_CAPABILITY_MODE(td): only SYF_CAPENABLED calls, else ECAPMODE',
    guard: { word: 'td_ucred->cr_flags', hook: 'capsicum (IN_CAPABILITY_MODE)' },
    features: ['capsicum'],
  },
  syscall_thread_enter: { kind: 'other', does: 'syscall_thread_enter(): sy_thrcnt & SY_THR_STATIC, static for every built-in entry' },
  dtrace_entry: { kind: 'guard', does: 'systrace_probe_func != NULL: the syscall:::entry probe fires', guard: { word: 'systrace_probe_func', hook: 'DTrace (systrace_probe_func)' } },
  audit_syscall_enter: { kind: 'guard', does: 'AUDIT_SYSCALL_ENTER: preselect, allocate a record, set TDP_AUDITREC', guard: { word: 'audit_enabled', hook: 'audit (audit_enabled)' }, features: ['audit'] },
  sy_call: { kind: 'body', does: 'callp->sy_call: the system call itself (sys_<name>)' },
  audit_syscall_exit: { kind: 'guard', does: 'AUDIT_SYSCALL_EXIT: commit the record', guard: { word: 'td_pflags', hook: 'audit (TDP_AUDITREC)' }, features: ['audit'] },
  save_errno: { kind: 'guard', does: 'unless TDP_NERRNO, td_errno = error', guard: { word: 'td_pflags', hook: 'TDP_NERRNO' } },
  dtrace_return: { kind: 'guard', does: 'systrace_probe_func != NULL: the syscall:::return probe fires', guard: { word: 'systrace_probe_func', hook: 'DTrace (systrace_probe_func)' } },
  syscall_thread_exit: { kind: 'other', does: 'syscall_thread_exit(): sy_thrcnt & SY_THR_STATIC again' },
  sv_set_syscall_retval: { kind: 'other', does: 'p_sysent->sv_set_syscall_retval: the result, or errno and the carry flag, into the trapframe' },
  // ---- syscallret(), userret() ----
  syscallret: { kind: 'other', does: fetched('syscallret') },
  userret: { kind: 'other', does: fetched('userret') },
  userret_kassert_wexit: { kind: 'other', does: "INVARIANTS: KASSERT the process is not exiting (P_WEXIT)", features: ['invariants'] },
  ktruserret: { kind: 'guard', does: 'KTRUSERRET: write the queued ktrace records (ktruserret)', guard: { word: 'p_ktr', hook: 'ktrace (p_ktr)' }, features: ['ktrace'] },
  softdep_ast_cleanup: {
    kind: 'guard',
    does: 'softdep_ast_cleanup != NULL (FFS soft updates loaded): its cleanup',
    guard: { word: 'softdep_ast_cleanup', hook: 'softdep cleanup (softdep_ast_cleanup)' },
  },
  g_waitidle: { kind: 'guard', does: 'TDP_GEOM: wait for GEOM to settle', guard: { word: 'td_pflags', hook: 'GEOM wait (TDP_GEOM)' } },
  addupc_task: { kind: 'guard', does: 'P_PROFIL: addupc_task() charges the profil(2) buffer', guard: { word: 'p_flag', hook: 'profil (P_PROFIL)' }, features: ['profil'] },
  sched_userret: { kind: 'other', does: 'sched_userret(): td_priority against td_user_pri' },
  userret_checks: { kind: 'other', does: 'WITNESS_WARN and the misbehaviour KASSERTs (td_critnest, td_locks, ...)', features: ['invariants', 'witness'] },
  racct_throttle: {
    kind: 'guard',
    does: 'racct_enable: PROC_LOCK, p_throttled checked, PROC_UNLOCK',
    guard: { word: 'racct_enable', hook: 'racct (racct_enable)' },
    features: ['racct'],
  },
  ktrsysret: { kind: 'guard', does: 'KTRPOINT(td, KTR_SYSRET): ktrsysret() queues a record', guard: { word: 'p_traceflag', hook: 'ktrace (KTRFAC_SYSRET)' }, features: ['ktrace'] },
  clear_nerrno: { kind: 'other', does: 'td->td_pflags &= ~TDP_NERRNO' },
  traced_mark: { kind: 'guard', does: 'a traced process: under PROC_LOCK set TDB_SCX', guard: { word: 'p_flag', hook: 'ptrace (P_TRACED)' }, features: ['ptrace'] },
  stopevent_scx: {
    kind: 'guard',
    does: "STOPEVENT(p, S_SCX): procfs stop events; the macro's WITNESS_WARN under WITNESS",
    guard: { word: 'p_stops', hook: 'procfs stop events (p_stops)' },
    features: ['witness'],
  },
  ptracestop_scx: { kind: 'guard', does: 'P_TRACED and S_PT_SCX: ptracestop() stops for the debugger', guard: { word: 'p_flag, p_stops', hook: 'ptrace (S_PT_SCX)' }, features: ['ptrace'] },
  vfork_wait: { kind: 'guard', does: "TDP_RFPPWAIT: a vfork parent waits for the child's exec or exit", guard: { word: 'td_pflags', hook: 'vfork (TDP_RFPPWAIT)' }, features: ['vfork'] },
  ast_check: {
    kind: 'guard',
    does: 'the MD check before returning to user mode: ast() (signals, suspension, rescheduling), then userret() again',
    guard: { word: 'td_flags', hook: 'signals, suspension, rescheduling (TDF_ASTPENDING)' },
    features: ['signals', 'suspend'],
  },
  // ---- the MD exit ----
  sysret: { kind: 'entry/exit', does: 'amd64 return: the trapframe reloaded, sysretq' },
  doreti_iret: { kind: 'entry/exit', does: "amd64 return after sysarch(AMD64_SET_FSBASE) set PCB_FULL_IRET: doreti's iretq, as a trap returns" },
  // ---- page faults (and ARMv7's syscall return, which shares exception_return) ----
  calltrap: { kind: 'entry/exit', does: 'amd64 exception vector (calltrap): code fetch' },
  data_abort_entry: { kind: 'entry/exit', does: 'ARMv7 data-abort vector: code fetch' },
  exception_entry: { kind: 'entry/exit', does: 'the trapframe of the fault onto the kernel stack' },
  trap: {
    kind: 'body',
    does: "amd64 trap() -> trap_pfault() -> vm_fault(), and userret() after a user-mode fault",
    features: ['ktrace', 'profil', 'racct', 'invariants', 'witness'],
  },
  abort_handler: {
    kind: 'body',
    does: 'ARMv7 abort_handler(): pmap_fault(), vm_fault(), and userret() after a user-mode fault',
    features: ['ktrace', 'profil', 'racct', 'invariants', 'witness'],
  },
  exception_return: {
    kind: 'entry/exit',
    does: 'the return from an exception (ARMv7 also returns from a syscall this way): the AST check after a user-mode fault',
    features: ['signals', 'suspend'],
  },
});

export type FreeBSDStep = ReturnType<(typeof FREEBSD_STEPS)['names']>[number];

/**
 * What switching a hook on sets in the state words the guards above test, for
 * each new thread. The other hooks need no per-thread word: capsicum is entered
 * by the program (cap_enter), audit and racct are the globals audit_enabled and
 * racct_enable, signals and suspend are posted by the clock, and invariants and
 * witness are kernel options.
 */
export const FREEBSD_SWITCHES: Partial<Record<Feature, (td: Thread) => void>> = {
  ktrace: (td) => (td.proc.p_traceflag |= KTRFAC_SYSCALL | KTRFAC_SYSRET),
  ptrace: (td) => {
    td.proc.p_flag |= P_TRACED;
    td.proc.p_stops |= S_PT_SCE | S_PT_SCX;
  },
  profil: (td) => (td.proc.p_flag |= P_PROFIL),
  vfork: (td) => (td.td_pflags |= TDP_RFPPWAIT),
};
