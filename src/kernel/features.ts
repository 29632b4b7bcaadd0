// The hooks a run can switch on. Each one makes the guard of one or more steps of
// the syscall, trap or return path true, so its slow path runs; with all of them
// off every guard is a load and a branch (the lecture's "making nothing fast").
// Which kernel flavour models which hook is its step table's to say (./hooks.ts).

export const FEATURES = {
  ktrace: 'ktrace(1) of the process: syscall entry/return records (p_traceflag), written on return to user (p_ktr)',
  ptrace: 'a debugger attached with syscall stops, as truss(1) (P_TRACED, p_stops S_PT_SCE|S_PT_SCX)',
  capsicum: 'dd enters capability mode (cap_enter) after opening its files; later calls pass the IN_CAPABILITY_MODE check',
  audit: 'audit enabled with every event preselected (audit_enabled, TDP_AUDITREC)',
  racct: 'resource accounting on (racct_enable): PROC_LOCK and p_throttled check on every return',
  profil: 'profil(2) profiling of the process (P_PROFIL): addupc_task on every return',
  signals: 'a periodic signal (SIGALRM at 100 Hz) with a handler: AST and postsig on the next return to user',
  suspend: 'a pending single-threading request: TDF_NEEDSUSPCHK, thread_suspend_check in ast()',
  vfork: 'the thread is a vfork parent (TDP_RFPPWAIT): it waits for the child on its first return',
  invariants: 'kernel INVARIANTS: KASSERTs on every path (a kernel option, default from the profile)',
  witness: 'kernel WITNESS: lock-order checking on every lock operation (a kernel option, default from the profile)',
  seccomp: 'Linux: a seccomp BPF filter installed (SYSCALL_WORK_SECCOMP): __secure_computing on every syscall entry',
  tracepoint: 'Linux: the raw_syscalls sys_enter/sys_exit tracepoints enabled (SYSCALL_WORK_SYSCALL_TRACEPOINT on every thread), with a minimal consumer',
} as const;

export type Feature = keyof typeof FEATURES;
export const FEATURE_NAMES = Object.keys(FEATURES) as Feature[];

export function isFeature(name: string): name is Feature {
  return Object.hasOwn(FEATURES, name);
}
