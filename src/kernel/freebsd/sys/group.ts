// A group of system-call bodies: an object whose methods named in `names` are
// the bodies (td, args) -> result. The kernel path gathers the groups into one
// table by name (../path.ts).

import type { Thread } from '../../proc.js';
import type { SyscallArgs } from '../../syscall-args.js';

export type SyscallBody = (td: Thread, a: SyscallArgs) => number;

export type SyscallGroup<N extends string> = { readonly names: readonly N[] } & { readonly [K in N]: SyscallBody };

/** The group's bodies by name, each bound to its group. */
export function bodiesOf<N extends string>(group: SyscallGroup<N>): [N, SyscallBody][] {
  return group.names.map((n) => [n, group[n].bind(group)]);
}
