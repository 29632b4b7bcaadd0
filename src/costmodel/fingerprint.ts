// Which machine a host profile was measured on: its fingerprint, and how two
// fingerprints differ. A host profile describes one machine (CPU, kernel build, boot
// mitigations, hypervisor); `--profile host` uses one only on a machine whose
// fingerprint matches (src/cli/host-profile.ts), so that a profile measured elsewhere is
// never used as "this machine" without saying so.
//
// The fingerprint is read by src/host/fingerprint.ts; this module only declares it,
// validates it in a profile, compares two and names the profile after it.

import { createHash } from 'node:crypto';
import { ValidationError, expectKeys, expectNumber, expectObject, expectString } from './validate.js';

export interface CpuIdentity {
  /** /proc/cpuinfo vendor_id, e.g. "AuthenticAMD". */
  vendor: string | null;
  family: number | null;
  model: number | null;
  stepping: number | null;
  /** /proc/cpuinfo microcode revision (VMs often hide it). */
  microcode: string | null;
  /** /proc/cpuinfo model name. */
  name: string | null;
}

/** A sub-second measurement that tells two machines of the same identity apart when they perform differently. */
export interface MachineSignature {
  /** One getuid(2) round trip from Node (process.getuid, loop included), ns. */
  null_syscall_ns: number;
  /** One page fault taken inside read(2) into a fresh buffer, ns. */
  page_fault_ns: number;
}

export interface MachineFingerprint {
  /** The machine in words: host name, CPU, kernel. */
  machine: string;
  hostname: string;
  cpu: CpuIdentity;
  cpus: number;
  /** Cache geometry as the CPU and kernel report it (/sys, else getconf), e.g. "L1d 48K 12-way, L2 1M 8-way"; null when nothing reports it. */
  caches: string | null;
  kernel: { release: string; version: string };
  /** /sys/devices/system/cpu/vulnerabilities: name -> state; null when absent. */
  mitigations: Record<string, string> | null;
  /** The hypervisor's vendor, "unknown" when the CPU says there is one but not whose, "none" on bare metal, null when not known. */
  hypervisor: string | null;
  page_bytes: number | null;
  /** CONFIG_HZ. */
  hz: number | null;
  signature: MachineSignature | null;
}

/**
 * A signature within this factor of the profile's matches. Loaded machines make single
 * calls slower by tens of per cent, not by half; a different CPU, hypervisor or
 * mitigation (PTI without PCID, a host backing guest pages on demand) changes them by
 * two to ten times.
 */
export const SIGNATURE_FACTOR = 2;

export interface FingerprintDifference {
  field: string;
  here: string;
  profile: string;
}

const text = (v: unknown): string => (v === null || v === undefined ? 'not recorded' : String(v));

/** The fields that name the machine, each as text, in the order differences are reported. */
function identity(f: MachineFingerprint): [string, string][] {
  const out: [string, string][] = [
    ['kernel release', text(f.kernel.release)],
    ['kernel build', text(f.kernel.version)],
    ['CPU', text(f.cpu.name)],
    ['CPU vendor', text(f.cpu.vendor)],
    ['CPU family', text(f.cpu.family)],
    ['CPU model', text(f.cpu.model)],
    ['CPU stepping', text(f.cpu.stepping)],
    ['microcode', text(f.cpu.microcode)],
    ['CPUs', text(f.cpus)],
    ['caches', text(f.caches)],
    ['hypervisor', text(f.hypervisor)],
    ['page size', text(f.page_bytes)],
    ['HZ', text(f.hz)],
  ];
  const names = new Set([...Object.keys(f.mitigations ?? {})]);
  for (const n of [...names].sort()) out.push([`mitigation ${n}`, text(f.mitigations?.[n])]);
  if (f.mitigations === null) out.push(['mitigations', 'not recorded']);
  return out;
}

