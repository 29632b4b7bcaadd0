// Character devices (sys/fs/devfs/devfs_vnops.c, sys/dev/null/null.c): devfs's
// file operations for read(2) and write(2) on /dev/zero and /dev/null, and
// ioctl(2), which only devices answer here (FIODTYPE).

import type { Kernel } from '../../kernel.js';
import { KSTACK, VNODE } from '../../machine/layout.js';
import type { Thread } from '../../proc.js';
import { num, type SyscallArgs } from '../../syscall-args.js';
import { Errno, type Vnode } from '../../vfs.js';
import type { VfsOps } from '../../vfsops.js';
import { uiomoveOut } from '../uio.js';
import type { SyscallGroup } from './group.js';

type Device = Vnode & { type: 'chr' };

export class DevSyscalls implements SyscallGroup<'ioctl'> {
  readonly names = ['ioctl'] as const;

  constructor(
    private readonly k: Kernel,
    private readonly vfs: VfsOps,
  ) {}

  ioctl(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const fp = this.vfs.fget(td, num(a, 'fd'));
    if (fp.vnode.type !== 'chr') throw new Errno('ENOTTY');
    // devfs_ioctl_f -> vn_ioctl -> VOP_IOCTL (devfs_ioctl) answers FIODTYPE.
    k.call(td, 'devfs_ioctl_f', 2);
    this.vfs.vop(td, fp.vnode, 'VOP_IOCTL');
    k.copyout(td, num(a, 'argVa'), td.kstack + KSTACK.copy_buf, 4);
    return 0;
  }

  /** devfs_read_f(): /dev/zero copies out of zero_region, a chunk at a time (zero_read); /dev/null reads nothing. */
  read(td: Thread, vp: Device, buf: number, len: number): number {
    const k = this.k;
    k.enter(td, 'devfs_read_f', 2);
    td.cpu.load(this.vfs.vnodeAddr(vp) + VNODE.v_rdev); // dev_refthread
    let done = 0;
    if (vp.device === 'zero') {
      k.enter(td, 'zero_read', 2);
      const chunk = k.profile.kernel_config.zero_chunk_bytes.value;
      while (done < len) {
        const n = Math.min(chunk, len - done);
        uiomoveOut(k, td, buf + done, k.globals.zero_region, n, k.pageBytes);
        done += n;
      }
      k.leave(td, 'zero_read');
    }
    k.leave(td, 'devfs_read_f');
    return done;
  }

  /** devfs_write_f(): both devices discard the data (null_write sets uio_resid = 0: the user buffer is never read). */
  write(td: Thread, vp: Device, len: number): number {
    const k = this.k;
    k.enter(td, 'devfs_write_f', 2);
    td.cpu.load(this.vfs.vnodeAddr(vp) + VNODE.v_rdev); // dev_refthread
    k.call(td, 'null_write', 1);
    k.leave(td, 'devfs_write_f');
    return len;
  }
}
