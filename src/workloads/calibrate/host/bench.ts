// The model's side of the host measurements: a modelled Linux process with Node's view of
// memory, on which calibrate host runs the same operations it timed on the machine and
// reads from the cost meter how often each unit cost was paid.

import type { Profile } from '../../../costmodel/profile.js';
import { bootKernel } from '../../../kernel/boot.js';
import { Mode } from '../../../kernel/cpu.js';
import type { Kernel, SyscallArgs } from '../../../kernel/kernel.js';
import { AccessKind } from '../../../kernel/machine/cache.js';
import { GNU_LAYOUT } from '../../dd/gnu.js';
import { UserProcess } from '../../runtime.js';

const PAGE = 4096;
/** The seed of every model run of calibrate host. */
export const SEED = 'calibrate-host';

/** A modelled process with Node's view of memory: glibc-malloc'd buffers 16 bytes into an mmap'd chunk. */
export class ModelBench {
  readonly k: Kernel;
  readonly u: UserProcess;
  private n = 0;

  constructor(profile: Profile) {
    this.k = bootKernel(profile, { seed: SEED, features: new Set(), scripts: [] });
    this.u = new UserProcess(this.k, 'node', GNU_LAYOUT);
    this.u.td.cpu.mode = Mode.User;
  }

  sys(name: string, a: SyscallArgs): number {
    return this.k.path.syscall(this.u.td, name, a);
  }

  open(path: string, flags: 'r' | 'w'): number {
    return this.sys('openat', { path, pathVa: -1, flags });
  }

  /** Buffer.allocUnsafeSlow(size): malloc's own mapping, the chunk header written, the data 16 bytes in; `touch` fills it. */
  buffer(size: number, touch: boolean): number {
    const addr = this.sys('mmap', { len: size + 16 + PAGE, prot: 'rw', fd: -1, name: `buffer ${this.n++}` });
    this.k.touchUser(this.u.td, addr, 16, AccessKind.Write, false);
    if (touch) this.k.touchUser(this.u.td, addr + 16, size, AccessKind.Write, false);
    return addr + 16;
  }

  /** A page-aligned anonymous region of `size` bytes, every page touched: a C program's resident buffer. */
  residentRegion(size: number): number {
    const addr = this.sys('mmap', { len: size, prot: 'rw', fd: -1, name: `region ${this.n++}` });
    this.k.touchUser(this.u.td, addr, size, AccessKind.Write, false);
    return addr;
  }

  /** Meter usage of `fn`, divided by `per`. */
  usage(fn: () => void, per = 1): Float64Array {
    const before = this.k.usage.snapshot();
    fn();
    const after = this.k.usage.snapshot();
    return after.map((v, i) => (v - before[i]!) / per);
  }

  get minflt(): number {
    return this.u.td.proc.ru.minflt;
  }
}
