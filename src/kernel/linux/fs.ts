// Linux's file layer for the modelled programs (fs/namei.c, fs/open.c, fs/file.c,
// fs/file_table.c, fs/read_write.c, fs/stat.c, drivers/char/mem.c): RCU-mode path
// walk, openat with its struct file and descriptor, fdget without a reference for a
// single-threaded task, close() whose last fput() is deferred to task_work (so the
// return to user mode takes the TIF_NOTIFY_RESUME slow path and runs __fput), dup2,
// stat, lseek, and read/write of /dev/zero (read_zero: clear_user per <= PAGE_SIZE
// chunk), /dev/null (write_null: count, the buffer untouched) and cached regular files.
//
// FreeBSD's VfsOps (../vfsops.ts) locks each vnode on lookup and closes synchronously
// with VOP_CLOSE/vrele; Linux does neither, so this layer has its own lookup and close
// and shares only the file-system tree (../vfs.ts) and VfsOps' inode addresses.

import type { Kernel } from '../kernel.js';
import { num, str, type SyscallArgs } from '../syscall-args.js';
import { AccessKind } from '../machine/cache.js';
import { KSTACK, VM_OBJECT } from '../machine/layout.js';
import type { Thread } from '../proc.js';
import { Errno, FileSystem, type OpenFile, type Vnode } from '../vfs.js';
import type { VfsOps } from '../vfsops.js';
import type { TaskWorkRunner } from './entry.js';
import { DENTRY_HASH_LINES, DENTRY_INODE, FILE, FILES, LINUX_GLOBALS, TIF_NOTIFY_RESUME, TIF_SIGPENDING, type LinuxTask } from './task.js';

/** struct stat as cp_new_stat() copies it out. */
/** struct stat on x86-64. */
export const STAT_BYTES = 144;

export class LinuxFiles implements TaskWorkRunner {
  private readonly fileAddrs = new Map<OpenFile, number>();

  constructor(
    private readonly k: Kernel,
    private readonly task: (td: Thread) => LinuxTask,
    private readonly vfs: VfsOps,
    /** thread_info.flags as the exit path sees it (for signal_pending in read_zero). */
    private readonly tif: (t: LinuxTask) => number,
  ) {}

  fileAddr(f: OpenFile): number {
    let a = this.fileAddrs.get(f);
    if (a === undefined) this.fileAddrs.set(f, (a = this.k.mem.alloc('file', FILE.size)));
    return a;
  }

  /** The fds a process starts with (inherited from its parent): 0, 1 and 2 share one open file of /dev/null. */
  inheritStdio(t: LinuxTask): void {
    const files = t.td.proc.files;
    if (files.length > 0) return;
    const tty: OpenFile = { vnode: this.k.fs.walk('/dev/null').vnode, readable: true, writable: true, offset: 0 };
    files.push(tty, tty, tty);
    t.fileRefs.set(tty, 3);
  }

  // ---- Names ---------------------------------------------------------------------------

  /** getname(): a names_cache buffer and strncpy_from_user (pathVa < 0: a kernel string, nothing to copy). */
  private getname(td: Thread, path: string, pathVa: number): void {
    const k = this.k;
    k.enter(td, 'getname_flags', 2);
    k.charge(td, 'kmalloc');
    if (pathVa >= 0) k.copyin(td, td.kstack + KSTACK.copy_buf, pathVa, path.length + 1);
    k.leave(td, 'getname_flags');
  }

  private putname(td: Thread): void {
    this.k.charge(td, 'kmalloc');
  }

  /**
   * path_lookupat()/path_openat()'s walk in RCU mode: per component a hashed
   * __d_lookup_rcu and a permission check, no locks or references; at the end
   * legitimize the result (one lockref). Throws ENOENT/ENOTDIR as the real walk does.
   */
  lookup(td: Thread, path: string): Vnode {
    const k = this.k;
    k.enter(td, 'link_path_walk', 3);
    td.cpu.load(this.task(td).field('files') + 32); // current->fs: root and pwd, under its seqcount
    let visited = 0;
    try {
      const r = k.fs.walk(path);
      visited = r.visited;
      return r.vnode;
    } catch (e) {
      visited = (e as { visited?: number }).visited ?? 1;
      throw e;
    } finally {
      for (let i = 0; i < Math.max(visited, 1); i++) {
        k.charge(td, 'namei_component'); // hash_name, lookup_fast -> __d_lookup_rcu, may_lookup
        td.cpu.load(k.globals.cnt + LINUX_GLOBALS.dentry_hashtable + (i % DENTRY_HASH_LINES) * 64); // the dentry hash chain
      }
      k.lockOp(td, k.globals.cnt + LINUX_GLOBALS.dentry_lockref); // legitimize_path / terminate_walk
      k.leave(td, 'link_path_walk');
    }
  }

