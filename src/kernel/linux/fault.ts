// Linux x86-64's page-fault path for first touch (arch/x86/mm/fault.c, mm/memory.c):
// asm_exc_page_fault -> exc_page_fault -> do_user_addr_fault -> handle_mm_fault ->
// __handle_mm_fault -> handle_pte_fault -> do_anonymous_page (or do_read_fault /
// do_cow_fault for private file mappings, do_wp_page for a write to a read-only
// PTE). A READ fault on anonymous memory maps the shared zero page (no allocation,
// no clear); a WRITE fault allocates a page, clears it (clear_page_erms) and charges
// the memory cgroup. A fault taken in user mode uses the per-VMA lock and leaves
// through the exit-to-user work; a fault inside clear_user()/copy_to_user() runs in
// kernel mode, takes mmap_lock (no per-VMA locking for kernel-mode faults) and
// returns into the copy.

import { Mode } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import type { TakeStep } from '../step-table.js';
import { VM_OBJECT } from '../machine/layout.js';
import type { Thread } from '../proc.js';
import type { MapEntry } from '../vm/vmspace.js';
import type { LinuxSyscallPath } from './entry.js';
import type { LinuxMmOps } from './mm.js';
import { MEMCG, VMA, type LinuxTask } from './task.js';
import type { LinuxStep } from './steps.js';

/** fault_around_bytes: a read fault on a file mapping maps the cached pages of this aligned window. */
const FAULT_AROUND_BYTES = 64 * 1024;

export class LinuxFaultPath {
  private readonly step: TakeStep<LinuxStep>;

  constructor(
    private readonly k: Kernel,
    private readonly task: (td: Thread) => LinuxTask,
    private readonly sys: LinuxSyscallPath,
    private readonly mm: LinuxMmOps,
  ) {
    this.step = k.step.bind(k);
  }

  /** A page fault at `va`: from user mode an exception of its own, from clear_user/copy_to_user a nested one. */
  pageFault(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    const k = this.k;
    const cpu = td.cpu;
    const t = this.task(td);
    const savedMode = cpu.mode;
    k.steps.beginSpan('trap', inKernel ? 'page fault (in syscall)' : 'page fault', cpu.t);
    cpu.mode = Mode.Kernel;
    // asm_exc_page_fault -> error_entry: from user mode swapgs + FENCE_SWAPGS_USER_ENTRY
    // (lfence), CR3/IBRS/untrain as patched (mitigation_entry), sync_regs; from kernel
    // mode only the lfence. Either way the registers are pushed into a pt_regs.
    this.step(td, 'asm_exc_page_fault', () => {
      k.charge(td, 'trap_entry');
      if (!inKernel) {
        k.charge(td, 'mitigation_entry');
        for (let i = 0; i < 3; i++) cpu.store(t.ptRegs(i));
      } else {
        for (let i = 0; i < 3; i++) cpu.store(t.nestedPtRegs(i));
      }
    });
    this.step(td, 'exc_page_fault', () => {
      k.enter(td, 'exc_page_fault', 3);
      // read_cr2(); prefetchw(&mm->mmap_lock); kvm_handle_async_pf (static key); irqentry_enter().
      cpu.load(t.mmField('mmap_lock'));
      k.charge(td, 'call');
      // handle_page_fault(): trace_page_fault_entries (static key off), user address.
      this.doUserAddrFault(td, t, va, write, inKernel);
      k.leave(td, 'exc_page_fault');
    });
    // irqentry_exit(): to user mode the full exit work (exit_to_user_mode_prepare and what follows, as after a syscall);
    // to kernel mode only the preemption check (a static call, a NOP under preempt=none).
    if (!inKernel) this.sys.exitToUserMode(td, t);
    this.step(td, 'iret', () => {
      k.charge(td, 'trap_exit');
      if (!inKernel) k.charge(td, 'mitigation_exit');
    });
    cpu.mode = savedMode;
    k.steps.endSpan(cpu.t);
  }

