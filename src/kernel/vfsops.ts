// File-system and descriptor operations shared by the kernel paths: name lookup,
// descriptor allocation, lookup and close. Each charges what it does (components
// looked up, locks taken, descriptor-table work) and touches the lines of the
// objects it uses, so a cold cache shows up in the syscalls that use them.

import type { Kernel } from './kernel.js';
import { CNT, FILE, FILEDESC, KSTACK, NCBUCKET_LINES, VNODE } from './machine/layout.js';
import type { Thread } from './proc.js';
import { Errno, type OpenFile, type Vnode, type WalkResult } from './vfs.js';
import { CountedMap } from './steady/counted.js';

export class VfsOps {
  private readonly vnodeAddrs = new CountedMap<Vnode, number>();
  private readonly fileAddrs = new CountedMap<OpenFile, number>();
  /** v_usecount: open files, mappings and image segments that hold each vnode. */
  private readonly uses = new Map<Vnode, number>();
  /** Regular files whose access time is pending (IN_ACCESS): inactivation writes the inode. */
  private readonly accessed = new Set<Vnode>();

  constructor(private readonly k: Kernel) {}

  vnodeAddr(v: Vnode): number {
    let a = this.vnodeAddrs.get(v);
    if (a === undefined) this.vnodeAddrs.set(v, (a = this.k.mem.alloc('vnode', VNODE.size)));
    return a;
  }

  private fileAddr(f: OpenFile): number {
    let a = this.fileAddrs.get(f);
    if (a === undefined) this.fileAddrs.set(f, (a = this.k.mem.alloc('file', FILE.size)));
    return a;
  }

  private fdTable(td: Thread): number {
    return td.proc.fdAddr;
  }

  /** namei(): a pathname buffer from namei_zone, copy the path in (pathVa < 0: from outside the modelled address space), look up each component in the name cache, locking each vnode on the way, and free the buffer. */
  namei(td: Thread, path: string, pathVa: number): Vnode {
    const k = this.k;
    k.enter(td, 'namei', 4);
    try {
      k.charge(td, 'kmalloc'); // the pathname buffer (namei_zone)
      if (pathVa >= 0) k.copyin(td, td.kstack + KSTACK.copy_buf, pathVa, path.length + 1);
      else k.charge(td, 'copy_call'); // copied from an address space that is not modelled
      k.lockPair(td, this.fdTable(td) + FILEDESC.fd_sx); // cwd/root references
      let result: Vnode;
      try {
        const r = k.fs.walk(path);
        this.lookupCost(td, r);
        result = r.vnode;
      } catch (e) {
        if (e instanceof Errno) this.lookupCost(td, { visited: 1, devfs: 0, mounts: 0, ...(e as Partial<WalkResult>) });
        throw e;
      }
      td.cpu.load(this.vnodeAddr(result));
      return result;
    } finally {
      k.charge(td, 'kmalloc'); // namei_cleanup_cnp: the pathname buffer back to namei_zone (no SAVENAME/SAVESTART)
      k.leave(td, 'namei');
    }
  }

  /** lookup(): each component through the name cache; crossing a mount point busies the mount and gets its root (VFS_ROOT); devfs has no name cache, so its components are VOP_LOOKUPs under its mount lock. */
  private lookupCost(td: Thread, walk: Pick<WalkResult, 'visited' | 'devfs' | 'mounts'>): void {
    const k = this.k;
    k.enter(td, 'lookup', 3);
    for (let i = 0; i < walk.visited; i++) {
      k.charge(td, 'namei_component');
      const line = (i % NCBUCKET_LINES) * 64;
      k.lockPair(td, k.globals.cnt + CNT.ncbuckets + line); // name-cache bucket lock
      k.lockPair(td, k.globals.cnt + CNT.lookup_vnode_locks + line); // vnode lock of the next component (vput of the last)
    }
    for (let i = 0; i < walk.mounts; i++) {
      k.lockPair(td, k.globals.cnt + CNT.vfs_busy);
      k.call(td, 'VFS_ROOT', 2, 'vop');
    }
    for (let i = 0; i < walk.devfs; i++) {
      k.lockPair(td, k.globals.cnt + CNT.devfs_dm_lock); // devfs_populate_vp
      k.call(td, 'devfs_lookup', 2, 'vop');
    }
    k.leave(td, 'lookup');
  }