  // ---- Descriptors ----------------------------------------------------------------------

  /** fdget(): files->fdt, fd_array[fd], the file's f_mode; no reference taken for a single-threaded task. */
  fdget(td: Thread, fd: number): OpenFile {
    const k = this.k;
    const t = this.task(td);
    k.enter(td, '__fget_light', 1);
    td.cpu.load(t.field('files'));
    td.cpu.load(t.filesAddr + FILES.fd_array + Math.max(0, Math.min(fd, 63)) * 8);
    k.charge(td, 'file_op');
    const file = Number.isInteger(fd) && fd >= 0 ? td.proc.files[fd] : undefined;
    k.leave(td, '__fget_light');
    if (!file) throw new Errno('EBADF');
    td.cpu.load(this.fileAddr(file) + FILE.f_mode);
    return file;
  }

  /** alloc_fd() under files->file_lock (the lowest free descriptor) and fd_install(). */
  private installFd(td: Thread, t: LinuxTask, file: OpenFile): number {
    const k = this.k;
    k.enter(td, 'alloc_fd', 2);
    k.lockPair(td, t.filesAddr + FILES.file_lock);
    k.charge(td, 'file_op');
    const files = td.proc.files;
    let fd = files.indexOf(null);
    if (fd < 0) fd = files.push(null) - 1;
    files[fd] = file;
    t.fileRefs.set(file, (t.fileRefs.get(file) ?? 0) + 1);
    td.cpu.store(t.filesAddr + FILES.fd_array + Math.min(fd, 63) * 8); // fd_install
    k.leave(td, 'alloc_fd');
    return fd;
  }

  /** fput(): drop a reference; the last one queues __fput as task_work (TWA_RESUME), setting TIF_NOTIFY_RESUME. */
  private fput(td: Thread, t: LinuxTask, file: OpenFile): void {
    const left = (t.fileRefs.get(file) ?? 1) - 1;
    td.cpu.store(this.fileAddr(file) + FILE.f_count);
    if (left > 0) {
      t.fileRefs.set(file, left);
      return;
    }
    t.fileRefs.delete(file);
    this.k.charge(td, 'call'); // task_work_add
    t.taskWork.push({ kind: 'fput', file });
    t.flags |= TIF_NOTIFY_RESUME;
    td.cpu.store(t.field('flags'));
  }

  /** task_work_run(): the deferred __fput of each file closed since the last return. */
  runTaskWork(td: Thread, t: LinuxTask): void {
    const k = this.k;
    k.enter(td, 'task_work_run', 2);
    while (t.taskWork.length > 0) {
      const w = t.taskWork.shift()!;
      this.__fput(td, w.file);
    }
    k.leave(td, 'task_work_run');
  }

  /** __fput(): fsnotify_close, locks_remove_file, ->release, dput, mntput, file_free. */
  private __fput(td: Thread, file: OpenFile): void {
    const k = this.k;
    k.enter(td, '__fput', 3);
    td.cpu.load(this.fileAddr(file) + FILE.f_op);
    k.charge(td, 'call', 2); // fsnotify_close, locks_remove_file
    k.call(td, 'release', 1, 'vop'); // ->release, through a retpoline
    k.lockOp(td, this.vfs.vnodeAddr(file.vnode) + DENTRY_INODE.lock); // dput: the dentry's lockref
    k.charge(td, 'kmalloc'); // file_free
    k.leave(td, '__fput');
  }

  /** close(2): file_close_fd under file_lock, filp_close (->flush, dnotify, POSIX locks), fput. */
  close(td: Thread, fd: number): number {
    const k = this.k;
    const t = this.task(td);
    k.enter(td, 'file_close_fd', 2);
    k.lockPair(td, t.filesAddr + FILES.file_lock);
    const file = Number.isInteger(fd) && fd >= 0 ? td.proc.files[fd] : undefined;
    k.leave(td, 'file_close_fd');
    if (!file) throw new Errno('EBADF');
    td.proc.files[fd] = null;
    td.cpu.store(t.filesAddr + FILES.fd_array + Math.min(fd, 63) * 8);
    k.enter(td, 'filp_close', 2);
    k.charge(td, 'call', 2); // dnotify_flush, locks_remove_posix
    k.leave(td, 'filp_close');
    this.fput(td, t, file);
    return 0;
  }

