// What each top-level step of the modelled syscall paths is: MD entry or exit, a
// guard on a hook's flag word (with the hook it tests for), the call's body, or the
// path's unconditional bookkeeping (argument fetch, return value, thread enter/exit,
// the scheduler's priority check, the debug kernels' assertions). One table, by
// kernel path, for the fast-path report and for compare
// (reference/freebsd-syscall-path.md sections 1-2, reference/linux-syscall-path.md 2-3).

import type { KernelFlavour } from '../costmodel/costs.js';
import { OUTSIDE_STEPS } from '../kernel/trace-export.js';

export type StepKind = 'entry/exit' | 'guard' | 'body' | 'other';

export const STEP_KINDS: readonly StepKind[] = ['entry/exit', 'guard', 'body', 'other'];

interface StepClass {
  kind: StepKind;
  /** For a guard: the hook it tests for, and the word it reads. */
  hook?: string;
}

const STEPS: Record<KernelFlavour, Record<string, StepClass>> = {
  freebsd: {
    fast_syscall: { kind: 'entry/exit' },
    swi_entry: { kind: 'entry/exit' },
    sysret: { kind: 'entry/exit' },
    doreti_iret: { kind: 'entry/exit' },
    exception_return: { kind: 'entry/exit' },
    td_pticks: { kind: 'other' },
    cow_refresh: { kind: 'guard', hook: 'credential update (td_cowgen != p_cowgen)' },
    debugger_premark: { kind: 'guard', hook: 'ptrace (P_TRACED)' },
    sv_fetch_syscall_args: { kind: 'other' },
    ktrsyscall: { kind: 'guard', hook: 'ktrace (KTRFAC_SYSCALL)' },
    stopevent_sce: { kind: 'guard', hook: 'procfs stop events (p_stops)' },
    ptracestop_sce: { kind: 'guard', hook: 'ptrace (S_PT_SCE)' },
    refetch_args: { kind: 'guard', hook: 'ptrace (TDB_USERWR)' },
    capsicum_check: { kind: 'guard', hook: 'capsicum (IN_CAPABILITY_MODE)' },
    syscall_thread_enter: { kind: 'other' },
    dtrace_entry: { kind: 'guard', hook: 'DTrace (systrace_probe_func)' },
    audit_syscall_enter: { kind: 'guard', hook: 'audit (audit_enabled)' },
    sy_call: { kind: 'body' },
    audit_syscall_exit: { kind: 'guard', hook: 'audit (TDP_AUDITREC)' },
    save_errno: { kind: 'guard', hook: 'TDP_NERRNO' },
    dtrace_return: { kind: 'guard', hook: 'DTrace (systrace_probe_func)' },
    syscall_thread_exit: { kind: 'other' },
    sv_set_syscall_retval: { kind: 'other' },
    userret_kassert_wexit: { kind: 'other' },
    ktruserret: { kind: 'guard', hook: 'ktrace (p_ktr)' },
    softdep_ast_cleanup: { kind: 'guard', hook: 'softdep cleanup (softdep_ast_cleanup)' },
    g_waitidle: { kind: 'guard', hook: 'GEOM wait (TDP_GEOM)' },
    addupc_task: { kind: 'guard', hook: 'profil (P_PROFIL)' },
    sched_userret: { kind: 'other' },
    userret_checks: { kind: 'other' },
    racct_throttle: { kind: 'guard', hook: 'racct (racct_enable)' },
    ktrsysret: { kind: 'guard', hook: 'ktrace (KTRFAC_SYSRET)' },
    clear_nerrno: { kind: 'other' },
    traced_mark: { kind: 'guard', hook: 'ptrace (P_TRACED)' },
    stopevent_scx: { kind: 'guard', hook: 'procfs stop events (p_stops)' },
    ptracestop_scx: { kind: 'guard', hook: 'ptrace (S_PT_SCX)' },
    vfork_wait: { kind: 'guard', hook: 'vfork (TDP_RFPPWAIT)' },
    ast_check: { kind: 'guard', hook: 'signals, suspension, rescheduling (TDF_ASTPENDING)' },
  },
  linux: {
    entry_SYSCALL_64: { kind: 'entry/exit' },
    add_random_kstack_offset: { kind: 'other' },
    syscall_enter_from_user_mode_work: { kind: 'guard', hook: 'ptrace, seccomp, tracepoints, audit (SYSCALL_WORK_*)' },
    x64_sys_call: { kind: 'body' },
    syscall_exit_to_user_mode_work: { kind: 'guard', hook: 'ptrace, tracepoints, audit (SYSCALL_WORK_*)' },
    exit_to_user_mode_prepare: { kind: 'guard', hook: 'signals, rescheduling, notify-resume (TIF_*)' },
    arch_exit_to_user_mode_prepare: { kind: 'other' },
  },
};

export function classifyStep(step: string): StepClass {
  if (step === OUTSIDE_STEPS) return { kind: 'other', hook: 'not in any step: code fetch of syscallenter/syscallret/userret' };
  return STEPS.freebsd[step] ?? STEPS.linux[step] ?? { kind: 'other' };
}

/** A kernel path's guarded steps, in path order: step name -> the hook it tests for. */
export function guardedSteps(kernel: KernelFlavour): Record<string, string> {
  return Object.fromEntries(Object.entries(STEPS[kernel]).filter(([, c]) => c.kind === 'guard').map(([name, c]) => [name, c.hook ?? name]));
}
