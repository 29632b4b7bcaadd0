// Placeholder until the Linux path lands: refuses clearly.
import type { Kernel, KernelPath, SyscallArgs } from '../kernel.js';
import type { Thread } from '../proc.js';

export class LinuxKernelPath implements KernelPath {
  readonly syscallNames: readonly string[] = [];
  constructor(_k: Kernel) {}
  syscall(_td: Thread, name: string, _args: SyscallArgs): number {
    throw new Error(`the Linux kernel path is not modelled yet (${name})`);
  }
  userFault(): void {
    throw new Error('the Linux kernel path is not modelled yet');
  }
}