  /** do_user_addr_fault() (arch/x86/mm/fault.c). */
  private doUserAddrFault(td: Thread, t: LinuxTask, va: number, write: boolean, inKernel: boolean): void {
    const k = this.k;
    const cpu = td.cpu;
    k.enter(td, 'do_user_addr_fault', 4);
    // kprobe_page_fault (compiled out); the RSVD bit; SMAP: a kernel access needs EFLAGS.AC,
    // which clear_user's STAC set; faulthandler_disabled(): the per-CPU preempt count.
    k.guard(td, this.sys.percpu.hot + 8, false);
    k.charge(td, 'call'); // local_irq_enable; perf_sw_event(PERF_COUNT_SW_PAGE_FAULTS)
    const vm = td.proc.vmspace;
    const entry = vm.lookup(va)!;
    const vma = this.mm.vmaAddr(t.mm, entry);
    if (!inKernel) {
      // FAULT_FLAG_USER: lock_vma_under_rcu() -> vma_start_read(); access_error(); handle_mm_fault(... FAULT_FLAG_VMA_LOCK); vma_end_read().
      k.enter(td, 'lock_vma_under_rcu', 2);
      k.charge(td, 'vm_map_op'); // mas_walk under RCU
      k.lockOp(td, vma + VMA.vm_lock);
      k.leave(td, 'lock_vma_under_rcu');
      k.guard(td, vma + VMA.vm_flags, false); // access_error
      this.handleMmFault(td, t, entry, va, write);
      k.lockOp(td, vma + VMA.vm_lock); // vma_end_read
    } else {
      // Kernel-mode faults skip per-VMA locking: mmap_read_trylock, find_vma, access_error, handle_mm_fault, mmap_read_unlock.
      k.lockOp(td, t.mmField('mmap_lock'));
      k.enter(td, 'find_vma', 2);
      k.charge(td, 'vm_map_op');
      cpu.load(vma);
      k.leave(td, 'find_vma');
      k.guard(td, vma + VMA.vm_flags, false); // access_error
      this.handleMmFault(td, t, entry, va, write);
      k.lockOp(td, t.mmField('mmap_lock'));
    }
    k.leave(td, 'do_user_addr_fault');
  }

  /** handle_mm_fault() -> __handle_mm_fault() -> handle_pte_fault(), then mm_account_fault(). */
  private handleMmFault(td: Thread, t: LinuxTask, entry: MapEntry, va: number, write: boolean): void {
    const k = this.k;
    const cpu = td.cpu;
    const vm = td.proc.vmspace;
    const pg = k.pageBytes;
    const vpn = Math.floor(va / pg);
    k.enter(td, 'handle_mm_fault', 3);
    cpu.store(this.mm.globals.vmstat); // count_vm_event(PGFAULT)
    cpu.store(this.mm.globals.memcg + MEMCG.events); // count_memcg_event_mm(PGFAULT)
    // __handle_mm_fault(): walk PGD, P4D, PUD, PMD (THP only with VM_HUGEPAGE under "madvise": no),
    // allocating the PTE page of a new 2 MiB span.
    cpu.load(t.mmField('pgd'));
    for (let level = 0; level < 2; level++) cpu.load(t.mmField('pgd') + 8 + level * 8);
    const pt = this.mm.ptPage(td, t, vpn);
    cpu.load(this.mm.pteAddr(pt, vpn)); // handle_pte_fault: the PTE
    const present = vm.pmap.get(vpn);
    if (present === undefined) {
      if (entry.object === null) this.doAnonymousPage(td, t, entry, pt, vpn, write);
      else if (write && entry.private) this.doCowFault(td, t, entry, pt, vpn);
      else this.doReadFault(td, t, entry, pt, vpn);
    } else {
      this.doWpPage(td, t, entry, pt, vpn, present);
    }
    // mm_account_fault(): min_flt++ (perf's minor-faults counts it too).
    cpu.store(t.field('min_flt'));
    td.proc.ru.minflt++;
    k.leave(td, 'handle_mm_fault');
  }

