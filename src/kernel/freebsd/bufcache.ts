// The buffer cache of regular files on UFS (sys/kern/vfs_bio.c, vfs_cluster.c,
// ufs/ffs/ffs_vnops.c): which pages are cached, which are dirty (delayed
// writes), and the storage requests that fill and flush them. read() of a page
// that is not cached reads its cluster from storage first (read-ahead up to
// MAXPHYS); write() leaves its pages dirty; fsync() writes them back in clusters
// of contiguous pages, then the inode, and waits.

import type { Kernel } from '../kernel.js';
import { VNODE } from '../machine/layout.js';
import type { Thread } from '../proc.js';
import type { Vnode } from '../vfs.js';
import type { VfsOps } from '../vfsops.js';

/** Pages per storage request: UFS clusters reads (read-ahead) and writes up to MAXPHYS, 128 KiB. */
export const CLUSTER_BYTES = 128 * 1024;

type RegularFile = Vnode & { type: 'reg' };

export class BufferCache {
  /** Regular files whose pages are not in the buffer cache (a cold cache): read() of an absent page reads its cluster from storage first. */
  private readonly uncached = new Set<Vnode>();
  /** Dirty (delayed-write) pages of regular files, by page index: fsync() writes them to storage. */
  private readonly dirty = new Map<Vnode, Set<number>>();

  constructor(
    private readonly k: Kernel,
    private readonly vfs: VfsOps,
  ) {}

  /** Start `vp` with none of its pages in the cache (a cold buffer cache): they come from storage when read. */
  uncache(vp: RegularFile): void {
    this.uncached.add(vp);
  }

  /** The cache page for read()/write(): on a cold cache, an absent page is read from storage first (unless it will be overwritten whole). */
  page(td: Thread, vp: RegularFile, pindex: number, overwrite: boolean): number {
    if (!overwrite && !vp.object.pages.has(pindex) && this.uncached.has(vp)) this.clusterRead(td, vp, pindex);
    return this.k.filePage(vp, pindex);
  }

  /** A delayed write (bdwrite) of the page: it stays dirty until fsync() writes it back. */
  markDirty(vp: Vnode, pindex: number): void {
    let set = this.dirty.get(vp);
    if (!set) this.dirty.set(vp, (set = new Set()));
    set.add(pindex);
  }

  /** bread()/cluster_read(): one storage request for the page and the absent pages after it, up to a cluster or EOF (read-ahead). */
  private clusterRead(td: Thread, vp: RegularFile, pindex: number): void {
    const k = this.k;
    const lastPage = Math.max(pindex, Math.ceil(vp.size / k.pageBytes) - 1);
    let pages = 0;
    for (let i = pindex; i <= lastPage && pages < CLUSTER_BYTES / k.pageBytes && !vp.object.pages.has(i); i++, pages++) k.filePage(vp, i);
    k.enter(td, 'cluster_read', 3);
    k.charge(td, 'kmalloc'); // the buf and its bio
    k.lockPair(td, this.vfs.vnodeAddr(vp) + VNODE.bo_lock);
    k.charge(td, 'storage_io');
    k.charge(td, 'storage_read_page', pages);
    k.leave(td, 'cluster_read');
  }

  /** ffs_syncvp(): write the file's dirty pages to storage in clusters of contiguous pages, then its inode; wait for all of it. */
  writeBack(td: Thread, vp: Vnode): void {
    const k = this.k;
    const set = this.dirty.get(vp);
    if (!set || set.size === 0) return;
    const pages = [...set].sort((a, b) => a - b);
    set.clear();
    const perCluster = CLUSTER_BYTES / k.pageBytes;
    let requests = 1; // the inode
    for (let i = 0, run = 0; i < pages.length; i++) {
      run = i > 0 && pages[i] === pages[i - 1]! + 1 && run < perCluster ? run + 1 : 1;
      if (run === 1) requests++;
    }
    k.enter(td, 'ffs_syncvp', 3);
    k.charge(td, 'kmalloc', requests);
    k.lockPair(td, this.vfs.vnodeAddr(vp) + VNODE.bo_lock);
    k.charge(td, 'storage_io', requests);
    k.charge(td, 'storage_write_page', pages.length + 1);
    k.leave(td, 'ffs_syncvp');
  }
}
