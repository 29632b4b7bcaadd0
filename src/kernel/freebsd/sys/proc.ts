// Process, signal, time and credential system calls (sys/kern/kern_prot.c,
// kern_sig.c, kern_time.c, kern_exec.c, kern_exit.c, sys_capability.c and the MD
// sysarch): the identity queries, the TLS base, signal handlers and masks,
// clock_gettime, capability mode, execve and exit.

import type { Kernel } from '../../kernel.js';
import { AccessKind } from '../../machine/cache.js';
import { KSTACK, VM_MAP } from '../../machine/layout.js';
import { CRED_FLAG_CAPMODE, ProcessExited, type Thread } from '../../proc.js';
import { num, str, type SyscallArgs } from '../../syscall-args.js';
import { Errno } from '../../vfs.js';
import type { VfsOps } from '../../vfsops.js';
import type { MapEntry } from '../../vm/vmspace.js';
import type { SyscallGroup } from './group.js';
import type { VmSyscalls } from './vm.js';

const SIGACTION_BYTES = 32;
const SIGSET_BYTES = 16;
const TIMESPEC_BYTES = 16;
const UCONTEXT_BYTES = 800;

type Names = 'issetugid' | 'getpid' | 'getppid' | 'sysarch' | 'sigaction' | 'sigprocmask' | 'sigreturn' | 'clock_gettime' | 'cap_enter' | 'execve' | 'exit';

export class ProcSyscalls implements SyscallGroup<Names> {
  readonly names = ['issetugid', 'getpid', 'getppid', 'sysarch', 'sigaction', 'sigprocmask', 'sigreturn', 'clock_gettime', 'cap_enter', 'execve', 'exit'] as const;

  constructor(
    private readonly k: Kernel,
    private readonly vfs: VfsOps,
    private readonly vm: VmSyscalls,
  ) {}

  issetugid(td: Thread): number {
    td.cpu.load(td.proc.field('p_flag'));
    return 0;
  }

  getpid(td: Thread): number {
    td.cpu.load(td.proc.field('p_flag'));
    return td.proc.pid;
  }

  getppid(td: Thread): number {
    td.cpu.load(td.proc.field('p_flag'));
    return 1;
  }

  /**
   * AMD64_SET_FSBASE (ARM_SET_TP): copy the base in, store it in the pcb at the top
   * of the kernel stack, and on amd64 load the user %fs selector into the trapframe
   * and mark the pcb for a full iretq return.
   */
  sysarch(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    k.copyin(td, td.kstack + KSTACK.sysarch_arg, num(a, 'argVa'), 8);
    k.charge(td, 'call');
    td.cpu.load(td.field('td_md'));
    td.cpu.store(td.kstack + KSTACK.pcb); // pcb_fsbase, pcb_flags
    if (k.profile.machine.isa !== 'armv7') {
      td.cpu.load(td.field('td_frame'));
      td.cpu.store(td.kstack + KSTACK.trapframe + 2 * k.lineBytes); // tf_fs
      td.fullIret = true;
    }
    return 0;
  }

  sigaction(td: Thread, a: SyscallArgs): number {
    return this.exchange(td, num(a, 'actVa'), num(a, 'oactVa'), SIGACTION_BYTES, (installs) => {
      this.k.lockPair(td, td.proc.field('p_sigacts'));
      this.k.charge(td, 'sig_op');
      if (installs) td.proc.sigactions.set(num(a, 'sig'), 'handler');
    });
  }

  sigprocmask(td: Thread, a: SyscallArgs): number {
    return this.exchange(td, num(a, 'setVa'), num(a, 'osetVa'), SIGSET_BYTES, () => this.k.charge(td, 'sig_op'));
  }

  sigreturn(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    k.copyin(td, td.kstack + KSTACK.copy_buf, num(a, 'ucVa'), UCONTEXT_BYTES);
    k.lockPair(td, td.proc.field('p_mtx'));
    k.call(td, 'set_mcontext', 3);
    return 0;
  }

  clock_gettime(td: Thread, a: SyscallArgs): number {
    this.k.call(td, 'nanotime', 2);
    this.k.copyout(td, num(a, 'tpVa'), td.kstack + KSTACK.copy_buf, TIMESPEC_BYTES);
    return 0;
  }

