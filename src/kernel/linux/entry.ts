// Linux x86-64's system-call entry and exit (arch/x86/entry/entry_64.S,
// arch/x86/entry/syscall_64.c, kernel/entry/common.c, kernel/entry/syscall-common.c,
// include/linux/{entry-common,irq-entry-common}.h): entry_SYSCALL_64 ->
// do_syscall_64 -> syscall_enter_from_user_mode -> x64_sys_call -> the exit work ->
// exit_to_user_mode_prepare -> SYSRET. Read it side by side with those files: same
// step names, same order, each guard visible as `if (k.guard(td, <word>, <test>))`,
// each slow path out of line. Boot-patched checks (alternatives, static keys,
// static calls: PTI, IBRS, VERW, context tracking, the kstack-offset key) load no
// data and cost nothing here; they are named in comments where they sit. The
// numbered comments count the steps of the entry and of the exit in the C's order.

import { Mode } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import type { TakeStep } from '../step-table.js';
import { KSTACK } from '../machine/layout.js';
import { ProcessExited, type Thread } from '../proc.js';
import { Errno } from '../vfs.js';
import {
  ARCH_EXIT_WORK,
  EXIT_TO_USER_MODE_WORK,
  SYSCALL_WORK_ENTER,
  SYSCALL_WORK_EXIT,
  SYSCALL_WORK_SECCOMP,
  SYSCALL_WORK_SYSCALL_AUDIT,
  SYSCALL_WORK_SYSCALL_EMU,
  SYSCALL_WORK_SYSCALL_EXIT_TRAP,
  SYSCALL_WORK_SYSCALL_TRACE,
  SYSCALL_WORK_SYSCALL_TRACEPOINT,
  TIF_NEED_FPU_LOAD,
  TIF_NEED_RESCHED,
  TIF_NEED_RESCHED_LAZY,
  TIF_NOTIFY_RESUME,
  TIF_NOTIFY_SIGNAL,
  TIF_SIGPENDING,
  type LinuxTask,
} from './task.js';
import type { LinuxStep } from './steps.js';

/** Bytes of the rt_sigframe (ucontext, siginfo, the xsave area) that setup_rt_frame copies out. */
const RT_SIGFRAME_BYTES = 1024;
/** struct rseq fields that __rseq_handle_notify_resume reads and writes (cpu_id_start, cpu_id, rseq_cs, ...). */
const RSEQ_BYTES = 32;

/** Per-CPU data the entry path touches: pcpu_hot (current task, preempt count, top of stack), kstack_offset, cpu_tss_rw. */
export interface PerCpu {
  hot: number;
  kstackOffset: number;
  tss: number;
}

/** What a task's deferred work does when the exit loop runs it (the files layer supplies __fput). */
export interface TaskWorkRunner {
  runTaskWork(td: Thread, task: LinuxTask): void;
}

export class LinuxSyscallPath {
  private readonly step: TakeStep<LinuxStep>;

  constructor(
    private readonly k: Kernel,
    private readonly task: (td: Thread) => LinuxTask,
    readonly percpu: PerCpu,
    private readonly work: TaskWorkRunner,
  ) {
    this.step = k.step.bind(k);
  }

  /** thread_info.flags as the exit path reads it: TIF_SIGPENDING is set by signal_wake_up when a signal is queued (Kernel.postTickWork counts it). */
  tif(t: LinuxTask): number {
    return t.flags | (t.td.proc.p_pendingcnt > 0 ? TIF_SIGPENDING : 0);
  }

