// uiomove() (sys/kern/subr_uio.c): the copy between a kernel buffer and the
// user's, shared by the devices' and the file systems' read paths.

import type { Kernel } from '../kernel.js';
import type { Thread } from '../proc.js';

/**
 * uiomove() of one chunk out to user space: WITNESS_WARN, the assertions,
 * maybe_yield, then copyout. `srcWraps` > 0: the source is a region of that many
 * bytes read over and over (/dev/zero's zero_region).
 */
export function uiomoveOut(k: Kernel, td: Thread, uva: number, src: number, n: number, srcWraps: number): void {
  k.enter(td, 'uiomove', 2);
  k.witnessWarn(td);
  k.kassert(td, 2);
  k.charge(td, 'call'); // maybe_yield
  k.copyout(td, uva, src, n, srcWraps);
  k.leave(td, 'uiomove');
}

/** uiomove() of one chunk in from user space (the write path: a plain copyin). */
export function uiomoveIn(k: Kernel, td: Thread, dst: number, uva: number, n: number): void {
  k.enter(td, 'uiomove', 2);
  k.copyin(td, dst, uva, n);
  k.leave(td, 'uiomove');
}
