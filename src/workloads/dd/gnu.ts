// GNU coreutils dd 9.x with glibc 2.36 on Linux x86-64, its whole life as strace
// and perf see it on the machine the host-vm profile was measured on: execve, ld.so
// loading libc, libc start-up (TLS, rseq, RELRO), dd's signal handlers, the first
// malloc, setlocale(LC_ALL, "") for C.UTF-8 (every category tried in C.UTF-8, then
// found in C.utf8), opening both files onto fds 0 and 1, the buffer (alignalloc of
// ibs: glibc's mmap above the 128 KiB threshold, the brk heap below), the copy, the
// statistics on stderr and exit_group. With LANG=C.UTF-8 that is 128 system calls
// for bs=10M count=1 (strace -c counts execve, not exit_group), 125 for count=0 and
// 5245 for bs=4k count=2560, as measured on the reference machine and this one.
//
// User-mode page faults of start-up (ld.so, libc, the stack, the heap) are first
// touches of the pages each phase uses, up to the profile's startup_user_pages; the
// locale files' pages are touched as setlocale reads them, whatever that budget (they
// come and go with LANG, and the model must say how many); the faults inside read()
// come from the kernel's clear_user.

import type { ExecImage, Kernel } from '../../kernel/kernel.js';
import { LINUX_MMAP_BASE } from '../../kernel/linux/path.js';
import { AccessKind } from '../../kernel/machine/cache.js';
import { Errno } from '../../kernel/vfs.js';
import type { Program, UserProcess } from '../runtime.js';
import type { DdOperands } from './operands.js';

const KiB = 1024;
const PAGE = 4096;

export const GNU_LAYOUT = {
  stackTop: 0x7fff_ffff_f000,
  stackBytes: 8 * 1024 * KiB,
  mmapBase: LINUX_MMAP_BASE,
  /** dd's PIE load address (ELF_ET_DYN_BASE, one draw of its randomisation). */
  ddBase: 0x5555_5555_4000,
  /** ld.so is mapped first, at the top of the mmap area. */
  ldso: LINUX_MMAP_BASE - 0x35000,
} as const;

export const GNU_DD_PATH = '/usr/bin/dd';
export const LDSO_PATH = '/lib64/ld-linux-x86-64.so.2';
export const LIBC_PATH = '/lib/x86_64-linux-gnu/libc.so.6';

/** Files GNU dd's life opens, with their sizes on the reference machine (Debian 12). */
export const GNU_FILES: readonly [path: string, bytes: number][] = [
  [GNU_DD_PATH, 89_240],
  [LDSO_PATH, 215_000],
  [LIBC_PATH, 1_926_232],
  ['/etc/ld.so.cache', 34_547],
  ['/usr/share/locale/locale.alias', 2_996],
  ['/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache', 27_028],
  ['/usr/lib/locale/C.utf8/LC_IDENTIFICATION', 258],
  ['/usr/lib/locale/C.utf8/LC_MEASUREMENT', 23],
  ['/usr/lib/locale/C.utf8/LC_TELEPHONE', 47],
  ['/usr/lib/locale/C.utf8/LC_ADDRESS', 127],
  ['/usr/lib/locale/C.utf8/LC_NAME', 62],
  ['/usr/lib/locale/C.utf8/LC_PAPER', 34],
  ['/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES', 48],
  ['/usr/lib/locale/C.utf8/LC_MONETARY', 270],
  ['/usr/lib/locale/C.utf8/LC_COLLATE', 1_406],
  ['/usr/lib/locale/C.utf8/LC_TIME', 3_360],
  ['/usr/lib/locale/C.utf8/LC_NUMERIC', 50],
  ['/usr/lib/locale/C.utf8/LC_CTYPE', 353_616],
];

