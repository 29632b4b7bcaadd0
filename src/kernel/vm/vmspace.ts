// A process address space: map entries (regions) backed by VM objects
// (./object.ts), and the pmap's mappings of their resident pages.

import type { Vnode } from '../vfs.js';
import type { VmObject } from './object.js';

export type Prot = 'r' | 'rw' | 'rx' | 'none';

export interface MapEntry {
  start: number;
  end: number;
  prot: Prot;
  /** Private mappings copy on write (file data and bss). */
  private: boolean;
  object: VmObject | null;
  /** Page index in the object of `start`. */
  offsetPages: number;
  name: string;
  /** The file whose pages these are: the entry holds a reference on its vnode. */
  vnode?: Vnode;
}

/** A piece of a map entry removed by remove(); `whole` if the entry went entirely. */
export type RemovedPiece = MapEntry & { whole: boolean };

export class VmSpace {
  readonly entries: MapEntry[] = [];
  /** Pages mapped by the pmap: virtual page number -> frame. */
  readonly pmap = new Map<number, number>();
  /** Pages whose mapping is writable (private file pages are read-only until copied). */
  readonly writable = new Set<number>();
  /** This pmap's page-table pages, by the span of virtual addresses each maps. */
  readonly ptPages = new Map<number, number>();
  /** Next address for mappings placed by the kernel (mmap with no hint). */
  private nextMmap: number;

  constructor(
    /** Kernel address of struct vmspace (its vm_map lock and header). */
    readonly addr: number,
    readonly pageBytes: number,
    mmapBase: number,
  ) {
    this.nextMmap = mmapBase;
  }

  lookup(va: number): MapEntry | undefined {
    // Entries are few (tens); a linear scan stands for the map's hint and tree.
    for (const e of this.entries) if (va >= e.start && va < e.end) return e;
    return undefined;
  }

  /** Choose an address for a mapping of `bytes`; large ones are aligned to `superpage` as FreeBSD's VMFS_OPTIMAL_SPACE does. */
  findSpace(bytes: number, align: number): number {
    const start = Math.ceil(this.nextMmap / align) * align;
    this.nextMmap = start + Math.ceil(bytes / this.pageBytes) * this.pageBytes;
    return start;
  }

  insert(entry: MapEntry): void {
    this.entries.push(entry);
    this.entries.sort((a, b) => a.start - b.start);
  }

  /** Removes [start, end) from the map; returns the removed pieces. */
  remove(start: number, end: number): RemovedPiece[] {
    const removed: RemovedPiece[] = [];
    const kept: MapEntry[] = [];
    for (const e of this.entries) {
      if (e.end <= start || e.start >= end) {
        kept.push(e);
        continue;
      }
      const lo = Math.max(e.start, start);
      const hi = Math.min(e.end, end);
      removed.push({ ...e, start: lo, end: hi, offsetPages: e.offsetPages + (lo - e.start) / this.pageBytes, whole: lo === e.start && hi === e.end });
      if (e.start < lo) kept.push({ ...e, end: lo });
      if (hi < e.end) kept.push({ ...e, start: hi, offsetPages: e.offsetPages + (hi - e.start) / this.pageBytes });
    }
    this.entries.length = 0;
    this.entries.push(...kept.sort((a, b) => a.start - b.start));
    return removed;
  }
}
