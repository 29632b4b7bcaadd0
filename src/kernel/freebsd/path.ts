// FreeBSD's kernel path: the syscall and trap paths of ./syscall.ts and
// ./trap.ts, the buffer cache (./bufcache.ts), and the bodies of the system calls
// the modelled programs make, grouped by subsystem under ./sys (vfs, vm, proc,
// dev) with their real semantics and errors. Each body charges what the call
// does: path components looked up, descriptors touched, map entries changed,
// pages mapped or unmapped, bytes copied, locks taken.

import type { Kernel, KernelPath } from '../kernel.js';
import type { Thread } from '../proc.js';
import type { SyscallArgs } from '../syscall-args.js';
import { VfsOps } from '../vfsops.js';
import { BufferCache } from './bufcache.js';
import { buildSysent } from './sysent.js';
import { DevSyscalls } from './sys/dev.js';
import { bodiesOf, type SyscallBody } from './sys/group.js';
import { ProcSyscalls } from './sys/proc.js';
import { VfsSyscalls } from './sys/vfs.js';
import { VmSyscalls } from './sys/vm.js';
import { FreeBSDSyscallPath } from './syscall.js';
import { FreeBSDTrapPath } from './trap.js';
import { FreeBSDUserReturn } from './userret.js';
import { STEADY, type SteadyDecl } from '../steady/declare.js';

export class FreeBSDKernelPath implements KernelPath {
  /** The table of system-call bodies is fixed when the kernel boots. */
  static readonly [STEADY]: SteadyDecl = { skip: ['bodies'] };
  readonly sys: FreeBSDSyscallPath;
  readonly trap: FreeBSDTrapPath;
  readonly vfs: VfsOps;
  readonly bufcache: BufferCache;
  private readonly bodies: ReadonlyMap<string, SyscallBody>;

  constructor(private readonly k: Kernel) {
    const ret = new FreeBSDUserReturn(k);
    this.sys = new FreeBSDSyscallPath(k, buildSysent(k.profile.machine.isa), ret);
    this.trap = new FreeBSDTrapPath(k, ret);
    this.vfs = new VfsOps(k);
    this.bufcache = new BufferCache(k, this.vfs);
    const dev = new DevSyscalls(k, this.vfs);
    const vm = new VmSyscalls(k, this.vfs, this.trap);
    const vfs = new VfsSyscalls(k, this.vfs, this.bufcache, dev);
    const proc = new ProcSyscalls(k, this.vfs, vm);
    this.bodies = new Map<string, SyscallBody>([...bodiesOf(proc), ...bodiesOf(vfs), ...bodiesOf(dev), ...bodiesOf(vm)]);
  }

  initThread(td: Thread): void {
    this.sys.switchOnHooks(td);
  }

  get syscallNames(): readonly string[] {
    return [...this.bodies.keys()];
  }

  syscall(td: Thread, name: string, args: SyscallArgs): number {
    const body = this.bodies.get(name);
    if (!body) throw new Error(`l41sim models no '${name}' system call on FreeBSD`);
    return this.sys.syscall(td, name, () => body(td, args));
  }

  userFault(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    this.k.checkUserAccess(td, va, write, inKernel);
    this.trap.pageFault(td, va, write, inKernel);
  }
}
