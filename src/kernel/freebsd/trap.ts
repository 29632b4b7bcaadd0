// FreeBSD 11's trap path for page faults: amd64 trap() -> trap_pfault(), ARMv7
// abort_handler(), both ending in vm_fault() (sys/vm/vm_fault.c) for first touch of
// anonymous memory: lookup, page allocation, zero fill, pmap_enter, and the lock
// operations each takes. A fault in user mode is a trap of
// its own and ends in userret(); a fault inside copyout() runs the same code in
// kernel mode, inside the syscall that took it.

import { Mode } from '../cpu.js';
import type { Kernel } from '../kernel.js';
import { CNT, KSTACK, TRAPFRAME_LINES, VM_MAP, VM_OBJECT, VM_PAGE, vmPageAddr } from '../machine/layout.js';
import type { Thread } from '../proc.js';
import type { MapEntry } from '../vm/vmspace.js';
import type { TakeStep } from '../step-table.js';
import type { FreeBSDStep } from './steps.js';
import type { FreeBSDUserReturn } from './userret.js';

/** Page-table span of one page-table page: 2 MiB on amd64 (512 PTEs), 4 MiB on ARMv6/7 (four 1 KiB L2 tables per page). */
const PT_SPAN = { amd64: 2 * 1024 * 1024, armv7: 4 * 1024 * 1024, x86_64: 2 * 1024 * 1024 } as const;

export class FreeBSDTrapPath {
  private readonly step: TakeStep<FreeBSDStep>;


  constructor(
    private readonly k: Kernel,
    private readonly ret: FreeBSDUserReturn,
  ) {
    this.step = k.step.bind(k);
  }


  get trapFn(): 'abort_handler' | 'trap' {
    return this.k.profile.machine.isa === 'armv7' ? 'abort_handler' : 'trap';
  }

  /** A page fault at `va`: from user mode a trap of its own, from copyout a nested one. */
  pageFault(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    const k = this.k;
    const cpu = td.cpu;
    const fn = this.trapFn;
    const savedMode = cpu.mode;
    k.steps.beginSpan('trap', inKernel ? 'page fault (in syscall)' : 'page fault', cpu.t);
    cpu.mode = Mode.Kernel;
    // The exception vector's frame (amd64 calltrap, ARM's abort entry), outermost in stack().
    const vector = fn === 'abort_handler' ? 'data_abort_entry' : 'calltrap';
    k.enter(td, vector, 2);
    this.step(td, 'exception_entry', () => {
      k.charge(td, 'trap_entry');
      for (let i = 0; i < TRAPFRAME_LINES; i++) cpu.store(td.kstack + KSTACK.trap_trapframe + i * k.lineBytes);
    });
    this.step(td, fn, () => {
      k.enter(td, fn, 6);
      cpu.store(k.globals.cnt); // cnt.v_trap++
      if (!inKernel) {
        cpu.store(td.field('td_pticks'));
        cpu.store(td.field('td_frame'));
        cpu.load(td.field('td_cowgen'));
        k.guard(td, td.proc.field('p_cowgen'), false);
      }
      if (fn === 'abort_handler') this.abortHandler(td, va, write, inKernel);
      else this.trapPfault(td, va, write, inKernel);
      if (!inKernel) this.ret.userret(td);
      k.leave(td, fn);
    });
    this.step(td, 'exception_return', () => {
      if (!inKernel) this.ret.astCheck(td);
      k.charge(td, 'trap_exit');
    });
    k.leave(td, vector);
    cpu.mode = savedMode;
    k.steps.endSpan(cpu.t);
  }

  /** amd64 trap_pfault(). */
  private trapPfault(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    const k = this.k;
    k.enter(td, 'trap_pfault', 3);
    k.guard(td, td.field('td_pflags'), false); // TDP_NOFAULTING
    k.guard(td, td.field('td_critnest'), false);
    k.witnessWarn(td); // WITNESS_CHECK for non-sleepable locks held
    if (!inKernel) k.lockPair(td, td.proc.field('p_mtx')); // PROC_LOCK; ++p_lock
    this.vmFault(td, va, write);
    if (!inKernel) k.lockPair(td, td.proc.field('p_mtx')); // PROC_LOCK; --p_lock
    k.leave(td, 'trap_pfault');
  }

