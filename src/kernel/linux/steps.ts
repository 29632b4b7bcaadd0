// Linux's step table: every top-level step of the x86-64 syscall path
// (entry_SYSCALL_64 ... sysretq: arch/x86/entry/entry_64.S, kernel/entry/common.c)
// and of the page-fault path, in path order: its kind, what it does, for a guard the
// word it loads and the hook it tests for, and the features that add work to it.
// ./entry.ts and ./fault.ts take exactly these steps.

import { StepTable } from '../step-table.js';

export const LINUX_STEPS = new StepTable('linux', {
  entry_SYSCALL_64: { kind: 'entry/exit', does: 'swapgs, the task stack, pt_regs built, the entry mitigations; do_syscall_64 entered' },
  add_random_kstack_offset: { kind: 'other', does: 'add_random_kstack_offset(): the per-CPU kstack offset' },
  syscall_enter_from_user_mode_work: {
    kind: 'guard',
    does: 'local_irq_enable, then the syscall_work word: syscall_trace_enter() when a SYSCALL_WORK_ENTER bit is set',
    guard: { word: 'thread_info.syscall_work', hook: 'ptrace, seccomp, tracepoints, audit (SYSCALL_WORK_*)' },
    features: ['ptrace', 'seccomp', 'tracepoint', 'audit'],
  },
  x64_sys_call: { kind: 'body', does: "x64_sys_call's switch to the __x64_sys_<name> wrapper: the system call itself" },
  syscall_exit_to_user_mode_work: {
    kind: 'guard',
    does: 'the syscall_work word again: syscall_exit_work() when a SYSCALL_WORK_EXIT bit is set',
    guard: { word: 'thread_info.syscall_work', hook: 'ptrace, tracepoints, audit (SYSCALL_WORK_*)' },
    features: ['ptrace', 'tracepoint', 'audit'],
  },
  exit_to_user_mode_prepare: {
    kind: 'guard',
    does: 'irqs off, thread_info.flags: exit_to_user_mode_loop() (signals, rescheduling, notify-resume) when a work bit is set',
    guard: { word: 'thread_info.flags', hook: 'signals, rescheduling, notify-resume (TIF_*)' },
    features: ['signals'],
  },
  arch_exit_to_user_mode_prepare: { kind: 'other', does: 'arch_exit_to_user_mode_prepare(): TS_COMPAT cleared, the next kstack offset chosen' },
  sysret: { kind: 'entry/exit', does: 'the SYSRET checks, pt_regs popped, the exit mitigations, swapgs, sysretq' },
  asm_exc_page_fault: { kind: 'entry/exit', does: 'the page-fault vector: error_entry, pt_regs, the entry mitigations from user mode' },
  exc_page_fault: { kind: 'body', does: 'exc_page_fault() -> do_user_addr_fault() -> handle_mm_fault(): the fault itself' },
  iret: { kind: 'entry/exit', does: 'the return from the exception: the exit mitigations to user mode, iretq' },
});

export type LinuxStep = ReturnType<(typeof LINUX_STEPS)['names']>[number];