/** What execve() maps for /usr/bin/dd: its four PT_LOADs and ld.so's (readelf -l on the reference machine). */
export function gnuDdImage(): ExecImage {
  const b = GNU_LAYOUT.ddBase;
  const l = GNU_LAYOUT.ldso;
  return {
    segments: [
      { name: 'dd r0', file: GNU_DD_PATH, offsetPages: 0, va: b, bytes: 0x1c10, prot: 'r' },
      { name: 'dd text', file: GNU_DD_PATH, offsetPages: 2, va: b + 0x2000, bytes: 0xd119, prot: 'rx' },
      { name: 'dd rodata', file: GNU_DD_PATH, offsetPages: 0x10, va: b + 0x10000, bytes: 0x46f0, prot: 'r' },
      // p_vaddr 0x15cf0, p_filesz 0x638: the mapping starts at the page, the file part ends at 0x16328 (padzero clears the rest).
      { name: 'dd data', file: GNU_DD_PATH, offsetPages: 0x14, va: b + 0x15000, bytes: 0x1328, prot: 'rw' },
      { name: 'ld.so r0', file: LDSO_PATH, offsetPages: 0, va: l, bytes: 0xd58, prot: 'r' },
      { name: 'ld.so text', file: LDSO_PATH, offsetPages: 1, va: l + 0x1000, bytes: 0x25111, prot: 'rx' },
      { name: 'ld.so rodata', file: LDSO_PATH, offsetPages: 0x27, va: l + 0x27000, bytes: 0x9c7c, prot: 'r' },
      { name: 'ld.so data', file: LDSO_PATH, offsetPages: 0x31, va: l + 0x31000, bytes: 0x3110, prot: 'rw' },
    ],
    // "dd if=/dev/zero of=/dev/null bs=10M count=1" and ~35 environment strings.
    stringsBytes: 2560,
  };
}

export interface GnuDdOptions {
  /** LANG/LC_ALL of the run: C.UTF-8 loads the locale files; C (or POSIX) skips them. */
  locale: 'C.UTF-8' | 'C';
}

/** The locale GNU dd runs in with `value` as its LC_ALL (or LANG): a UTF-8 one loads the C.UTF-8 files; anything else (unset, C, POSIX) is C. */
export function gnuLocale(value: string | null | undefined): GnuDdOptions['locale'] {
  return value && /utf-?8/i.test(value) ? 'C.UTF-8' : 'C';
}

/** The locale categories in the order glibc's setlocale loads them (_nl_find_locale per category). */
const CATEGORIES = ['LC_IDENTIFICATION', 'LC_MEASUREMENT', 'LC_TELEPHONE', 'LC_ADDRESS', 'LC_NAME', 'LC_PAPER', 'LC_MESSAGES', 'LC_MONETARY', 'LC_COLLATE', 'LC_TIME', 'LC_NUMERIC', 'LC_CTYPE'];

/** glibc's mmap threshold (M_MMAP_THRESHOLD's default): larger requests get their own mapping. */
const MMAP_THRESHOLD = 128 * KiB;
/** The initial heap glibc's first malloc asks brk for (0x21000: 132 KiB). */
const INITIAL_HEAP = 0x21000;
/** Bytes of the heap in use when dd allocates its buffer (tcache, locale names, freed stdio buffer). */
const HEAP_USED_AT_SETUP = 0x1500;

interface Heap {
  start: number;
  top: number;
  end: number;
}

interface Budget {
  left: number;
}

