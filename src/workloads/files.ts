// The data files a run declares on the modelled machine (`--file PATH:SIZE`, a sweep
// config's "files"), parsed at the edge: a path the kernel accepts for a data file
// (kernel/vfs.ts dataFilePathProblem) and a size as dd writes sizes. The kernel
// makes them at boot with the profile's own (the lab's /data/iofile), a run's
// declaration of a path replacing the profile's.

import { UsageError, quote } from '../errors.js';
import { dataFilePathProblem, MAX_FILE_BYTES, type FileDecl } from '../kernel/vfs.js';
import { parseDdSize } from './ddsize.js';

/** The lab's benchmark file, as `io-static -c` makes it with its default total size: every shipped profile has it. */
export const LAB_FILES: readonly (FileDecl & { note: string })[] = [
  { path: '/data/iofile', bytes: 16 * 1024 * 1024, note: "the lab's benchmark file, as io-static -c makes it (16 MiB, the default total size)" },
];

const FORM = 'PATH:SIZE, an absolute path and a size, such as /data/iofile:16m';

/** `PATH:SIZE` (the size dd-style: 16m, 4k, 1048576) as a file declaration. */
export function parseFileDecl(field: string, text: string): FileDecl {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new UsageError(field, `${quote(text)} has no size`, FORM);
  const path = text.slice(0, colon);
  const problem = dataFilePathProblem(path);
  if (problem) throw new UsageError(field, problem[0], problem[1]);
  return { path, bytes: parseDdSize(field, text.slice(colon + 1), { max: MAX_FILE_BYTES }) };
}
