// FreeBSD's kernel path: the syscall and trap paths of ./syscall.ts and
// ./trap.ts, and the bodies of the system calls the modelled programs make, with
// their real semantics and errors. Each body charges what the call does: path
// components looked up, descriptors touched, map entries changed, pages mapped or
// unmapped, bytes copied, locks taken.

import type { Kernel, KernelPath, SyscallArgs } from '../kernel.js';
import { AccessKind } from '../machine/cache.js';
import { CRED_FLAG_CAPMODE, ProcessExited, type Thread } from '../proc.js';
import { Errno, FileSystem, type OpenFile, type Vnode } from '../vfs.js';
import { VfsOps } from '../vfsops.js';
import { vmPageAddr } from '../machine/layout.js';
import type { MapEntry, Prot, RemovedPiece } from '../vm/vmspace.js';
import { buildSysent } from './sysent.js';
import { FreeBSDSyscallPath } from './syscall.js';
import { FreeBSDTrapPath } from './trap.js';

/** rtld and libc prefault at most this many resident pages of a file mapping (MAX_INIT_PT). */
const MAX_INIT_PT = 96;
const STAT_BYTES = 120;
const SIGACTION_BYTES = 32;
const SIGSET_BYTES = 16;
const TIMESPEC_BYTES = 16;
const UCONTEXT_BYTES = 800;
/** The kernel stack (4 pages, Kernel.newProc) and the pcb at its top. */
const KSTACK_BYTES = 4 * 4096;
const PCB_BYTES = 512;
/** Pages per storage request: UFS clusters reads (read-ahead) and writes up to MAXPHYS, 128 KiB. */
const CLUSTER_BYTES = 128 * 1024;

type Body = (td: Thread, a: SyscallArgs) => number;

function num(a: SyscallArgs, key: string): number {
  const v = a[key];
  if (typeof v !== 'number') throw new Error(`syscall argument ${key} missing`);
  return v;
}

function str(a: SyscallArgs, key: string): string {
  const v = a[key];
  if (typeof v !== 'string') throw new Error(`syscall argument ${key} missing`);
  return v;
}

export class FreeBSDKernelPath implements KernelPath {
  readonly sys: FreeBSDSyscallPath;
  readonly trap: FreeBSDTrapPath;
  readonly vfs: VfsOps;
  private readonly bodies: Record<string, Body>;
  /** Regular files whose pages are not in the buffer cache (a cold cache): read() of an absent page reads its cluster from storage first. */
  readonly uncached = new WeakSet<Vnode>();
  /** Dirty (delayed-write) pages of regular files, by page index: fsync() writes them to storage. */
  private readonly dirty = new Map<Vnode, Set<number>>();

