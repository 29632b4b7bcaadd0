// Where kernel objects live in the modelled physical address space, so that "the
// flag is in the cache" is a fact of the model. Field offsets follow FreeBSD 11's
// field order (sys/sys/proc.h) as estimated in the reference (section 6): they are
// right about which fields share a 64-byte line, not exact to the byte.

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

export const VM_PAGE_STRUCT_BYTES = 104;

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
/** struct vmspace / vm_map header, vm_object, filedesc: fields the modelled paths touch. */
export const VM_MAP = { size: 512, lock: 0, header: 64, hint: 128, nentries: 136, pmap: 256 } as const;
export const VM_OBJECT = { size: 256, lock: 0, ref_count: 64, resident: 72, rtree: 128 } as const;
export const FILEDESC = { size: 512, fd_sx: 0, fd_files: 64, fd_map: 128 } as const;

export const SYSENT_BYTES = 48;
export const TRAPFRAME_LINES = 3;

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

/** A bump allocator for kernel data per zone, with each object line-aligned. */
export class KernelMemory {
  private readonly next = new Map<Zone, number>(ZONES.map((z, i) => [z, REGION.kernelData + i * ZONE_SPAN + i * ZONE_STAGGER_LINES * 64]));
  private nextText: number;
  private nextStack: number = REGION.kernelStacks;
  private readonly text = new Map<string, number>();
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

  /** A global variable alone on its own line (scattered .data/.bss, as the reference says). */
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
    let addr = this.text.get(fn);
    if (addr === undefined) {
      const mapped = this.kernelText?.functions[fn];
      if (mapped) addr = REGION.kernelText + mapped[0];
      else {
        addr = this.nextText;
        if (addr + 17 * this.lineBytes > REGION.kernelData) throw new Error('kernel text region is full');
        // 17 lines apart: room for a function's hot lines, and successive functions
        // start in different cache sets (17 is coprime with every power-of-two set count).
        this.nextText += 17 * this.lineBytes;
      }
      this.text.set(fn, addr);
    }
    return addr;
  }
}

export function vmPageAddr(frame: number): number {
  return REGION.vmPageArray + frame * VM_PAGE_STRUCT_BYTES;
}
