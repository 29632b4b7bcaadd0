// The user side of a modelled process: the libc stub around each system call, user
// code touching memory (which takes traps on untouched pages), and the engine
// process that runs the program. A program is a generator that reads like the C
// it models (`const fd = yield* u.sys('openat', {...})`); each action runs on the
// thread's CPU and then hands the time it took to the engine.

import { Resource, Simulation, SimulationBoundError } from '../events/index.js';
import { Mode } from '../kernel/cpu.js';
import type { Kernel, SyscallArgs } from '../kernel/kernel.js';
import { AccessKind } from '../kernel/machine/cache.js';
import { ProcessExited, type Thread } from '../kernel/proc.js';
import { Errno } from '../kernel/vfs.js';

export type Program = Generator<number, void, unknown>;

export interface ProcessResult {
  exitStatus: number;
  startPs: number;
  endPs: number;
  /** Lines the modelled program wrote to its standard error. */
  stderr: string[];
}

export class UserProcess {
  readonly td: Thread;
  readonly stderr: string[] = [];
  /** Address of a scratch page on the user stack (stat buffers, path strings). */
  readonly stackScratch: number;
  readonly stackTop: number;
  exitStatus: number | null = null;

  constructor(
    readonly k: Kernel,
    comm: string,
    layout: { stackTop: number; stackBytes: number; mmapBase: number },
  ) {
    this.td = k.newProc(comm, layout.mmapBase);
    this.stackTop = layout.stackTop;
    this.td.proc.vmspace.insert({
      start: layout.stackTop - layout.stackBytes,
      end: layout.stackTop,
      prot: 'rw',
      private: true,
      object: null,
      offsetPages: 0,
      name: 'stack',
    });
    this.stackScratch = layout.stackTop - 2 * k.pageBytes;
  }

  /** One system call: the libc stub in user mode, then the kernel path. Throws Errno as the call fails. */
  *sys(name: string, args: SyscallArgs = {}): Generator<number, number, unknown> {
    const k = this.k;
    const td = this.td;
    k.charge(td, 'user_syscall_stub');
    let result: number;
    try {
      result = k.path.syscall(td, name, args);
    } catch (e) {
      if (e instanceof ProcessExited) {
        this.exitStatus = e.status;
        yield td.cpu.flush();
        return 0;
      }
      yield td.cpu.flush();
      throw e;
    }
    yield td.cpu.flush();
    while (td.pendingHandlers > 0) {
      td.pendingHandlers--;
      k.charge(td, 'user_syscall_stub'); // the handler
      yield* this.sys('sigreturn', { ucVa: this.stackTop - 1024 });
    }
    return result;
  }

  /** The same call, returning the errno name instead of throwing (for calls whose failure the program expects). */
  *trySys(name: string, args: SyscallArgs = {}): Generator<number, number | Errno, unknown> {
    try {
      return yield* this.sys(name, args);
    } catch (e) {
      if (e instanceof Errno) return e;
      throw e;
    }
  }

  /** User code storing to [va, va+bytes) (memset, first use of a buffer): page faults are traps. */
  *store(va: number, bytes: number): Generator<number, void, unknown> {
    this.k.touchUser(this.td, va, bytes, AccessKind.Write, false);
    yield this.td.cpu.flush();
  }

  /** User-mode work of a fixed cost (start-up relocation and binding, for instance). */
  *work(cost: 'user_startup' | 'user_syscall_stub', n = 1): Generator<number, void, unknown> {
    this.k.charge(this.td, cost, n);
    yield this.td.cpu.flush();
  }

  /** err(3): print "prog: msg" on standard error and exit(status). */
  *err(status: number, message: string): Generator<number, void, unknown> {
    const line = `${this.td.proc.comm}: ${message}`;
    this.stderr.push(line);
    yield* this.trySys('write', { fd: 2, bufVa: this.stackScratch, len: line.length + 1 });
    yield* this.sys('exit', { status });
  }
}

/**
 * Run one program to completion on CPU 0 of the kernel, under the engine. The
 * program's process holds the CPU (a Resource) for its whole life.
 */
export function runProgram(
  k: Kernel,
  u: UserProcess,
  program: (u: UserProcess) => Program,
  bounds: { maxEvents: number },
): ProcessResult {
  const sim = new Simulation({ seed: k.options.seed, maxEvents: bounds.maxEvents });
  const cpu0 = new Resource(sim, 1, 'cpu0');
  const td = u.td;
  let startPs = 0;
  let endPs = 0;
  sim.process(
    (function* () {
      yield cpu0.request();
      td.cpu.idleUntil(sim.now);
      startPs = td.cpu.t;
      td.cpu.mode = Mode.User;
      yield* program(u);
      if (u.exitStatus === null) yield* u.sys('exit', { status: 0 });
      endPs = td.cpu.t;
      cpu0.release();
    })(),
    td.proc.comm,
  );
  try {
    sim.run();
  } catch (e) {
    if (e instanceof SimulationBoundError) throw e;
    throw (e as { cause?: unknown }).cause ?? e;
  }
  return { exitStatus: u.exitStatus ?? 0, startPs, endPs, stderr: u.stderr };
}
