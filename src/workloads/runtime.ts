// The user side of a modelled process: the libc stub around each system call, user
// code touching memory (which takes traps on untouched pages), and the run of a
// program on the kernel's CPUs under the engine. A program is a generator that
// reads like the C it models (`const fd = yield* u.sys('openat', {...})`); it is
// its thread's code, run by the thread's CPU (kernel/cpu-process.ts), and after
// each action it hands the time the action took to the engine.

import { RuntimeFailure } from '../errors.js';
import { MAX_SIM_TIME, SimTimeOverflowError, Simulation, SimulationBoundError, formatTime } from '../events/index.js';
import { Mode } from '../kernel/cpu.js';
import type { Kernel, SyscallArgs } from '../kernel/kernel.js';
import { AccessKind } from '../kernel/machine/cache.js';
import { ProcessExited, type Thread } from '../kernel/proc.js';
import { STEADY, type SteadyDecl } from '../kernel/steady/declare.js';
import { FastForward } from '../kernel/steady/fast-forward.js';
import { Errno } from '../kernel/vfs.js';

export type Program = Generator<number, void, unknown>;

export interface ProcessResult {
  exitStatus: number;
  startPs: number;
  endPs: number;
  /** Lines the modelled program wrote to its standard error. */
  stderr: string[];
  /** Engine events the run executed. */
  events: number;
}

// ---- Interrupts and bounds ---------------------------------------------------
//
// A run is synchronous: while it runs, the thread that runs it handles no signals.
// The CLI therefore runs simulations on a worker thread and, on SIGINT, sets a
// shared flag (setInterruptFlag); runProgram polls it before every event and stops
// the run with RunInterrupted, saying how far it got.

let interruptFlag: Int32Array | undefined;

/** Poll `flag[0]` (non-zero: stop) in every later runProgram on this thread; undefined stops polling. */
export function setInterruptFlag(flag: Int32Array | undefined): void {
  interruptFlag = flag;
}

/** The flag this thread polls, to hand to the threads it starts. */
export function currentInterruptFlag(): Int32Array | undefined {
  return interruptFlag;
}

/** True once SIGINT has asked this thread's work to stop. */
export function interruptRequested(): boolean {
  return interruptFlag !== undefined && Atomics.load(interruptFlag, 0) !== 0;
}

/** The run was stopped by an interrupt (SIGINT): exit 1 with where it got to. */
export class RunInterrupted extends RuntimeFailure {
  constructor(
    readonly program: string,
    /** Simulated time the run got to, from its start (ps). */
    readonly simulatedPs: number,
    readonly events: number,
  ) {
    super('', `interrupted at simulated time ${formatTime(simulatedPs)} after ${events} events (${program} did not finish; nothing was written)`);
  }
}

/** The run's simulated time passed what the engine represents (MAX_SIM_TIME, about 9007 s): exit 1. */
export class RunTooLong extends RuntimeFailure {
  constructor(readonly program: string) {
    super('', `${program} ran past the longest simulated time the engine represents (${formatTime(MAX_SIM_TIME)})`, 'a shorter run (fewer or smaller blocks, fewer slow hooks such as ptrace)');
  }
}

/** The run needed more events than its bound although its estimate was within it: exit 1, naming the option that raises it. */
export class RunBoundExceeded extends RuntimeFailure {
  constructor(
    readonly program: string,
    readonly limit: number,
    readonly simulatedPs: number,
  ) {
    super('--max-events', `${program} needed more than ${limit} events (it got to simulated time ${formatTime(simulatedPs)}, more than estimated before the run)`, `a larger --max-events (max_events in a sweep config)`);
  }
}

/** What one iteration of a repeat() loop returns: false to end the loop, or the numbers the program counts per iteration. */
export type Tally = readonly number[] | false | void;

export class UserProcess {
  static readonly [STEADY]: SteadyDecl = { skip: ['fastForward'] };
  readonly td: Thread;
  readonly stderr: string[] = [];
  /** Address of a scratch page on the user stack (stat buffers, path strings). */
  readonly stackScratch: number;
  readonly stackTop: number;
  exitStatus: number | null = null;
  /** The fast-forward of this process's loops (created by the first repeat(); null when the kernel runs exact). */
  private fastForward: FastForward | null | undefined = undefined;

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

