// Linux's per-task and per-mm state that the x86-64 entry, exit and fault paths
// test: thread_info's flag words at the start of task_struct, and the few other
// fields the paths touch, at the offsets the kernel's BTF gives on the machine the
// host-vm profile was measured on (Linux 6.18, Firecracker). Offsets are right
// about which fields share a 64-byte line, which is what the cache model needs.

import type { Kernel } from '../kernel.js';
import { KSTACK } from '../machine/layout.js';
import type { Thread } from '../proc.js';
import type { OpenFile } from '../vfs.js';

/** task_struct: thread_info first (flags, syscall_work, status), then the fields the paths use. */
export const TASK = {
  size: 2752,
  /** thread_info.flags: the TIF_* word that exit_to_user_mode_prepare tests. */
  flags: 0,
  /** thread_info.syscall_work: the SYSCALL_WORK_* word tested on entry and exit. */
  syscall_work: 8,
  /** thread_info.status: TS_COMPAT. */
  status: 16,
  __state: 24,
  stack: 32,
  ptrace: 48,
  sum_exec_runtime: 232,
  mm: 1240,
  pid: 1320,
  tgid: 1324,
  clear_child_tid: 1424,
  utime: 1488,
  stime: 1496,
  prev_cputime: 1512,
  min_flt: 1568,
  cred: 1792,
  files: 1808,
  signal: 1840,
  sighand: 1848,
  blocked: 1856,
  audit_context: 1944,
  ioac_rchar: 2152,
  ioac_syscr: 2168,
  robust_list: 2560,
  fsbase: 2600,
  rseq: 2680,
} as const;

/** mm_struct: the map's maple tree root, mmap_lock, counters. */
export const MM = { size: 1152, mm_mt: 64, mmap_lock: 128, mm_count: 192, rss_stat: 320, brk: 400, start_brk: 408, pgd: 80 } as const;
/** files_struct: file_lock and the fd array of the embedded fdtable. */
export const FILES = { size: 704, file_lock: 64, fdt: 32, fd_array: 192 } as const;
/** vm_area_struct: vm_start/vm_end/flags and the per-VMA lock (vm_lock_seq, vm_refcnt). */
export const VMA = { size: 192, vm_start: 0, vm_flags: 32, vm_lock: 48, anon_vma: 120 } as const;
/** struct file. */
export const FILE = { size: 256, f_mode: 0, f_op: 40, f_pos: 64, f_count: 56, f_path: 16 } as const;
/** pt_regs: 21 quadwords at the top of the kernel stack, in 3 lines. */
const PT_REGS_BYTES = 168;
const PT_REGS_LINES = Math.ceil(PT_REGS_BYTES / 64);
/** How far below the syscall's pt_regs a kernel-mode exception's frame lands (the syscall's own C frames in between). */
const NESTED_FRAME_DEPTH = 1024;
/**
 * The model's vnode object as the Linux path uses it (VfsOps allocates one per
 * file): the dentry, whose lockref shares the first line with the inode's lock
 * (i_rwsem), then the inode's lines that generic_fillattr and the read path read.
 */
export const DENTRY_INODE = { lock: 0, inode: 64, inode_attrs: 128 } as const;
/** struct ptdesc (the PTE page's struct page): its split page-table lock. */
export const PTDESC = { ptl: 40 } as const;
/** The memory cgroup's lines (MmGlobals.memcg): the per-CPU charge stock, the event counters, the page counter charged. */
export const MEMCG = { stock: 0, events: 32, page_counter: 64 } as const;
/**
 * The global hash tables and locks the Linux path touches, laid out from the
 * kernel's global block (Globals.cnt; FreeBSD's names for the lines before 512 are
 * machine/layout.ts's CNT): byte offsets from it.
 */
export const LINUX_GLOBALS = {
  /** dentry_hashtable: DENTRY_HASH_LINES lines, one per component looked up (modulo). */
  dentry_hashtable: 512,
  /** The final dentry's lockref (legitimize_path / terminate_walk). */
  dentry_lockref: 1024,
  /** futex_queues: FUTEX_HASH_LINES lines, hashed by the futex's address. */
  futex_queues: 1536,
  tasklist_lock: 2048,
} as const;
export const DENTRY_HASH_LINES = 8;
export const FUTEX_HASH_LINES = 16;

// thread_info.flags (TIF_*), x86 bit numbers.
export const TIF_NOTIFY_RESUME = 1 << 1;
export const TIF_SIGPENDING = 1 << 2;
export const TIF_NEED_RESCHED = 1 << 3;
export const TIF_NEED_RESCHED_LAZY = 1 << 4;
export const TIF_USER_RETURN_NOTIFY = 1 << 11;
export const TIF_UPROBE = 1 << 12;
export const TIF_PATCH_PENDING = 1 << 13;
export const TIF_NEED_FPU_LOAD = 1 << 14;
export const TIF_NOTIFY_SIGNAL = 1 << 17;
export const TIF_IO_BITMAP = 1 << 22;

