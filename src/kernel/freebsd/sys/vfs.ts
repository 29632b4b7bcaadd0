// File and name system calls (sys/kern/vfs_syscalls.c, sys_generic.c,
// vfs_vnops.c): lookups (lstat, access, readlink), open and close, the file
// offset (lseek), read(2) and write(2) through each file's operations (devfs for
// devices, vn_read/vn_write over the buffer cache for regular files), and fsync.

import type { Kernel } from '../../kernel.js';
import { CNT, KSTACK, VNODE } from '../../machine/layout.js';
import { CRED_FLAG_CAPMODE, type Thread } from '../../proc.js';
import { num, str, type SyscallArgs } from '../../syscall-args.js';
import { AccessKind } from '../../machine/cache.js';
import { Errno, FileSystem, type OpenFile, type Vnode } from '../../vfs.js';
import type { VfsOps } from '../../vfsops.js';
import type { BufferCache } from '../bufcache.js';
import { uiomoveIn, uiomoveOut } from '../uio.js';
import type { DevSyscalls } from './dev.js';
import type { SyscallGroup } from './group.js';

const STAT_BYTES = 120;

type RegularFile = Vnode & { type: 'reg' };
type Names = 'lstat' | 'fstat' | 'access' | 'readlink' | 'openat' | 'close' | 'lseek' | 'read' | 'write' | 'fsync';

export class VfsSyscalls implements SyscallGroup<Names> {
  readonly names = ['lstat', 'fstat', 'access', 'readlink', 'openat', 'close', 'lseek', 'read', 'write', 'fsync'] as const;

  constructor(
    private readonly k: Kernel,
    private readonly vfs: VfsOps,
    private readonly bufcache: BufferCache,
    private readonly dev: DevSyscalls,
  ) {}

  lstat(td: Thread, a: SyscallArgs): number {
    const vp = this.vfs.namei(td, str(a, 'path'), num(a, 'pathVa'));
    this.stat(td, vp, num(a, 'sbVa'));
    this.vfs.vrele(td, vp); // vput
    return 0;
  }

  fstat(td: Thread, a: SyscallArgs): number {
    return this.stat(td, this.vfs.fget(td, num(a, 'fd')).vnode, num(a, 'sbVa'));
  }

  access(td: Thread, a: SyscallArgs): number {
    const vp = this.vfs.namei(td, str(a, 'path'), num(a, 'pathVa'));
    this.vfs.vop(td, vp, 'VOP_ACCESS');
    this.vfs.vrele(td, vp);
    return 0;
  }

  readlink(td: Thread, a: SyscallArgs): number {
    const vp = this.vfs.namei(td, str(a, 'path'), num(a, 'pathVa'));
    if (vp.type !== 'lnk') {
      this.vfs.vrele(td, vp); // vput
      throw new Errno('EINVAL', str(a, 'path'));
    }
    this.vfs.vop(td, vp, 'VOP_READLINK');
    this.vfs.vrele(td, vp);
    const n = Math.min(vp.target.length, num(a, 'len'));
    this.k.copyout(td, num(a, 'bufVa'), td.kstack + KSTACK.copy_buf, n);
    return n;
  }

  openat(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const path = str(a, 'path');
    const flags = str(a, 'flags');
    const readable = flags.includes('r');
    const writable = flags.includes('w');
    let vp: Vnode;
    try {
      vp = this.vfs.namei(td, path, num(a, 'pathVa'));
    } catch (e) {
      if (!(e instanceof Errno) || e.errno !== 'ENOENT' || a.create !== 1) throw e;
      // O_CREAT: make the file in its (existing) directory.
      const parts = FileSystem.components(path);
      parts.pop();
      const dir = k.fs.walk('/' + parts.join('/')).vnode;
      if (dir.type !== 'dir') throw new Errno('ENOTDIR', path);
      this.vfs.vop(td, dir, 'VOP_CREATE');
      vp = k.fs.addFile(path, 0);
    }
    if (vp.type === 'dir' && writable) throw new Errno('EISDIR', path);
    if ((td.ucred.cr_flags & CRED_FLAG_CAPMODE) !== 0) throw new Errno('ECAPMODE', path);
    if (a.create === 1) {
      // O_CREAT: namei(CREATE, LOCKPARENT) after bwillwrite(); the parent is unlocked again.
      k.call(td, 'bwillwrite', 1);
      k.lockPair(td, k.globals.cnt + CNT.create_dvp_lock);
    }
    this.vfs.vop(td, vp, 'VOP_ACCESS');
    this.vfs.vop(td, vp, 'VOP_OPEN');
    if (a.trunc === 1 && writable) {
      // fo_truncate -> vn_truncate: vn_start_write, the vnode lock, VOP_SETATTR(size 0).
      k.lockPair(td, k.globals.cnt + CNT.vn_start_write);
      this.vfs.vop(td, vp, 'VOP_SETATTR');
      if (vp.type === 'reg') vp.size = 0;
    }
    const file: OpenFile = { vnode: vp, readable, writable, offset: 0 };
    this.vfs.vref(td, vp); // namei's reference, now the file's
    return this.vfs.falloc(td, file);
  }

  close(td: Thread, a: SyscallArgs): number {
    this.vfs.close(td, num(a, 'fd'));
    return 0;
  }