  /**
   * A loop: `body` up to `count` times (Infinity: until it returns false), each
   * iteration's tally (the numbers it returns) summed. Iterations that repeat
   * exactly are fast-forwarded unless the kernel runs exact
   * (kernel/steady/fast-forward.ts), so `body` must be the same code each time: it
   * may read only the kernel's state (through its system calls) and values that stay
   * constant over the loop, and what it counts it returns as its tally rather than
   * adding it up itself. Returns the iterations made and the summed tally.
   */
  *repeat(count: number, body: () => Generator<number, Tally, unknown>): Generator<number, { iterations: number; tally: number[] }, unknown> {
    const ff = (this.fastForward ??= this.k.options.exact || this.k.engine === null ? null : new FastForward(this.k, this.td.cpu, this, this.k.engine));
    const tally: number[] = [];
    let iterations = 0;
    while (iterations < count) {
      // The last iteration has none after it to fast-forward: it is not checked.
      if (iterations + 1 < count) ff?.begin();
      let t: Tally;
      try {
        t = yield* body();
      } catch (e) {
        ff?.end(0);
        throw e;
      }
      iterations++;
      if (t === false) {
        ff?.end(0);
        break;
      }
      const times = 1 + (ff === null ? 0 : ff.end(count - iterations));
      iterations += times - 1;
      if (t) t.forEach((v, i) => (tally[i] = (tally[i] ?? 0) + times * v));
    }
    return { iterations, tally };
  }

  /** err(3): print "prog: msg" on standard error and exit(status). */
  *err(status: number, message: string): Generator<number, void, unknown> {
    const line = `${this.td.proc.comm}: ${message}`;
    this.stderr.push(line);
    yield* this.trySys('write', { fd: 2, bufVa: this.stackScratch, len: line.length + 1 });
    yield* this.sys('exit', { status });
  }
}

/** A run's budget of simulated events when its caller sets none (and a sweep point's max_events by default). */
export const RUN_MAX_EVENTS = 50_000_000;

/**
 * Run one program to completion under the engine: the program is the code of the
 * process's thread, runnable on CPU 0 from time 0; every CPU of the kernel is an
 * engine process (idle but for this one).
 */
export function runProgram(
  k: Kernel,
  u: UserProcess,
  program: (u: UserProcess) => Program,
  bounds: { maxEvents: number },
): ProcessResult {
  const td = u.td;
  let startPs = 0;
  let endPs = 0;
  // The flag is looked at before every event (an atomic load: nothing next to an
  // event's work); one event (a syscall copying a large block) is not cut short.
  const sim = new Simulation({
    seed: k.options.seed,
    maxEvents: bounds.maxEvents,
    onEvent: () => {
      if (interruptRequested()) throw new RunInterrupted(td.proc.comm, Math.max(0, td.cpu.t - startPs), sim.eventCount - 1);
    },
  });
  td.code = (function* () {
    startPs = td.cpu.t;
    td.cpu.mode = Mode.User;
    yield* program(u);
    if (u.exitStatus === null) yield* u.sys('exit', { status: 0 });
    endPs = td.cpu.t;
  })();
  k.setrunnable(td);
  k.startCpus(sim);
  if (interruptRequested()) throw new RunInterrupted(td.proc.comm, 0, 0);
  try {
    sim.run();
  } catch (e) {
    if (e instanceof RunInterrupted) throw e;
    if (e instanceof SimulationBoundError && e.bound === 'events') throw new RunBoundExceeded(td.proc.comm, e.limit, Math.max(0, td.cpu.t - startPs));
    if (e instanceof SimulationBoundError) throw e;
    const cause = (e as { cause?: unknown }).cause ?? e;
    if (cause instanceof SimTimeOverflowError) throw new RunTooLong(td.proc.comm);
    throw cause;
  }
  return { exitStatus: u.exitStatus ?? 0, startPs, endPs, stderr: u.stderr, events: sim.eventCount };
}