export function* gnuDd(u: UserProcess, op: DdOperands, opts: GnuDdOptions = { locale: 'C.UTF-8' }): Program {
  const k = u.k;
  const L = GNU_LAYOUT;
  const s = u.stackScratch; // stat buffers and path strings: a stack page touched at start-up
  const startup: Budget = { left: k.profile.userland.startup_user_pages.value };
  yield* u.sys('execve', { path: GNU_DD_PATH, pathVa: -1 }); // the path is in the shell's memory, not modelled

  // ---- ld.so: _dl_start, relocating itself, then dl_main ------------------------------
  yield* touchPages(u, startup, [
    { va: L.stackTop - 4 * PAGE, pages: 4, write: true },
    { va: L.ldso + 0x1000, pages: 3, stride: 0x10000, write: false },
    { va: L.ldso, pages: 1, write: false },
    { va: L.ldso + 0x27000, pages: 2, stride: 0x9000, write: false },
    { va: L.ldso + 0x31000, pages: 3, write: true },
    { va: L.ddBase, pages: 1, write: false },
    { va: L.ddBase + 0x2000, pages: 1, write: false },
    { va: L.ddBase + 0x10000, pages: 1, write: false },
    { va: L.ddBase + 0x15000, pages: 1, write: true },
  ]);
  const heapStart = yield* u.sys('brk', { addr: 0 });
  const ldHeap = yield* u.sys('mmap', { len: 8192, prot: 'rw', fd: -1, name: 'ld.so scratch' });
  yield* touchPages(u, startup, [{ va: ldHeap, pages: 1, write: true }]);
  yield* u.trySys('access', { path: '/etc/ld.so.preload', pathVa: s, mode: 4 });
  let fd = yield* u.sys('openat', { path: '/etc/ld.so.cache', pathVa: s, flags: 'r' });
  yield* u.sys('newfstatat', { fd, path: '', pathVa: -1, sbVa: s });
  const cache = yield* u.sys('mmap', { len: 34_547, prot: 'r', fd, pos: 0, name: 'ld.so.cache' });
  yield* u.sys('close', { fd });
  yield* touchPages(u, startup, [{ va: cache, pages: 1, write: false }]);
  // _dl_map_object_from_fd(): the ELF header into a buffer deep in the stack (a fresh page: the fault is inside read).
  fd = yield* u.sys('openat', { path: LIBC_PATH, pathVa: s, flags: 'r' });
  yield* u.sys('read', { fd, bufVa: L.stackTop - 7 * PAGE, len: 832 });
  yield* u.sys('pread64', { fd, bufVa: s, len: 784, pos: 64 });
  yield* u.sys('newfstatat', { fd, path: '', pathVa: -1, sbVa: s });
  yield* u.sys('pread64', { fd, bufVa: s, len: 784, pos: 64 });
  const libc = yield* u.sys('mmap', { len: 1_974_096, prot: 'r', fd, pos: 0, name: 'libc' });
  yield* u.sys('mmap', { addr: libc + 0x26000, fixed: 1, len: 1_400_832, prot: 'rx', fd, pos: 0x26000, name: 'libc text' });
  yield* u.sys('mmap', { addr: libc + 0x17c000, fixed: 1, len: 339_968, prot: 'r', fd, pos: 0x17c000, name: 'libc rodata' });
  yield* u.sys('mmap', { addr: libc + 0x1cf000, fixed: 1, len: 24_576, prot: 'rw', fd, pos: 0x1cf000, name: 'libc data' });
  yield* u.sys('mmap', { addr: libc + 0x1d5000, fixed: 1, len: 53_072, prot: 'rw', fd: -1, name: 'libc bss' });
  yield* u.sys('close', { fd });
  // init_tls(): the static TLS block and the thread descriptor, then the thread's registrations.
  const tls = yield* u.sys('mmap', { len: 12_288, prot: 'rw', fd: -1, name: 'tls' });
  yield* touchPages(u, startup, [{ va: tls, pages: 3, write: true }]);
  yield* u.sys('arch_prctl', { code: 0x1002, addr: tls + 0x740 });
  yield* u.sys('set_tid_address', { tidptr: tls + 0xa10 });
  yield* u.sys('set_robust_list', { head: tls + 0xa20, len: 24 });
  yield* u.sys('rseq', { addr: tls + 0x1060, len: 32, flags: 0, sig: 0x53053053 });
  // Relocation of libc and dd, symbol binding, IRELATIVE resolvers: user-mode work and first touches.
  yield* touchPages(u, startup, [
    { va: libc, pages: 3, stride: 0x10000, write: false },
    { va: libc + 0x1cf000, pages: 6, write: true },
    { va: libc + 0x1d5000, pages: 5, write: true },
    { va: libc + 0x26000, pages: 20, stride: 0x10000, write: false },
  ]);
  yield* u.work('user_startup');
  // _dl_protect_relro for libc, dd and ld.so.
  yield* u.sys('mprotect', { addr: libc + 0x1cf000, len: 16_384, prot: 'r' });
  yield* u.sys('mprotect', { addr: L.ddBase + 0x15000, len: 4096, prot: 'r' });
  yield* u.sys('mprotect', { addr: L.ldso + 0x31000, len: 8192, prot: 'r' });
  yield* u.sys('prlimit64', { pid: 0, resource: 3, newVa: 0, oldVa: s });
  yield* u.sys('munmap', { addr: cache, len: 34_547 });

  // ---- dd's main(): signal handlers (install_signal_handlers) -------------------------
  yield* u.sys('rt_sigaction', { sig: 2, actVa: 0, oactVa: s, sigsetsize: 8 }); // query SIGINT
  yield* u.sys('rt_sigaction', { sig: 10, actVa: s, oactVa: 0, sigsetsize: 8 }); // SIGUSR1: print statistics
  yield* u.sys('rt_sigaction', { sig: 2, actVa: s, oactVa: 0, sigsetsize: 8 }); // SIGINT
  // The first malloc: the tcache key from getrandom, then the initial heap from brk.
  yield* u.sys('getrandom', { bufVa: libc + 0x1d5000, len: 8, flags: 1 });
  yield* u.sys('brk', { addr: 0 });
  const heapEnd = yield* u.sys('brk', { addr: heapStart + INITIAL_HEAP });
  const heap: Heap = { start: heapStart, top: heapStart + 0x290, end: heapEnd };
  yield* touchPages(u, startup, [{ va: heapStart, pages: 1, write: true }]);

  // ---- setlocale(LC_ALL, "") ---------------------------------------------------------
  if (opts.locale === 'C.UTF-8') {
    const mapped: { va: number; bytes: number }[] = [];
    yield* u.trySys('openat', { path: '/usr/lib/locale/locale-archive', pathVa: s, flags: 'r' });
    // _nl_expand_alias: fopen/fread/fclose of locale.alias through a heap FILE and its 4 KiB buffer.
    fd = yield* u.sys('openat', { path: '/usr/share/locale/locale.alias', pathVa: s, flags: 'r' });
    yield* u.sys('newfstatat', { fd, path: '', pathVa: -1, sbVa: s });
    yield* u.sys('read', { fd, bufVa: heapStart + 0x490, len: 4096 });
    yield* u.sys('read', { fd, bufVa: heapStart + 0x490, len: 4096 });
    yield* u.sys('close', { fd });
    for (const cat of CATEGORIES) {
      yield* u.trySys('openat', { path: `/usr/lib/locale/C.UTF-8/${cat}`, pathVa: s, flags: 'r' });
      fd = yield* u.sys('openat', { path: `/usr/lib/locale/C.utf8/${cat}`, pathVa: s, flags: 'r' });
      yield* u.sys('newfstatat', { fd, path: '', pathVa: -1, sbVa: s });
      let file = u.td.proc.files[fd]?.vnode;
      if (file?.type === 'dir') {
        // LC_MESSAGES is a directory: its data is SYS_LC_MESSAGES inside.
        yield* u.sys('close', { fd });
        fd = yield* u.sys('openat', { path: `/usr/lib/locale/C.utf8/${cat}/SYS_${cat}`, pathVa: s, flags: 'r' });
        yield* u.sys('newfstatat', { fd, path: '', pathVa: -1, sbVa: s });
        file = u.td.proc.files[fd]?.vnode;
      }
      const bytes = file?.type === 'reg' ? file.size : PAGE;
      const va = yield* u.sys('mmap', { len: bytes, prot: 'r', fd, pos: 0, name: `locale ${cat}` });
      mapped.push({ va, bytes });
      yield* u.sys('close', { fd });
      if (cat === 'LC_IDENTIFICATION') {
        // The first category's charset conversion: __gconv_load_cache maps the gconv cache; then a once-lock wakes nobody.
        fd = yield* u.sys('openat', { path: '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache', pathVa: s, flags: 'r' });
        yield* u.sys('newfstatat', { fd, path: '', pathVa: -1, sbVa: s });
        const g = yield* u.sys('mmap', { len: 27_028, prot: 'r', fd, pos: 0, shared: 1, name: 'gconv cache' });
        mapped.push({ va: g, bytes: PAGE });
        yield* u.sys('close', { fd });
        yield* u.sys('futex', { uaddr: libc + 0x1d4a4c, op: 129, val: 0x7fffffff });
      }
    }
    // Reading each category's data: first touches of the mapped files (LC_CTYPE's tables
    // over several windows). Not from the start-up budget: these come with the locale.
    const ctype = mapped[mapped.length - 1]!;
    yield* touchPages(u, { left: Infinity }, [
      ...mapped.map((m) => ({ va: m.va, pages: 1, write: false })),
      { va: ctype.va + 0x10000, pages: 5, stride: 0x10000, write: false },
    ]);
  }
  heap.top = heapStart + HEAP_USED_AT_SETUP;
  // Whatever start-up touches remain: more of libc's code and read-only data, its bss, deeper stack.
  yield* touchPages(u, startup, [
    { va: libc + 0x17c000, pages: 6, stride: 0x10000, write: false },
    { va: libc + 0x1da000, pages: 8, write: true },
    { va: L.stackTop - 16 * PAGE, pages: 8, write: true },
    { va: libc + 0x166000, pages: 2, stride: 0x10000, write: false },
  ]);

  // ---- dd: open the files onto fds 0 and 1 (ifd_reopen: open, dup2, close) ---------------
  const inFd = yield* u.trySys('openat', { path: op.inputPath, pathVa: s, flags: 'r' });
  if (inFd instanceof Errno) return yield* ddFail(u, op.inputPath, inFd, opts);
  yield* u.sys('dup2', { oldfd: inFd, newfd: 0 });
  yield* u.sys('close', { fd: inFd });
  yield* u.sys('lseek', { fd: 0, offset: 0, whence: 1 }); // is the input seekable?
  const outFd = yield* u.trySys('openat', { path: op.outputPath, pathVa: s, flags: 'w', create: 1, trunc: op.seek === 0 ? 1 : 0 });
  if (outFd instanceof Errno) return yield* ddFail(u, op.outputPath, outFd, opts);
  yield* u.sys('dup2', { oldfd: outFd, newfd: 1 });
  yield* u.sys('close', { fd: outFd });

  // ---- dd_copy(): nothing is allocated when count=0 -----------------------------------
  let recordsInFull = 0;
  let recordsInPartial = 0;
  let bytesOut = 0;
  if (op.count !== 0) {
    const ibuf = yield* alignalloc(u, heap, op.ibs);
    const twoBufs = !op.bsGiven && op.ibs !== op.obs;
    const obuf = twoBufs ? yield* alignalloc(u, heap, op.obs) : ibuf;
    const inSeekable = k.fs.walk(op.inputPath).vnode.type === 'reg';
    if (op.skip > 0) {
      if (inSeekable) yield* u.sys('lseek', { fd: 0, offset: op.skip * op.ibs, whence: 1 });
      else for (let i = 0; i < op.skip; i++) yield* u.sys('read', { fd: 0, bufVa: ibuf, len: op.ibs });
    }
    if (op.seek > 0) yield* u.sys('lseek', { fd: 1, offset: op.seek * op.obs, whence: 1 });
    let pending = 0;
    while (op.count === null || recordsInFull + recordsInPartial < op.count) {
      const n = yield* u.sys('read', { fd: 0, bufVa: ibuf, len: op.ibs });
      if (n === 0) break;
      if (n === op.ibs) recordsInFull++;
      else recordsInPartial++;
      if (!twoBufs) {
        bytesOut += yield* u.sys('write', { fd: 1, bufVa: obuf, len: n });
        continue;
      }
      // Reblocking: copy into the output buffer, write each full obs block.
      yield* u.store(obuf + pending, Math.min(n, op.obs - pending));
      pending += n;
      while (pending >= op.obs) {
        bytesOut += yield* u.sys('write', { fd: 1, bufVa: obuf, len: op.obs });
        pending -= op.obs;
      }
    }
    if (pending > 0) bytesOut += yield* u.sys('write', { fd: 1, bufVa: obuf, len: pending });
  }

  // ---- finish: close the files, the statistics (gettext looks for coreutils.mo), exit --------
  yield* u.sys('close', { fd: 0 });
  yield* u.sys('close', { fd: 1 });
  yield* gettextLookups(u, opts);
  const recIn = `${recordsInFull}+${recordsInPartial} records in\n`;
  const blocksOut = Math.floor(bytesOut / op.obs);
  const recOut = `${blocksOut}+${bytesOut % op.obs === 0 ? 0 : 1} records out\n`;
  const line = `${bytesOut} bytes copied, 0.01 s, 1.0 GB/s`;
  u.stderr.push(recIn.trimEnd(), recOut.trimEnd(), line);
  yield* u.sys('write', { fd: 2, bufVa: s, len: recIn.length + recOut.length });
  yield* u.sys('write', { fd: 2, bufVa: s, len: line.length });
  yield* u.sys('write', { fd: 2, bufVa: s, len: 1 });
  yield* u.sys('close', { fd: 2 });
  yield* u.sys('exit_group', { status: 0 });
}

