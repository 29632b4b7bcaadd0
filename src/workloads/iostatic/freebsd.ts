// The L41 lab's io-static on FreeBSD: a statically linked program (hence the name),
// so no run-time linker at start-up: execve, the static TLS set-up, then main().
// main() parses its flags, opens the target, allocates one buffer with calloc()
// (so it is not touched until the loop first uses it), reads the clock, runs
// totalsize / buffersize read() or write() calls on that one buffer, fsync()s with
// -s, reads the clock again, and prints the bandwidth.
//
// The loop probe records the machine's state right after the first clock_gettime()
// returns and right before the second is called: the interval the benchmark times.

import type { ExecImage, Kernel } from '../../kernel/kernel.js';
import { ERRNO_TEXT, Errno } from '../../kernel/vfs.js';
import { FREEBSD_LAYOUT } from '../dd/freebsd.js';
import type { Program, UserProcess } from '../runtime.js';
import type { IoStaticOptions } from './options.js';

export const IO_STATIC_BIN = '/usr/local/bin/io-static';
/** Bytes of the static binary (text, data): only its page counts matter. */
export const IO_STATIC_BIN_BYTES = 760 * 1024;

/** sysexits(3) codes the real program exits with. */
export const EX_NOINPUT = 66;
export const EX_IOERR = 74;

/**
 * A failure as io.c reports it, err(3) with a "FAIL: " prefix: `io-static: FAIL:
 * <what>: <strerror>` on standard error (errx(3), without the error, where no
 * system call failed), then exit with a sysexits(3) code.
 */
export function* ioFail(u: UserProcess, status: number, what: string, e?: Errno): Program {
  return yield* u.err(status, `FAIL: ${what}${e ? `: ${ERRNO_TEXT[e.errno]}` : ''}`);
}

const CHUNK = 2 * 1024 * 1024; // jemalloc 4's chunk size
/** Pages at the start of jemalloc's first chunk used by its own metadata (arena, chunk map): touched at init. */
const ARENA_HEADER_PAGES = 4;

function layoutFor(k: Kernel) {
  return k.profile.machine.isa === 'armv7' ? FREEBSD_LAYOUT.armv7 : FREEBSD_LAYOUT.amd64;
}

/** What execve() maps for the static binary: its text, data and bss (no run-time linker). */
export function freebsdIoStaticImage(k: Kernel): ExecImage {
  const l = layoutFor(k);
  return {
    segments: [
      { name: 'io-static text', file: IO_STATIC_BIN, offsetPages: 0, va: l.text, bytes: 400 * 1024, prot: 'rx' },
      { name: 'io-static data', file: IO_STATIC_BIN, offsetPages: 100, va: l.text + 0x20_0000, bytes: 16 * 1024, prot: 'rw' },
      { name: 'io-static bss', offsetPages: 0, va: l.text + 0x20_4000, bytes: 64 * 1024, prot: 'rw' },
    ],
    stringsBytes: 1024,
  };
}

/** A snapshot of the machine at one end of the timed loop. */
export interface LoopMark {
  ps: number;
  syscalls: Map<string, { count: number; ps: number }>;
  traps: Map<string, { count: number; ps: number }>;
  minflt: number;
  usage: Float64Array;
}

export interface LoopProbe {
  start?: LoopMark;
  end?: LoopMark;
  /** What the program printed on standard output. */
  stdout: string[];
}

export function markLoop(u: UserProcess): LoopMark {
  const k = u.k;
  const copy = (m: Map<string, { count: number; ps: number }>) => new Map([...m].map(([n, t]) => [n, { count: t.count, ps: t.ps }]));
  return { ps: u.td.cpu.t, syscalls: copy(k.steps.syscalls), traps: copy(k.steps.traps), minflt: u.td.proc.ru.minflt, usage: k.usage.snapshot() };
}

/** The benchmark's output: the bandwidth line, and with -v the configuration and time first. */
export function ioStaticOutput(o: IoStaticOptions, seconds: number): string[] {
  const kib = seconds > 0 ? o.totalBytes / 1024 / seconds : 0;
  const lines: string[] = [];
  if (o.verbose) {
    lines.push(
      'Benchmark configuration:',
      `  buffersize: ${o.bufferBytes}`,
      `  totalsize: ${o.totalBytes}`,
      `  blockcount: ${o.totalBytes / o.bufferBytes}`,
      `  operation: ${o.mode}`,
      `  path: ${o.path}`,
      `  time: ${seconds.toFixed(9)}`,
    );
  }
  lines.push(`${kib.toFixed(2)} KBytes/sec`);
  return lines;
}

