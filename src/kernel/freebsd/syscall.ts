// FreeBSD 11's system-call path (sys/kern/subr_syscall.c and the MD entry): the
// MD entry and its C handler (fast_syscall -> amd64_syscall(), swi_entry ->
// swi_handler()), syscallenter(), the call, syscallret() and the MD exit. Read it
// side by side with subr_syscall.c: one syscallenter() as flat as the C (its
// `if (error == 0)` block and the `retval:` tail), the same step names in the same
// order (./steps.ts), each guard visible as `if (k.guard(td, <word's address>,
// <test>))`, each slow path out of line. The return to user mode, userret() and
// ast(), is ./userret.ts. Steps 1-20 are syscallenter()'s, counted in the C's order.

import { Mode } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import { KSTACK, SYSENT, SYSENTVEC, TRAPFRAME_LINES } from '../machine/layout.js';
import {
  CRED_FLAG_CAPMODE,
  KTRFAC_SYSCALL,
  KTRFAC_SYSRET,
  P_TRACED,
  S_PT_SCE,
  S_PT_SCX,
  TDB_USERWR,
  TDP_AUDITREC,
  TDP_NERRNO,
  TDP_RFPPWAIT,
  ProcessExited,
  type Thread,
} from '../proc.js';
import { Errno } from '../vfs.js';
import type { TakeStep } from '../step-table.js';
import { FREEBSD_SWITCHES, type FreeBSDStep } from './steps.js';
import type { SysentEntry } from './sysent.js';
import type { FreeBSDUserReturn } from './userret.js';
import { STEADY, type SteadyDecl } from '../steady/declare.js';

/**
 * Code lines a system call's own body executes (sys_* and its helpers up to the
 * shared file and VM layers): about 1 KiB [assumed]. The first call of each system
 * call fetches them cold; later calls find them in the cache.
 */
const SYSCALL_BODY_TEXT_LINES = 16;

/** Register arguments before the rest are copied in from the user stack. */
const REG_ARGS = { amd64: 6, armv7: 4, x86_64: 6 } as const;

/** How syscallenter() ends: the call's result, or the error the call or the path set, or the exit of a process that called exit(2). */
interface Outcome {
  result: number;
  error?: Errno;
  exited?: ProcessExited;
}

export class FreeBSDSyscallPath {
  /** The sysent table is fixed when the kernel boots. */
  static readonly [STEADY]: SteadyDecl = { skip: ['sysent'] };
  private readonly step: TakeStep<FreeBSDStep>;

  constructor(
    private readonly k: Kernel,
    private readonly sysent: Map<string, SysentEntry>,
    private readonly ret: FreeBSDUserReturn,
  ) {
    this.step = k.step.bind(k);
  }


  /** A new thread: the state words its guards test, as the run's hooks set them (FREEBSD_SWITCHES). */
  switchOnHooks(td: Thread): void {
    for (const [feature, on] of Object.entries(FREEBSD_SWITCHES)) if (this.k.has(feature as keyof typeof FREEBSD_SWITCHES)) on(td);
  }

  /** The MD entry, amd64_syscall() / swi_handler(): syscallenter(), syscallret(), the MD exit; one system call from user mode back to user mode. */
  syscall(td: Thread, name: string, run: () => number): number {
    const k = this.k;
    const cpu = td.cpu;
    const callp = this.sysent.get(name);
    if (!callp) throw new Error(`no sysent entry for ${name}`);
    const armv7 = k.profile.machine.isa === 'armv7';
    // Frames as stack() shows them: the MD entry, its C handler, then syscallenter...
    const entryFn = armv7 ? 'swi_entry' : 'fast_syscall';
    const handlerFn = armv7 ? 'swi_handler' : 'amd64_syscall';
    k.steps.beginSpan('syscall', name, cpu.t);
    cpu.mode = Mode.Kernel;
    k.enter(td, entryFn, 2);
    this.step(td, entryFn, () => {
      k.charge(td, 'syscall_entry');
      for (let i = 0; i < TRAPFRAME_LINES; i++) cpu.store(td.kstack + KSTACK.trapframe + i * k.lineBytes);
      cpu.store(k.globals.cnt); // PCPU_INC(cnt.v_syscall)
    });
    k.enter(td, handlerFn, 2);
    const out = this.syscallenter(td, name, callp, run);
    if (out.exited) {
      // exit(2) never returns: the thread is gone after sy_call, and DTrace sees no return.
      k.steps.endSpan(cpu.t);
      k.leave(td, handlerFn);
      k.leave(td, entryFn);
      throw out.exited;
    }
    this.syscallret(td);
    k.leave(td, handlerFn);
    // sysarch(AMD64_SET_FSBASE) sets PCB_FULL_IRET: this return takes doreti's
    // iretq path, reloading segment registers and the FS base, as a trap does.
    this.step(td, armv7 ? 'exception_return' : td.fullIret ? 'doreti_iret' : 'sysret', () => {
      k.charge(td, td.fullIret ? 'trap_exit' : 'syscall_exit');
      td.fullIret = false;
      for (let i = 0; i < TRAPFRAME_LINES; i++) cpu.load(td.kstack + KSTACK.trapframe + i * k.lineBytes);
    });
    cpu.mode = Mode.User;
    k.steps.endSpan(cpu.t);
    k.leave(td, entryFn);
    if (out.error) throw out.error;
    return out.result;
  }

