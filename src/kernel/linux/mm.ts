// Linux's address-space operations (mm/mmap.c, mm/vma.c, mm/mprotect.c,
// mm/memory.c zap_pte_range, mm/page_alloc.c): mmap(2) and munmap(2) with the
// top-down allocator, brk(2), mprotect(2), exit_mmap, and the page-table and page
// allocation helpers the fault path shares. Each charges what the kernel does:
// the mmap_lock, maple-tree stores, vm_area_struct allocations, one PTE clear and
// rmap update per mapped page, one free per private page, the TLB flush.

import type { Kernel } from '../kernel.js';
import { num, str, type SyscallArgs } from '../syscall-args.js';
import { vmPageAddr } from '../machine/layout.js';
import type { Thread } from '../proc.js';
import { Errno, type Vnode } from '../vfs.js';
import type { MapEntry, Prot } from '../vm/vmspace.js';
import { MM, PTDESC, VMA, type LinuxMm, type LinuxTask } from './task.js';

/** Span of one page-table page (512 PTEs of 4 KiB pages). */
export const PT_SPAN_BYTES = 2 * 1024 * 1024;

/** Per-CPU and global lines the allocator and memcg touch. */
export interface MmGlobals {
  /** The zone's per-CPU page lists (pcp) and the vm event counters. */
  pcp: number;
  /** The memory cgroup's page counter and its per-CPU stock. */
  memcg: number;
  /** The per-CPU LRU folio batch. */
  lruBatch: number;
  /** vm_stat / vm_event_states lines. */
  vmstat: number;
}

export class LinuxMmOps {
  readonly globals: MmGlobals;

  constructor(
    private readonly k: Kernel,
    private readonly task: (td: Thread) => LinuxTask,
    /** The shared zero page: read faults on anonymous memory map it. */
    readonly zeroPfn: number,
  ) {
    this.globals = { pcp: k.mem.global(), memcg: k.mem.global(), lruBatch: k.mem.global(), vmstat: k.mem.global() };
  }

  newMm(mmapBase: number): LinuxMm {
    return {
      addr: this.k.mem.alloc('vmspace', MM.size),
      startBrk: 0,
      brk: 0,
      mmapTop: mmapBase,
      ownFrames: new Set(),
      ptPages: new Map(),
      vmaAddrs: new Map(),
      anonVma: new Set(),
    };
  }

  /** The vm_area_struct of a mapping (allocated when first needed: the model keeps entries as plain objects). */
  vmaAddr(mm: LinuxMm, e: MapEntry): number {
    const key = `${e.name}@${e.start}`;
    let a = mm.vmaAddrs.get(key);
    if (a === undefined) mm.vmaAddrs.set(key, (a = this.k.mem.alloc('vmspace', VMA.size)));
    return a;
  }

  // ---- Pages and page tables ---------------------------------------------------------

  /** alloc_pages() of one order-0 page from the per-CPU lists (no zone lock on the fast path). */
  allocPage(td: Thread): number {
    const k = this.k;
    k.enter(td, 'get_page_from_freelist', 3);
    td.cpu.load(this.globals.pcp);
    k.charge(td, 'page_alloc');
    const frame = k.phys.alloc();
    td.cpu.store(this.globals.pcp);
    k.leave(td, 'get_page_from_freelist');
    return frame;
  }

  /** The PTE page for `vpn`, allocating and clearing one for a new 2 MiB span (__pte_alloc under page_table_lock). */
  ptPage(td: Thread, t: LinuxTask, vpn: number): number {
    const k = this.k;
    const span = Math.floor((vpn * k.pageBytes) / PT_SPAN_BYTES);
    let pt = t.mm.ptPages.get(span);
    if (pt === undefined) {
      k.enter(td, '__pte_alloc', 3);
      pt = this.allocPage(td);
      k.enter(td, 'clear_page_erms', 1);
      k.zeroFrame(td, pt, false);
      k.leave(td, 'clear_page_erms');
      k.lockPair(td, t.mmField('mmap_lock') + 64); // mm->page_table_lock around pmd_populate
      td.cpu.store(t.mmField('pgd') + (span % 8) * 8); // the PMD entry
      t.mm.ptPages.set(span, pt);
      k.leave(td, '__pte_alloc');
    }
    return pt;
  }