/** The three message-catalogue lookups of gettext in C.UTF-8: all absent. */
function* gettextLookups(u: UserProcess, opts: GnuDdOptions): Generator<number, void, unknown> {
  if (opts.locale !== 'C.UTF-8') return;
  for (const dir of ['C.UTF-8', 'C.utf8', 'C']) {
    yield* u.trySys('openat', { path: `/usr/share/locale/${dir}/LC_MESSAGES/coreutils.mo`, pathVa: u.stackScratch, flags: 'r' });
  }
}

/** dd: failed to open 'X': No such file or directory; exit 1 (the message is translated first). */
function* ddFail(u: UserProcess, path: string, e: Errno, opts: GnuDdOptions): Generator<number, void, unknown> {
  yield* gettextLookups(u, opts);
  const line = `dd: failed to open '${path}': ${e.message.split(': ').pop()}`;
  u.stderr.push(line);
  yield* u.trySys('write', { fd: 2, bufVa: u.stackScratch, len: line.length + 1 });
  yield* u.sys('exit_group', { status: 1 });
}

/**
 * alignalloc(page, size) -> aligned_alloc -> _int_memalign: size + alignment + MINSIZE
 * is asked of _int_malloc. At or above the mmap threshold that is its own mapping
 * (the chunk header on page 0 is written in user mode; the aligned buffer starts on
 * page 1 and stays untouched); below it the chunk comes from the brk heap (growing
 * it when needed), with the headers written around the buffer.
 */