  /** syscallenter(): steps 1-20, flat as in subr_syscall.c. */
  private syscallenter(td: Thread, name: string, callp: SysentEntry, run: () => number): Outcome {
    const k = this.k;
    const p = td.proc;
    const cpu = td.cpu;
    const sysentAddr = k.sysent + callp.index * SYSENT.size;
    const out: Outcome = { result: 0 };
    k.enter(td, 'syscallenter', 6);
    this.step(td, 'td_pticks', () => cpu.store(td.field('td_pticks')));
    this.step(td, 'cow_refresh', () => {
      cpu.load(td.field('td_cowgen'));
      if (k.guard(td, p.field('p_cowgen'), td.td_cowgen !== p.p_cowgen)) this.threadCowUpdate(td);
    });
    const traced = (p.p_flag & P_TRACED) !== 0;
    this.step(td, 'debugger_premark', () => {
      if (k.guard(td, p.field('p_flag'), traced)) {
        k.lockPair(td, p.field('p_mtx'));
        td.td_dbgflags &= ~TDB_USERWR;
      }
    });
    this.step(td, 'sv_fetch_syscall_args', () => this.fetchArgs(td, callp, sysentAddr));
    this.step(td, 'ktrsyscall', () => {
      if (k.guard(td, p.field('p_traceflag'), (p.p_traceflag & KTRFAC_SYSCALL) !== 0)) this.ktrRecord(td, 'ktrsyscall');
    });
    // if (error == 0) { ... }: the model's argument fetch does not fail.
    this.stopevents(td, 'stopevent_sce', 'ptracestop_sce', traced && (p.p_stops & S_PT_SCE) !== 0);
    this.step(td, 'refetch_args', () => {
      if (k.guard(td, td.field('td_dbgflags'), (td.td_dbgflags & TDB_USERWR) !== 0)) this.fetchArgs(td, callp, sysentAddr);
    });
    this.step(td, 'capsicum_check', () => {
      cpu.load(td.field('td_ucred'));
      if (k.guard(td, td.credField('cr_flags'), (td.ucred.cr_flags & CRED_FLAG_CAPMODE) !== 0) && !k.guard(td, sysentAddr, callp.capEnabled)) {
        out.error = new Errno('ECAPMODE'); // goto retval
      }
    });
    if (!out.error) {
      this.step(td, 'syscall_thread_enter', () => {
        k.call(td, 'syscall_thread_enter', 1);
        k.guard(td, sysentAddr + SYSENT.sy_thrcnt, false); // sy_thrcnt & SY_THR_STATIC: built-in entries are static
      });
      this.step(td, 'dtrace_entry', () => {
        if (k.guard(td, k.globals.systrace_probe_func, k.dtrace.syscallProbesEnabled)) {
          cpu.load(sysentAddr + SYSENT.sy_entry);
          k.dtrace.syscall(td, 'entry', name);
        }
      });
      this.step(td, 'audit_syscall_enter', () => {
        if (k.guard(td, k.globals.audit_enabled, k.has('audit'))) {
          k.charge(td, 'audit_record');
          k.charge(td, 'kmalloc');
          td.td_pflags |= TDP_AUDITREC;
        }
      });
      this.step(td, 'sy_call', () => this.syCall(td, callp.bodyFn, run, out));
      if (out.exited) {
        k.leave(td, 'syscallenter');
        return out;
      }
      this.step(td, 'audit_syscall_exit', () => {
        if (k.guard(td, td.field('td_pflags'), (td.td_pflags & TDP_AUDITREC) !== 0)) {
          k.charge(td, 'audit_commit');
          td.td_pflags &= ~TDP_AUDITREC;
        }
      });
      this.step(td, 'save_errno', () => {
        k.guard(td, td.field('td_pflags'), (td.td_pflags & TDP_NERRNO) !== 0);
        if (out.error) cpu.store(td.field('td_errno'));
      });
      this.step(td, 'dtrace_return', () => {
        if (k.guard(td, k.globals.systrace_probe_func, k.dtrace.syscallProbesEnabled)) {
          cpu.load(sysentAddr + SYSENT.sy_return);
          k.dtrace.syscall(td, 'return', name);
        }
      });
      this.step(td, 'syscall_thread_exit', () => {
        k.call(td, 'syscall_thread_exit', 1);
        k.guard(td, sysentAddr + SYSENT.sy_thrcnt, false);
      });
    }
    // retval:
    this.step(td, 'sv_set_syscall_retval', () => {
      k.call(td, 'cpu_set_syscall_retval', 1);
      cpu.load(td.field('td_retval'));
      cpu.store(td.kstack + KSTACK.trapframe); // trapframe rax/r0 (and the error flag)
    });
    k.leave(td, 'syscallenter');
    return out;
  }

