// FreeBSD 11's return to user mode (sys/kern/subr_trap.c): userret(), the checks
// on every return from a system call or a trap, and the MD AST check with ast()
// (signals, suspension, rescheduling), which ends in userret() again. Read it side
// by side with subr_trap.c: same step names (./steps.ts), same order, each guard
// visible as `if (k.guard(td, <word's address>, <test>))`.

import type { Kernel } from '../kernel.js';
import { KSTACK } from '../machine/layout.js';
import { P_PROFIL, TDF_ASTPENDING, TDF_NEEDRESCHED, TDF_NEEDSIGCHK, TDF_NEEDSUSPCHK, type Thread } from '../proc.js';
import type { TakeStep } from '../step-table.js';
import type { FreeBSDStep } from './steps.js';

/** The signal frame postsig() copies out to the user stack (struct sigframe: siginfo and ucontext). */
const SIGFRAME_BYTES = 832;

export class FreeBSDUserReturn {
  private readonly step: TakeStep<FreeBSDStep>;

  constructor(private readonly k: Kernel) {
    this.step = k.step.bind(k);
  }


  /** userret(): the checks on every return to user mode (also after traps). */
  userret(td: Thread): void {
    const k = this.k;
    const p = td.proc;
    const cpu = td.cpu;
    k.enter(td, 'userret', 4);
    this.step(td, 'userret_kassert_wexit', () => k.kassert(td));
    this.step(td, 'ktruserret', () => {
      if (k.guard(td, p.field('p_ktr'), p.p_ktr > 0)) {
        k.enter(td, 'ktruserret', 4);
        k.charge(td, 'ktrace_write', p.p_ktr);
        k.lockPair(td, p.field('p_mtx'));
        p.p_ktr = 0;
        k.leave(td, 'ktruserret');
      }
    });
    this.step(td, 'softdep_ast_cleanup', () => k.guard(td, k.globals.softdep_ast_cleanup, false));
    this.step(td, 'g_waitidle', () => k.guard(td, td.field('td_pflags'), false));
    this.step(td, 'addupc_task', () => {
      if (k.guard(td, p.field('p_flag'), (p.p_flag & P_PROFIL) !== 0)) k.call(td, 'addupc_task', 2, 'profil');
    });
    this.step(td, 'sched_userret', () => {
      cpu.load(td.field('td_priority'));
      k.charge(td, 'call');
    });
    this.step(td, 'userret_checks', () => {
      k.witnessWarn(td);
      cpu.load(td.field('td_critnest'));
      cpu.load(td.field('td_locks'));
      k.kassert(td, 9);
    });
    this.step(td, 'racct_throttle', () => {
      if (k.guard(td, k.globals.racct_enable, k.has('racct'))) {
        k.lockOp(td, p.field('p_mtx'));
        k.guard(td, p.field('p_throttled'), false);
        k.charge(td, 'racct');
        k.lockOp(td, p.field('p_mtx'));
      }
    });
    k.leave(td, 'userret');
  }

  /** The MD check before returning to user mode (fast_syscall before sysretq; DO_AST on ARM), and ast(). */
  astCheck(td: Thread): void {
    const k = this.k;
    this.step(td, 'ast_check', () => {
      if (k.guard(td, td.field('td_flags'), (td.td_flags & (TDF_ASTPENDING | TDF_NEEDRESCHED)) !== 0)) this.ast(td);
    });
  }

  private ast(td: Thread): void {
    const k = this.k;
    const p = td.proc;
    k.enter(td, 'ast', 4);
    k.lockPair(td, td.field('td_flags')); // thread_lock around the flag snapshot
    const flags = td.td_flags;
    td.td_flags &= ~(TDF_ASTPENDING | TDF_NEEDRESCHED | TDF_NEEDSIGCHK | TDF_NEEDSUSPCHK);
    td.cpu.store(k.globals.cnt); // cnt.v_trap++
    if ((flags & TDF_NEEDSIGCHK) !== 0 || p.p_pendingcnt > 0) {
      k.lockPair(td, p.field('p_mtx'));
      k.lockPair(td, p.field('p_sigacts'));
      while (p.p_pendingcnt > 0) {
        p.p_pendingcnt--;
        this.postsig(td);
      }
    }
    if ((flags & TDF_NEEDSUSPCHK) !== 0) {
      k.lockPair(td, p.field('p_mtx'));
      k.call(td, 'thread_suspend_check', 2, 'suspend_check');
    }
    k.leave(td, 'ast');
    this.userret(td);
  }

  /** postsig(): build the signal frame and copy it out to the user stack; the handler runs when we return. */
  private postsig(td: Thread): void {
    const k = this.k;
    k.enter(td, 'postsig', 4);
    k.charge(td, 'signal_deliver');
    const stack = td.proc.vmspace.entries.find((e) => e.name === 'stack')!;
    k.copyout(td, stack.end - SIGFRAME_BYTES, td.kstack + KSTACK.trapframe, SIGFRAME_BYTES);
    td.pendingHandlers++;
    k.leave(td, 'postsig');
  }
}