  /** dup2(2): replace newfd under file_lock; the file it held is closed. */
  dup2(td: Thread, oldfd: number, newfd: number): number {
    const k = this.k;
    const t = this.task(td);
    const file = this.fdget(td, oldfd);
    if (!(Number.isInteger(newfd) && newfd >= 0 && newfd < 1024)) throw new Errno('EBADF');
    if (oldfd === newfd) return newfd;
    k.enter(td, 'do_dup2', 2);
    k.lockPair(td, t.filesAddr + FILES.file_lock);
    const files = td.proc.files;
    while (files.length <= newfd) files.push(null);
    const old = files[newfd];
    files[newfd] = file;
    t.fileRefs.set(file, (t.fileRefs.get(file) ?? 0) + 1);
    td.cpu.store(t.filesAddr + FILES.fd_array + Math.min(newfd, 63) * 8);
    k.leave(td, 'do_dup2');
    if (old) {
      k.charge(td, 'call', 2); // filp_close
      this.fput(td, t, old);
    }
    return newfd;
  }

  /** The end of do_exit(): exit_files closes every descriptor; exit_task_work then runs the __fput work synchronously. */
  exitFiles(td: Thread, t: LinuxTask): void {
    const files = td.proc.files;
    files.forEach((f, fd) => {
      if (f) this.close(td, fd);
    });
    this.runTaskWork(td, t);
    t.flags &= ~TIF_NOTIFY_RESUME;
  }

  // ---- Opening ---------------------------------------------------------------------------

  /** openat(2): do_sys_openat2 -> get_unused_fd_flags, do_filp_open (path_openat), fd_install. */
  openat(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const t = this.task(td);
    const path = str(a, 'path');
    const flags = str(a, 'flags');
    const readable = flags.includes('r');
    const writable = flags.includes('w');
    const create = a.create === 1;
    k.charge(td, 'call'); // build_open_flags
    this.getname(td, path, num(a, 'pathVa'));
    k.enter(td, 'path_openat', 4);
    k.charge(td, 'kmalloc'); // alloc_empty_file
    k.charge(td, 'call'); // security_file_alloc
    let vp: Vnode;
    try {
      if (create) {
        // open_last_lookups() with O_CREAT takes the parent directory's inode lock.
        const parts = FileSystem.components(path);
        parts.pop();
        const dir = this.lookup(td, '/' + parts.join('/'));
        if (dir.type !== 'dir') throw new Errno('ENOTDIR', path);
        k.lockPair(td, this.vfs.vnodeAddr(dir) + DENTRY_INODE.lock);
        try {
          vp = k.fs.walk(path).vnode;
        } catch (e) {
          if (!(e instanceof Errno) || e.errno !== 'ENOENT') throw e;
          k.call(td, 'vfs_create', 2, 'vop');
          vp = k.fs.addFile(path, 0);
        }
      } else {
        vp = this.lookup(td, path);
      }
      if (vp.type === 'dir' && writable) throw new Errno('EISDIR', path);
    } catch (e) {
      k.charge(td, 'kmalloc'); // fput of the empty file
      k.leave(td, 'path_openat');
      this.putname(td);
      throw e;
    }
    // do_open(): may_open (inode_permission), vfs_open -> do_dentry_open (->open, through a retpoline; chrdev_open for devices).
    k.call(td, 'inode_permission', 1);
    k.call(td, 'do_dentry_open', 2, 'vop');
    if (vp.type === 'reg' && a.trunc === 1 && writable) {
      k.call(td, 'handle_truncate', 2, 'vop');
      vp.size = 0;
    }
    td.cpu.load(this.vfs.vnodeAddr(vp) + DENTRY_INODE.inode);
    k.leave(td, 'path_openat');
    const file: OpenFile = { vnode: vp, readable, writable, offset: 0 };
    td.cpu.store(this.fileAddr(file));
    const fd = this.installFd(td, t, file);
    this.putname(td);
    return fd;
  }