  /** error = (callp->sy_call)(td, args): the body's result or errno; exit(2) does not come back. */
  private syCall(td: Thread, bodyFn: string, run: () => number, out: Outcome): void {
    const k = this.k;
    k.enter(td, bodyFn, SYSCALL_BODY_TEXT_LINES);
    try {
      out.result = run();
    } catch (e) {
      if (e instanceof Errno) out.error = e;
      else if (e instanceof ProcessExited) out.exited = e;
      else throw e;
    }
    k.leave(td, bodyFn);
  }

  /** syscallret(): userret(), then the ktrace, ptrace and vfork checks, and the MD AST check. */
  private syscallret(td: Thread): void {
    const k = this.k;
    const p = td.proc;
    const traced = (p.p_flag & P_TRACED) !== 0;
    k.enter(td, 'syscallret', 3);
    this.ret.userret(td);
    this.step(td, 'ktrsysret', () => {
      if (k.guard(td, p.field('p_traceflag'), (p.p_traceflag & KTRFAC_SYSRET) !== 0)) this.ktrRecord(td, 'ktrsyscall');
    });
    this.step(td, 'clear_nerrno', () => td.cpu.store(td.field('td_pflags')));
    this.step(td, 'traced_mark', () => {
      if (k.guard(td, p.field('p_flag'), traced)) k.lockPair(td, p.field('p_mtx'));
    });
    this.stopevents(td, 'stopevent_scx', 'ptracestop_scx', traced && (p.p_stops & S_PT_SCX) !== 0);
    this.step(td, 'vfork_wait', () => {
      if (k.guard(td, td.field('td_pflags'), (td.td_pflags & TDP_RFPPWAIT) !== 0)) {
        // The child has already exec'd: lock it, see P_PPWAIT clear, unlock.
        k.lockPair(td, p.field('p_mtx'));
        k.charge(td, 'ptrace_stop');
        td.td_pflags &= ~TDP_RFPPWAIT;
      }
    });
    k.leave(td, 'syscallret');
    this.ret.astCheck(td);
  }

  /** p_sysent->sv_fetch_syscall_args (cpu_fetch_syscall_args): the sysent entry, the arguments past the registers from the user stack, td_retval cleared. */
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

  /** ktrsyscall() / ktrsysret(): a ktrace record queued for ktruserret() to write. */
  private ktrRecord(td: Thread, fn: 'ktrsyscall' | 'ktrsysret'): void {
    const k = this.k;
    k.enter(td, fn, 3);
    k.charge(td, 'ktrace_record');
    k.charge(td, 'kmalloc');
    k.lockPair(td, td.proc.field('p_mtx'));
    td.proc.p_ktr++;
    k.leave(td, fn);
  }

  /** STOPEVENT(p, S_SCE/S_SCX) (its p_stops test and the macro's WITNESS_WARN), then the ptrace stop if the debugger asked for one. */
  private stopevents(td: Thread, stopevent: 'stopevent_sce' | 'stopevent_scx', ptrace: 'ptracestop_sce' | 'ptracestop_scx', stops: boolean): void {
    const k = this.k;
    const p = td.proc;
    this.step(td, stopevent, () => {
      k.guard(td, p.field('p_stops'), false);
      k.witnessWarn(td);
    });
    this.step(td, ptrace, () => {
      if (k.guard(td, p.field('p_flag'), stops)) this.ptracestop(td);
    });
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
