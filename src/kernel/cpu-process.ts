// Each modelled CPU is a process of the engine: it runs the code of the thread on
// it (pc_curthread) and hands the time that code spends to the engine.
//
// A thread's code is a generator (the user program, and the system calls it
// makes, read top to bottom like the C). It yields to its CPU:
//   - a number: the ps it has spent since it last yielded (Cpu.flush()); the CPU
//     process yields that delay to the engine, so the engine's clock catches up
//     with the CPU's cursor;
//   - OFF_CPU: it has given the CPU up. The kernel code that yields it (FreeBSD's
//     cpu_switch, Linux's context_switch) has already put the next thread, or
//     none, on Cpu.curthread; its own generator stays suspended at that yield
//     until some later switch puts it back on a CPU, and it then resumes there,
//     as a real thread returns from cpu_switch. Code that may block (msleep,
//     sbwait, select's wait) is a generator for that reason; code that never
//     blocks is plain calls and costs nothing extra.
// With no thread on it the CPU is idle: it asks the dispatcher for one, and if
// there is none it waits for its event timer, armed for its next callout or
// re-armed by a wake-up from elsewhere (wake()). Wake-ups, timed sleeps and the
// end of idleness are therefore engine events; the periodic ticks of a busy CPU
// are handled on its cursor (./cpu.ts says why and how).

import { Timer, Waitable, type Simulation, type Yieldable } from '../events/index.js';
import type { Cpu, OnCpuThread } from './cpu.js';

/** Yielded by a thread's code after cpu_switch has put another thread (or none) on its CPU. */
export const OFF_CPU: unique symbol = Symbol('off-cpu');

/** What a thread's code yields to its CPU: time spent (ps), or OFF_CPU. */
export type ThreadYield = number | typeof OFF_CPU;

/** A thread's code: it ends when the thread exits. */
export type ThreadCode = Generator<ThreadYield, void, unknown>;

/** A thread as a CPU process runs it. */
export interface RunnableThread extends OnCpuThread {
  /** The thread's code, started when it first runs (fork_trampoline). */
  readonly code: ThreadCode;
}

/** The scheduler's side of an idle CPU: the thread to run next, taken off its run queue, or null. */
export interface Dispatcher {
  chooseForIdle(cpu: Cpu): RunnableThread | null;
}

export class CpuProcess {
  private readonly eventTimer: Timer;
  /** Triggered to end an idle wait; null while the CPU is not waiting. */
  private idleWait: Waitable<void> | null = null;

  constructor(
    private readonly sim: Simulation,
    readonly cpu: Cpu,
    private readonly dispatcher: Dispatcher,
  ) {
    this.eventTimer = new Timer(sim, () => this.endIdleWait(), `cpu${cpu.id} event timer`);
    sim.process(this.run(), `cpu${cpu.id}`);
  }

  /** Whether the CPU is idle, waiting for its event timer. */
  get idle(): boolean {
    return this.idleWait !== null;
  }

  /**
   * A thread became runnable for this CPU at `atPs` on the waker's clock: if the CPU
   * is idle, its event timer is re-armed to fire then (not before the engine's now),
   * as an IPI would wake it. A busy CPU finds the thread at its next switch.
   */
  wake(atPs: number): void {
    if (this.idleWait === null) return;
    const at = Math.max(this.sim.now, Math.round(atPs));
    const armed = this.eventTimer.armedAt;
    if (armed === undefined || at < armed) this.eventTimer.arm(at);
  }

  private endIdleWait(): void {
    const w = this.idleWait;
    this.idleWait = null;
    w?.trigger();
  }

  private *run(): Generator<Yieldable, void, unknown> {
    const cpu = this.cpu;
    const sim = this.sim;
    for (;;) {
      const td = cpu.curthread as RunnableThread | null;
      if (td !== null) {
        const r = td.code.next();
        if (r.done === true) {
          // The thread has exited; unless its code switched to another on the way out (cpu_throw), the CPU is idle.
          if (cpu.curthread === td) cpu.curthread = null;
        } else if (r.value !== OFF_CPU) yield r.value;
        continue;
      }
      // Idle. First hand the engine the time the last thread spent before it left.
      const spent = cpu.flush();
      if (spent > 0) {
        yield spent;
        continue;
      }
      const next = this.dispatcher.chooseForIdle(cpu);
      if (next !== null) {
        cpu.curthread = next;
        continue;
      }
      const due = cpu.nextCalloutAt;
      if (due < Infinity) this.eventTimer.arm(Math.max(sim.now, Math.ceil(due)));
      this.idleWait = new Waitable<void>(sim);
      yield this.idleWait;
      this.eventTimer.cancel();
      cpu.idleUntil(sim.now);
    }
  }
}