/** include/linux/irq-entry-common.h: the bits that send exit_to_user_mode_prepare into the loop. */
export const EXIT_TO_USER_MODE_WORK =
  TIF_SIGPENDING | TIF_NOTIFY_RESUME | TIF_UPROBE | TIF_NEED_RESCHED | TIF_NEED_RESCHED_LAZY | TIF_PATCH_PENDING | TIF_NOTIFY_SIGNAL;
/** arch/x86/include/asm/entry-common.h: arch_exit_to_user_mode_prepare's work. */
export const ARCH_EXIT_WORK = TIF_USER_RETURN_NOTIFY | TIF_IO_BITMAP | TIF_NEED_FPU_LOAD;

// thread_info.syscall_work (SYSCALL_WORK_*), include/linux/thread_info.h.
export const SYSCALL_WORK_SECCOMP = 1 << 0;
export const SYSCALL_WORK_SYSCALL_TRACEPOINT = 1 << 1;
export const SYSCALL_WORK_SYSCALL_TRACE = 1 << 2;
export const SYSCALL_WORK_SYSCALL_EMU = 1 << 3;
export const SYSCALL_WORK_SYSCALL_AUDIT = 1 << 4;
export const SYSCALL_WORK_SYSCALL_USER_DISPATCH = 1 << 5;
export const SYSCALL_WORK_SYSCALL_EXIT_TRAP = 1 << 6;
export const SYSCALL_WORK_ENTER =
  SYSCALL_WORK_SECCOMP |
  SYSCALL_WORK_SYSCALL_TRACEPOINT |
  SYSCALL_WORK_SYSCALL_TRACE |
  SYSCALL_WORK_SYSCALL_EMU |
  SYSCALL_WORK_SYSCALL_AUDIT |
  SYSCALL_WORK_SYSCALL_USER_DISPATCH;
export const SYSCALL_WORK_EXIT =
  SYSCALL_WORK_SYSCALL_TRACEPOINT |
  SYSCALL_WORK_SYSCALL_TRACE |
  SYSCALL_WORK_SYSCALL_AUDIT |
  SYSCALL_WORK_SYSCALL_USER_DISPATCH |
  SYSCALL_WORK_SYSCALL_EXIT_TRAP;

/** A deferred __fput queued by fput() with task_work_add(TWA_RESUME): runs on the way back to user mode. */
export interface TaskWork {
  kind: 'fput';
  file: OpenFile;
}

/** A task's mm: the brk heap and the top-down mmap allocator (mm->mmap_base, arch_get_unmapped_area_topdown). */
export interface LinuxMm {
  addr: number;
  startBrk: number;
  brk: number;
  /** Next free address below which top-down mappings are placed. */
  mmapTop: number;
  /** Frames this mm owns privately (anonymous pages and COW copies): freed when unmapped. */
  readonly ownFrames: Set<number>;
  /** Page-table pages by (VA >> 21). */
  readonly ptPages: Map<number, number>;
  /** vm_area_struct addresses, by mapping name and start (pieces keep their start's address). */
  readonly vmaAddrs: Map<string, number>;
  /** Mappings that have an anon_vma (vmf_anon_prepare ran once). */
  readonly anonVma: Set<string>;
}

/** The Linux state of one thread: its task_struct's words, as plain numbers at addresses. */
export class LinuxTask {
  /** thread_info.flags (TIF_*). */
  flags = 0;
  /** thread_info.syscall_work (SYSCALL_WORK_*). */
  syscall_work = 0;
  /** The rseq area registered by rseq(2), or 0. */
  rseq = 0;
  /** An audit context allocated at fork (audit enabled). */
  auditContext = false;
  /** Queued task_work (deferred fput) that the exit-to-user loop runs. */
  readonly taskWork: TaskWork[] = [];
  /** References to open files (fds pointing at one struct file). */
  readonly fileRefs = new Map<OpenFile, number>();
  readonly filesAddr: number;
  readonly signalAddr: number;

  constructor(
    readonly td: Thread,
    readonly addr: number,
    public mm: LinuxMm,
    k: Kernel,
  ) {
    this.filesAddr = k.mem.alloc('filedesc', FILES.size);
    this.signalAddr = k.mem.alloc('proc', 1024);
  }

  field(name: keyof typeof TASK): number {
    return this.addr + TASK[name];
  }

  mmField(name: keyof typeof MM): number {
    return this.mm.addr + MM[name];
  }

  /** pt_regs at the top of the 16 KiB kernel stack: line `i` of the frame (0..2). */
  ptRegs(i: number): number {
    return this.td.kstack + KSTACK.size - PT_REGS_LINES * 64 + i * 64;
  }

  /** The pt_regs of an exception taken in kernel mode (a fault inside copy_to_user), pushed on the stack in use: 1 KiB below the syscall's. */
  nestedPtRegs(i: number): number {
    return this.ptRegs(i) - NESTED_FRAME_DEPTH;
  }
}