  /** do_anonymous_page() (mm/memory.c). */
  private doAnonymousPage(td: Thread, t: LinuxTask, entry: MapEntry, pt: number, vpn: number, write: boolean): void {
    const k = this.k;
    const cpu = td.cpu;
    k.enter(td, 'do_anonymous_page', 3);
    k.guard(td, this.mm.vmaAddr(t.mm, entry) + VMA.vm_flags, false); // VM_SHARED => SIGBUS
    k.charge(td, 'vm_fault');
    if (!write) {
      // Map the shared zero page read-only under the PTE lock: no allocation, no clear.
      k.lockOp(td, this.mm.ptlAddr(pt));
      cpu.load(this.mm.pteAddr(pt, vpn)); // recheck pte_none
      this.mm.setPte(td, pt, vpn, this.mm.zeroPfn, false);
      k.lockOp(td, this.mm.ptlAddr(pt));
      k.leave(td, 'do_anonymous_page');
      return;
    }
    this.anonPrepare(td, t, entry);
    const frame = this.allocZeroedFolio(td);
    this.installNewPage(td, t, pt, vpn, frame);
    k.leave(td, 'do_anonymous_page');
  }

  /** vmf_anon_prepare(): the VMA's anon_vma, allocated on its first write fault. */
  private anonPrepare(td: Thread, t: LinuxTask, entry: MapEntry): void {
    const k = this.k;
    const vma = this.mm.vmaAddr(t.mm, entry);
    td.cpu.load(vma + VMA.anon_vma);
    if (t.mm.anonVma.has(entry.name)) return;
    k.enter(td, '__anon_vma_prepare', 2);
    k.charge(td, 'kmalloc', 2); // anon_vma and its anon_vma_chain
    k.charge(td, 'vm_object_op');
    k.lockPair(td, t.mmField('mmap_lock') + 64); // page_table_lock
    td.cpu.store(vma + VMA.anon_vma);
    t.mm.anonVma.add(entry.name);
    k.leave(td, '__anon_vma_prepare');
  }

  /** alloc_anon_folio() -> vma_alloc_zeroed_movable_folio(): an order-0 page with __GFP_ZERO (clear_page_erms), charged to the memcg. */
  private allocZeroedFolio(td: Thread): number {
    const k = this.k;
    const frame = this.mm.allocPage(td);
    k.enter(td, 'clear_page_erms', 1);
    k.zeroFrame(td, frame, false);
    k.leave(td, 'clear_page_erms');
    this.memcgCharge(td);
    return frame;
  }

  /** mem_cgroup_charge() -> charge_memcg -> try_charge (the per-CPU stock) and memcg1_commit_charge. */
  private memcgCharge(td: Thread): void {
    const k = this.k;
    k.enter(td, 'charge_memcg', 2);
    td.cpu.load(this.mm.globals.memcg + MEMCG.stock);
    k.charge(td, 'memcg_charge');
    td.cpu.store(this.mm.globals.memcg + MEMCG.page_counter);
    k.leave(td, 'charge_memcg');
  }

  /**
   * The common tail of a new private page: __folio_mark_uptodate, pte_offset_map_lock,
   * recheck, userfaultfd check, MM_ANONPAGES++, folio_add_new_anon_rmap,
   * folio_add_lru_vma (per-CPU batch), set_ptes (young, dirty, writable), unlock. No TLB flush.
   */
  private installNewPage(td: Thread, t: LinuxTask, pt: number, vpn: number, frame: number): void {
    const k = this.k;
    const cpu = td.cpu;
    k.lockOp(td, this.mm.ptlAddr(pt));
    cpu.load(this.mm.pteAddr(pt, vpn)); // recheck
    cpu.store(t.mmField('rss_stat'));
    k.charge(td, 'pmap_enter'); // rmap + LRU batch
    cpu.store(this.mm.globals.lruBatch);
    this.mm.setPte(td, pt, vpn, frame, true);
    k.lockOp(td, this.mm.ptlAddr(pt));
    t.mm.ownFrames.add(frame);
  }

  /** do_cow_fault(): a write to a private file page never mapped: allocate, copy from the page cache, install. */
  private doCowFault(td: Thread, t: LinuxTask, entry: MapEntry, pt: number, vpn: number): void {
    const k = this.k;
    k.enter(td, 'do_cow_fault', 3);
    k.charge(td, 'vm_fault');
    this.anonPrepare(td, t, entry);
    const frame = this.mm.allocPage(td);
    this.memcgCharge(td);
    const src = this.filePage(td, entry, vpn);
    if (src === undefined) throw new Error(`write fault at page 0x${vpn.toString(16)} beyond the end of ${entry.name} (SIGBUS)`);
    k.enter(td, 'copy_mc_user_highpage', 1);
    td.cpu.copy(k.phys.addr(frame), k.phys.addr(src), k.pageBytes);
    k.leave(td, 'copy_mc_user_highpage');
    this.installNewPage(td, t, pt, vpn, frame);
    k.leave(td, 'do_cow_fault');
  }