function* alignalloc(u: UserProcess, heap: Heap, size: number): Generator<number, number, unknown> {
  const request = size + PAGE + 32;
  if (request >= MMAP_THRESHOLD) {
    const len = Math.ceil((request + 8) / PAGE) * PAGE;
    const addr = yield* u.sys('mmap', { len, prot: 'rw', fd: -1, name: `dd buffer ${size}` });
    yield* u.store(addr + 8, 8); // set_head of the mmapped chunk
    yield* u.store(addr + PAGE - 8, 8); // the aligned chunk's header, just below the buffer
    return addr + PAGE;
  }
  const chunk = heap.top;
  const aligned = Math.ceil((chunk + 16) / PAGE) * PAGE;
  const newTop = aligned + size;
  if (newTop + 32 > heap.end) {
    // sysmalloc: grow the heap by what is missing plus the 128 KiB top pad, page-rounded.
    const want = Math.ceil((newTop + 32 - heap.end + 128 * KiB) / PAGE) * PAGE;
    heap.end = yield* u.sys('brk', { addr: heap.end + want });
  }
  yield* u.store(chunk + 8, 8); // the leading remainder's header
  yield* u.store(aligned - 8, 8); // the aligned chunk's header
  yield* u.store(newTop + 8, 8); // the new top chunk's header
  heap.top = newTop + 16;
  return aligned;
}

