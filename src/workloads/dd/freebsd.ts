// FreeBSD 11-CURRENT's dd(1), its whole life as the lecture's DTrace saw it: the
// run-time linker's start-up (libmap.conf, the hints file, mapping libc), libc
// and jemalloc initialisation, dd's setup() (open both files, allocate one buffer
// of ibs + obs - 1 bytes, which -CURRENT's debug jemalloc junk-fills in user mode),
// the copy, and exit. The order and counts follow rtld, libmap, jemalloc and dd
// source; where a count is inferred rather than read there, the comment says so.

import type { ExecImage, Kernel } from '../../kernel/kernel.js';
import { Errno } from '../../kernel/vfs.js';
import type { Program, UserProcess } from '../runtime.js';
import type { DdOperands } from './operands.js';

export const FREEBSD_LAYOUT = {
  amd64: { stackTop: 0x7fff_ffff_f000, stackBytes: 512 * 1024, mmapBase: 0x8_0060_0000, text: 0x40_0000, rtld: 0x8_0000_0000 },
  armv7: { stackTop: 0xc000_0000, stackBytes: 512 * 1024, mmapBase: 0x2010_0000, text: 0x8000, rtld: 0x2000_0000 },
} as const;

function layoutFor(k: Kernel) {
  return k.profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
}

/** What execve() maps for /bin/dd: dd's text, data and bss, and ld-elf.so.1's. */
export function freebsdDdImage(k: Kernel): ExecImage {
  const l = layoutFor(k);
  return {
    segments: [
      { name: 'dd text', file: '/bin/dd', offsetPages: 0, va: l.text, bytes: 24 * 1024, prot: 'rx' },
      { name: 'dd data', file: '/bin/dd', offsetPages: 6, va: l.text + 0x20_0000, bytes: 4096, prot: 'rw' },
      { name: 'dd bss', offsetPages: 0, va: l.text + 0x20_1000, bytes: 8192, prot: 'rw' },
      { name: 'rtld text', file: '/libexec/ld-elf.so.1', offsetPages: 0, va: l.rtld, bytes: 120 * 1024, prot: 'rx' },
      { name: 'rtld data', file: '/libexec/ld-elf.so.1', offsetPages: 30, va: l.rtld + 0x20_0000, bytes: 8192, prot: 'rw' },
      { name: 'rtld bss', offsetPages: 0, va: l.rtld + 0x20_2000, bytes: 16384, prot: 'rw' },
    ],
    stringsBytes: 1536,
  };
}

const CHUNK = 2 * 1024 * 1024; // jemalloc 4's chunk size

