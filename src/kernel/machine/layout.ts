// Where kernel objects live in the modelled physical address space, so that "the
// flag is in the cache" is a fact of the model. Field offsets follow FreeBSD 11's
// field order (sys/sys/proc.h of the 11-era tree; estimated from the source, not
// compiled): they are right about which fields share a 64-byte line, not exact to
// the byte.

import { KERNEL_TEXT_SPAN, type KernelText } from '../../costmodel/profile.js';

/** Regions of the model's physical address space. */
export const REGION = {
  kernelText: 0x0100_0000,
  kernelData: 0x0100_0000 + KERNEL_TEXT_SPAN,
  kernelStacks: 0x0800_0000,
  /** struct vm_page array, indexed by frame number. */
  vmPageArray: 0x0c00_0000,
  /** Page-table entries the TLB's page walks load (kept apart from the frames; see Cpu.walk). */
  pageTables: 0x100_0000_0000,
  /** Physical page frames handed out by the page allocator. */
  frames: 0x1_0000_0000,
} as const;

/** struct vm_page, in the vm_page array: its lock, and the pv-list lock of its machine-dependent part (md.pv_list). */
export const VM_PAGE = { size: 104, lock: 0, pv_lock: 64 } as const;

/** struct thread: fields the syscall, trap and fault paths read. */
export const THREAD = {
  size: 1152,
  td_proc: 4,
  td_flags: 140,
  td_pflags: 148,
  td_priority: 176,
  td_user_pri: 178,
  td_ucred: 200,
  td_locks: 232,
  td_pticks: 300,
  td_ru: 320,
  td_dbgflags: 420,
  td_retval: 500,
  td_cowgen: 520,
  td_frame: 560,
  td_critnest: 568,
  td_md: 600,
  td_ar: 610,
  td_errno: 620,
  td_sa: 640,
} as const;

/** struct proc. */
export const PROC = {
  size: 1280,
  p_flag: 100,
  p_mtx: 136,
  p_cowgen: 250,
  p_vmspace: 300,
  p_numthreads: 320,
  p_traceflag: 450,
  p_stops: 460,
  p_sysent: 560,
  p_ktr: 650,
  p_racct: 700,
  p_throttled: 704,
  p_pendingcnt: 760,
  p_siglist: 770,
  p_sigacts: 800,
  p_fd: 808,
} as const;

export const UCRED = { size: 256, cr_ref: 0, cr_flags: 60 } as const;
export const SYSENTVEC = { size: 128, sv_table: 0, sv_mask: 8, sv_size: 16, sv_fetch_syscall_args: 64, sv_set_syscall_retval: 72 } as const;
/**
 * struct sysent (sys/sys/sysent.h): one entry of the system-call table. sy_narg
 * first; the DTrace probe ids (sy_entry, sy_return) and sy_thrcnt, which
 * syscall_thread_enter/exit test for SY_THR_STATIC, in the entry's second half.
 */
export const SYSENT = { size: 48, sy_narg: 0, sy_entry: 24, sy_return: 32, sy_thrcnt: 40 } as const;
/** Entries of the modelled sysent table (FreeBSD 11 has about 550 system calls). */
export const SYSENT_ENTRIES = 600;
/**
 * struct vmspace (its vm_map first): the map lock, the entry list's header, the
 * lookup hint, and the pmap embedded in the vmspace (vm_pmap), whose first word is
 * PMAP_LOCK's mutex.
 */
export const VM_MAP = { size: 512, lock: 0, header: 64, hint: 128, nentries: 136, pmap: 256 } as const;
export const VM_OBJECT = { size: 256, lock: 0, ref_count: 64, resident: 72, rtree: 128 } as const;
export const FILEDESC = { size: 512, fd_sx: 0, fd_files: 64, fd_map: 128 } as const;
/**
 * struct vnode: the vnode lock (v_lock, which VOP calls take), v_usecount, the
 * file system's inode (v_data) that VOPs read, the lock serialising file-offset
 * updates (FreeBSD's foffset_lock takes a mutex-pool lock chosen by the file; the
 * model gives each vnode one), the buffer object's lock (bo_lock, which getblk and
 * the storage paths take) and v_rdev (devfs's dev_refthread reads the cdev).
 */