/** A user-mode load of one word (a first read of a page faults: zero page or page cache). */
function* load(u: UserProcess, va: number): Generator<number, void, unknown> {
  u.k.touchUser(u.td, va, 8, AccessKind.Read, false);
  yield u.td.cpu.flush();
}

/** First touches of start-up pages: each touch that would fault takes one fault, up to the profile's count. */
function* touchPages(
  u: UserProcess,
  budget: Budget,
  regions: { va: number; pages: number; stride?: number; write: boolean }[],
): Generator<number, void, unknown> {
  const vm = u.td.proc.vmspace;
  for (const r of regions) {
    for (let i = 0; i < r.pages && budget.left > 0; i++) {
      const va = r.va + i * (r.stride ?? PAGE);
      const vpn = Math.floor(va / PAGE);
      if (!vm.lookup(va)) continue;
      const faults = !vm.pmap.has(vpn) || (r.write && !vm.writable.has(vpn));
      if (!faults) continue;
      budget.left--;
      if (r.write) yield* u.store(va, 8);
      else yield* load(u, va);
    }
  }
}

/** Register GNU dd's image and the files of its life in a booted Linux kernel. */
export function installGnuDd(k: Kernel): void {
  for (const [path, bytes] of GNU_FILES) {
    try {
      k.fs.walk(path);
    } catch {
      k.fs.addFile(path, bytes);
    }
  }
  k.fs.mkdirp('/usr/share/locale');
  k.fs.mkdirp('/usr/lib/locale');
  k.images.set(GNU_DD_PATH, gnuDdImage());
}