/** How this machine's fingerprint differs from a profile's: identity first; the signature only when the identities agree. */
export function fingerprintDifferences(here: MachineFingerprint, profile: MachineFingerprint): FingerprintDifference[] {
  const a = new Map(identity(here));
  const b = new Map(identity(profile));
  const out: FingerprintDifference[] = [];
  for (const field of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(field) ?? 'not recorded';
    const y = b.get(field) ?? 'not recorded';
    if (x !== y) out.push({ field, here: x, profile: y });
  }
  // What both record and disagree on says more than what one of them did not record.
  const unrecorded = (d: FingerprintDifference) => (d.here === 'not recorded' || d.profile === 'not recorded' ? 1 : 0);
  out.sort((p, q) => unrecorded(p) - unrecorded(q));
  if (out.length > 0 || here.signature === null || profile.signature === null) return out;
  const ns = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)} us` : `${v.toFixed(0)} ns`);
  for (const [key, label] of [
    ['null_syscall_ns', 'null system call'],
    ['page_fault_ns', 'page fault'],
  ] as const) {
    const ratio = here.signature[key] / profile.signature[key];
    if (!(ratio <= SIGNATURE_FACTOR && ratio >= 1 / SIGNATURE_FACTOR)) out.push({ field: label, here: ns(here.signature[key]), profile: ns(profile.signature[key]) });
  }
  return out;
}

/** Differences as one clause for a one-line message: "kernel release 6.1 here, 6.2 in the profile; ... (and 3 more)". */
export function describeDifferences(diffs: readonly FingerprintDifference[], most = 3): string {
  const shown = diffs.slice(0, most).map((d) => `${d.field} ${d.here} here, ${d.profile} in the profile`);
  return `${shown.join('; ')}${diffs.length > most ? ` (and ${diffs.length - most} more)` : ''}`;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** A host profile's name: host name, kernel release, and a short hash of the whole identity (two machines differ in one of them). */
export function profileNameFor(f: MachineFingerprint): string {
  const hash = createHash('sha256').update(JSON.stringify(identity(f))).digest('hex').slice(0, 6);
  return `host-${slug(f.hostname)}-${slug(f.kernel.release)}-${hash}`;
}

// ---- Validation ------------------------------------------------------------------

const nullable = <T>(v: unknown, parse: (v: unknown) => T): T | null => (v === null ? null : parse(v));

export function parseFingerprint(raw: unknown, path: string): MachineFingerprint {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, ['machine', 'hostname', 'cpu', 'cpus', 'caches', 'kernel', 'mitigations', 'hypervisor', 'page_bytes', 'hz', 'signature']);
  const cpu = expectObject(obj.cpu, `${path}.cpu`);
  expectKeys(cpu, `${path}.cpu`, ['vendor', 'family', 'model', 'stepping', 'microcode', 'name']);
  const kernel = expectObject(obj.kernel, `${path}.kernel`);
  expectKeys(kernel, `${path}.kernel`, ['release', 'version']);
  const str = (at: string) => (v: unknown) => expectString(v, at);
  const int = (at: string) => (v: unknown) => expectNumber(v, at, { integer: true, min: 0 });
  const mitigations = nullable(obj.mitigations, (v) => {
    const m = expectObject(v, `${path}.mitigations`);
    return Object.fromEntries(Object.entries(m).map(([k, s]) => [k, expectString(s, `${path}.mitigations.${k}`)]));
  });
  const signature = nullable(obj.signature, (v) => {
    const s = expectObject(v, `${path}.signature`);
    expectKeys(s, `${path}.signature`, ['null_syscall_ns', 'page_fault_ns']);
    return {
      null_syscall_ns: expectNumber(s.null_syscall_ns, `${path}.signature.null_syscall_ns`, { positive: true }),
      page_fault_ns: expectNumber(s.page_fault_ns, `${path}.signature.page_fault_ns`, { positive: true }),
    };
  });
  for (const key of ['cpu', 'kernel'] as const) if (obj[key] === undefined) throw new ValidationError(`${path}.${key}`, 'missing', 'an object');
  return {
    machine: expectString(obj.machine, `${path}.machine`),
    hostname: expectString(obj.hostname, `${path}.hostname`),
    cpu: {
      vendor: nullable(cpu.vendor, str(`${path}.cpu.vendor`)),
      family: nullable(cpu.family, int(`${path}.cpu.family`)),
      model: nullable(cpu.model, int(`${path}.cpu.model`)),
      stepping: nullable(cpu.stepping, int(`${path}.cpu.stepping`)),
      microcode: nullable(cpu.microcode, str(`${path}.cpu.microcode`)),
      name: nullable(cpu.name, str(`${path}.cpu.name`)),
    },
    cpus: expectNumber(obj.cpus, `${path}.cpus`, { integer: true, min: 1 }),
    caches: nullable(obj.caches, str(`${path}.caches`)),
    kernel: { release: expectString(kernel.release, `${path}.kernel.release`), version: expectString(kernel.version, `${path}.kernel.version`) },
    mitigations,
    hypervisor: nullable(obj.hypervisor, str(`${path}.hypervisor`)),
    page_bytes: nullable(obj.page_bytes, int(`${path}.page_bytes`)),
    hz: nullable(obj.hz, int(`${path}.hz`)),
    signature,
  };
}