export const VNODE = { size: 512, v_lock: 0, v_usecount: 8, v_data: 64, foffset_lock: 128, bo_lock: 192, v_rdev: 256 } as const;
/** struct file. */
export const FILE = { size: 128 } as const;

/** The trapframe: three lines at the bottom of the kernel stack (tf_rax/r0 in the first, tf_fs in the third). */
export const TRAPFRAME_LINES = 3;
/**
 * A thread's kernel stack (KSTACK_PAGES = 4 pages of 4 KiB), by byte offset from
 * its bottom: the system call's trapframe, a page fault's trapframe, the buffers
 * the bodies copy arguments and results through (copyin/copyout's kernel side),
 * and the pcb at the top.
 */
export const KSTACK = {
  size: 4 * 4096,
  trapframe: 0,
  trap_trapframe: 512,
  /** sysarch(2)'s argument. */
  sysarch_arg: 768,
  /** Paths, stat buffers, signal sets and the other small structures the bodies copy in and out. */
  copy_buf: 1024,
  /** Linux: the rseq area (get_user/put_user of struct rseq). */
  rseq_buf: 2048,
  /** The pcb (pcb_fsbase, pcb_flags): the top 512 bytes. */
  pcb: 4 * 4096 - 512,
} as const;

/**
 * `cnt` (struct vmmeter: v_syscall, v_trap, v_vm_faults, v_zfod in its first
 * line) and the global locks and hash chains the FreeBSD paths take, which the
 * model lays out in the lines after it: byte offsets from &cnt (Globals.cnt).
 * Each is its own lock or line in the kernel; what the model keeps is which of
 * them share a line. (The Linux path's globals after the same base are
 * linux/task.ts's LINUX_GLOBALS.)
 */
export const CNT = {
  counters: 0,
  /** The page queues' mutex (vm_page_activate). */
  vm_pagequeue_mtx: 32,
  /** vm_page_queue_free_mtx: page allocation and vm_page_free. */
  vm_page_queue_free_mtx: 64,
  /** ARM pmap's per-CPU CMAP2 mutex (pmap_zero_page). */
  cmap_mtx: 96,
  pvh_global_lock: 128,
  /** pv_chunks_mutex (get_pv_entry). */
  pv_chunks_mutex: 160,
  /** Name-cache hash-bucket locks: NCBUCKET_LINES lines, one per component looked up (modulo). */
  ncbuckets: 192,
  /** Vnode locks of the components a lookup walks: NCBUCKET_LINES lines. */
  lookup_vnode_locks: 448,
  /** The mount's interlock vfs_busy() takes when a lookup crosses a mount point. */
  vfs_busy: 960,
  /** devfs's mount lock (dm_lock, devfs_populate_vp). */
  devfs_dm_lock: 1024,
  /** The parent directory's vnode lock that namei(CREATE, LOCKPARENT) holds for O_CREAT. */
  create_dvp_lock: 1088,
  /** vn_start_write()'s suspension counter of the mount (vn_truncate). */
  vn_start_write: 1152,
} as const;
/** Lines of the name-cache bucket locks and of the lookup's vnode locks. */
export const NCBUCKET_LINES = 4;

/**
 * Kernel memory zones: like UMA zones, each takes its slabs from pages of its
 * own, so objects of different kinds sit in different large pages (and need
 * different TLB entries), while objects of one kind sit together.
 */
export type Zone = 'global' | 'sysent' | 'proc' | 'thread' | 'ucred' | 'filedesc' | 'file' | 'vnode' | 'vmspace' | 'vm_object' | 'dtrace';
const ZONES: readonly Zone[] = ['global', 'sysent', 'proc', 'thread', 'ucred', 'filedesc', 'file', 'vnode', 'vmspace', 'vm_object', 'dtrace'];
/** Distance between zones: more than a large page, so no two zones share one. */
const ZONE_SPAN = 0x40_0000;
/**
 * Each zone's first object is staggered by this many lines more than the last's,
 * as slab colouring and allocation history spread real objects over the cache's
 * sets; zones starting on one alignment would all collide in set 0.
 */