  cap_enter(td: Thread): number {
    const k = this.k;
    k.lockPair(td, td.proc.field('p_mtx'));
    k.charge(td, 'kmalloc'); // crcopy into a new ucred
    td.ucred.cr_flags |= CRED_FLAG_CAPMODE;
    td.cpu.store(td.credField('cr_flags'));
    return 0;
  }

  /**
   * kern_execve() with imgact_elf: look the binary up, read its header, map its
   * segments and the run-time linker's (text prefaulted, MAP_PREFAULT), copy the
   * arguments and auxv out to the new stack. The new name is set part way, so
   * DTrace's entry probe sees the old name and the return probe the new one.
   */
  execve(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const path = str(a, 'path');
    const image = k.images.get(path);
    const vp = this.vfs.namei(td, path, num(a, 'pathVa'));
    if (!image || vp.type !== 'reg') throw new Errno('ENOENT', path);
    k.enter(td, 'kern_execve', 4);
    this.vfs.vop(td, vp, 'VOP_ACCESS');
    this.vfs.vop(td, vp, 'VOP_READ'); // exec_map_first_page: the ELF header
    td.cpu.stream(k.phys.addr(k.filePage(vp, 0)), 4096, AccessKind.Read);
    const vm = td.proc.vmspace;
    for (const seg of image.segments) {
      k.lockPair(td, vm.addr + VM_MAP.lock);
      k.charge(td, 'vm_map_op');
      k.charge(td, 'kmalloc');
      const file = seg.file ? k.fs.walk(seg.file).vnode : undefined;
      if (seg.file && file?.type !== 'reg') throw new Error(`image segment ${seg.name}: no file ${seg.file}`);
      const obj = file && file.type === 'reg' ? file.object : null;
      if (obj && file) {
        k.charge(td, 'vm_object_op');
        this.vfs.vref(td, file);
      }
      const pages = Math.ceil(seg.bytes / k.pageBytes);
      const entry: MapEntry = { start: seg.va, end: seg.va + pages * k.pageBytes, prot: seg.prot, private: true, object: obj, offsetPages: seg.offsetPages, name: seg.name };
      if (file && file.type === 'reg') entry.vnode = file;
      vm.insert(entry);
      if (file && file.type === 'reg' && seg.prot === 'rx') this.vm.prefault(td, file, seg.va, seg.offsetPages, pages);
    }
    td.proc.comm = path.slice(path.lastIndexOf('/') + 1);
    const stack = vm.entries.find((e) => e.name === 'stack')!;
    k.copyout(td, stack.end - image.stringsBytes, td.kstack + KSTACK.copy_buf, image.stringsBytes);
    k.leave(td, 'kern_execve');
    return 0;
  }

  /**
   * sigaction and sigprocmask: copy the new value in (if `newVa` is given), change
   * the process's signal state under PROC_LOCK, copy the old value out (if `oldVa`).
   */
  private exchange(td: Thread, newVa: number, oldVa: number, bytes: number, change: (installs: boolean) => void): number {
    const k = this.k;
    if (newVa) k.copyin(td, td.kstack + KSTACK.copy_buf, newVa, bytes);
    k.lockPair(td, td.proc.field('p_mtx'));
    change(newVa !== 0);
    if (oldVa) k.copyout(td, oldVa, td.kstack + KSTACK.copy_buf, bytes);
    return 0;
  }

  /** exit1(): close descriptors, tear down the address space (vmspace_exit), become a zombie. exit(2) never returns. */
  exit(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const p = td.proc;
    const status = num(a, 'status');
    k.enter(td, 'exit1', 6);
    k.lockPair(td, p.field('p_mtx'));
    p.files.forEach((f, fd) => {
      if (f) this.vfs.close(td, fd);
    });
    k.enter(td, 'vmspace_exit', 3);
    this.vm.unmapPieces(td, p.vmspace.remove(0, Number.MAX_SAFE_INTEGER));
    k.leave(td, 'vmspace_exit');
    k.lockPair(td, p.field('p_mtx'));
    k.charge(td, 'call', 4); // ruadd, p_ru snapshot, proctree work
    p.exitStatus = status;
    k.leave(td, 'exit1');
    throw new ProcessExited(status);
  }
}
