// FreeBSD 11's system-call path (sys/kern/subr_syscall.c and the MD entry):
// syscallenter(), the call, syscallret() with userret() and ast(). Read it side
// by side with subr_syscall.c: same step names, same order, each guard visible
// as `if (k.guard(td, <word's address>, <test>))`, each slow path out of line.
// The step numbers are those of ../../../../shared/reference/freebsd-syscall-path.md.

import { Mode } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import { KSTACK, SYSENT, SYSENTVEC, TRAPFRAME_LINES } from '../machine/layout.js';
import {
  CRED_FLAG_CAPMODE,
  KTRFAC_SYSCALL,
  KTRFAC_SYSRET,
  P_PROFIL,
  P_TRACED,
  S_PT_SCE,
  S_PT_SCX,
  TDB_USERWR,
  TDF_ASTPENDING,
  TDF_NEEDRESCHED,
  TDF_NEEDSIGCHK,
  TDF_NEEDSUSPCHK,
  TDP_AUDITREC,
  TDP_NERRNO,
  TDP_RFPPWAIT,
  ProcessExited,
  type Thread,
} from '../proc.js';
import { Errno } from '../vfs.js';
import type { SysentEntry } from './sysent.js';

/**
 * Code lines a system call's own body executes (sys_* and its helpers up to the
 * shared file and VM layers): about 1 KiB [assumed]. The first call of each system
 * call fetches them cold; later calls find them in the cache.
 */
const SYSCALL_BODY_TEXT_LINES = 16;

/** Register arguments before the rest are copied in from the user stack. */
const REG_ARGS = { amd64: 6, armv7: 4, x86_64: 6 } as const;

export class FreeBSDSyscallPath {
  constructor(
    private readonly k: Kernel,
    private readonly sysent: Map<string, SysentEntry>,
  ) {}

  /** amd64_syscall() / swi_handler(): one system call from user mode back to user mode. */
  syscall(td: Thread, name: string, run: () => number): number {
    const k = this.k;
    const cpu = td.cpu;
    const callp = this.sysent.get(name);
    if (!callp) throw new Error(`no sysent entry for ${name}`);
    k.steps.beginSpan('syscall', name, cpu.t);
    cpu.mode = Mode.Kernel;
    const isa = k.profile.machine.isa;
    // Frames as stack() shows them: the MD entry, its C handler, then syscallenter...
    const [entryFn, handlerFn] = isa === 'armv7' ? ['swi_entry', 'swi_handler'] : ['fast_syscall', 'amd64_syscall'];
    k.enter(td, entryFn, 2);
    try {
      k.step(td, entryFn, () => {
        k.charge(td, 'syscall_entry');
        for (let i = 0; i < TRAPFRAME_LINES; i++) cpu.store(td.kstack + KSTACK.trapframe + i * k.lineBytes);
        cpu.store(k.globals.cnt); // PCPU_INC(cnt.v_syscall)
      });
      let result = 0;
      let error: Errno | undefined;
      k.enter(td, handlerFn, 2);
      try {
        k.enter(td, 'syscallenter', 6);
        try {
          result = this.syscallenter(td, name, callp, run);
        } catch (e) {
          if (e instanceof ProcessExited) {
            // exit(2) never returns: the thread is gone after sy_call, and DTrace sees no return.
            k.steps.endSpan(cpu.t);
            throw e;
          }
          if (!(e instanceof Errno)) throw e;
          error = e;
        } finally {
          k.leave(td, 'syscallenter');
        }
        this.syscallret(td);
      } finally {
        k.leave(td, handlerFn);
      }
      k.step(td, isa === 'armv7' ? 'exception_return' : td.fullIret ? 'doreti_iret' : 'sysret', () => {
        // sysarch(AMD64_SET_FSBASE) sets PCB_FULL_IRET: this return takes doreti's
        // iretq path, reloading segment registers and the FS base, as a trap does.
        k.charge(td, td.fullIret ? 'trap_exit' : 'syscall_exit');
        td.fullIret = false;
        for (let i = 0; i < TRAPFRAME_LINES; i++) cpu.load(td.kstack + KSTACK.trapframe + i * k.lineBytes);
      });
      cpu.mode = Mode.User;
      k.steps.endSpan(cpu.t);
      if (error) throw error;
      return result;
    } finally {
      k.leave(td, entryFn);
    }
  }