const ZONE_STAGGER_LINES = 37;

/** Where a modelled kernel function's code is: its text address, and its hot lines if the profile's text map sizes it. */
export interface FunctionCode {
  readonly addr: number;
  readonly hotLines: number | undefined;
}

/** A bump allocator for kernel data per zone, with each object line-aligned. */
export class KernelMemory {
  private readonly next = new Map<Zone, number>(ZONES.map((z, i) => [z, REGION.kernelData + i * ZONE_SPAN + i * ZONE_STAGGER_LINES * 64]));
  private nextText: number;
  private nextStack: number = REGION.kernelStacks;
  private readonly text = new Map<string, FunctionCode>();
  /** Each mapped function's hot lines: its size in lines times the map's hot fraction, at least one. */
  private readonly hotLinesOf = new Map<string, number>();

  /** With a kernel text map, mapped functions sit where the real kernel has them, and the others after the last of them. */
  constructor(
    readonly lineBytes: number,
    private readonly kernelText?: KernelText,
  ) {
    let end = 0;
    for (const [fn, [offset, bytes]] of Object.entries(kernelText?.functions ?? {})) {
      end = Math.max(end, offset + bytes);
      this.hotLinesOf.set(fn, Math.max(1, Math.round(Math.ceil(bytes / lineBytes) * kernelText!.hot_fraction.value)));
    }
    this.nextText = REGION.kernelText + Math.ceil(end / 1024) * 1024;
  }

  /** The lines a mapped function's common path fetches; undefined if it is not in the map. */
  hotLines(fn: string): number | undefined {
    return this.hotLinesOf.get(fn);
  }

  /** Every function whose text has been asked for, in order of first use. */
  textNames(): string[] {
    return [...this.text.keys()];
  }

  /** Allocate `bytes` of kernel data in `zone`, aligned to a line. */
  alloc(zone: Zone, bytes: number): number {
    const base = this.next.get(zone)!;
    const addr = Math.ceil(base / this.lineBytes) * this.lineBytes;
    if (addr + bytes > REGION.kernelData + (ZONES.indexOf(zone) + 1) * ZONE_SPAN) throw new Error(`kernel zone ${zone} is full`);
    this.next.set(zone, addr + bytes);
    return addr;
  }

  /** A global variable alone on its own line (the hooks' globals are scattered over .data and .bss). */
  global(): number {
    return this.alloc('global', this.lineBytes);
  }

  /** A kernel stack of `pages` pages. */
  stack(bytes: number): number {
    const addr = this.nextStack;
    this.nextStack += bytes;
    return addr;
  }

  /** The text address of a modelled kernel function: the map's, or allocated on first use, 17 lines apart. */
  textOf(fn: string): number {
    return this.code(fn).addr;
  }

  /** A function's text address (textOf) and its hot lines (hotLines), looked up once: what entering it needs. */
  code(fn: string): FunctionCode {
    let code = this.text.get(fn);
    if (code === undefined) {
      let addr: number;
      const mapped = this.kernelText?.functions[fn];
      if (mapped) addr = REGION.kernelText + mapped[0];
      else {
        addr = this.nextText;
        if (addr + 17 * this.lineBytes > REGION.kernelData) throw new Error('kernel text region is full');
        // 17 lines apart: room for a function's hot lines, and successive functions
        // start in different cache sets (17 is coprime with every power-of-two set count).
        this.nextText += 17 * this.lineBytes;
      }
      code = { addr, hotLines: this.hotLinesOf.get(fn) };
      this.text.set(fn, code);
    }
    return code;
  }
}

export function vmPageAddr(frame: number): number {
  return REGION.vmPageArray + frame * VM_PAGE.size;
}
