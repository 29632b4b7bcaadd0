// The data files a run declares on the modelled machine (`--file PATH:SIZE`, a sweep
// config's "files"), checked at the edge: an absolute path outside the system's own
// directories, and a size as dd writes sizes. The kernel makes them at boot
// (KernelOptions.files), with their pages in the buffer cache as the run that wrote
// them left them; a later declaration of the same path replaces an earlier one.

import { UsageError, quote } from '../errors.js';
import type { FileDecl } from '../kernel/vfs.js';
import { parseDdSize } from './ddsize.js';

/** Directories of the modelled system: its programs, libraries, configuration and devices live there, not data files. */
export const SYSTEM_DIRS = ['/bin', '/dev', '/etc', '/lib', '/libexec', '/proc', '/sbin', '/usr', '/var'] as const;

/** The largest data file (simulated bytes: pages are made only as they are touched). */
export const MAX_FILE_BYTES = 2 ** 40;

const FORM = 'PATH:SIZE, an absolute path and a size, such as /data/iofile:16m';

/** Check a data file's path: absolute, a file name (not a directory), outside SYSTEM_DIRS. */
export function checkFilePath(field: string, path: string): void {
  if (!path.startsWith('/')) throw new UsageError(field, `${quote(path)} is not an absolute path`, FORM);
  if (path.endsWith('/') || path.split('/').some((c) => c === '.' || c === '..')) throw new UsageError(field, `${quote(path)} does not name a file`, FORM);
  const dir = SYSTEM_DIRS.find((d) => path === d || path.startsWith(`${d}/`));
  if (dir !== undefined) throw new UsageError(field, `${quote(path)} is in ${dir}, a directory of the modelled system`, `a path outside ${SYSTEM_DIRS.join(', ')}, such as /data/iofile`);
}

/** `PATH:SIZE` (the size dd-style: 16m, 4k, 1048576) as a file declaration. */
export function parseFileDecl(field: string, text: string): FileDecl {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new UsageError(field, `${quote(text)} has no size`, FORM);
  const path = text.slice(0, colon);
  checkFilePath(field, path);
  return { path, bytes: parseDdSize(field, text.slice(colon + 1), { max: MAX_FILE_BYTES }) };
}

/** The declarations in order, a later one of a path replacing an earlier one. */
export function mergeFiles(...lists: readonly (readonly FileDecl[])[]): FileDecl[] {
  const byPath = new Map<string, FileDecl>();
  for (const list of lists) for (const f of list) byPath.set(f.path, f);
  return [...byPath.values()];
}
