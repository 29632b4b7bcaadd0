// Output files that are either completely written or not there at all.
//
// writeFileAtomic writes to a temporary file in the destination's directory, flushes
// it to disk and renames it over the destination, so a reader (or a resumed sweep)
// sees the old file or the new one, never half of one. A failure removes the
// temporary file and is reported as a RuntimeFailure naming the path and the OS error.
// A destination that is a device or FIFO (/dev/stdout, /dev/null) is written into
// instead: renaming over it would replace the device node.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RuntimeFailure } from '../errors.js';

/**
 * Write `data` to `path` atomically (temporary file in the same directory, fsync,
 * rename). `field` is the option the path came from (e.g. `--out`) and prefixes the
 * error message. Throws RuntimeFailure, e.g. `--out /root/x.csv: cannot write
 * (EACCES: permission denied)`, leaving neither a temporary file nor a partial `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, field?: string): void {
  const where = field === undefined ? path : `${field} ${path}`;
  if (existingKind(path) === 'special') {
    // A device, FIFO or socket (/dev/stdout, /dev/null, a pipe): write into it. Renaming a
    // file over it would replace the device node itself (as root, /dev/null).
    writeInto(path, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, where);
    return;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, 'wx', 0o666);
    created = true;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    created = false;
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing more can be done; the original error is the one to report
      }
    }
    throw new RuntimeFailure(where, `cannot write (${describeOsError(err)})`, undefined, { cause: err });
  }
  syncDirectory(dirname(path));
}

/** What is at `path` now: nothing (or unreachable), a regular file, a directory, or something special (a device, FIFO, socket). */
function existingKind(path: string): 'none' | 'file' | 'directory' | 'special' {
  try {
    const st = statSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'special';
  } catch {
    return 'none';
  }
}

/** Write `bytes` into an existing special file (not atomically: there is nothing to rename). */
function writeInto(path: string, bytes: Uint8Array, where: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
  } catch (err) {
    throw new RuntimeFailure(where, `cannot write (${describeOsError(err)})`, undefined, { cause: err });
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // the write's outcome is what matters
      }
    }
  }
}

/**
 * Make sure `dir` exists (creating it and its parents if needed) and that files can be
 * created in it, by creating and removing a probe file. Returns the absolute path.
 * Throws RuntimeFailure naming `field` (e.g. `--out-dir`) and the directory otherwise.
 */
export function ensureWritableDir(dir: string, field?: string): string {
  const abs = resolve(dir);
  const where = field === undefined ? dir : `${field} ${dir}`;
  let isDir: boolean | undefined;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    // missing (or unreachable): mkdir below creates it or reports why it cannot
  }
  if (isDir === false) throw new RuntimeFailure(where, 'is not a directory', 'a directory to write results into');
  if (isDir === undefined) {
    try {
      mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw new RuntimeFailure(where, `cannot create directory (${describeOsError(err)})`, undefined, { cause: err });
    }
  }
  const probe = join(abs, `.l41sim-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
  } catch (err) {
    throw new RuntimeFailure(where, `cannot write in directory (${describeOsError(err)})`, undefined, { cause: err });
  }
  try {
    unlinkSync(probe);
  } catch {
    // a probe file we cannot remove is harmless and the directory is writable
  }
  return abs;
}

/**
 * Check, before a run, that writeFileAtomic(path) can succeed: `path` is not a
 * directory and its directory exists and takes new files (a probe file is created
 * and removed; nothing else is left). Throws RuntimeFailure naming `field` otherwise,
 * so a run is not made only to find its output cannot be kept.
 */
export function checkWritableFile(path: string, field: string): void {
  const where = `${field} ${path}`;
  const kind = existingKind(path);
  if (kind === 'directory') throw new RuntimeFailure(where, 'is a directory', 'a file path');
  if (kind === 'special') return; // written into, not replaced (opening a FIFO here would wait for a reader)
  const dir = dirname(resolve(path));
  const probe = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.probe`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
  } catch (err) {
    throw new RuntimeFailure(where, `cannot write (${describeOsError(err)})`, undefined, { cause: err });
  }
  try {
    unlinkSync(probe);
  } catch {
    // a probe file we cannot remove is harmless
  }
}

/** `EACCES: permission denied` from a Node system error; the message otherwise. */
export function describeOsError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node's messages read `EACCES: permission denied, open '/root/x'`; keep the
    // code and description, drop the syscall and path (the caller names the path).
    const m = /^([A-Z0-9_]+): ([^,]+)/.exec(err.message);
    if (m && m[1] !== undefined && m[2] !== undefined) return `${m[1]}: ${m[2]}`;
    if (code !== undefined) return code;
    return err.message.replace(/\s+/g, ' ');
  }
  return String(err);
}

/** Flush a directory entry (the rename) to disk; best effort, as not all filesystems allow it. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // e.g. EISDIR/EINVAL on filesystems that cannot fsync a directory: the data is synced
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // ignore
      }
    }
  }
}