  /** access(2)/faccessat: the walk and inode_permission. */
  access(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const path = str(a, 'path');
    this.getname(td, path, num(a, 'pathVa'));
    try {
      this.lookup(td, path);
      k.call(td, 'inode_permission', 1);
    } finally {
      this.putname(td);
    }
    return 0;
  }

  /** fstat/newfstatat(fd, "", AT_EMPTY_PATH): vfs_getattr (security_inode_getattr, generic_fillattr), cp_new_stat, copy_to_user. */
  fstat(td: Thread, fd: number, sbVa: number): number {
    const k = this.k;
    const file = this.fdget(td, fd);
    k.enter(td, 'vfs_getattr', 2);
    k.charge(td, 'call', 2);
    td.cpu.load(this.vfs.vnodeAddr(file.vnode) + DENTRY_INODE.inode);
    td.cpu.load(this.vfs.vnodeAddr(file.vnode) + DENTRY_INODE.inode_attrs);
    k.leave(td, 'vfs_getattr');
    k.enter(td, 'cp_new_stat', 1);
    k.charge(td, 'call');
    k.copyout(td, sbVa, td.kstack + KSTACK.copy_buf, STAT_BYTES);
    k.leave(td, 'cp_new_stat');
    return 0;
  }

  /** lseek(2): vfs_llseek -> ->llseek (zero_lseek/null_lseek return 0; generic_file_llseek for files). */
  lseek(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const file = this.fdget(td, num(a, 'fd'));
    const whence = num(a, 'whence');
    if (whence < 0 || whence > 2) throw new Errno('EINVAL');
    k.call(td, 'vfs_llseek', 1, 'vop');
    const vp = file.vnode;
    if (vp.type === 'chr') {
      file.offset = 0;
      return 0;
    }
    const size = vp.type === 'reg' ? vp.size : 0;
    const off = num(a, 'offset') + (whence === 0 ? 0 : whence === 1 ? file.offset : size);
    if (off < 0) throw new Errno('EINVAL');
    file.offset = off;
    td.cpu.store(this.fileAddr(file) + FILE.f_pos);
    return off;
  }

  // ---- read(2) and write(2) -------------------------------------------------------------

  /** ksys_read / ksys_pread64 -> vfs_read (position: pread64's offset; undefined: the file's). */
  read(td: Thread, a: SyscallArgs, position?: number): number {
    const k = this.k;
    const t = this.task(td);
    const file = this.fdget(td, num(a, 'fd'));
    const buf = num(a, 'bufVa');
    const len = Math.min(num(a, 'len'), 0x7ffff000); // MAX_RW_COUNT
    k.enter(td, 'vfs_read', 2);
    try {
      // FMODE_READ and FMODE_CAN_READ, access_ok(); rw_verify_area: security_file_permission, fsnotify_file_area_perm.
      if (!k.guard(td, this.fileAddr(file) + FILE.f_mode, file.readable)) throw new Errno('EBADF');
      k.charge(td, 'guard');
      k.charge(td, 'call', 2);
      const vp = file.vnode;
      if (vp.type === 'dir') throw new Errno('EISDIR');
      let n = 0;
      // ->read is preferred over ->read_iter: an indirect call through a retpoline.
      if (vp.type === 'chr') {
        if (vp.device === 'zero') {
          k.charge(td, 'vop');
          n = this.readZero(td, t, buf, len);
        } else k.call(td, 'read_null', 1, 'vop');
      } else if (vp.type === 'reg') {
        k.charge(td, 'vop');
        n = this.filemapRead(td, file, vp, buf, len, position ?? file.offset);
        if (position === undefined) file.offset += n;
      }
      // fsnotify_access, add_rchar, inc_syscr.
      if (n > 0) k.charge(td, 'call');
      td.cpu.store(t.field('ioac_rchar'));
      td.cpu.store(t.field('ioac_syscr'));
      return n;
    } finally {
      k.leave(td, 'vfs_read');
    }
  }

