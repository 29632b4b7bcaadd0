// This machine's fingerprint (src/costmodel/fingerprint.ts): its identity from /proc,
// /sys, getconf and lscpu (./facts.ts), and a sub-second signature measured from Node
// (./node-loops.ts).

import type { MachineFingerprint, MachineSignature } from '../costmodel/fingerprint.js';
import { probeHost, type HostFacts } from './facts.js';
import { measureSignature } from './node-loops.js';
import type { CacheInfo } from './procfs.js';

function kib(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes >> 20}M` : bytes % 1024 === 0 ? `${bytes >> 10}K` : `${bytes}B`;
}

/** Cache geometry as one line: "L1d 48K 12-way, L1i 32K, L2 1M 8-way, L3 32M 16-way". */
export function cacheGeometryText(caches: readonly CacheInfo[]): string {
  return caches
    .map((c) => {
      const name = c.level === 1 ? `L1${c.type === 'Instruction' ? 'i' : 'd'}` : `L${c.level}`;
      return `${name} ${kib(c.size_bytes)}${c.ways ? ` ${c.ways}-way` : ''}`;
    })
    .join(', ');
}

/**
 * The fingerprint of the machine `facts` describe, with `signature` as measured there.
 * Facts recorded before a field was read (older measurement files) give null for it.
 */
export function fingerprintOf(facts: HostFacts, signature: MachineSignature | null): MachineFingerprint {
  const id = facts.cpu_id;
  const cpuText = [facts.cpu_model ?? 'unknown CPU', id?.family != null ? `family ${id.family} model ${id.model} stepping ${id.stepping}` : null].filter(Boolean).join(' ');
  const hypervisor = facts.hypervisor ?? (facts.virtualized === null ? null : facts.virtualized ? 'unknown' : 'none');
  // What the machine did not say is left out: it compares as "not recorded".
  const known = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]?: NonNullable<T[K]> };
  return {
    machine: `${facts.hostname}: ${cpuText}, ${facts.cpu_count} CPU${facts.cpu_count === 1 ? '' : 's'}${hypervisor === 'unknown' ? ', virtualised' : hypervisor && hypervisor !== 'none' ? `, under ${hypervisor}` : ''}; Linux ${facts.kernel_release}`,
    hostname: facts.hostname,
    cpu: known({ vendor: id?.vendor, family: id?.family, model: id?.model, stepping: id?.stepping, microcode: id?.microcode, name: facts.cpu_model }),
    cpus: facts.cpu_count,
    ...known({
      caches: facts.caches === null ? null : cacheGeometryText(facts.caches),
    }),
    kernel: { release: facts.kernel_release, version: facts.kernel_version },
    ...known({
      mitigations: facts.mitigations,
      hypervisor,
      page_bytes: facts.page_size_bytes,
      hz: facts.config_hz,
      // Four significant digits: the signature is a band check, and the profile diffs stably.
      signature: signature && { null_syscall_ns: Number(signature.null_syscall_ns.toPrecision(4)), page_fault_ns: Number(signature.page_fault_ns.toPrecision(4)) },
    }),
  };
}

/** This machine's fingerprint; `signature` false skips the measurement (identity only, for naming). */
export function readFingerprint(opts: { signature: boolean }): MachineFingerprint {
  return fingerprintOf(probeHost(), opts.signature ? measureSignature() : null);
}