export function* freebsdDd(u: UserProcess, op: DdOperands): Program {
  const k = u.k;
  const pg = k.pageBytes;
  const l = layoutFor(k);
  const s = u.stackScratch; // dd's stack frame: stat buffers, sigsets
  // rtld's frames lie deeper in the new stack: lm_init()'s realpath buffers, then
  // map_object()'s struct stat. Their first use is a copyout, so their first
  // touch faults inside the system call. Path strings are in read-only data.
  const lmInitFrame = u.stackTop - 3 * pg;
  const mapObjectFrame = u.stackTop - 4 * pg;
  const rtldStrings = l.rtld + 0x1000;
  const startup = { left: k.profile.userland.startup_user_pages.value };
  // exec_copyin_args() reads the path from the old image (the shell's), resident: pathVa -1.
  yield* u.sys('execve', { path: '/bin/dd', pathVa: -1 });

  // ---- rtld: _rtld() ---------------------------------------------------------
  yield* u.sys('issetugid'); // trust the environment?
  // lm_init(): realpath("/etc/libmap.conf") lstats each prefix, then reads the file.
  yield* u.sys('lstat', { path: '/etc', pathVa: rtldStrings, sbVa: lmInitFrame });
  yield* u.sys('lstat', { path: '/etc/libmap.conf', pathVa: rtldStrings, sbVa: lmInitFrame });
  let fd = yield* u.sys('openat', { path: '/etc/libmap.conf', pathVa: rtldStrings, flags: 'r' });
  yield* u.sys('fstat', { fd, sbVa: lmInitFrame });
  const libmap = yield* u.sys('mmap', { len: pg, prot: 'r', fd, pos: 0, name: 'libmap.conf' });
  yield* u.sys('close', { fd });
  // "includedir /usr/local/etc/libmap.d": realpath of each prefix; the directory is absent.
  for (const prefix of ['/usr', '/usr/local', '/usr/local/etc', '/usr/local/etc/libmap.d']) {
    yield* u.trySys('lstat', { path: prefix, pathVa: rtldStrings, sbVa: lmInitFrame });
  }
  yield* u.sys('munmap', { addr: libmap, len: pg });
  // gethints(): the hints file's header, then its directory list.
  const rtldHeap = yield* u.sys('mmap', { len: 16 * pg, prot: 'rw', fd: -1, name: 'rtld heap' });
  fd = yield* u.sys('openat', { path: '/var/run/ld-elf.so.hints', pathVa: rtldStrings, flags: 'r' });
  yield* u.sys('read', { fd, bufVa: rtldHeap, len: 128 });
  yield* u.sys('lseek', { fd, offset: 128, whence: 0 });
  yield* u.sys('read', { fd, bufVa: rtldHeap + 128, len: 64 });
  yield* u.sys('close', { fd });
  // load_object("libc.so.7"): try the hinted path, then map it (map_object()).
  yield* u.sys('access', { path: '/lib/libc.so.7', pathVa: rtldStrings });
  fd = yield* u.sys('openat', { path: '/lib/libc.so.7', pathVa: rtldStrings, flags: 'r' });
  yield* u.sys('fstat', { fd, sbVa: mapObjectFrame });
  const header = yield* u.sys('mmap', { len: pg, prot: 'r', fd, pos: 0, name: 'libc header' });
  const textBytes = 1_600 * 1024;
  const base = yield* u.sys('mmap', { len: textBytes + 64 * 1024 + 128 * 1024, prot: 'none', fd: -1, name: 'libc' });
  yield* u.sys('mmap', { addr: base, fixed: 1, len: textBytes, prot: 'rx', fd, pos: 0, name: 'libc text' });
  yield* u.sys('mmap', { addr: base + textBytes, fixed: 1, len: 64 * 1024, prot: 'rw', fd, pos: textBytes, name: 'libc data' });
  yield* u.sys('mmap', { addr: base + textBytes + 64 * 1024, fixed: 1, len: 128 * 1024, prot: 'rw', fd: -1, name: 'libc bss' });
  yield* u.sys('munmap', { addr: header, len: pg });
  yield* u.sys('close', { fd });
  // Relocation and symbol binding: user-mode work, and first touches of the
  // writable pages rtld, libc and the stack use (each one faults once; the
  // count is the profile's startup_user_pages).
  yield* u.work('user_startup');
  yield* touchStartupPages(u, startup, [
    { va: u.stackTop - 16 * pg, pages: 15 },
    { va: rtldHeap + pg, pages: 15 },
    { va: base + textBytes + 64 * 1024, pages: 32 },
  ]);
  // allocate_initial_tls(): the TLS block, then the TCB pointer in the FS base.
  yield* u.sys('mmap', { len: 2 * pg, prot: 'rw', fd: -1, name: 'rtld tls' });
  yield* u.sys('sysarch', { argVa: lmInitFrame });
  // rtld's write-locked sections (init_dag, objlist_call_init, ...) block
  // signals with sigprocmask() on entry and restore them on exit: 8 pairs [inferred].
  for (let i = 0; i < 8; i++) {
    yield* u.sys('sigprocmask', { setVa: s, osetVa: s });
    yield* u.sys('sigprocmask', { setVa: s, osetVa: 0 });
  }

  // ---- libc and jemalloc initialisation -------------------------------------
  yield* u.trySys('readlink', { path: '/etc/malloc.conf', pathVa: rtldStrings, bufVa: s, len: 256 });
  yield* u.sys('issetugid');
  // chunk_alloc_mmap(): map a chunk, over-allocate and trim when unaligned.
  const arena = yield* u.sys('mmap', { len: 2 * CHUNK - pg, prot: 'rw', fd: -1, name: 'jemalloc chunk' });
  yield* u.sys('munmap', { addr: arena + CHUNK, len: CHUNK - pg });
  yield* touchStartupPages(u, startup, [{ va: arena, pages: 64 }]);

  // ---- dd: main() -> setup() ---------------------------------------------------
  const inFd = yield* open(u, op.inputPath, 'r', false);
  if (inFd instanceof Errno) return yield* u.err(1, `${op.inputPath}: ${inFd.message.split(': ').pop()}`);
  yield* getfdtype(u, inFd);
  const outFd = yield* open(u, op.outputPath, 'rw', op.seek === 0);
  if (outFd instanceof Errno) return yield* u.err(1, `${op.outputPath}: ${outFd.message.split(': ').pop()}`);
  yield* getfdtype(u, outFd);
  // One buffer of in.dbsz + out.dbsz - 1 bytes (no conv=block/unblock).
  const bufBytes = op.ibs + op.obs - 1;
  const buf = yield* malloc(u, bufBytes);
  // With the capsicum feature, dd limits itself as later FreeBSD dd does: capability
  // mode after its files are open, so every later call passes IN_CAPABILITY_MODE.
  if (k.has('capsicum')) yield* u.sys('cap_enter');
  yield* u.sys('clock_gettime', { tpVa: s }); // st.start
  yield* u.sys('sigaction', { sig: 29, actVa: s, oactVa: s }); // SIGINFO
  yield* u.sys('sigaction', { sig: 2, actVa: s, oactVa: s }); // SIGINT

  // pos_in(): skip input blocks (seekable files by lseek, devices by reading).
  const inSeekable = k.fs.walk(op.inputPath).vnode.type === 'reg';
  if (op.skip > 0) {
    if (inSeekable) yield* u.sys('lseek', { fd: inFd, offset: op.skip * op.ibs, whence: 1 });
    else for (let i = 0; i < op.skip; i++) yield* u.sys('read', { fd: inFd, bufVa: buf, len: op.ibs });
  }
  if (op.seek > 0) yield* u.sys('lseek', { fd: outFd, offset: op.seek * op.obs, whence: 1 });

  // ---- dd_in() / dd_out(): the copy -----------------------------------------
  let pending = 0; // bytes waiting in the output buffer when reblocking
  for (let blocks = 0; op.count === null || blocks < op.count; blocks++) {
    const n = yield* u.sys('read', { fd: inFd, bufVa: buf + (op.bsGiven ? 0 : pending), len: op.ibs });
    if (n === 0) break;
    if (op.bsGiven) {
      yield* u.sys('write', { fd: outFd, bufVa: buf, len: n });
      continue;
    }
    pending += n;
    while (pending >= op.obs) {
      yield* u.sys('write', { fd: outFd, bufVa: buf, len: op.obs });
      pending -= op.obs;
    }
  }
  if (pending > 0) yield* u.sys('write', { fd: outFd, bufVa: buf, len: pending });

  // dd_close(), then exit: summary() reads the clock (status=none prints nothing).
  yield* u.sys('close', { fd: outFd });
  yield* u.sys('clock_gettime', { tpVa: s });
  yield* u.sys('exit', { status: 0 });
}

