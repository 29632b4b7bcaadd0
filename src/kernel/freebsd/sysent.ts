// The slice of FreeBSD 11's sysent table that the modelled programs use: syscall
// number (which places the entry in the table, so in the cache), argument words
// per ABI (beyond the register arguments they are copied in from the stack), and
// SYF_CAPENABLED (allowed in capability mode).

export interface SysentEntry {
  index: number;
  nargs: number;
  capEnabled: boolean;
  /** The kernel function of the call's body (sys_<name>), as stack() names it. */
  bodyFn: string;
}

type Row = [name: string, number: number, amd64Args: number, armArgs: number, capEnabled: boolean];

const ROWS: Row[] = [
  ['exit', 1, 1, 1, true],
  ['read', 3, 3, 3, true],
  ['write', 4, 3, 3, true],
  ['close', 6, 1, 1, true],
  ['getpid', 20, 0, 0, true],
  ['access', 33, 2, 2, false],
  ['execve', 59, 3, 3, false],
  ['getppid', 39, 0, 0, true],
  ['ioctl', 54, 3, 3, true],
  ['readlink', 58, 3, 3, false],
  ['munmap', 73, 2, 2, true],
  ['fsync', 95, 1, 1, true],
  ['sysarch', 165, 2, 2, true],
  ['fstat', 189, 2, 2, true],
  ['lstat', 190, 2, 2, false],
  ['clock_gettime', 232, 2, 2, true],
  ['issetugid', 253, 0, 0, true],
  ['sigprocmask', 340, 3, 3, true],
  ['sigaction', 416, 3, 3, true],
  ['sigreturn', 417, 1, 1, true],
  ['mmap', 477, 6, 8, true],
  ['lseek', 478, 3, 5, true],
  ['openat', 499, 4, 4, true],
  ['cap_enter', 516, 0, 0, true],
];

export function buildSysent(isa: 'amd64' | 'armv7' | 'x86_64'): Map<string, SysentEntry> {
  return new Map(ROWS.map(([name, index, a64, arm, capEnabled]) => [name, { index, nargs: isa === 'armv7' ? arm : a64, capEnabled, bodyFn: `sys_${name}` }]));
}