  /** do_read_fault(): do_fault_around() maps the cached pages of the 64 KiB window (filemap_map_pages) read-only. */
  private doReadFault(td: Thread, t: LinuxTask, entry: MapEntry, pt: number, vpn: number): void {
    const k = this.k;
    const vm = td.proc.vmspace;
    const pg = k.pageBytes;
    k.enter(td, 'do_read_fault', 3);
    k.charge(td, 'vm_fault');
    const window = FAULT_AROUND_BYTES / pg;
    const first = Math.max(Math.floor(vpn / window) * window, entry.start / pg, Math.floor(vpn / 512) * 512);
    const last = Math.min(first + window, entry.end / pg, Math.floor(vpn / 512) * 512 + 512);
    k.enter(td, 'filemap_map_pages', 3);
    k.lockOp(td, this.mm.ptlAddr(pt));
    for (let v = first; v < last; v++) {
      if (vm.pmap.has(v)) continue;
      const frame = this.filePage(td, entry, v);
      if (frame === undefined) continue; // beyond the end of the file
      k.charge(td, 'pmap_enter'); // folio reference, rmap, set_pte
      this.mm.setPte(td, pt, v, frame, entry.prot === 'rw' && !entry.private);
    }
    td.cpu.store(t.mmField('rss_stat') + 8); // add_mm_counter(MM_FILEPAGES, nr)
    k.lockOp(td, this.mm.ptlAddr(pt));
    k.leave(td, 'filemap_map_pages');
    if (!vm.pmap.has(vpn)) throw new Error(`read fault at page 0x${vpn.toString(16)} beyond the end of ${entry.name} (SIGBUS)`);
    k.leave(td, 'do_read_fault');
  }

  /** do_wp_page(): a write to a present read-only PTE of a private mapping: copy (or clear, for the zero page) into a new page, or reuse an exclusive one. */
  private doWpPage(td: Thread, t: LinuxTask, entry: MapEntry, pt: number, vpn: number, present: number): void {
    const k = this.k;
    k.enter(td, 'do_wp_page', 3);
    k.charge(td, 'vm_fault');
    k.lockOp(td, this.mm.ptlAddr(pt));
    if (t.mm.ownFrames.has(present)) {
      // wp_page_reuse(): an exclusive anonymous page, only its PTE was read-only.
      this.mm.setPte(td, pt, vpn, present, true);
      k.lockOp(td, this.mm.ptlAddr(pt));
      k.leave(td, 'do_wp_page');
      return;
    }
    k.lockOp(td, this.mm.ptlAddr(pt));
    this.anonPrepare(td, t, entry);
    let frame: number;
    k.enter(td, 'wp_page_copy', 2);
    if (present === this.mm.zeroPfn) frame = this.allocZeroedFolio(td);
    else {
      frame = this.mm.allocPage(td);
      this.memcgCharge(td);
      td.cpu.copy(k.phys.addr(frame), k.phys.addr(present), k.pageBytes);
    }
    k.call(td, 'flush_tlb_page', 1); // the old read-only PTE was in the TLB
    this.installNewPage(td, t, pt, vpn, frame);
    k.leave(td, 'wp_page_copy');
    k.leave(td, 'do_wp_page');
  }

  /** The page-cache page behind a file mapping's page (the files are cached: written long ago); undefined beyond the end of the file. */
  private filePage(td: Thread, entry: MapEntry, vpn: number): number | undefined {
    const k = this.k;
    const obj = entry.object!;
    const pindex = entry.offsetPages + (vpn - entry.start / k.pageBytes);
    const vnode = entry.vnode;
    if (vnode?.type === 'reg' && pindex >= Math.ceil(vnode.size / k.pageBytes)) return undefined;
    let frame = obj.pages.get(pindex);
    if (frame === undefined) {
      frame = k.phys.alloc();
      k.phys.firstTouch(frame);
      obj.pages.set(pindex, frame);
    }
    td.cpu.load(obj.addr + VM_OBJECT.rtree); // filemap_get_entry: the mapping's xarray (i_pages)
    return frame;
  }
}