/** dd's operands live in argv, on the stack page execve() filled. */
function* open(u: UserProcess, path: string, flags: 'r' | 'rw', trunc: boolean): Generator<number, number | Errno, unknown> {
  return yield* u.trySys('openat', { path, pathVa: u.stackTop - 256, flags, create: flags === 'rw' ? 1 : 0, trunc: trunc ? 1 : 0 });
}

/** getfdtype(): fstat, and FIODTYPE for character devices. */
function* getfdtype(u: UserProcess, fd: number): Generator<number, void, unknown> {
  yield* u.sys('fstat', { fd, sbVa: u.stackScratch });
  const file = u.td.proc.files[fd];
  if (file?.vnode.type === 'chr') yield* u.sys('ioctl', { fd, argVa: u.stackScratch });
}

/**
 * jemalloc 4 malloc(): large requests are chunk-aligned mmap()s ("huge"
 * allocations, rounded to the chunk); -CURRENT's debug build junk-fills them with
 * 0xa5 in user mode (opt_junk), touching every page.
 */
function* malloc(u: UserProcess, bytes: number): Generator<number, number, unknown> {
  const k = u.k;
  const usize = Math.ceil(bytes / CHUNK) * CHUNK;
  const addr = yield* u.sys('mmap', { len: usize, prot: 'rw', fd: -1, name: 'dd buffer' });
  if (k.profile.userland.junk_fill) yield* u.store(addr, usize);
  return addr;
}

/** First touches of start-up pages, region by region, up to the profile's count. */
function* touchStartupPages(u: UserProcess, budget: { left: number }, regions: { va: number; pages: number }[]): Generator<number, void, unknown> {
  const pg = u.k.pageBytes;
  for (const r of regions) {
    for (let i = 0; i < r.pages && budget.left > 0; i++, budget.left--) yield* u.store(r.va + i * pg, 8);
  }
}