  private syscallenter(td: Thread, name: string, callp: SysentEntry, run: () => number): number {
    const k = this.k;
    const p = td.proc;
    const cpu = td.cpu;
    const traced = (p.p_flag & P_TRACED) !== 0;
    const sysentAddr = k.sysent + callp.index * SYSENT.size;

    k.step(td, 'td_pticks', () => cpu.store(td.field('td_pticks')));
    k.step(td, 'cow_refresh', () => {
      cpu.load(td.field('td_cowgen'));
      if (k.guard(td, p.field('p_cowgen'), td.td_cowgen !== p.p_cowgen)) this.threadCowUpdate(td);
    });
    k.step(td, 'debugger_premark', () => {
      if (k.guard(td, p.field('p_flag'), traced)) {
        k.lockPair(td, p.field('p_mtx'));
        td.td_dbgflags &= ~TDB_USERWR;
      }
    });
    k.step(td, 'sv_fetch_syscall_args', () => this.fetchArgs(td, callp, sysentAddr));
    k.step(td, 'ktrsyscall', () => {
      if (k.guard(td, p.field('p_traceflag'), (p.p_traceflag & KTRFAC_SYSCALL) !== 0)) this.ktrRecord(td);
    });
    k.step(td, 'stopevent_sce', () => {
      k.guard(td, p.field('p_stops'), false);
      k.witnessWarn(td);
    });
    k.step(td, 'ptracestop_sce', () => {
      if (k.guard(td, p.field('p_flag'), traced && (p.p_stops & S_PT_SCE) !== 0)) this.ptracestop(td);
    });
    k.step(td, 'refetch_args', () => {
      if (k.guard(td, td.field('td_dbgflags'), (td.td_dbgflags & TDB_USERWR) !== 0)) this.fetchArgs(td, callp, sysentAddr);
    });
    let capDenied = false;
    k.step(td, 'capsicum_check', () => {
      cpu.load(td.field('td_ucred'));
      if (k.guard(td, td.credField('cr_flags'), (td.ucred.cr_flags & CRED_FLAG_CAPMODE) !== 0)) {
        capDenied = !k.guard(td, sysentAddr, callp.capEnabled);
      }
    });
    if (capDenied) {
      // error = ECAPMODE; goto retval: no thread-enter, probes, audit or call.
      this.setRetval(td);
      throw new Errno('ECAPMODE');
    }
    return this.finishCall(td, name, sysentAddr, run);
  }

  /** Steps 11-20: thread-enter, DTrace entry, audit entry, the call, and the way back. */
  private finishCall(td: Thread, name: string, sysentAddr: number, run: () => number): number {
    const k = this.k;
    const cpu = td.cpu;
    k.step(td, 'syscall_thread_enter', () => {
      k.call(td, 'syscall_thread_enter', 1);
      k.guard(td, sysentAddr + SYSENT.sy_thrcnt, false); // sy_thrcnt & SY_THR_STATIC: built-in entries are static
    });
    k.step(td, 'dtrace_entry', () => {
      if (k.guard(td, k.globals.systrace_probe_func, k.dtrace.syscallProbesEnabled)) {
        cpu.load(sysentAddr + SYSENT.sy_entry);
        k.dtrace.syscall(td, 'entry', name);
      }
    });
    k.step(td, 'audit_syscall_enter', () => {
      if (k.guard(td, k.globals.audit_enabled, k.has('audit'))) {
        k.charge(td, 'audit_record');
        k.charge(td, 'kmalloc');
        td.td_pflags |= TDP_AUDITREC;
      }
    });
    let result = 0;
    let error: Errno | undefined;
    k.step(td, 'sy_call', () => {
      k.enter(td, `sys_${name}`, SYSCALL_BODY_TEXT_LINES);
      try {
        result = run();
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
        error = e;
      } finally {
        k.leave(td, `sys_${name}`);
      }
    });
    k.step(td, 'audit_syscall_exit', () => {
      if (k.guard(td, td.field('td_pflags'), (td.td_pflags & TDP_AUDITREC) !== 0)) {
        k.charge(td, 'audit_commit');
        td.td_pflags &= ~TDP_AUDITREC;
      }
    });
    k.step(td, 'save_errno', () => {
      k.guard(td, td.field('td_pflags'), (td.td_pflags & TDP_NERRNO) !== 0);
      if (error) cpu.store(td.field('td_errno'));
    });
    k.step(td, 'dtrace_return', () => {
      if (k.guard(td, k.globals.systrace_probe_func, k.dtrace.syscallProbesEnabled)) {
        cpu.load(sysentAddr + SYSENT.sy_return);
        k.dtrace.syscall(td, 'return', name);
      }
    });
    k.step(td, 'syscall_thread_exit', () => {
      k.call(td, 'syscall_thread_exit', 1);
      k.guard(td, sysentAddr + SYSENT.sy_thrcnt, false);
    });
    this.setRetval(td);
    if (error) throw error;
    return result;
  }

  /** sv_set_syscall_retval: the result (or errno and the carry flag) into the trapframe. */
  private setRetval(td: Thread): void {
    this.k.step(td, 'sv_set_syscall_retval', () => {
      this.k.call(td, 'cpu_set_syscall_retval', 1);
      td.cpu.load(td.field('td_retval'));
      td.cpu.store(td.kstack + KSTACK.trapframe); // trapframe rax/r0 (and the error flag)
    });
  }

