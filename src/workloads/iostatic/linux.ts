// io-static built statically against glibc on Linux x86-64 (for the host profile):
// no ld.so, so start-up is glibc's static init (TLS in the brk heap, the thread's
// registrations, RELRO), then main() as on FreeBSD. Two differences a student
// sees in strace: clock_gettime() is a vDSO call (no system call: the timed loop
// is bounded by user-mode clock reads), and calloc() takes buffers of 128 KiB and
// more from their own mmap() (glibc's mmap threshold), smaller ones from the brk
// heap; either way fresh zero pages, untouched until the loop uses them.
//
// Counts follow a static glibc 2.36 binary's strace on Debian 12: brk(NULL),
// brk(grow) for the static TLS, arch_prctl(ARCH_SET_FS), set_tid_address,
// set_robust_list, rseq, prlimit64(RLIMIT_STACK), getrandom (malloc's tcache key),
// brk(NULL), brk(grow) for the first malloc, mprotect (RELRO). readlinkat of
// /proc/self/exe is left out (the model has no procfs).

import type { ExecImage } from '../../kernel/kernel.js';
import { Errno } from '../../kernel/vfs.js';
import type { Program, UserProcess } from '../runtime.js';
import { EX_IOERR, EX_NOINPUT, IO_STATIC_BIN, ioFail, ioStaticOutput, markLoop, type LoopProbe } from './freebsd.js';
import type { IoStaticOptions } from './options.js';

const PAGE = 4096;
/** A non-PIE static binary's load address. */
const TEXT = 0x40_0000;
const MMAP_THRESHOLD = 128 * 1024;
const INITIAL_HEAP = 0x21000;

/** The static binary's PT_LOADs (sizes of a static glibc program: text, rodata, data and bss). */
export function linuxIoStaticImage(): ExecImage {
  return {
    segments: [
      { name: 'io-static r0', file: IO_STATIC_BIN, offsetPages: 0, va: TEXT, bytes: 0x1000, prot: 'r' },
      { name: 'io-static text', file: IO_STATIC_BIN, offsetPages: 1, va: TEXT + 0x1000, bytes: 0x7a000, prot: 'rx' },
      { name: 'io-static rodata', file: IO_STATIC_BIN, offsetPages: 0x7b, va: TEXT + 0x7b000, bytes: 0x28000, prot: 'r' },
      { name: 'io-static data', file: IO_STATIC_BIN, offsetPages: 0xa3, va: TEXT + 0xa4000, bytes: 0x6000, prot: 'rw' },
      { name: 'io-static bss', offsetPages: 0, va: TEXT + 0xaa000, bytes: 0x6000, prot: 'rw' },
    ],
    stringsBytes: 2048,
  };
}

export function* linuxIoStatic(u: UserProcess, o: IoStaticOptions, probe: LoopProbe): Program {
  const s = u.stackScratch;
  yield* u.sys('execve', { path: IO_STATIC_BIN, pathVa: -1 });

  // ---- _start -> __libc_start_main: static TLS, the thread's registrations, RELRO -------
  for (let i = 0; i < 3; i++) yield* u.store(u.stackTop - (1 + i) * PAGE, 8);
  yield* u.store(TEXT + 0xa4000, 8); // .data
  yield* u.store(TEXT + 0xaa000, 8); // .bss
  const heapStart = yield* u.sys('brk', { addr: 0 });
  let heapEnd = yield* u.sys('brk', { addr: heapStart + 0x1000 }); // __libc_setup_tls: the static TLS block
  yield* u.store(heapStart, 8);
  yield* u.sys('arch_prctl', { code: 0x1002, addr: heapStart + 0x740 }); // ARCH_SET_FS
  yield* u.sys('set_tid_address', { tidptr: heapStart + 0xa10 });
  yield* u.sys('set_robust_list', { head: heapStart + 0xa20, len: 24 });
  yield* u.sys('rseq', { addr: heapStart + 0xe60, len: 32, flags: 0, sig: 0x53053053 });
  yield* u.sys('prlimit64', { pid: 0, resource: 3, newVa: 0, oldVa: s });
  yield* u.sys('mprotect', { addr: TEXT + 0xa4000, len: 0x3000, prot: 'r' }); // RELRO

  // ---- main(): open the target ----------------------------------------------------------
  const fd = yield* u.trySys('openat', { path: o.path, pathVa: s, flags: o.mode === 'read' ? 'r' : 'w', create: o.mode === 'create' ? 1 : 0, trunc: o.mode === 'create' ? 1 : 0 });
  if (fd instanceof Errno) return yield* ioFail(u, EX_NOINPUT, o.path, fd);

  // ---- buf = calloc(1, buffersize): the first malloc seeds the tcache key and grows the heap --
  yield* u.sys('getrandom', { bufVa: TEXT + 0xaa000, len: 8, flags: 1 });
  yield* u.sys('brk', { addr: 0 });
  let buf: number;
  if (o.bufferBytes >= MMAP_THRESHOLD) {
    const len = Math.ceil((o.bufferBytes + 16) / PAGE) * PAGE;
    const addr = yield* u.sys('mmap', { len, prot: 'rw', fd: -1, name: 'io-static buffer' });
    yield* u.store(addr + 8, 8); // the chunk header; calloc skips the memset of fresh mmapped memory
    buf = addr + 16;
  } else {
    // From the top of a freshly grown heap: glibc knows it is zero (MORECORE_CLEARS) and does not memset it.
    heapEnd = yield* u.sys('brk', { addr: heapEnd + Math.ceil((o.bufferBytes + INITIAL_HEAP) / PAGE) * PAGE });
    buf = heapStart + 0x1000 + 0x290 + 16;
    yield* u.store(buf - 8, 8); // the chunk header
  }

  // ---- the timed loop (clock_gettime through the vDSO: user mode, no system call) ---------
  const blocks = o.totalBytes / o.bufferBytes;
  const op = o.mode === 'read' ? 'read' : 'write';
  yield* u.work('user_syscall_stub'); // __vdso_clock_gettime
  probe.start = markLoop(u);
  yield* u.repeat(blocks, function* () {
    const n = yield* u.trySys(op, { fd, bufVa: buf, len: o.bufferBytes });
    if (n === o.bufferBytes) return;
    if (n instanceof Errno) yield* ioFail(u, EX_IOERR, op, n);
    else yield* ioFail(u, EX_IOERR, `partial ${op}`);
    return false;
  });
  if (u.exitStatus !== null) return;
  probe.end = markLoop(u);
  yield* u.work('user_syscall_stub');
  yield* u.sys('close', { fd });

  // ---- printf(): stdio's buffer on the heap, after fstat of stdout ----------------------
  if (!o.quiet) {
    const lines = ioStaticOutput(o, (probe.end.ps - probe.start.ps) / 1e12);
    probe.stdout.push(...lines);
    yield* u.sys('newfstatat', { fd: 1, path: '', pathVa: -1, sbVa: s });
    yield* u.sys('write', { fd: 1, bufVa: s, len: lines.join('\n').length + 1 });
  }
  yield* u.sys('exit_group', { status: 0 });
}