  /**
   * read_zero() (drivers/char/mem.c): per chunk of at most PAGE_SIZE, clear_user()
   * (STAC; rep stosb; CLAC: stores zeros to the user buffer, no source, a fault on an
   * untouched page taken inside), then signal_pending() (stop early) and cond_resched().
   */
  private readZero(td: Thread, t: LinuxTask, buf: number, count: number): number {
    const k = this.k;
    const chunkMax = k.profile.kernel_config.zero_chunk_bytes.value;
    k.enter(td, 'read_zero', 2);
    let cleared = 0;
    while (cleared < count) {
      const chunk = Math.min(count - cleared, chunkMax);
      k.enter(td, 'clear_user', 1);
      k.charge(td, 'copy_call');
      try {
        k.touchUser(td, buf + cleared, chunk, AccessKind.Write, true);
      } catch (e) {
        k.leave(td, 'clear_user');
        if (e instanceof Errno && e.errno === 'EFAULT' && cleared > 0) break;
        k.leave(td, 'read_zero');
        throw e;
      }
      k.leave(td, 'clear_user');
      cleared += chunk;
      if (k.guard(td, t.field('flags'), (this.tif(t) & TIF_SIGPENDING) !== 0)) break;
      k.charge(td, 'call'); // cond_resched(): a static call, a NOP under preempt=none
    }
    k.leave(td, 'read_zero');
    return cleared;
  }

  /** filemap_read(): copy_page_to_iter from each cached page. */
  private filemapRead(td: Thread, file: OpenFile, vp: Vnode & { type: 'reg' }, buf: number, len: number, pos: number): number {
    const k = this.k;
    const n = Math.max(0, Math.min(len, vp.size - pos));
    k.enter(td, 'filemap_read', 3);
    let done = 0;
    while (done < n) {
      const off = pos + done;
      const inPage = Math.min(n - done, k.pageBytes - (off % k.pageBytes));
      const frame = this.k.filePage(vp, Math.floor(off / k.pageBytes));
      td.cpu.load(vp.object.addr + VM_OBJECT.rtree); // filemap_get_read_batch: the mapping's xarray (i_pages)
      if (inPage === len && pos === file.offset) k.declareFileStride(file, off, len, k.phys.addr(frame) + (off % k.pageBytes), AccessKind.Read, vp.size);
      k.copyout(td, buf + done, k.phys.addr(frame) + (off % k.pageBytes), inPage);
      done += inPage;
    }
    td.cpu.load(this.fileAddr(file) + FILE.f_pos);
    k.leave(td, 'filemap_read');
    return n;
  }

  /** ksys_write -> vfs_write: write_null returns the count without reading the buffer; files copy into the page cache. */
  write(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const file = this.fdget(td, num(a, 'fd'));
    const len = Math.min(num(a, 'len'), 0x7ffff000);
    k.enter(td, 'vfs_write', 2);
    try {
      if (!k.guard(td, this.fileAddr(file) + FILE.f_mode, file.writable)) throw new Errno('EBADF');
      k.charge(td, 'guard');
      k.charge(td, 'call', 2); // rw_verify_area
      const vp = file.vnode;
      if (vp.type === 'dir') throw new Errno('EISDIR');
      if (vp.type === 'chr') {
        k.call(td, vp.device === 'null' ? 'write_null' : 'write_zero', 1, 'vop');
      } else if (vp.type === 'reg') {
        k.charge(td, 'vop');
        this.performWrite(td, file, vp, num(a, 'bufVa'), len);
      }
      if (len > 0) k.charge(td, 'call'); // fsnotify_modify
      td.cpu.store(this.task(td).field('ioac_rchar') + 8); // add_wchar, inc_syscw
      return len;
    } finally {
      k.leave(td, 'vfs_write');
    }
  }

  /** generic_perform_write(): copy each page's part into the page cache and dirty it. */
  private performWrite(td: Thread, file: OpenFile, vp: Vnode & { type: 'reg' }, buf: number, len: number): void {
    const k = this.k;
    k.enter(td, 'generic_perform_write', 3);
    k.lockPair(td, this.vfs.vnodeAddr(vp) + DENTRY_INODE.lock); // inode_lock
    let done = 0;
    while (done < len) {
      const off = file.offset + done;
      const inPage = Math.min(len - done, k.pageBytes - (off % k.pageBytes));
      const frame = this.k.filePage(vp, Math.floor(off / k.pageBytes));
      if (inPage === len) k.declareFileStride(file, off, len, k.phys.addr(frame) + (off % k.pageBytes), AccessKind.Write, vp.size);
      k.copyin(td, k.phys.addr(frame) + (off % k.pageBytes), buf + done, inPage);
      k.charge(td, 'call'); // folio_mark_dirty
      done += inPage;
    }
    file.offset += len;
    vp.size = Math.max(vp.size, file.offset);
    k.leave(td, 'generic_perform_write');
  }
}