  /** ARMv7 abort_handler(): pmap_fault() first, then the same checks and vm_fault(). */
  private abortHandler(td: Thread, va: number, write: boolean, _inKernel: boolean): void {
    const k = this.k;
    k.call(td, 'pmap_fault', 2); // not an access-flag or spurious fault: fall through
    k.guard(td, td.field('td_pflags'), false);
    k.guard(td, td.field('td_critnest'), false);
    k.witnessWarn(td);
    k.kassert(td, 2); // INVARIANTS: save/clear/restore pcb_onfault
    this.vmFault(td, va, write);
  }

  /** vm_fault() -> vm_fault_hold() for a page that is not mapped. */
  private vmFault(td: Thread, va: number, write: boolean): void {
    const k = this.k;
    const cpu = td.cpu;
    const p = td.proc;
    const vm = p.vmspace;
    k.enter(td, 'vm_fault', 2);
    k.enter(td, 'vm_fault_hold', 4);
    cpu.store(k.globals.cnt); // cnt.v_vm_faults++
    const entry = this.vmMapLookup(td, va);
    const vpn = Math.floor(va / k.pageBytes);
    const pindex = entry.offsetPages + (Math.floor(va / k.pageBytes) - entry.start / k.pageBytes);
    const obj = entry.object!;
    k.lockPair(td, obj.addr + VM_OBJECT.lock); // vm_fault_soft_fast(): rlock, page not valid, give up
    k.lockOp(td, obj.addr + VM_OBJECT.lock); // VM_OBJECT_WLOCK(first_object)
    k.charge(td, 'vm_object_op'); // vm_object_reference_locked, pip_add
    cpu.load(obj.addr + VM_OBJECT.rtree); // vm_page_lookup()
    let frame = obj.pages.get(pindex);
    const cow = frame !== undefined && entry.private && write && obj.kind === 'vnode';
    if (frame === undefined || cow) {
      const source = frame;
      frame = this.vmPageAlloc(td);
      if (source !== undefined) {
        // Copy-on-write of a private file page: vm_fault_cow copies the page.
        k.call(td, 'pmap_copy_page', 2);
        cpu.copy(k.phys.addr(frame), k.phys.addr(source), k.pageBytes);
      } else {
        this.pmapZeroPage(td, frame);
        cpu.store(k.globals.cnt); // v_zfod++
      }
      if (!cow) obj.pages.set(pindex, frame);
    }
    k.charge(td, 'vm_fault');
    k.lockOp(td, obj.addr + VM_OBJECT.lock); // unlock before pmap_enter
    this.pmapEnter(td, vpn, frame, write || obj.kind === 'anon');
    k.lockPair(td, obj.addr + VM_OBJECT.lock); // relock; vm_page_activate; unlock_and_deallocate
    k.lockPair(td, vmPageAddr(frame)); // vm_page_lock
    k.lockPair(td, k.globals.cnt + CNT.vm_pagequeue_mtx);
    this.vmMapLookupDone(td, vm.addr);
    k.lockPair(td, obj.addr + VM_OBJECT.lock); // vm_object_deallocate
    k.charge(td, 'vm_object_op');
    cpu.store(td.field('td_ru')); // ru_minflt++
    p.ru.minflt++;
    k.kassert(td, 4);
    k.leave(td, 'vm_fault_hold');
    k.leave(td, 'vm_fault');
  }

  private vmMapLookup(td: Thread, va: number): MapEntry {
    const k = this.k;
    const vm = td.proc.vmspace;
    k.enter(td, 'vm_map_lookup', 3);
    k.lockOp(td, vm.addr); // vm_map_lock_read
    k.charge(td, 'call'); // the map's hint is the faulting entry: no tree walk
    td.cpu.load(vm.addr + VM_MAP.hint); // the hint, and the entry it names
    const entry = vm.lookup(va);
    if (!entry) throw new Error(`fault at unmapped address 0x${va.toString(16)} (the modelled program is wrong)`);
    if (!entry.object) {
      // First fault on an anonymous region: upgrade the map lock and allocate its object.
      k.lockPair(td, vm.addr);
      k.charge(td, 'vm_object_op');
      k.charge(td, 'kmalloc');
      k.dtrace.dtmalloc(td);
      entry.object = k.newAnonObject(entry.name);
      for (const e of vm.entries) if (e.name === entry.name && !e.object) e.object = entry.object;
    }
    k.leave(td, 'vm_map_lookup');
    return entry;
  }

  private vmMapLookupDone(td: Thread, mapAddr: number): void {
    const k = this.k;
    k.enter(td, 'vm_map_lookup_done', 1);
    k.lockOp(td, mapAddr);
    k.leave(td, 'vm_map_lookup_done');
  }

