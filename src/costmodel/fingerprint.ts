// Which machine a host profile was measured on: its fingerprint, and how two
// fingerprints differ. A host profile describes one machine (CPU, kernel build, boot
// mitigations, hypervisor); `--profile host` uses one only on a machine whose
// fingerprint matches (src/workloads/host-profile.ts), so that a profile measured elsewhere is
// never used as "this machine" without saying so.
//
// The fingerprint is read by src/host/fingerprint.ts; this module only declares it,
// validates it in a profile, compares two and names the profile after it.

import { createHash } from 'node:crypto';
import { number, record, section, text, type Out } from '../schema.js';

const maybeText = (doc: string) => text().optional().describe(doc);
const maybeInt = (doc: string) => number({ integer: true, min: 0 }).optional().describe(doc);

/**
 * The fingerprint, declared like every profile section (./profile-schema.ts). What the
 * machine did not say (a VM hides its microcode; files from before a field was read) is
 * absent, and compares as "not recorded".
 */
export const hostFingerprint = section({
  machine: text().describe('the machine in words: host name, CPU, kernel'),
  hostname: text().describe('the host name (not compared: every VM here is "vm")'),
  cpu: section({
    vendor: maybeText('vendor_id in /proc/cpuinfo'),
    family: maybeInt('cpu family'),
    model: maybeInt('model number (not the name)'),
    stepping: maybeInt('stepping'),
    microcode: maybeText('microcode revision (VMs often hide it)'),
    name: maybeText('model name'),
  }),
  cpus: number({ integer: true, min: 1 }).describe('CPUs, as /proc/cpuinfo lists them'),
  caches: maybeText('cache geometry as the CPU and kernel report it (/sys, else getconf), e.g. "L1d 48K 12-way, L2 1M 8-way"'),
  kernel: section({
    release: text().describe('uname -r'),
    version: text().describe('uname -v: the build string'),
  }),
  mitigations: record(text('a string', { empty: true })).optional().describe('/sys/devices/system/cpu/vulnerabilities: file name -> its line'),
  hypervisor: maybeText('the hypervisor\'s vendor, "unknown" when the CPU says there is one but not whose, "none" on bare metal'),
  page_bytes: maybeInt('base page size'),
  hz: maybeInt('CONFIG_HZ'),
  signature: section({
    null_syscall_ns: number({ positive: true }).describe("one getuid(2) round trip from Node (process.getuid, loop included), ns"),
    page_fault_ns: number({ positive: true }).describe('one page fault taken inside read(2) into a fresh buffer, ns'),
  })
    .optional()
    .describe('a sub-second measurement that tells two machines of one identity apart when they perform differently'),
});

export type MachineFingerprint = Out<typeof hostFingerprint>;
export type MachineSignature = NonNullable<MachineFingerprint['signature']>;

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

const shown = (v: unknown): string => (v === null || v === undefined ? 'not recorded' : String(v));

/** The fields that name the machine, each as text, in the order differences are reported. */
function identity(f: MachineFingerprint): [string, string][] {
  const out: [string, string][] = [
    ['kernel release', shown(f.kernel.release)],
    ['kernel build', shown(f.kernel.version)],
    ['CPU', shown(f.cpu.name)],
    ['CPU vendor', shown(f.cpu.vendor)],
    ['CPU family', shown(f.cpu.family)],
    ['CPU model', shown(f.cpu.model)],
    ['CPU stepping', shown(f.cpu.stepping)],
    ['microcode', shown(f.cpu.microcode)],
    ['CPUs', shown(f.cpus)],
    ['caches', shown(f.caches)],
    ['hypervisor', shown(f.hypervisor)],
    ['page size', shown(f.page_bytes)],
    ['HZ', shown(f.hz)],
  ];
  const names = new Set([...Object.keys(f.mitigations ?? {})]);
  for (const n of [...names].sort()) out.push([`mitigation ${n}`, shown(f.mitigations?.[n])]);
  if (f.mitigations === undefined) out.push(['mitigations', 'not recorded']);
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
  if (out.length > 0 || !here.signature || !profile.signature) return out;
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