  /** entry_SYSCALL_64 ... sysretq: one system call from user mode back to user mode; returns its result (or throws Errno). */
  syscall(td: Thread, name: string, nr: number, run: () => number): number {
    const k = this.k;
    const cpu = td.cpu;
    const t = this.task(td);
    k.steps.beginSpan('syscall', name, cpu.t);
    cpu.mode = Mode.Kernel;

    // 1-3. entry_SYSCALL_64: swapgs, user RSP to cpu_tss_rw.sp2, SWITCH_TO_KERNEL_CR3
    // (PTI: patched out unless enabled), load the task stack, build pt_regs (6 pushes +
    // PUSH_AND_CLEAR_REGS, ax = -ENOSYS); IBRS_ENTER, UNTRAIN_RET, CLEAR_BRANCH_HISTORY as
    // the boot's mitigations patched them in (their cost is the profile's mitigation_entry).
    this.step(td, 'entry_SYSCALL_64', () => {
      k.enter(td, 'entry_SYSCALL_64', 2);
      k.charge(td, 'syscall_entry');
      cpu.store(this.percpu.tss);
      cpu.load(this.percpu.hot); // cpu_current_top_of_stack
      for (let i = 0; i < 3; i++) cpu.store(t.ptRegs(i));
      k.charge(td, 'mitigation_entry');
      k.leave(td, 'entry_SYSCALL_64');
      k.enter(td, 'do_syscall_64', 2);
    });
    // 4. add_random_kstack_offset(): static key randomize_kstack_offset (on) + the per-CPU offset.
    this.step(td, 'add_random_kstack_offset', () => cpu.load(this.percpu.kstackOffset));
    // 5. enter_from_user_mode(): lockdep and irq tracing compiled out; context tracking's
    // static key off (no NO_HZ_FULL): class P, nothing to load.
    // 6-7. local_irq_enable(); syscall_enter_from_user_mode_work(): the syscall_work word.
    this.step(td, 'syscall_enter_from_user_mode_work', () => {
      k.charge(td, 'call'); // sti and the inlined prologue
      if (k.guard(td, t.field('syscall_work'), (t.syscall_work & SYSCALL_WORK_ENTER) !== 0)) this.syscallTraceEnter(td, t, name);
    });
    // 8-9. do_syscall_x64(): nr < NR_syscalls, array_index_nospec, x64_sys_call's switch
    // makes a direct call to the __x64_sys_* wrapper, which unpacks pt_regs.
    let result = 0;
    let error: Errno | undefined;
    let exited: ProcessExited | undefined;
    this.step(td, 'x64_sys_call', () => {
      cpu.load(t.ptRegs(2)); // orig_ax
      k.guard(td, t.ptRegs(2), nr < 0); // nr < NR_syscalls (unsigned compare)
      k.charge(td, 'call'); // the switch's direct call
      k.enter(td, `__x64_sys_${name}`, 2);
      cpu.load(t.ptRegs(1)); // di, si, dx, r10, r8, r9
      try {
        result = run();
      } catch (e) {
        if (e instanceof ProcessExited) exited = e;
        else if (e instanceof Errno) error = e;
        else throw e;
      } finally {
        k.leave(td, `__x64_sys_${name}`);
      }
      cpu.store(t.ptRegs(1)); // regs->ax = result
    });
    if (exited) {
      // exit_group(2) never returns: do_exit() ends in the scheduler.
      k.leave(td, 'do_syscall_64');
      k.steps.endSpan(cpu.t);
      throw exited;
    }
    this.syscallExitToUserMode(td, t, name);
    // 7-8 (exit). SYSRET checks in do_syscall_64 (rcx == rip, r11 == flags, canonical rip,
    // no RF/TF), then IBRS_EXIT, pop the registers, the trampoline stack, STACKLEAK_ERASE
    // and SWITCH_TO_USER_CR3 (not configured / off), swapgs, CLEAR_CPU_BUFFERS (VERW where
    // MDS needs it), sysretq; the return thunks and VERW are the profile's mitigation_exit.
    this.step(td, 'sysret', () => {
      k.leave(td, 'do_syscall_64');
      for (let i = 0; i < 3; i++) cpu.load(t.ptRegs(i));
      k.charge(td, 'mitigation_exit');
      k.charge(td, 'syscall_exit');
    });
    cpu.mode = Mode.User;
    k.steps.endSpan(cpu.t);
    if (error) throw error;
    return result;
  }

  /** syscall_exit_to_user_mode(): the exit work, then the return-to-user preparation shared with interrupts and exceptions. */
  private syscallExitToUserMode(td: Thread, t: LinuxTask, name: string): void {
    const k = this.k;
    // 1. syscall_exit_to_user_mode_work(): reload syscall_work.
    this.step(td, 'syscall_exit_to_user_mode_work', () => {
      if (k.guard(td, t.field('syscall_work'), (t.syscall_work & SYSCALL_WORK_EXIT) !== 0)) this.syscallExitWork(td, t, name);
    });
    // 2. rseq_syscall(): CONFIG_DEBUG_RSEQ only (off). 3-6: irqs off, then exit_to_user_mode().
    this.exitToUserMode(td, t);
  }