export function* freebsdIoStatic(u: UserProcess, o: IoStaticOptions, probe: LoopProbe): Program {
  const k = u.k;
  const pg = k.pageBytes;
  const l = layoutFor(k);
  const s = u.stackScratch;
  yield* u.sys('execve', { path: IO_STATIC_BIN, pathVa: s });

  // ---- crt1 and __libc_start1: static TLS (_init_tls), stack, data and bss --------
  yield* u.sys('sysarch', { argVa: s }); // AMD64_SET_FSBASE / ARM_SET_TP
  for (let i = 0; i < 3; i++) yield* u.store(u.stackTop - (3 + i) * pg, 8);
  yield* u.store(l.text + 0x20_0000, 8); // .data (atexit, stdio's FILEs)
  yield* u.store(l.text + 0x20_4000, 8); // .bss

  // ---- main(): getopt, then open the target ------------------------------------------
  const flags = o.mode === 'read' ? 'r' : 'w';
  const fd = yield* u.trySys('openat', { path: o.path, pathVa: s, flags, create: o.mode === 'create' ? 1 : 0, trunc: o.mode === 'create' ? 1 : 0 });
  if (fd instanceof Errno) return yield* ioFail(u, EX_NOINPUT, o.path, fd);

  // ---- buf = calloc(1, buffersize): jemalloc initialises on this first allocation ---
  yield* u.trySys('readlink', { path: '/etc/malloc.conf', pathVa: s, bufVa: s, len: 256 });
  yield* u.sys('issetugid');
  const arena = yield* u.sys('mmap', { len: 2 * CHUNK - pg, prot: 'rw', fd: -1, name: 'jemalloc chunk' });
  yield* u.sys('munmap', { addr: arena + CHUNK, len: CHUNK - pg });
  for (let i = 0; i < ARENA_HEADER_PAGES; i++) yield* u.store(arena + i * pg, 8);
  let buf: number;
  if (o.bufferBytes <= CHUNK - (ARENA_HEADER_PAGES + 1) * pg) {
    // A small or large run carved from the arena's chunk: fresh pages, already zero, so
    // calloc() does not memset them (and debug junk filling skips zeroed allocations).
    buf = arena + (ARENA_HEADER_PAGES + 1) * pg;
  } else {
    // A huge allocation: its own chunk-aligned mapping, zero-filled on demand.
    buf = yield* u.sys('mmap', { len: Math.ceil(o.bufferBytes / CHUNK) * CHUNK, prot: 'rw', fd: -1, name: 'io-static buffer' });
  }

  // ---- the timed loop -------------------------------------------------------------
  const blocks = o.totalBytes / o.bufferBytes;
  const op = o.mode === 'read' ? 'read' : 'write';
  yield* u.sys('clock_gettime', { tpVa: s });
  probe.start = markLoop(u);
  yield* u.repeat(blocks, function* () {
    const n = yield* u.trySys(op, { fd, bufVa: buf, len: o.bufferBytes });
    if (n === o.bufferBytes) return;
    if (n instanceof Errno) yield* ioFail(u, EX_IOERR, op, n);
    else yield* ioFail(u, EX_IOERR, `partial ${op}`);
    return false;
  });
  if (u.exitStatus !== null) return;
  if (o.fsync) {
    const r = yield* u.trySys('fsync', { fd });
    if (r instanceof Errno) return yield* ioFail(u, EX_IOERR, 'fsync', r);
  }
  probe.end = markLoop(u);
  yield* u.sys('clock_gettime', { tpVa: s });
  yield* u.sys('close', { fd });

  // ---- printf(): stdio's first use allocates its buffer (fstat picks the buffering) --
  if (!o.quiet) {
    const seconds = (probe.end.ps - probe.start.ps) / 1e12;
    const lines = ioStaticOutput(o, seconds);
    probe.stdout.push(...lines);
    yield* u.sys('fstat', { fd: 1, sbVa: s });
    yield* u.store(arena + ARENA_HEADER_PAGES * pg, 8); // the stdio buffer's page
    yield* u.sys('write', { fd: 1, bufVa: arena + ARENA_HEADER_PAGES * pg, len: lines.join('\n').length + 1 });
  }
  yield* u.sys('exit', { status: 0 });
}
