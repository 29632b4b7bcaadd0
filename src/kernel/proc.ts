// Processes and threads with FreeBSD's state words. The words are plain numbers
// here, and each lives at an address inside its struct (machine/layout.ts), so a
// guard that tests one pays a load through the cache model.

import type { Cpu, TickCounts } from './cpu.js';
import type { ThreadCode } from './cpu-process.js';
import { PROC, THREAD, UCRED } from './machine/layout.js';
import type { OpenFile } from './vfs.js';
import type { VmSpace } from './vm/vmspace.js';

// p_flag
export const P_TRACED = 0x00800;
export const P_PROFIL = 0x00020;
// p_traceflag bits (1 << KTR_*)
export const KTRFAC_SYSCALL = 1 << 1;
export const KTRFAC_SYSRET = 1 << 2;
// p_stops
export const S_PT_SCE = 0x00010000;
export const S_PT_SCX = 0x00020000;
// td_flags
export const TDF_ASTPENDING = 0x00000800;
export const TDF_NEEDSUSPCHK = 0x00008000;
export const TDF_NEEDRESCHED = 0x00010000;
export const TDF_NEEDSIGCHK = 0x00020000;
// td_pflags
export const TDP_AUDITREC = 0x01000000;
export const TDP_RFPPWAIT = 0x02000000;
export const TDP_NERRNO = 0x00008000;
// td_dbgflags
export const TDB_USERWR = 0x00000080;
// cr_flags
export const CRED_FLAG_CAPMODE = 0x1;

export interface Ucred {
  addr: number;
  cr_flags: number;
}

export class Proc {
  p_flag = 0;
  p_traceflag = 0;
  p_stops = 0;
  p_cowgen = 0;
  /** Queued ktrace records not yet written (p_ktr). */
  p_ktr = 0;
  p_throttled = 0;
  p_pendingcnt = 0;
  readonly threads: Thread[] = [];
  /** Descriptor table: index = fd. */
  readonly files: (OpenFile | null)[] = [];
  /** Installed signal handlers, by signal number. */
  readonly sigactions = new Map<number, string>();
  sigmask = 0;
  /** Minor and major faults (ru_minflt, ru_majflt). */
  readonly ru = { minflt: 0, majflt: 0 };
  exitStatus: number | null = null;

  constructor(
    readonly pid: number,
    /** p_comm: DTrace's execname. */
    public comm: string,
    readonly addr: number,
    readonly vmspace: VmSpace,
    /** struct filedesc (p_fd): the descriptor table. */
    readonly fdAddr: number,
  ) {}

  field(name: keyof typeof PROC): number {
    return this.addr + PROC[name];
  }
}

export class Thread {
  td_flags = 0;
  td_pflags = 0;
  td_dbgflags = 0;
  td_cowgen = 0;
  td_errno = 0;
  /** PCB_FULL_IRET: the next return to user mode goes through iretq (set by sysarch). */
  fullIret = false;
  /** Signals delivered by postsig() whose handlers have yet to run in user mode. */
  pendingHandlers = 0;
  /** DTrace thread-local (self->) variables. */
  readonly dtraceSelf = new Map<string, number>();
  /** statclock ticks that landed while this thread ran, by mode (td_uticks, td_sticks, td_iticks). */
  readonly ticks: TickCounts = { user: 0, system: 0, interrupt: 0 };
  /** The CPU the thread runs on (every modelled thread is bound to one). */
  cpu!: Cpu;
  /** The thread's code, which its CPU's engine process runs (cpu-process.ts). */
  code!: ThreadCode;

  constructor(
    readonly tid: number,
    readonly proc: Proc,
    readonly addr: number,
    readonly kstack: number,
    readonly ucred: Ucred,
  ) {
    proc.threads.push(this);
  }

  field(name: keyof typeof THREAD): number {
    return this.addr + THREAD[name];
  }

  credField(name: keyof typeof UCRED): number {
    return this.ucred.addr + UCRED[name];
  }
}

/** Thrown out of a syscall body when the process has exited: exit(2) never returns. */
export class ProcessExited extends Error {
  constructor(readonly status: number) {
    super(`process exited with status ${status}`);
  }
}