  /**
   * local_irq_disable_exit_to_user(); exit_to_user_mode_prepare(): one load of
   * thread_info.flags, the loop if any work bit is set; arch_exit_to_user_mode_prepare();
   * exit_to_user_mode(). Also the way out of an exception taken in user mode.
   */
  exitToUserMode(td: Thread, t: LinuxTask): void {
    const k = this.k;
    let tiWork = 0;
    this.step(td, 'exit_to_user_mode_prepare', () => {
      k.charge(td, 'call'); // cli
      tiWork = this.tif(t);
      if (k.guard(td, t.field('flags'), (tiWork & EXIT_TO_USER_MODE_WORK) !== 0)) tiWork = this.exitToUserModeLoop(td, t, tiWork);
    });
    this.step(td, 'arch_exit_to_user_mode_prepare', () => {
      // The same ti_work, in a register: the branch only.
      k.charge(td, 'guard');
      if ((tiWork & ARCH_EXIT_WORK) !== 0) this.archExitWork(td, t, tiWork);
      // clear TS_COMPAT; choose_random_kstack_offset(rdtsc()): a store to the per-CPU offset.
      td.cpu.store(t.field('status'));
      k.charge(td, 'call');
      td.cpu.store(this.percpu.kstackOffset);
      // exit_to_user_mode(): user_enter_irqoff (context tracking off), arch_exit_to_user_mode (AMD-only, patched).
    });
  }

  /** exit_to_user_mode_loop() (kernel/entry/common.c): IRQs on, do the work, IRQs off, re-read the flags; until none is left. */
  private exitToUserModeLoop(td: Thread, t: LinuxTask, tiWork: number): number {
    const k = this.k;
    k.enter(td, 'exit_to_user_mode_loop', 3);
    while ((tiWork & EXIT_TO_USER_MODE_WORK) !== 0) {
      k.charge(td, 'call'); // local_irq_enable_exit_to_user
      if ((tiWork & (TIF_NEED_RESCHED | TIF_NEED_RESCHED_LAZY)) !== 0) {
        // schedule(): nothing else is runnable in these workloads; the flag is cleared.
        k.call(td, 'schedule', 4, 'call', 4);
        t.flags &= ~(TIF_NEED_RESCHED | TIF_NEED_RESCHED_LAZY);
      }
      // uprobes, livepatch: not modelled (their bits are never set).
      if ((tiWork & (TIF_SIGPENDING | TIF_NOTIFY_SIGNAL)) !== 0) this.archDoSignalOrRestart(td, t);
      if ((tiWork & TIF_NOTIFY_RESUME) !== 0) this.resumeUserModeWork(td, t);
      k.charge(td, 'call'); // local_irq_disable_exit_to_user
      tiWork = this.tif(t);
      k.guard(td, t.field('flags'), (tiWork & EXIT_TO_USER_MODE_WORK) !== 0); // read_thread_flags() again
    }
    k.leave(td, 'exit_to_user_mode_loop');
    return tiWork;
  }

  /** arch_do_signal_or_restart(): get_signal() dequeues under siglock, handle_signal() builds the rt_sigframe on the user stack. */
  private archDoSignalOrRestart(td: Thread, t: LinuxTask): void {
    const k = this.k;
    const p = td.proc;
    k.enter(td, 'arch_do_signal_or_restart', 4);
    k.enter(td, 'get_signal', 4);
    k.lockPair(td, t.signalAddr); // spin_lock_irq(&sighand->siglock)
    k.charge(td, 'sig_op');
    const deliver = p.p_pendingcnt > 0;
    if (deliver) p.p_pendingcnt--;
    k.leave(td, 'get_signal');
    if (deliver) {
      k.enter(td, 'handle_signal', 4);
      k.charge(td, 'signal_deliver');
      const stack = p.vmspace.entries.find((e) => e.name === 'stack');
      if (stack) k.copyout(td, stack.end - RT_SIGFRAME_BYTES - 4096, td.kstack + KSTACK.trapframe, RT_SIGFRAME_BYTES);
      td.pendingHandlers++;
      k.leave(td, 'handle_signal');
    }
    k.leave(td, 'arch_do_signal_or_restart');
  }

