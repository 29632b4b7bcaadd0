// Address-space system calls (sys/vm/vm_mmap.c, vm_map.c): mmap(2) with
// MAP_PREFAULT_PARTIAL of file pages, munmap(2), and the map-entry removal
// (vm_map_delete -> pmap_remove) that munmap, a MAP_FIXED mapping and exit share.

import type { Kernel } from '../../kernel.js';
import { CNT, VM_MAP, VM_PAGE, vmPageAddr } from '../../machine/layout.js';
import type { Thread } from '../../proc.js';
import { num, str, type SyscallArgs } from '../../syscall-args.js';
import { Errno, type Vnode } from '../../vfs.js';
import type { VfsOps } from '../../vfsops.js';
import type { MapEntry, Prot, RemovedPiece } from '../../vm/vmspace.js';
import type { FreeBSDTrapPath } from '../trap.js';
import type { SyscallGroup } from './group.js';

/** rtld and libc prefault at most this many resident pages of a file mapping (MAX_INIT_PT). */
const MAX_INIT_PT = 96;
/** Mappings this large are aligned for a superpage (2 MiB). */
const SUPERPAGE_BYTES = 2 * 1024 * 1024;

type RegularFile = Vnode & { type: 'reg' };

export class VmSyscalls implements SyscallGroup<'mmap' | 'munmap'> {
  readonly names = ['mmap', 'munmap'] as const;

  constructor(
    private readonly k: Kernel,
    private readonly vfs: VfsOps,
    private readonly trap: FreeBSDTrapPath,
  ) {}

  mmap(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const vm = td.proc.vmspace;
    const len = Math.ceil(num(a, 'len') / k.pageBytes) * k.pageBytes;
    if (len <= 0) throw new Errno('EINVAL');
    const prot = str(a, 'prot') as Prot;
    const fd = num(a, 'fd');
    let vp: RegularFile | undefined;
    if (fd >= 0) {
      const fp = this.vfs.fget(td, fd);
      if (fp.vnode.type !== 'reg') throw new Errno('EINVAL');
      vp = fp.vnode;
      this.vfs.vop(td, vp, 'VOP_GETATTR'); // vm_mmap_vnode
      k.charge(td, 'vm_object_op'); // vm_object_reference
      this.vfs.vref(td, vp);
      this.vfs.markAccessed(vp);
    }
    k.enter(td, 'vm_map_find', 3);
    k.lockPair(td, vm.addr + VM_MAP.lock);
    const fixed = a.fixed === 1;
    const addr = fixed ? num(a, 'addr') : vm.findSpace(len, len >= SUPERPAGE_BYTES ? SUPERPAGE_BYTES : k.pageBytes);
    if (fixed) {
      const removed = vm.remove(addr, addr + len);
      if (removed.length > 0) this.unmapPieces(td, removed);
    }
    k.charge(td, 'vm_map_op'); // find space / insert
    k.charge(td, 'kmalloc'); // the map entry
    const entry: MapEntry = {
      start: addr,
      end: addr + len,
      prot,
      private: a.shared !== 1,
      object: vp ? vp.object : null,
      offsetPages: vp ? Math.floor(num(a, 'pos') / k.pageBytes) : 0,
      name: str(a, 'name'),
    };
    if (vp) entry.vnode = vp;
    vm.insert(entry);
    k.leave(td, 'vm_map_find');
    if (vp && prot !== 'none') {
      // MAP_PREFAULT_PARTIAL: the resident pages up to the end of the file.
      const filePages = Math.ceil(vp.size / k.pageBytes);
      this.prefault(td, vp, addr, entry.offsetPages, Math.min(len / k.pageBytes, filePages - entry.offsetPages));
    }
    return addr;
  }

  munmap(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const vm = td.proc.vmspace;
    const addr = num(a, 'addr');
    k.enter(td, 'vm_map_remove', 3);
    k.lockPair(td, vm.addr + VM_MAP.lock);
    const removed = vm.remove(addr, addr + Math.ceil(num(a, 'len') / k.pageBytes) * k.pageBytes);
    this.unmapPieces(td, removed);
    k.leave(td, 'vm_map_remove');
    return 0;
  }

  /** Map up to MAX_INIT_PT of `pages` pages of `vp` from page `pindex` at `va` now, without faults (vm_map_pmap_enter). */
  prefault(td: Thread, vp: RegularFile, va: number, pindex: number, pages: number): void {
    const k = this.k;
    const list: [number, number][] = [];
    for (let i = 0; i < Math.min(pages, MAX_INIT_PT); i++) list.push([va / k.pageBytes + i, k.filePage(vp, pindex + i)]);
    this.trap.prefault(td, list);
  }

  /** vm_map_delete of map pieces: pmap_remove of their pages, freeing anonymous ones, and a TLB shootdown. */
  unmapPieces(td: Thread, pieces: RemovedPiece[]): void {
    const k = this.k;
    for (const e of pieces) {
      k.charge(td, 'vm_map_op');
      k.charge(td, 'kmalloc'); // the entry
      k.enter(td, 'pmap_remove', 2);
      k.lockPair(td, td.proc.vmspace.addr + VM_MAP.pmap); // PMAP_LOCK
      for (let va = e.start; va < e.end; va += k.pageBytes) {
        const frame = this.trap.pmapRemove(td, va / k.pageBytes);
        if (frame === undefined) continue;
        k.lockPair(td, vmPageAddr(frame) + VM_PAGE.pv_lock); // pmap_remove_pte
        if (e.object?.kind === 'anon') {
          const pindex = e.offsetPages + (va - e.start) / k.pageBytes;
          if (e.object.pages.delete(pindex)) {
            // vm_page_free: the page lock, then vm_page_free_toq under the free-queue lock.
            k.lockPair(td, vmPageAddr(frame) + VM_PAGE.lock);
            k.lockPair(td, k.globals.cnt + CNT.vm_page_queue_free_mtx);
            k.charge(td, 'page_free');
            k.phys.release(frame);
          }
        }
      }
      k.call(td, 'pmap_invalidate_range', 1);
      k.leave(td, 'pmap_remove');
      if (e.object) {
        k.charge(td, 'vm_object_op'); // vm_object_deallocate
        if (e.vnode && e.whole) this.vfs.vrele(td, e.vnode);
      }
    }
  }
}
