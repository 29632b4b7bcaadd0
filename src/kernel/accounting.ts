// Process time accounting as FreeBSD does it (kern_resource.c calcru1): the
// precise run time is split between user and system in the ratio of the statclock
// ticks that landed in each mode. With no tick at all it is all system time. So
// "0.000u" means no statclock tick landed in user mode, not that no user code ran.
// Linux (kernel/sched/cputime.c cputime_adjust) splits the same way but reports a
// process with no ticks as all user time.

import type { TickCounts } from './cpu.js';

export interface Rusage {
  user_s: number;
  system_s: number;
}

export function calcru(runtimePs: number, ticks: TickCounts, kernel: 'freebsd' | 'linux'): Rusage {
  const runtime_s = runtimePs / 1e12;
  const total = ticks.user + ticks.system + ticks.interrupt;
  if (total === 0) return kernel === 'freebsd' ? { user_s: 0, system_s: runtime_s } : { user_s: runtime_s, system_s: 0 };
  return { user_s: (runtime_s * ticks.user) / total, system_s: (runtime_s * ticks.system) / total };
}

export interface CshTimeFields extends Rusage {
  elapsed_s: number;
  /** Average shared text and unshared data+stack sizes, KiB (the X+D fields). */
  text_kib_avg: number;
  data_kib_avg: number;
  inblock: number;
  oublock: number;
  majflt: number;
  swaps: number;
}

/** csh's time builtin (the lecture's output): `%Uu %Ss %E %P %X+%Dk %I+%Oio %Fpf+%Ww`. */
export function formatCshTime(t: CshTimeFields): string {
  const trunc = (x: number, digits: number) => Math.floor(x * 10 ** digits + 1e-9) / 10 ** digits;
  const u = trunc(t.user_s, 3).toFixed(3);
  const s = trunc(t.system_s, 3).toFixed(3);
  const e = trunc(t.elapsed_s, 2);
  const minutes = Math.floor(e / 60);
  const secs = (e - minutes * 60).toFixed(2).padStart(5, '0');
  const pct = t.elapsed_s > 0 ? (((t.user_s + t.system_s) / t.elapsed_s) * 100).toFixed(1) : '0.0';
  return `${u}u ${s}s ${minutes}:${secs} ${pct}%\t${Math.round(t.text_kib_avg)}+${Math.round(t.data_kib_avg)}k ${t.inblock}+${t.oublock}io ${t.majflt}pf+${t.swaps}w`;
}