  /** resume_user_mode_work(): clear TIF_NOTIFY_RESUME, run task_work (deferred fput), __rseq_handle_notify_resume, the cgroup throttles. */
  private resumeUserModeWork(td: Thread, t: LinuxTask): void {
    const k = this.k;
    k.enter(td, 'resume_user_mode_work', 3);
    t.flags &= ~TIF_NOTIFY_RESUME;
    td.cpu.store(t.field('flags'));
    if (t.taskWork.length > 0) this.work.runTaskWork(td, t);
    if (k.guard(td, t.field('rseq'), t.rseq !== 0)) {
      // __rseq_handle_notify_resume(): read rseq_cs, store cpu_id_start/cpu_id/node_id/mm_cid.
      k.enter(td, '__rseq_handle_notify_resume', 3);
      k.copyin(td, td.kstack + KSTACK.rseq_buf, t.rseq, RSEQ_BYTES);
      k.copyout(td, t.rseq, td.kstack + KSTACK.rseq_buf, RSEQ_BYTES);
      k.leave(td, '__rseq_handle_notify_resume');
    }
    k.charge(td, 'call', 2); // mem_cgroup_handle_over_high, blkcg_maybe_throttle_current
    k.leave(td, 'resume_user_mode_work');
  }

  /** arch_exit_to_user_mode_prepare()'s rare work: NEED_FPU_LOAD restores the FPU registers (XRSTOR). */
  private archExitWork(td: Thread, t: LinuxTask, tiWork: number): void {
    const k = this.k;
    if ((tiWork & TIF_NEED_FPU_LOAD) !== 0) {
      k.call(td, 'switch_fpu_return', 2, 'call', 8);
      t.flags &= ~TIF_NEED_FPU_LOAD;
    }
  }

  /** syscall_trace_enter() (kernel/entry/syscall-common.c), in its order. */
  private syscallTraceEnter(td: Thread, t: LinuxTask, name: string): void {
    const k = this.k;
    const w = t.syscall_work;
    k.enter(td, 'syscall_trace_enter', 3);
    // Syscall User Dispatch: never set here. Then the ptrace entry stop (EMU skips the call: not modelled).
    if ((w & (SYSCALL_WORK_SYSCALL_TRACE | SYSCALL_WORK_SYSCALL_EMU)) !== 0) this.ptraceStop(td, t, 'ptrace_report_syscall_entry');
    if ((w & SYSCALL_WORK_SECCOMP) !== 0) {
      k.enter(td, '__secure_computing', 3);
      td.cpu.load(t.field('sighand') + 64); // current->seccomp.filter
      k.charge(td, 'seccomp_filter');
      k.leave(td, '__secure_computing');
    }
    td.cpu.load(t.ptRegs(2)); // re-read the syscall number: a tracer or filter may change it
    if ((w & SYSCALL_WORK_SYSCALL_TRACEPOINT) !== 0) {
      k.call(td, 'trace_sys_enter', 2, 'tracepoint');
      if (k.dtrace.syscallProbesEnabled) k.dtrace.syscall(td, 'entry', name); // the consumer: syscall::: clauses
    }
    // syscall_enter_audit(): if (unlikely(audit_context())) __audit_syscall_entry().
    if (k.guard(td, t.field('audit_context'), t.auditContext && (w & SYSCALL_WORK_SYSCALL_AUDIT) !== 0)) k.call(td, '__audit_syscall_entry', 2, 'audit_record');
    k.leave(td, 'syscall_trace_enter');
  }

  /** syscall_exit_work(): audit exit, the sys_exit tracepoint, the ptrace exit stop. */
  private syscallExitWork(td: Thread, t: LinuxTask, name: string): void {
    const k = this.k;
    const w = t.syscall_work;
    k.enter(td, 'syscall_exit_work', 3);
    if (k.guard(td, t.field('audit_context'), t.auditContext && (w & SYSCALL_WORK_SYSCALL_AUDIT) !== 0)) k.call(td, '__audit_syscall_exit', 2, 'audit_commit');
    if ((w & SYSCALL_WORK_SYSCALL_TRACEPOINT) !== 0) {
      if (k.dtrace.syscallProbesEnabled) k.dtrace.syscall(td, 'return', name);
      k.call(td, 'trace_sys_exit', 2, 'tracepoint');
    }
    if ((w & (SYSCALL_WORK_SYSCALL_TRACE | SYSCALL_WORK_SYSCALL_EXIT_TRAP)) !== 0) this.ptraceStop(td, t, 'ptrace_report_syscall_exit');
    k.leave(td, 'syscall_exit_work');
  }

  /** ptrace_stop(): notify the tracer, sleep in TASK_TRACED, be resumed. */
  private ptraceStop(td: Thread, t: LinuxTask, fn: string): void {
    const k = this.k;
    k.enter(td, fn, 4);
    td.cpu.load(t.field('ptrace'));
    k.lockPair(td, t.signalAddr); // siglock
    k.charge(td, 'ptrace_stop');
    k.leave(td, fn);
  }
}
