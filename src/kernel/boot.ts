// Boots a modelled kernel for a profile: the kernel object, its path (FreeBSD or
// Linux, as the profile says), and its one file system, which every workload
// shares: the system's own files (libraries, the run-time linker, dd), devices
// under /dev, and the data files the run declares (KernelOptions.files: the lab's
// /data/iofile, say). Anything else does not exist: a program that opens it gets
// ENOENT, as on the real machine.

import type { Profile } from '../costmodel/profile.js';
import { FreeBSDKernelPath } from './freebsd/path.js';
import { checkFeatures } from './hooks.js';
import { Kernel, type KernelOptions } from './kernel.js';
import { LinuxKernelPath } from './linux/path.js';
import { mergeFiles } from './vfs.js';

/** Files every modelled system has, with sizes typical of the userland (assumed; only their page counts matter). */
const FREEBSD_FILES: [path: string, bytes: number][] = [
  ['/etc/libmap.conf', 150],
  ['/var/run/ld-elf.so.hints', 300],
  ['/lib/libc.so.7', 1_680_000],
  ['/libexec/ld-elf.so.1', 140_000],
  ['/bin/dd', 28_000],
];

/** Linux: the devices only; the userland adds the files of its programs' lives (workloads/dd/gnu.ts installGnuDd). */
const LINUX_FILES: [path: string, bytes: number][] = [];

export function bootKernel(profile: Profile, options: KernelOptions): Kernel {
  checkFeatures(profile.kernel, options.features, profile.name);
  const k = new Kernel(profile, options);
  const files = profile.kernel === 'freebsd' ? FREEBSD_FILES : LINUX_FILES;
  for (const [path, bytes] of files) k.fs.addFile(path, bytes);
  k.fs.mkdirp('/usr/local/etc');
  k.fs.mkdirp('/tmp');
  k.fs.mount('/dev', 'devfs');
  k.fs.addDevice('/dev/zero', 'zero');
  k.fs.addDevice('/dev/null', 'null');
  for (const f of mergeFiles(profile.files ?? [], options.files ?? [])) k.fs.addDataFile(f);
  k.path = profile.kernel === 'freebsd' ? new FreeBSDKernelPath(k) : new LinuxKernelPath(k);
  return k;
}