  /** syscallret(): userret(), then the ktrace, ptrace, vfork and AST checks. */
  syscallret(td: Thread): void {
    const k = this.k;
    const p = td.proc;
    const traced = (p.p_flag & P_TRACED) !== 0;
    k.enter(td, 'syscallret', 3);
    this.userret(td);
    k.step(td, 'ktrsysret', () => {
      if (k.guard(td, p.field('p_traceflag'), (p.p_traceflag & KTRFAC_SYSRET) !== 0)) this.ktrRecord(td);
    });
    k.step(td, 'clear_nerrno', () => td.cpu.store(td.field('td_pflags')));
    k.step(td, 'traced_mark', () => {
      if (k.guard(td, p.field('p_flag'), traced)) k.lockPair(td, p.field('p_mtx'));
    });
    k.step(td, 'stopevent_scx', () => {
      k.guard(td, p.field('p_stops'), false);
      k.witnessWarn(td);
    });
    k.step(td, 'ptracestop_scx', () => {
      if (k.guard(td, p.field('p_flag'), traced && (p.p_stops & S_PT_SCX) !== 0)) this.ptracestop(td);
    });
    k.step(td, 'vfork_wait', () => {
      if (k.guard(td, td.field('td_pflags'), (td.td_pflags & TDP_RFPPWAIT) !== 0)) {
        // The child has already exec'd: lock it, see P_PPWAIT clear, unlock.
        k.lockPair(td, p.field('p_mtx'));
        k.charge(td, 'ptrace_stop');
        td.td_pflags &= ~TDP_RFPPWAIT;
      }
    });
    k.leave(td, 'syscallret');
    this.astCheck(td);
  }

  /** userret(): the checks on every return to user mode (also after traps). */
  userret(td: Thread): void {
    const k = this.k;
    const p = td.proc;
    const cpu = td.cpu;
    k.enter(td, 'userret', 4);
    k.step(td, 'userret_kassert_wexit', () => k.kassert(td));
    k.step(td, 'ktruserret', () => {
      if (k.guard(td, p.field('p_ktr'), p.p_ktr > 0)) {
        k.enter(td, 'ktruserret', 4);
        k.charge(td, 'ktrace_write', p.p_ktr);
        k.lockPair(td, p.field('p_mtx'));
        p.p_ktr = 0;
        k.leave(td, 'ktruserret');
      }
    });
    k.step(td, 'softdep_ast_cleanup', () => k.guard(td, k.globals.softdep_ast_cleanup, false));
    k.step(td, 'g_waitidle', () => k.guard(td, td.field('td_pflags'), false));
    k.step(td, 'addupc_task', () => {
      if (k.guard(td, p.field('p_flag'), (p.p_flag & P_PROFIL) !== 0)) k.call(td, 'addupc_task', 2, 'profil');
    });
    k.step(td, 'sched_userret', () => {
      cpu.load(td.field('td_priority'));
      k.charge(td, 'call');
    });
    k.step(td, 'userret_checks', () => {
      k.witnessWarn(td);
      cpu.load(td.field('td_critnest'));
      cpu.load(td.field('td_locks'));
      k.kassert(td, 9);
    });
    k.step(td, 'racct_throttle', () => {
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
    k.step(td, 'ast_check', () => {
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
    td.cpu.store(k.globals.cnt);
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
    const frameBytes = 832;
    k.copyout(td, td.proc.vmspace.entries.find((e) => e.name === 'stack')!.end - frameBytes, td.kstack, frameBytes);
    td.pendingHandlers++;
    k.leave(td, 'postsig');
  }

  private fetchArgs(td: Thread, callp: SysentEntry, sysentAddr: number): void {
    const k = this.k;
    const cpu = td.cpu;
    cpu.load(td.proc.field('p_sysent'));
    cpu.load(k.sysentvec + SYSENTVEC.sv_fetch_syscall_args);
    k.call(td, 'cpu_fetch_syscall_args', 2);
    cpu.load(k.sysentvec + SYSENTVEC.sv_table);
    cpu.load(sysentAddr + SYSENT.sy_narg);
    const extra = callp.nargs - REG_ARGS[k.profile.machine.isa];
    if (extra > 0) k.copyin(td, td.field('td_sa'), td.proc.vmspace.entries.find((e) => e.name === 'stack')!.end - 64, extra * 8);
    cpu.store(td.field('td_retval'));
  }

  private ktrRecord(td: Thread): void {
    const k = this.k;
    k.enter(td, 'ktrsyscall', 3);
    k.charge(td, 'ktrace_record');
    k.charge(td, 'kmalloc');
    k.lockPair(td, td.proc.field('p_mtx'));
    td.proc.p_ktr++;
    k.leave(td, 'ktrsyscall');
  }

  private ptracestop(td: Thread): void {
    const k = this.k;
    k.enter(td, 'ptracestop', 4);
    k.lockPair(td, td.proc.field('p_mtx'));
    k.charge(td, 'ptrace_stop');
    k.leave(td, 'ptracestop');
  }

  private threadCowUpdate(td: Thread): void {
    const k = this.k;
    k.lockPair(td, td.proc.field('p_mtx'));
    k.charge(td, 'call');
    td.td_cowgen = td.proc.p_cowgen;
  }
}