  pteAddr(pt: number, vpn: number): number {
    return this.k.phys.addr(pt) + (vpn % 512) * 8;
  }

  /** The PTE page's split lock (a spinlock in its struct ptdesc). */
  ptlAddr(pt: number): number {
    return vmPageAddr(pt) + PTDESC.ptl;
  }

  /** Map `frame` at `vpn` in the model's pmap. */
  setPte(td: Thread, pt: number, vpn: number, frame: number, writable: boolean): void {
    const vm = td.proc.vmspace;
    td.cpu.store(this.pteAddr(pt, vpn));
    vm.pmap.set(vpn, frame);
    if (writable) vm.writable.add(vpn);
    else vm.writable.delete(vpn);
  }

  // ---- Address-space layout --------------------------------------------------------

  /** arch_get_unmapped_area_topdown(): the highest gap below mmap_base that fits `len`. */
  getUnmappedArea(td: Thread, mm: LinuxMm, len: number): number {
    const entries = td.proc.vmspace.entries;
    let hi = mm.mmapTop;
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.start >= hi) continue;
      if (e.end <= hi && hi - e.end >= len) break;
      hi = Math.min(hi, e.start);
    }
    return Math.floor((hi - len) / this.k.pageBytes) * this.k.pageBytes;
  }

  private mmapLock(td: Thread, t: LinuxTask, write: boolean): void {
    this.k.lockOp(td, t.mmField('mmap_lock'));
    if (write) td.cpu.store(t.mmField('mmap_lock') + 8); // owner / vma write sequence
  }

  private mmapUnlock(td: Thread, t: LinuxTask): void {
    this.k.lockOp(td, t.mmField('mmap_lock'));
  }

  // ---- System calls -----------------------------------------------------------------

  /** mmap(2): vm_mmap_pgoff -> do_mmap -> mmap_region. Nothing is mapped until faults (no MAP_POPULATE). */
  mmap(td: Thread, a: SyscallArgs, file: Vnode | null): number {
    const k = this.k;
    const t = this.task(td);
    const vm = td.proc.vmspace;
    const len = Math.ceil(num(a, 'len') / k.pageBytes) * k.pageBytes;
    if (len <= 0) throw new Errno('EINVAL');
    const prot = str(a, 'prot') as Prot;
    const fixed = a.fixed === 1;
    k.enter(td, 'vm_mmap_pgoff', 3);
    k.call(td, 'security_mmap_file', 1);
    this.mmapLock(td, t, true);
    k.enter(td, 'do_mmap', 3);
    let addr: number;
    if (fixed) {
      addr = num(a, 'addr');
      if (addr % k.pageBytes !== 0) {
        k.leave(td, 'do_mmap');
        this.mmapUnlock(td, t);
        k.leave(td, 'vm_mmap_pgoff');
        throw new Errno('EINVAL');
      }
      const removed = vm.remove(addr, addr + len);
      if (removed.length > 0) this.zap(td, t, removed);
    } else {
      k.charge(td, 'vm_map_op'); // get_unmapped_area: the maple tree's gap search
      addr = this.getUnmappedArea(td, t.mm, len);
    }
    // mmap_region(): try to merge with a neighbour (never possible for these mappings),
    // vm_area_alloc, ->mmap for a file (get_file, generic_file_mmap), vma_link into the tree.
    k.charge(td, 'vm_map_op');
    k.charge(td, 'kmalloc');
    const entry: MapEntry = {
      start: addr,
      end: addr + len,
      prot,
      private: a.shared !== 1,
      object: file && file.type === 'reg' ? file.object : null,
      offsetPages: file ? Math.floor(num(a, 'pos') / k.pageBytes) : 0,
      name: str(a, 'name'),
    };
    if (file) {
      entry.vnode = file;
      k.call(td, 'generic_file_mmap', 1, 'vop');
      td.cpu.store(this.vmaAddr(t.mm, entry) + VMA.vm_flags);
    }
    td.cpu.store(this.vmaAddr(t.mm, entry));
    vm.insert(entry);
    k.charge(td, 'vm_map_op'); // vma_iter_store
    k.call(td, 'perf_event_mmap', 1);
    k.leave(td, 'do_mmap');
    this.mmapUnlock(td, t);
    k.leave(td, 'vm_mmap_pgoff');
    return addr;
  }

  /** munmap(2): do_vmi_munmap -> split, unmap_region (zap the pages, flush the TLB), remove_vma. */
  munmap(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const t = this.task(td);
    const addr = num(a, 'addr');
    const len = Math.ceil(num(a, 'len') / k.pageBytes) * k.pageBytes;
    if (addr % k.pageBytes !== 0 || len <= 0) throw new Errno('EINVAL');
    k.enter(td, 'do_vmi_munmap', 3);
    this.mmapLock(td, t, true);
    k.charge(td, 'vm_map_op'); // find the first vma
    const removed = td.proc.vmspace.remove(addr, addr + len);
    for (const p of removed) if (!p.whole) k.charge(td, 'kmalloc'); // __split_vma: vm_area_dup
    this.zap(td, t, removed);
    this.mmapUnlock(td, t);
    k.leave(td, 'do_vmi_munmap');
    return 0;
  }

  /** unmap_region() for removed pieces: zap_pte_range per present page, free private pages, flush, remove_vma. */
  zap(td: Thread, t: LinuxTask, pieces: readonly MapEntry[]): void {
    const k = this.k;
    const vm = td.proc.vmspace;
    if (pieces.length === 0) return;
    k.enter(td, 'unmap_region', 3);
    let flushed = 0;
    for (const e of pieces) {
      k.charge(td, 'vm_map_op'); // vma_iter_clear
      let ptl = -1;
      for (let va = e.start; va < e.end; va += k.pageBytes) {
        const vpn = va / k.pageBytes;
        const frame = vm.pmap.get(vpn);
        if (frame === undefined) continue;
        const pt = t.mm.ptPages.get(Math.floor(va / PT_SPAN_BYTES));
        if (pt !== undefined && pt !== ptl) {
          if (ptl >= 0) k.lockOp(td, this.ptlAddr(ptl));
          ptl = pt;
          k.lockOp(td, this.ptlAddr(pt));
        }
        // ptep_get_and_clear_full, the rmap and the folio reference; tlb_remove_page batches the page.
        if (pt !== undefined) td.cpu.store(this.pteAddr(pt, vpn));
        k.charge(td, 'pmap_remove');
        vm.pmap.delete(vpn);
        vm.writable.delete(vpn);
        td.cpu.invalidatePage(k.phys.addr(frame));
        flushed++;
        if (t.mm.ownFrames.delete(frame)) {
          // free_pages_and_swap_cache(): memcg uncharge and the free to the per-CPU lists.
          k.charge(td, 'page_free');
          k.phys.release(frame);
        }
      }
      if (ptl >= 0) k.lockOp(td, this.ptlAddr(ptl));
      k.charge(td, 'kmalloc'); // remove_vma: vm_area_free
      t.mm.vmaAddrs.delete(`${e.name}@${e.start}`);
    }
    if (flushed > 0) k.call(td, 'tlb_finish_mmu', 2); // flush_tlb_mm_range: one flush for the batch
    k.leave(td, 'unmap_region');
  }

  /** mprotect(2): mprotect_fixup (split), change_protection over present PTEs, flush_tlb_range. */
  mprotect(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const t = this.task(td);
    const vm = td.proc.vmspace;
    const addr = num(a, 'addr');
    const len = Math.ceil(num(a, 'len') / k.pageBytes) * k.pageBytes;
    const prot = str(a, 'prot') as Prot;
    if (addr % k.pageBytes !== 0) throw new Errno('EINVAL');
    k.enter(td, 'do_mprotect_pkey', 3);
    this.mmapLock(td, t, true);
    k.charge(td, 'vm_map_op');
    // Every page of the range must be mapped (else ENOMEM).
    for (let va = addr; va < addr + len; va += k.pageBytes) {
      if (!vm.lookup(va)) {
        this.mmapUnlock(td, t);
        k.leave(td, 'do_mprotect_pkey');
        throw new Errno('ENOMEM');
      }
    }
    const pieces = vm.remove(addr, addr + len);
    for (const p of pieces) {
      if (!p.whole) {
        k.charge(td, 'kmalloc'); // split: vm_area_dup
        k.charge(td, 'vm_map_op');
      }
      const { whole: _whole, ...entry } = p;
      vm.insert({ ...entry, prot });
      k.enter(td, 'change_protection', 2);
      for (let va = p.start; va < p.end; va += k.pageBytes) {
        const vpn = va / k.pageBytes;
        if (!vm.pmap.has(vpn)) continue;
        k.charge(td, 'call'); // ptep_modify_prot_start/commit
        if (prot !== 'rw') vm.writable.delete(vpn);
      }
      k.leave(td, 'change_protection');
    }
    k.call(td, 'flush_tlb_mm_range', 1);
    this.mmapUnlock(td, t);
    k.leave(td, 'do_mprotect_pkey');
    return 0;
  }

  /** brk(2): query (below start_brk), grow (do_brk_flags: expand the heap vma) or shrink (munmap the tail). Returns the new break. */
  brk(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const t = this.task(td);
    const mm = t.mm;
    const vm = td.proc.vmspace;
    const want = num(a, 'addr');
    k.enter(td, '__do_sys_brk', 3);
    this.mmapLock(td, t, true);
    td.cpu.load(t.mmField('brk'));
    const pg = k.pageBytes;
    if (want >= mm.startBrk) {
      const oldEnd = Math.ceil(mm.brk / pg) * pg;
      const newEnd = Math.ceil(want / pg) * pg;
      if (newEnd > oldEnd) {
        k.charge(td, 'vm_map_op'); // find_vma_intersection: nothing in the way
        const heap = vm.entries.find((e) => e.name === 'heap' && e.end === oldEnd);
        if (heap) heap.end = newEnd; // vma_expand
        else {
          k.charge(td, 'kmalloc');
          vm.insert({ start: oldEnd, end: newEnd, prot: 'rw', private: true, object: null, offsetPages: 0, name: 'heap' });
        }
        k.charge(td, 'vm_map_op');
      } else if (newEnd < oldEnd) {
        this.zap(td, t, vm.remove(newEnd, oldEnd));
      }
      mm.brk = want;
      td.cpu.store(t.mmField('brk'));
    }
    this.mmapUnlock(td, t);
    k.leave(td, '__do_sys_brk');
    return mm.brk;
  }

  /** exit_mmap(): unmap everything, free the page tables. */
  exitMmap(td: Thread, t: LinuxTask): void {
    const k = this.k;
    k.enter(td, 'exit_mmap', 4);
    this.mmapLock(td, t, true);
    this.zap(td, t, td.proc.vmspace.remove(0, Number.MAX_SAFE_INTEGER));
    k.enter(td, 'free_pgtables', 2);
    for (const pt of t.mm.ptPages.values()) {
      k.charge(td, 'page_free');
      k.phys.release(pt);
    }
    t.mm.ptPages.clear();
    k.leave(td, 'free_pgtables');
    this.mmapUnlock(td, t);
    k.leave(td, 'exit_mmap');
  }
}
