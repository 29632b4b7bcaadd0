// A system call's arguments as the modelled programs pass them (by name), and
// the two accessors the bodies read them with. A missing or mistyped argument is
// a bug in the modelled program, not a user error.

export type SyscallArgs = Record<string, number | string | undefined>;

/** A numeric argument (a descriptor, a length, a user address). */
export function num(a: SyscallArgs, key: string): number {
  const v = a[key];
  if (typeof v !== 'number') throw new Error(`syscall argument ${key} missing`);
  return v;
}

/** A string argument (a path, open flags, a protection). */
export function str(a: SyscallArgs, key: string): string {
  const v = a[key];
  if (typeof v !== 'string') throw new Error(`syscall argument ${key} missing`);
  return v;
}
