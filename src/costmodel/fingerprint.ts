// A host profile's fingerprint: which machine it was measured on, so `--profile host`
// can pick the profile of this machine and refuse a stale one (issue 13). Optional: the
// shipped profiles of machines we cannot run on (lecture, bbb) have none. Declared
// like every profile section (see profile-schema.ts); the host measurement fills it.

import { record, section, text, type Out } from '../schema.js';
import { param } from './param.js';

const labels = record(text('a string', { empty: true }));

export const hostFingerprint = section({
  cpu: section({
    vendor: text().describe('vendor_id in /proc/cpuinfo'),
    family: text().describe('cpu family'),
    model: text().describe('model number (not the name)'),
    stepping: text().describe('stepping'),
    microcode: text().describe('microcode revision'),
    name: text().describe('model name'),
  }),
  kernel_release: text().describe('uname -r'),
  kernel_version: text().describe('uname -v: the build string'),
  hypervisor: text().describe("the hypervisor's name, or none on bare metal"),
  mitigations: labels.describe('/sys/devices/system/cpu/vulnerabilities: file name -> its line'),
  environment: labels.describe('LANG and LC_* of the measured runs'),
  signature: section({
    null_syscall_ns: param('ns', 'a null system call (getppid), the median of a sub-second run', { max: 1e6 }),
    page_fault_ns: param('ns', 'a first-touch anonymous page fault, the median of a sub-second run', { max: 1e7 }),
  }),
});

export type HostFingerprint = Out<typeof hostFingerprint>;