  constructor(private readonly k: Kernel) {
    const sysent = buildSysent(k.profile.machine.isa);
    this.sys = new FreeBSDSyscallPath(k, sysent);
    this.trap = new FreeBSDTrapPath(k, this.sys);
    this.vfs = new VfsOps(k);
    this.bodies = {
      issetugid: (td) => {
        td.cpu.load(td.proc.field('p_flag'));
        return 0;
      },
      getpid: (td) => {
        td.cpu.load(td.proc.field('p_flag'));
        return td.proc.pid;
      },
      getppid: (td) => {
        td.cpu.load(td.proc.field('p_flag'));
        return 1;
      },
      sysarch: (td, a) => {
        // AMD64_SET_FSBASE (ARM_SET_TP): copy the base in, store it in the pcb at
        // the top of the kernel stack, and on amd64 load the user %fs selector into
        // the trapframe and mark the pcb for a full iretq return.
        k.copyin(td, td.kstack + 768, num(a, 'argVa'), 8);
        k.charge(td, 'call');
        td.cpu.load(td.field('td_md'));
        td.cpu.store(td.kstack + KSTACK_BYTES - PCB_BYTES); // pcb_fsbase, pcb_flags
        if (k.profile.machine.isa !== 'armv7') {
          td.cpu.load(td.field('td_frame'));
          td.cpu.store(td.kstack + 2 * k.lineBytes); // tf_fs
          td.fullIret = true;
        }
        return 0;
      },
      lstat: (td, a) => {
        const vp = this.vfs.namei(td, str(a, 'path'), num(a, 'pathVa'));
        this.stat(td, vp, num(a, 'sbVa'));
        this.vfs.vrele(td, vp); // vput
        return 0;
      },
      fstat: (td, a) => this.stat(td, this.vfs.fget(td, num(a, 'fd')).vnode, num(a, 'sbVa')),
      access: (td, a) => {
        const vp = this.vfs.namei(td, str(a, 'path'), num(a, 'pathVa'));
        this.vfs.vop(td, vp, 'VOP_ACCESS');
        this.vfs.vrele(td, vp);
        return 0;
      },
      readlink: (td, a) => {
        const vp = this.vfs.namei(td, str(a, 'path'), num(a, 'pathVa'));
        if (vp.type !== 'lnk') {
          this.vfs.vrele(td, vp); // vput
          throw new Errno('EINVAL', str(a, 'path'));
        }
        this.vfs.vop(td, vp, 'VOP_READLINK');
        this.vfs.vrele(td, vp);
        const n = Math.min(vp.target.length, num(a, 'len'));
        k.copyout(td, num(a, 'bufVa'), td.kstack + 1024, n);
        return n;
      },
      openat: (td, a) => this.openat(td, a),
      close: (td, a) => {
        this.vfs.close(td, num(a, 'fd'));
        return 0;
      },
      ioctl: (td, a) => {
        const fp = this.vfs.fget(td, num(a, 'fd'));
        if (fp.vnode.type !== 'chr') throw new Errno('ENOTTY');
        // devfs_ioctl_f -> vn_ioctl -> VOP_IOCTL (devfs_ioctl) answers FIODTYPE.
        k.call(td, 'devfs_ioctl_f', 2);
        this.vfs.vop(td, fp.vnode, 'VOP_IOCTL');
        k.copyout(td, num(a, 'argVa'), td.kstack + 1024, 4);
        return 0;
      },
      lseek: (td, a) => {
        const fp = this.vfs.fget(td, num(a, 'fd'));
        k.lockPair(td, this.vfs.vnodeAddr(fp.vnode) + 128); // foffset lock
        k.charge(td, 'vop');
        const whence = num(a, 'whence');
        const size = fp.vnode.type === 'reg' ? fp.vnode.size : 0;
        const off = num(a, 'offset') + (whence === 0 ? 0 : whence === 1 ? fp.offset : size);
        if (off < 0) throw new Errno('EINVAL');
        fp.offset = off;
        return off;
      },
      read: (td, a) => this.read(td, a),
      write: (td, a) => this.write(td, a),
      mmap: (td, a) => this.mmap(td, a),
      munmap: (td, a) => {
        this.munmap(td, num(a, 'addr'), num(a, 'len'));
        return 0;
      },
      sigaction: (td, a) => {
        const act = num(a, 'actVa');
        if (act) k.copyin(td, td.kstack + 1024, act, SIGACTION_BYTES);
        k.lockPair(td, td.proc.field('p_mtx'));
        k.lockPair(td, td.proc.field('p_sigacts'));
        k.charge(td, 'sig_op');
        if (act) td.proc.sigactions.set(num(a, 'sig'), 'handler');
        const oact = num(a, 'oactVa');
        if (oact) k.copyout(td, oact, td.kstack + 1024, SIGACTION_BYTES);
        return 0;
      },
      sigprocmask: (td, a) => {
        const set = num(a, 'setVa');
        if (set) k.copyin(td, td.kstack + 1024, set, SIGSET_BYTES);
        k.lockPair(td, td.proc.field('p_mtx'));
        k.charge(td, 'sig_op');
        const oset = num(a, 'osetVa');
        if (oset) k.copyout(td, oset, td.kstack + 1024, SIGSET_BYTES);
        return 0;
      },
      clock_gettime: (td, a) => {
        k.call(td, 'nanotime', 2);
        k.copyout(td, num(a, 'tpVa'), td.kstack + 1024, TIMESPEC_BYTES);
        return 0;
      },
      sigreturn: (td, a) => {
        k.copyin(td, td.kstack + 1024, num(a, 'ucVa'), UCONTEXT_BYTES);
        k.lockPair(td, td.proc.field('p_mtx'));
        k.call(td, 'set_mcontext', 3);
        return 0;
      },
      cap_enter: (td) => {
        k.lockPair(td, td.proc.field('p_mtx'));
        k.charge(td, 'kmalloc'); // crcopy into a new ucred
        td.ucred.cr_flags |= CRED_FLAG_CAPMODE;
        td.cpu.store(td.credField('cr_flags'));
        return 0;
      },
      fsync: (td, a) => {
        const fp = this.vfs.fget(td, num(a, 'fd'));
        this.vfs.vop(td, fp.vnode, 'VOP_FSYNC');
        this.writeBack(td, fp.vnode);
        return 0;
      },
      execve: (td, a) => {
        this.execve(td, str(a, 'path'), num(a, 'pathVa'));
        return 0;
      },
      exit: (td, a) => {
        this.exit1(td, num(a, 'status'));
        throw new ProcessExited(num(a, 'status'));
      },
    };
  }

