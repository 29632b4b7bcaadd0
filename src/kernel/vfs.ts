// A small file-system tree: directories, regular files with their page-cache
// object, symlinks and character devices. It holds exactly what the modelled
// programs look up, with real lookup semantics (ENOENT, ENOTDIR) so a mistyped
// path fails as it would on the machine.

import { quote } from '../errors.js';
import { VmObject } from './vm/object.js';

export type DeviceName = 'zero' | 'null';

export type Vnode =
  | { type: 'dir'; name: string; children: Map<string, Vnode>; /** The root of a mounted file system of this type. */ mount?: 'devfs' }
  | { type: 'reg'; name: string; size: number; object: VmObject }
  | { type: 'lnk'; name: string; target: string }
  | { type: 'chr'; name: string; device: DeviceName };

/** A regular file the machine has before the run starts (a data file, as an earlier run left it). */
export interface FileDecl {
  /** Absolute path; missing directories are made. */
  path: string;
  bytes: number;
}

/** Directories of the modelled system: its programs, libraries, configuration and devices live there, not data files. */
export const SYSTEM_DIRS = ['/bin', '/dev', '/etc', '/lib', '/libexec', '/proc', '/sbin', '/usr', '/var'] as const;

/** The largest data file (simulated bytes: pages are made only as they are touched). */
export const MAX_FILE_BYTES = 2 ** 40;

/** What is wrong with `path` as a data file's, as [problem, expected]; undefined if nothing: absolute, a file name, outside SYSTEM_DIRS. */
export function dataFilePathProblem(path: string): [problem: string, expected: string] | undefined {
  const form = 'an absolute path outside the system directories, such as /data/iofile';
  if (!path.startsWith('/')) return [`${quote(path)} is not an absolute path`, form];
  if (path.endsWith('/') || path.split('/').some((c) => c === '.' || c === '..')) return [`${quote(path)} does not name a file`, form];
  const dir = SYSTEM_DIRS.find((d) => path === d || path.startsWith(`${d}/`));
  if (dir !== undefined) return [`${quote(path)} is in ${dir}, a directory of the modelled system`, `a path outside ${SYSTEM_DIRS.join(', ')}, such as /data/iofile`];
  return undefined;
}

/** Data-file declarations in order (a profile's, then a run's), a later one of a path replacing an earlier one. */
export function mergeFiles(...lists: readonly (readonly FileDecl[])[]): FileDecl[] {
  const byPath = new Map<string, FileDecl>();
  for (const list of lists) for (const f of list) byPath.set(f.path, f);
  return [...byPath.values()];
}

export interface WalkResult {
  visited: number;
  devfs: number;
  mounts: number;
  vnode: Vnode;
}

export interface OpenFile {
  vnode: Vnode;
  readable: boolean;
  writable: boolean;
  offset: number;
}

export class Errno extends Error {
  constructor(
    readonly errno: ErrnoName,
    readonly path?: string,
  ) {
    super(path ? `${path}: ${ERRNO_TEXT[errno]}` : ERRNO_TEXT[errno]);
  }
}

export const ERRNO_TEXT = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EBADF: 'Bad file descriptor',
  EINVAL: 'Invalid argument',
  EFAULT: 'Bad address',
  ESPIPE: 'Illegal seek',
  ENOTTY: 'Inappropriate ioctl for device',
  ECAPMODE: 'Not permitted in capability mode',
  ENOMEM: 'Cannot allocate memory',
  EEXIST: 'File exists',
} as const;
export type ErrnoName = keyof typeof ERRNO_TEXT;

export class FileSystem {
  readonly root: Vnode & { type: 'dir' } = { type: 'dir', name: '/', children: new Map() };

  constructor(private readonly newObjectAddr: () => number) {}

  /** Components of an absolute path, as namei walks them. */
  static components(path: string): string[] {
    if (!path.startsWith('/')) throw new Errno('EINVAL', path);
    return path.split('/').filter((c) => c.length > 0 && c !== '.');
  }

  /**
   * Walk `path`; returns the number of components looked up, how many of them
   * were looked up inside devfs (which has no name cache: each is a VOP_LOOKUP),
   * how many mount points were crossed, and the result. A failed walk throws
   * Errno with the same counts attached.
   */
  walk(path: string): WalkResult {
    let node: Vnode = this.root;
    const r = { visited: 0, devfs: 0, mounts: 0 };
    let inDevfs = false;
    for (const name of FileSystem.components(path)) {
      if (node.type !== 'dir') throw Object.assign(new Errno('ENOTDIR', path), r);
      r.visited++;
      if (inDevfs) r.devfs++;
      const next = node.children.get(name);
      if (!next) throw Object.assign(new Errno('ENOENT', path), r);
      if (next.type === 'dir' && next.mount) {
        r.mounts++;
        inDevfs = next.mount === 'devfs';
      }
      node = next;
    }
    return { ...r, vnode: node };
  }

  /** The vnode at `path`, or undefined if there is none (a lookup that charges nothing: for set-up and reports). */
  lookup(path: string): Vnode | undefined {
    try {
      return this.walk(path).vnode;
    } catch (e) {
      if (e instanceof Errno) return undefined;
      throw e;
    }
  }

  mkdirp(path: string): Vnode & { type: 'dir' } {
    let node = this.root;
    for (const name of FileSystem.components(path)) {
      let next = node.children.get(name);
      if (!next) {
        next = { type: 'dir', name, children: new Map() };
        node.children.set(name, next);
      }
      if (next.type !== 'dir') throw new Errno('ENOTDIR', path);
      node = next;
    }
    return node;
  }

  private add(path: string, make: (name: string) => Vnode): Vnode {
    const parts = FileSystem.components(path);
    const name = parts.pop()!;
    const dir = this.mkdirp('/' + parts.join('/'));
    const node = make(name);
    dir.children.set(name, node);
    return node;
  }

  /** A regular file of the system (a library, a program), its VM object made now. */
  addFile(path: string, size: number): Vnode & { type: 'reg' } {
    return this.add(path, (name) => ({ type: 'reg', name, size, object: new VmObject(this.newObjectAddr(), 'vnode', `vnode:${path}`) })) as Vnode & { type: 'reg' };
  }

  /**
   * A data file (FileDecl): as addFile, but its VM object takes its kernel memory
   * only when a run first uses it, so declaring a file a run never touches leaves
   * every kernel address, and so every figure, as it was without it.
   */
  addDataFile(f: FileDecl): Vnode & { type: 'reg' } {
    return this.add(f.path, (name) => ({ type: 'reg', name, size: f.bytes, object: new VmObject(() => this.newObjectAddr(), 'vnode', `vnode:${f.path}`) })) as Vnode & { type: 'reg' };
  }

  addDevice(path: string, device: DeviceName): Vnode {
    return this.add(path, (name) => ({ type: 'chr', name, device }));
  }

  /** Mount a file system of `type` on the directory `path` (created if absent). */
  mount(path: string, type: 'devfs'): void {
    this.mkdirp(path).mount = type;
  }

}
