// lscpu(1), for what it learns from the CPU itself rather than /proc: the hypervisor's
// vendor (cpuid leaf 0x40000000), which /proc/cpuinfo does not name.

import { spawnSync } from 'node:child_process';

/** Parse `lscpu` output for "Hypervisor vendor:"; null when it has no such line. */
export function parseLscpuHypervisor(text: string): string | null {
  const m = /^Hypervisor vendor:\s*(.+?)\s*$/m.exec(text);
  return m ? m[1]! : null;
}

/** The hypervisor vendor lscpu reports, or null (no lscpu, or it does not say). */
export function readLscpuHypervisor(): string | null {
  const r = spawnSync('lscpu', [], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error || r.status !== 0) return null;
  return parseLscpuHypervisor(r.stdout);
}