  private vmPageAlloc(td: Thread): number {
    const k = this.k;
    k.enter(td, 'vm_page_alloc', 3);
    k.lockPair(td, k.globals.cnt + CNT.vm_page_queue_free_mtx); // (reservations too)
    k.charge(td, 'page_alloc');
    const frame = k.phys.alloc();
    td.cpu.store(vmPageAddr(frame));
    k.leave(td, 'vm_page_alloc');
    return frame;
  }

  /** pmap_zero_page: amd64 zeroes through the direct map with non-temporal stores; ARMv6 maps the page at a per-CPU CMAP2 slot under a lock. */
  private pmapZeroPage(td: Thread, frame: number): void {
    const k = this.k;
    const amd64 = k.profile.machine.isa !== 'armv7';
    if (!amd64) {
      k.lockPair(td, k.globals.cnt + CNT.cmap_mtx);
      k.charge(td, 'pmap_enter'); // temporary kernel PTE and its TLB flush
    }
    k.enter(td, 'pagezero', 2);
    k.zeroFrame(td, frame, amd64);
    k.leave(td, 'pagezero');
  }

  /** pmap_enter(): a page-table page for a new span, the PTE store, pv bookkeeping. */
  private pmapEnter(td: Thread, vpn: number, frame: number, writable: boolean): void {
    const k = this.k;
    const vm = td.proc.vmspace;
    k.enter(td, 'pmap_enter', 4);
    k.lockPair(td, k.globals.cnt + CNT.pvh_global_lock);
    k.lockPair(td, vm.addr + VM_MAP.pmap); // PMAP_LOCK
    k.lockPair(td, vmPageAddr(frame) + VM_PAGE.pv_lock);
    k.lockPair(td, k.globals.cnt + CNT.pv_chunks_mutex); // get_pv_entry
    const pt = this.ptPage(td, vpn);
    k.call(td, 'PHYS_TO_VM_PAGE', 1);
    td.cpu.store(this.pteAddr(pt, vpn));
    k.charge(td, 'pmap_enter');
    vm.pmap.set(vpn, frame);
    if (writable) vm.writable.add(vpn);
    else vm.writable.delete(vpn);
    k.leave(td, 'pmap_enter');
  }

  /** pmap_remove of one page (munmap, exit): PTE clear, pv free, TLB invalidation. */
  pmapRemove(td: Thread, vpn: number): number | undefined {
    const k = this.k;
    const vm = td.proc.vmspace;
    const frame = vm.pmap.get(vpn);
    if (frame === undefined) return undefined;
    k.charge(td, 'pmap_remove');
    vm.pmap.delete(vpn);
    vm.writable.delete(vpn);
    td.cpu.invalidatePage(k.phys.addr(frame));
    return frame;
  }

  /** Map resident object pages read-only without faulting (MAP_PREFAULT_PARTIAL: vm_map_pmap_enter -> pmap_enter_object), under one pmap lock. */
  prefault(td: Thread, pages: [vpn: number, frame: number][]): void {
    const k = this.k;
    if (pages.length === 0) return;
    k.enter(td, 'pmap_enter_object', 3);
    k.lockPair(td, k.globals.cnt + CNT.pvh_global_lock);
    k.lockPair(td, td.proc.vmspace.addr + VM_MAP.pmap); // PMAP_LOCK
    for (const [vpn, frame] of pages) {
      const pt = this.ptPage(td, vpn);
      td.cpu.store(this.pteAddr(pt, vpn));
      k.charge(td, 'pmap_enter');
      td.proc.vmspace.pmap.set(vpn, frame);
    }
    k.leave(td, 'pmap_enter_object');
  }

  private ptPage(td: Thread, vpn: number): number {
    const k = this.k;
    const isa = k.profile.machine.isa;
    const span = Math.floor((vpn * k.pageBytes) / PT_SPAN[isa]);
    let pt = td.proc.vmspace.ptPages.get(span);
    if (pt === undefined) {
      pt = this.vmPageAlloc(td);
      k.enter(td, 'pagezero', 2);
      k.zeroFrame(td, pt, isa !== 'armv7');
      k.leave(td, 'pagezero');
      td.proc.vmspace.ptPages.set(span, pt);
    }
    return pt;
  }

  private pteAddr(pt: number, vpn: number): number {
    const k = this.k;
    const ptesPerPage = PT_SPAN[k.profile.machine.isa] / k.pageBytes;
    return k.phys.addr(pt) + ((vpn % ptesPerPage) * k.pageBytes) / ptesPerPage;
  }
}