  lseek(td: Thread, a: SyscallArgs): number {
    const fp = this.vfs.fget(td, num(a, 'fd'));
    this.k.lockPair(td, this.vfs.vnodeAddr(fp.vnode) + VNODE.foffset_lock);
    this.k.charge(td, 'vop');
    const whence = num(a, 'whence');
    const size = fp.vnode.type === 'reg' ? fp.vnode.size : 0;
    const off = num(a, 'offset') + (whence === 0 ? 0 : whence === 1 ? fp.offset : size);
    if (off < 0) throw new Errno('EINVAL');
    fp.offset = off;
    return off;
  }

  /** read(2): the file's fo_read, devfs_read_f for a device, vn_read for a regular file. */
  read(td: Thread, a: SyscallArgs): number {
    const fp = this.vfs.fget(td, num(a, 'fd'));
    if (!fp.readable) throw new Errno('EBADF');
    const vp = fp.vnode;
    if (vp.type === 'chr') return this.dev.read(td, vp, num(a, 'bufVa'), num(a, 'len'));
    if (vp.type !== 'reg') throw new Errno('EISDIR');
    return this.vnRead(td, fp, vp, num(a, 'bufVa'), num(a, 'len'));
  }

  /** write(2): devfs_write_f for a device, vn_write for a regular file. */
  write(td: Thread, a: SyscallArgs): number {
    const fp = this.vfs.fget(td, num(a, 'fd'));
    if (!fp.writable) throw new Errno('EBADF');
    const vp = fp.vnode;
    if (vp.type === 'chr') return this.dev.write(td, vp, num(a, 'len'));
    if (vp.type !== 'reg') throw new Errno('EISDIR');
    return this.vnWrite(td, fp, vp, num(a, 'bufVa'), num(a, 'len'));
  }

  fsync(td: Thread, a: SyscallArgs): number {
    const fp = this.vfs.fget(td, num(a, 'fd'));
    this.vfs.vop(td, fp.vnode, 'VOP_FSYNC');
    this.bufcache.writeBack(td, fp.vnode);
    return 0;
  }

  private stat(td: Thread, vp: Vnode, sbVa: number): number {
    this.vfs.vop(td, vp, 'VOP_GETATTR');
    this.k.copyout(td, sbVa, td.kstack + KSTACK.copy_buf, STAT_BYTES);
    return 0;
  }

  /** vn_read() -> VOP_READ: copy out of the file's cached pages. */
  private vnRead(td: Thread, fp: OpenFile, vp: RegularFile, buf: number, len: number): number {
    const k = this.k;
    const vaddr = this.vfs.vnodeAddr(vp);
    k.lockPair(td, vaddr + VNODE.foffset_lock);
    k.enter(td, 'vn_read', 2);
    this.vfs.vop(td, vp, 'VOP_READ');
    const n = Math.max(0, Math.min(len, vp.size - fp.offset));
    this.vfs.markAccessed(vp);
    let done = 0;
    while (done < n) {
      const off = fp.offset + done;
      const pindex = Math.floor(off / k.pageBytes);
      const inPage = Math.min(n - done, k.pageBytes - (off % k.pageBytes));
      const frame = this.bufcache.page(td, vp, pindex, false);
      k.lockPair(td, vaddr + VNODE.bo_lock); // getblk: the buffer's lock
      if (inPage === len) k.declareFileStride(fp, off, len, k.phys.addr(frame) + (off % k.pageBytes), AccessKind.Read, vp.size);
      uiomoveOut(k, td, buf + done, k.phys.addr(frame) + (off % k.pageBytes), inPage, 0);
      done += inPage;
    }
    fp.offset += n;
    k.leave(td, 'vn_read');
    return n;
  }

  /** vn_write() -> VOP_WRITE: copy into the file's cached pages (allocating them), delayed write. */
  private vnWrite(td: Thread, fp: OpenFile, vp: RegularFile, buf: number, len: number): number {
    const k = this.k;
    const vaddr = this.vfs.vnodeAddr(vp);
    k.call(td, 'bwillwrite', 1);
    k.lockPair(td, vaddr + VNODE.foffset_lock);
    k.enter(td, 'vn_write', 2);
    this.vfs.vop(td, vp, 'VOP_WRITE');
    let done = 0;
    while (done < len) {
      const off = fp.offset + done;
      const pindex = Math.floor(off / k.pageBytes);
      const inPage = Math.min(len - done, k.pageBytes - (off % k.pageBytes));
      // A write that covers a whole page, or starts a page past EOF, needs no read of the old data.
      const frame = this.bufcache.page(td, vp, pindex, inPage === k.pageBytes || pindex * k.pageBytes >= vp.size);
      this.bufcache.markDirty(vp, pindex);
      k.lockPair(td, vaddr + VNODE.bo_lock);
      if (inPage === len) k.declareFileStride(fp, off, len, k.phys.addr(frame) + (off % k.pageBytes), AccessKind.Write, vp.size);
      uiomoveIn(k, td, k.phys.addr(frame) + (off % k.pageBytes), buf + done, inPage);
      done += inPage;
    }
    fp.offset += len;
    vp.size = Math.max(vp.size, fp.offset);
    k.leave(td, 'vn_write');
    return len;
  }
}