  /** vref(): a new holder of the vnode. */
  vref(td: Thread, v: Vnode): void {
    this.uses.set(v, (this.uses.get(v) ?? 0) + 1);
    td.cpu.store(this.vnodeAddr(v) + VNODE.v_usecount);
  }

  /** vrele()/vput(): drop a holder; the last one inactivates the vnode (VOP_INACTIVE, and ffs_update if its access time changed). */
  vrele(td: Thread, v: Vnode): void {
    const left = Math.max(0, (this.uses.get(v) ?? 0) - 1);
    this.uses.set(v, left);
    td.cpu.store(this.vnodeAddr(v) + VNODE.v_usecount);
    if (left > 0) return;
    this.vop(td, v, 'VOP_INACTIVE');
    if (this.accessed.delete(v)) this.vop(td, v, 'ffs_update');
  }

  /** A read of the file's data (read(2), a mapping's pages): its access time must be written back. */
  markAccessed(v: Vnode): void {
    if (v.type === 'reg') this.accessed.add(v);
  }

  /** A vnode operation (VOP_*) under the vnode's lock. */
  vop(td: Thread, v: Vnode, name: string): void {
    const k = this.k;
    k.enter(td, name, 2);
    k.lockPair(td, this.vnodeAddr(v) + VNODE.v_lock);
    k.charge(td, 'vop');
    td.cpu.load(this.vnodeAddr(v) + VNODE.v_data);
    k.leave(td, name);
  }

  /** falloc_noinstall() and, after the open, finstall(): a new file, then the lowest free descriptor. */
  falloc(td: Thread, file: OpenFile): number {
    const k = this.k;
    k.enter(td, 'falloc', 3);
    k.charge(td, 'kmalloc');
    k.charge(td, 'file_op'); // falloc_noinstall
    k.lockPair(td, this.fdTable(td) + FILEDESC.fd_sx);
    k.charge(td, 'file_op'); // finstall: fdalloc under the table's lock
    const files = td.proc.files;
    let fd = files.indexOf(null);
    if (fd < 0) fd = files.push(null) - 1;
    files[fd] = file;
    td.cpu.store(this.fileAddr(file));
    td.cpu.store(this.fdTable(td) + FILEDESC.fd_map);
    k.leave(td, 'falloc');
    return fd;
  }

  /** fget(): look up a descriptor and hold its file; fget_unlocked() takes no lock and does little work. */
  fget(td: Thread, fd: number): OpenFile {
    const k = this.k;
    k.enter(td, 'fget_unlocked', 2);
    td.cpu.load(td.proc.field('p_fd'));
    td.cpu.load(this.fdTable(td) + FILEDESC.fd_files);
    k.charge(td, 'call');
    const file = Number.isInteger(fd) && fd >= 0 ? td.proc.files[fd] : undefined;
    k.leave(td, 'fget_unlocked');
    if (!file) throw new Errno('EBADF');
    td.cpu.store(this.fileAddr(file)); // fhold
    return file;
  }

  /** kern_close(): unhook the descriptor, then the last reference's close (VOP_CLOSE, vrele). */
  close(td: Thread, fd: number): void {
    const k = this.k;
    const file = this.fget(td, fd);
    k.enter(td, 'fdclose', 2);
    k.lockPair(td, this.fdTable(td) + FILEDESC.fd_sx);
    k.charge(td, 'file_op');
    td.proc.files[fd] = null;
    k.leave(td, 'fdclose');
    k.charge(td, 'file_op'); // fdrop -> _fdrop -> closef: the file's last reference
    this.vop(td, file.vnode, 'VOP_CLOSE');
    this.vrele(td, file.vnode);
    k.charge(td, 'kmalloc'); // free the file
  }
}
