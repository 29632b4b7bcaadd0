// The io-static benchmark's options (the Cambridge L41 lab's I/O benchmark), checked
// at the edge. The real program's usage:
//
//   io-static -c|-r|-w [-Bdqsv] [-b buffersize] [-t totalsize] path
//
// One mode (create, read or write), a buffer size and a total size (the loop does
// totalsize / buffersize read() or write() calls of buffersize bytes each), and a
// target: a regular file or a device such as /dev/zero. The sizes are bytes; l41sim
// also accepts dd-style suffixes (16k, 1m) at this edge.

import { UsageError, quote } from '../../errors.js';
import { parseDdSize } from '../ddsize.js';

export type IoMode = 'create' | 'read' | 'write';

export interface IoStaticOptions {
  mode: IoMode;
  bufferBytes: number;
  totalBytes: number;
  /** Absolute path of the target in the modelled file system. */
  path: string;
  /** -s: fsync() the descriptor when the loop is done (inside the timed interval). */
  fsync: boolean;
  /** -v: print the configuration and the time as well as the bandwidth. */
  verbose: boolean;
  /** -q: print nothing. */
  quiet: boolean;
  /** -B: bare mode, no preparatory activities (the model has none to skip). */
  bare: boolean;
}

/** The real benchmark's defaults (io.c: BUFFERSIZE, TOTALSIZE). */
export const IO_DEFAULT_BUFFER_BYTES = 16 * 1024;
export const IO_DEFAULT_TOTAL_BYTES = 16 * 1024 * 1024;
/** The largest buffer and total the model accepts (simulated bytes, not host memory). */
export const IO_MAX_BUFFER_BYTES = 1 << 30;
export const IO_MAX_TOTAL_BYTES = 4 * (1 << 30);

/** The real program's usage text, as it prints it with no arguments. */
export const IO_STATIC_USAGE = `usage: io-static -c|-r|-w [-Bdqsv] [-b buffersize] [-t totalsize] path

Modes (pick one):
    -c              'create mode': create benchmark data file
    -r              'read mode': read() benchmark
    -w              'write mode': write() benchmark

Optional flags:
    -B              Run in bare mode: no preparatory activities
    -d              Set O_DIRECT flag to bypass buffer cache
    -q              Just run the benchmark, don't print stuff out
    -s              Call fsync() on the file descriptor when complete
    -v              Provide a verbose benchmark description
    -b buffersize   Specify a buffer size (default: ${IO_DEFAULT_BUFFER_BYTES})
    -t totalsize    Specify total I/O size (default: ${IO_DEFAULT_TOTAL_BYTES})`;

/** The options as text, as the command line or a sweep config gives them. */
export interface IoStaticText {
  create?: boolean;
  read?: boolean;
  write?: boolean;
  /** Mode by name (sweep configs): create, read or write. */
  mode?: string;
  buffer?: string | number;
  total?: string | number;
  path?: string;
  fsync?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  bare?: boolean;
  direct?: boolean;
}

/** Field names for messages: options on the command line, JSON paths in a config. */
export interface IoStaticFields {
  mode: string;
  buffer: string;
  total: string;
  path: string;
  direct: string;
}

export const CLI_FIELDS: IoStaticFields = { mode: '-c|-r|-w', buffer: '-b', total: '-t', path: 'path', direct: '-d' };

function size(field: string, v: string | number | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new UsageError(field, `${v} is out of range`, `a whole number of bytes from 1 to ${max}`);
    return v;
  }
  return parseDdSize(field, v, { min: 1, max });
}

/** Check and normalise the options; throws UsageError naming the field at fault. */
export function parseIoStatic(t: IoStaticText, fields: IoStaticFields = CLI_FIELDS): IoStaticOptions {
  const modes: IoMode[] = [];
  if (t.create) modes.push('create');
  if (t.read) modes.push('read');
  if (t.write) modes.push('write');
  if (t.mode !== undefined) {
    if (t.mode !== 'create' && t.mode !== 'read' && t.mode !== 'write') throw new UsageError(fields.mode, `${quote(t.mode)} is not a mode`, 'one of create, read, write');
    modes.push(t.mode);
  }
  if (modes.length !== 1) {
    throw new UsageError(fields.mode, modes.length === 0 ? 'no mode given' : `more than one mode given (${modes.join(', ')})`, 'exactly one of -c (create), -r (read) or -w (write)');
  }
  if (t.direct) {
    throw new UsageError(fields.direct, 'O_DIRECT (bypassing the buffer cache) is not modelled', 'no -d; --cold-cache models reads from storage through the buffer cache');
  }
  const bufferBytes = size(fields.buffer, t.buffer, IO_DEFAULT_BUFFER_BYTES, IO_MAX_BUFFER_BYTES);
  const totalBytes = size(fields.total, t.total, IO_DEFAULT_TOTAL_BYTES, IO_MAX_TOTAL_BYTES);
  if (totalBytes % bufferBytes !== 0) {
    throw new UsageError(fields.total, `${totalBytes} bytes is not a whole number of ${bufferBytes}-byte buffers`, 'a total size that is a multiple of the buffer size');
  }
  const path = t.path;
  if (path === undefined || path === '') throw new UsageError(fields.path, 'no path given', 'the file or device to read or write, e.g. /dev/zero or /data/iofile');
  if (!path.startsWith('/')) throw new UsageError(fields.path, `${quote(path)} is not an absolute path`, 'a path such as /dev/zero or /data/iofile (the modelled file system has no working directory)');
  if (path.endsWith('/')) throw new UsageError(fields.path, `${quote(path)} names a directory`, 'a file or device path');
  return {
    mode: modes[0]!,
    bufferBytes,
    totalBytes,
    path,
    fsync: t.fsync ?? false,
    verbose: t.verbose ?? false,
    quiet: t.quiet ?? false,
    bare: t.bare ?? false,
  };
}

/** The command line the real benchmark would be given for these options. */
export function ioStaticCommand(o: IoStaticOptions): string {
  const flags = `-${o.mode === 'create' ? 'c' : o.mode === 'read' ? 'r' : 'w'}${o.bare ? 'B' : ''}${o.quiet ? 'q' : ''}${o.fsync ? 's' : ''}${o.verbose ? 'v' : ''}`;
  return `io-static ${flags} -b ${o.bufferBytes} -t ${o.totalBytes} ${o.path}`;
}