  get syscallNames(): readonly string[] {
    return Object.keys(this.bodies);
  }

  syscall(td: Thread, name: string, args: SyscallArgs): number {
    const body = this.bodies[name];
    if (!body) throw new Error(`l41sim models no '${name}' system call on FreeBSD`);
    return this.sys.syscall(td, name, () => body(td, args));
  }

  userFault(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    this.k.checkUserAccess(td, va, write, inKernel);
    this.trap.pageFault(td, va, write, inKernel);
  }

  // ---- Bodies ---------------------------------------------------------------------

  private stat(td: Thread, vp: Vnode, sbVa: number): number {
    this.vfs.vop(td, vp, 'VOP_GETATTR');
    this.k.copyout(td, sbVa, td.kstack + 1024, STAT_BYTES);
    return 0;
  }

  private openat(td: Thread, a: SyscallArgs): number {
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
      k.lockPair(td, k.globals.cnt + 1088);
    }
    this.vfs.vop(td, vp, 'VOP_ACCESS');
    this.vfs.vop(td, vp, 'VOP_OPEN');
    if (a.trunc === 1 && writable) {
      // fo_truncate -> vn_truncate: vn_start_write, the vnode lock, VOP_SETATTR(size 0).
      k.lockPair(td, k.globals.cnt + 1152);
      this.vfs.vop(td, vp, 'VOP_SETATTR');
      if (vp.type === 'reg') vp.size = 0;
    }
    const file: OpenFile = { vnode: vp, readable, writable, offset: 0 };
    this.vfs.vref(td, vp); // namei's reference, now the file's
    return this.vfs.falloc(td, file);
  }

  private read(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const fp = this.vfs.fget(td, num(a, 'fd'));
    if (!fp.readable) throw new Errno('EBADF');
    const buf = num(a, 'bufVa');
    const len = num(a, 'len');
    const vp = fp.vnode;
    if (vp.type === 'chr') {
      k.enter(td, 'devfs_read_f', 2);
      td.cpu.load(this.vfs.vnodeAddr(vp) + 256); // dev_refthread
      let done = 0;
      if (vp.device === 'zero') {
        k.enter(td, 'zero_read', 2);
        const chunk = k.profile.kernel_config.zero_chunk_bytes.value;
        while (done < len) {
          const n = Math.min(chunk, len - done);
          this.uiomove(td, buf + done, k.globals.zero_region, n, AccessKind.Write, k.pageBytes);
          done += n;
        }
        k.leave(td, 'zero_read');
      }
      k.leave(td, 'devfs_read_f');
      return done;
    }
    if (vp.type !== 'reg') throw new Errno('EISDIR');
    return this.vnRead(td, fp, vp, buf, len);
  }

  /** vn_read() -> VOP_READ: copy out of the file's cached pages. */
  private vnRead(td: Thread, fp: OpenFile, vp: Vnode & { type: 'reg' }, buf: number, len: number): number {
    const k = this.k;
    const vaddr = this.vfs.vnodeAddr(vp);
    k.lockPair(td, vaddr + 128); // foffset_lock
    k.enter(td, 'vn_read', 2);
    this.vfs.vop(td, vp, 'VOP_READ');
    const n = Math.max(0, Math.min(len, vp.size - fp.offset));
    this.vfs.markAccessed(vp);
    let done = 0;
    while (done < n) {
      const off = fp.offset + done;
      const pindex = Math.floor(off / k.pageBytes);
      const inPage = Math.min(n - done, k.pageBytes - (off % k.pageBytes));
      const frame = this.bufPage(td, vp, pindex, false);
      k.lockPair(td, vaddr + 192); // getblk: buffer lock
      this.uiomove(td, buf + done, k.phys.addr(frame) + (off % k.pageBytes), inPage, AccessKind.Write, 0);
      done += inPage;
    }
    fp.offset += n;
    k.leave(td, 'vn_read');
    return n;
  }

  private write(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const fp = this.vfs.fget(td, num(a, 'fd'));
    if (!fp.writable) throw new Errno('EBADF');
    const len = num(a, 'len');
    const vp = fp.vnode;
    if (vp.type === 'chr') {
      k.enter(td, 'devfs_write_f', 2);
      td.cpu.load(this.vfs.vnodeAddr(vp) + 256); // dev_refthread
      k.call(td, 'null_write', 1); // uio_resid = 0: the user buffer is never read
      k.leave(td, 'devfs_write_f');
      return len;
    }
    if (vp.type !== 'reg') throw new Errno('EISDIR');
    return this.vnWrite(td, fp, vp, num(a, 'bufVa'), len);
  }

  /** vn_write() -> VOP_WRITE: copy into the file's cached pages (allocating them), delayed write. */
  private vnWrite(td: Thread, fp: OpenFile, vp: Vnode & { type: 'reg' }, buf: number, len: number): number {
    const k = this.k;
    const vaddr = this.vfs.vnodeAddr(vp);
    k.call(td, 'bwillwrite', 1);
    k.lockPair(td, vaddr + 128);
    k.enter(td, 'vn_write', 2);
    this.vfs.vop(td, vp, 'VOP_WRITE');
    let done = 0;
    while (done < len) {
      const off = fp.offset + done;
      const pindex = Math.floor(off / k.pageBytes);
      const inPage = Math.min(len - done, k.pageBytes - (off % k.pageBytes));
      // A write that covers a whole page, or starts a page past EOF, needs no read of the old data.
      const frame = this.bufPage(td, vp, pindex, inPage === k.pageBytes || pindex * k.pageBytes >= vp.size);
      this.markDirty(vp, pindex);
      k.lockPair(td, vaddr + 192);
      k.enter(td, 'uiomove', 2);
      k.copyin(td, k.phys.addr(frame) + (off % k.pageBytes), buf + done, inPage);
      k.leave(td, 'uiomove');
      done += inPage;
    }
    fp.offset += len;
    vp.size = Math.max(vp.size, fp.offset);
    k.leave(td, 'vn_write');
    return len;
  }


  /** The buffer-cache page for read()/write(): on a cold cache, an absent page is read from storage first (unless it will be overwritten whole). */
  private bufPage(td: Thread, vp: Vnode & { type: 'reg' }, pindex: number, overwrite: boolean): number {
    if (!overwrite && !vp.object.pages.has(pindex) && this.uncached.has(vp)) this.storageRead(td, vp, pindex);
    return this.k.filePage(vp, pindex);
  }

  /** bread()/cluster_read(): one storage request for the page and the absent pages after it, up to a cluster or EOF (read-ahead). */
  private storageRead(td: Thread, vp: Vnode & { type: 'reg' }, pindex: number): void {
    const k = this.k;
    const lastPage = Math.max(pindex, Math.ceil(vp.size / k.pageBytes) - 1);
    let pages = 0;
    for (let i = pindex; i <= lastPage && pages < CLUSTER_BYTES / k.pageBytes && !vp.object.pages.has(i); i++, pages++) this.k.filePage(vp, i);
    k.enter(td, 'cluster_read', 3);
    k.charge(td, 'kmalloc'); // the buf and its bio
    k.lockPair(td, this.vfs.vnodeAddr(vp) + 192);
    k.charge(td, 'storage_io');
    k.charge(td, 'storage_read_page', pages);
    k.leave(td, 'cluster_read');
  }

  private markDirty(vp: Vnode, pindex: number): void {
    let set = this.dirty.get(vp);
    if (!set) this.dirty.set(vp, (set = new Set()));
    set.add(pindex);
  }

  /** ffs_syncvp(): write the file's dirty pages to storage in clusters of contiguous pages, then its inode; wait for all of it. */
  private writeBack(td: Thread, vp: Vnode): void {
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
    k.lockPair(td, this.vfs.vnodeAddr(vp) + 192);
    k.charge(td, 'storage_io', requests);
    k.charge(td, 'storage_write_page', pages.length + 1);
    k.leave(td, 'ffs_syncvp');
  }

  /** uiomove() of one chunk to user space: WITNESS_WARN, assertions, maybe_yield, copyout. */
  private uiomove(td: Thread, uva: number, src: number, n: number, _kind: AccessKind, srcWraps: number): void {
    const k = this.k;
    k.enter(td, 'uiomove', 2);
    k.witnessWarn(td);
    k.kassert(td, 2);
    k.charge(td, 'call'); // maybe_yield
    k.copyout(td, uva, src, n, srcWraps);
    k.leave(td, 'uiomove');
  }

  private mmap(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const vm = td.proc.vmspace;
    const len = Math.ceil(num(a, 'len') / k.pageBytes) * k.pageBytes;
    if (len <= 0) throw new Errno('EINVAL');
    const prot = str(a, 'prot') as Prot;
    const fd = num(a, 'fd');
    let vp: (Vnode & { type: 'reg' }) | undefined;
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
    k.lockPair(td, vm.addr); // vm_map_lock
    const fixed = a.fixed === 1;
    const superpage = 2 * 1024 * 1024;
    const addr = fixed ? num(a, 'addr') : vm.findSpace(len, len >= superpage ? superpage : k.pageBytes);
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
      // MAP_PREFAULT_PARTIAL: map up to MAX_INIT_PT resident pages now.
      const pages: [number, number][] = [];
      const filePages = Math.ceil(vp.size / k.pageBytes);
      for (let i = 0; i < len / k.pageBytes && pages.length < MAX_INIT_PT; i++) {
        const pindex = entry.offsetPages + i;
        if (pindex >= filePages) break;
        pages.push([addr / k.pageBytes + i, this.k.filePage(vp, pindex)]);
      }
      this.trap.prefault(td, pages);
    }
    return addr;
  }

  private munmap(td: Thread, addr: number, len: number): void {
    const k = this.k;
    const vm = td.proc.vmspace;
    k.enter(td, 'vm_map_remove', 3);
    k.lockPair(td, vm.addr);
    const removed = vm.remove(addr, addr + Math.ceil(len / k.pageBytes) * k.pageBytes);
    this.unmapPieces(td, removed);
    k.leave(td, 'vm_map_remove');
  }

  /** vm_map_delete of map pieces: pmap_remove of their pages, freeing anonymous ones, and a TLB shootdown. */
  private unmapPieces(td: Thread, pieces: RemovedPiece[]): void {
    const k = this.k;
    for (const e of pieces) {
      k.charge(td, 'vm_map_op');
      k.charge(td, 'kmalloc'); // the entry
      k.enter(td, 'pmap_remove', 2);
      k.lockPair(td, td.proc.vmspace.addr + 256);
      for (let va = e.start; va < e.end; va += k.pageBytes) {
        const frame = this.trap.pmapRemove(td, va / k.pageBytes);
        if (frame === undefined) continue;
        k.lockPair(td, vmPageAddr(frame) + 64); // the page's pv list lock (pmap_remove_pte)
        if (e.object?.kind === 'anon') {
          const pindex = e.offsetPages + (va - e.start) / k.pageBytes;
          if (e.object.pages.delete(pindex)) {
            // vm_page_free: the page lock, then vm_page_free_toq under the free-queue lock.
            k.lockPair(td, vmPageAddr(frame));
            k.lockPair(td, k.globals.cnt + 64);
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

  /**
   * kern_execve() with imgact_elf: look the binary up, read its header, map its
   * segments and the run-time linker's (text prefaulted, MAP_PREFAULT), copy the
   * arguments and auxv out to the new stack. The new name is set part way, so
   * DTrace's entry probe sees the old name and the return probe the new one.
   */
  private execve(td: Thread, path: string, pathVa: number): void {
    const k = this.k;
    const image = k.images.get(path);
    const vp = this.vfs.namei(td, path, pathVa);
    if (!image || vp.type !== 'reg') throw new Errno('ENOENT', path);
    k.enter(td, 'kern_execve', 4);
    this.vfs.vop(td, vp, 'VOP_ACCESS');
    this.vfs.vop(td, vp, 'VOP_READ'); // exec_map_first_page: the ELF header
    td.cpu.stream(k.phys.addr(this.k.filePage(vp, 0)), 4096, AccessKind.Read);
    const vm = td.proc.vmspace;
    for (const seg of image.segments) {
      k.lockPair(td, vm.addr);
      k.charge(td, 'vm_map_op');
      k.charge(td, 'kmalloc');
      const file = seg.file ? k.fs.walk(seg.file).vnode : undefined;
      if (seg.file && file?.type !== 'reg') throw new Error(`image segment ${seg.name}: no file ${seg.file}`);
      const obj = file && file.type === 'reg' ? file.object : null;
      if (obj && file) {
        k.charge(td, 'vm_object_op');
        this.vfs.vref(td, file);
      }
      const entry: MapEntry = { start: seg.va, end: seg.va + Math.ceil(seg.bytes / k.pageBytes) * k.pageBytes, prot: seg.prot, private: true, object: obj, offsetPages: seg.offsetPages, name: seg.name };
      if (file && file.type === 'reg') entry.vnode = file;
      vm.insert(entry);
      if (file && file.type === 'reg' && seg.prot === 'rx') {
        const pages: [number, number][] = [];
        for (let i = 0; i < Math.ceil(seg.bytes / k.pageBytes) && pages.length < MAX_INIT_PT; i++) pages.push([seg.va / k.pageBytes + i, this.k.filePage(file, seg.offsetPages + i)]);
        this.trap.prefault(td, pages);
      }
    }
    td.proc.comm = path.slice(path.lastIndexOf('/') + 1);
    const stack = vm.entries.find((e) => e.name === 'stack')!;
    k.copyout(td, stack.end - image.stringsBytes, td.kstack + 1024, image.stringsBytes);
    k.leave(td, 'kern_execve');
  }

  /** exit1(): close descriptors, tear down the address space (vmspace_exit), become a zombie. */
  private exit1(td: Thread, status: number): void {
    const k = this.k;
    const p = td.proc;
    k.enter(td, 'exit1', 6);
    k.lockPair(td, p.field('p_mtx'));
    p.files.forEach((f, fd) => {
      if (f) this.vfs.close(td, fd);
    });
    k.enter(td, 'vmspace_exit', 3);
    this.unmapPieces(td, p.vmspace.remove(0, Number.MAX_SAFE_INTEGER));
    k.leave(td, 'vmspace_exit');
    k.lockPair(td, p.field('p_mtx'));
    k.charge(td, 'call', 4); // ruadd, p_ru snapshot, proctree work
    p.exitStatus = status;
    k.leave(td, 'exit1');
  }
}
