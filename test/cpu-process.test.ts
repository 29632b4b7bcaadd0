// The engine as the clock of the run: each CPU a process of the engine, a thread
// giving its CPU up and being put back (resuming where it stopped), wake-ups and
// timed callouts of an idle CPU as engine events, and the periodic ticks of a busy
// CPU at their exact picosecond on its cursor (skipped while it is idle).

import { describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { Simulation, Timer } from '../src/events/index.js';
import { bootKernel } from '../src/kernel/boot.js';
import { OFF_CPU, type ThreadCode } from '../src/kernel/cpu-process.js';
import type { Cpu } from '../src/kernel/cpu.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { Thread } from '../src/kernel/proc.js';

describe('Timer', () => {
  it('fires at the time it was last armed for, once', () => {
    const sim = new Simulation({ seed: 's' });
    const log: number[] = [];
    const t = new Timer(sim, () => log.push(sim.now));
    t.arm(50);
    t.arm(30); // moves it earlier: the arming for 50 is forgotten
    expect(t.armedAt).toBe(30);
    sim.schedule(40, () => t.arm(70)); // and re-armed after it fired
    sim.run();
    expect(log).toEqual([30, 70]);
    expect(t.armedAt).toBeUndefined();
  });

  it('cancel() disarms it, and it can be armed again', () => {
    const sim = new Simulation({ seed: 's' });
    const log: number[] = [];
    const t = new Timer(sim, () => log.push(sim.now));
    t.arm(10);
    t.cancel();
    expect(t.armedAt).toBeUndefined();
    sim.schedule(20, () => t.arm(25));
    sim.run();
    expect(log).toEqual([25]);
  });

  it('refuses a time in the past or not a whole ps', () => {
    const sim = new Simulation({ seed: 's' });
    const t = new Timer(sim, () => undefined, 'tm');
    sim.schedule(10, () => {
      expect(() => t.arm(5)).toThrow(/Timer "tm": time must be an integer number of ps in 10\.\./);
      expect(() => t.arm(10.5)).toThrow(RangeError);
    });
    sim.run();
    expect(() => new Timer(sim, 3 as unknown as () => void)).toThrow(TypeError);
  });
});

/** A kernel on a profile, and a thread of a new process on CPU 0 running `code`. */
function machine(profile = 'bbb'): { k: Kernel; sim: Simulation; cpu: Cpu; thread: (code: (td: Thread) => ThreadCode) => Thread } {
  const k = bootKernel(loadProfile(profile), { seed: '1', features: new Set(), scripts: [] });
  const sim = new Simulation({ seed: '1' });
  const cpu = k.cpus[0]!;
  let n = 0;
  const thread = (code: (td: Thread) => ThreadCode): Thread => {
    const td = k.newProc(`t${n++}`, 0x1000_0000);
    td.code = code(td);
    return td;
  };
  return { k, sim, cpu, thread };
}

/** Spend `ps` of kernel-mode time on td's CPU (whole picoseconds, so the cursor stays exact). */
function spend(k: Kernel, td: Thread, ps: number): number {
  const call = k.book.psPer[k.book.id('call')]!;
  const n = Math.round(ps / call);
  td.cpu.charge(k.book.id('call'), n);
  return td.cpu.flush();
}

describe('a CPU as an engine process', () => {
  it('runs a thread and hands its time to the engine, so the engine clock follows the cursor', () => {
    const { k, sim, cpu, thread } = machine();
    const seen: [number, number][] = [];
    const td = thread(function* (td) {
      for (let i = 0; i < 5; i++) {
        yield spend(k, td, 1_000_000);
        seen.push([sim.now, Math.round(td.cpu.t)]);
      }
    });
    k.setrunnable(td);
    k.startCpus(sim);
    sim.run();
    for (const [now, t] of seen) expect(now).toBe(t);
    expect(cpu.curthread).toBeNull(); // it exited; the CPU is idle
    expect(cpu.idlePs).toBe(0);
  });

  it('a thread that gives the CPU up resumes where it stopped when it is put back, and the idle time is the gap', () => {
    const { k, sim, cpu, thread } = machine();
    const log: string[] = [];
    const wakeAt = 40_000_000_000; // 40 ms: past several hardclock ticks (hz 100 on bbb)
    let blockedAt = 0;
    const td = thread(function* (td) {
      yield spend(k, td, 2_000_000);
      log.push(`before sleep, i = 1`);
      blockedAt = td.cpu.t;
      // Sleep until a callout at wakeAt makes it runnable again: nothing else to run, so the CPU idles.
      td.cpu.callout(wakeAt, () => k.setrunnable(td));
      td.cpu.curthread = null;
      yield OFF_CPU;
      log.push(`after sleep at ${sim.now}, cursor ${td.cpu.t}`);
      yield spend(k, td, 1_000_000);
    });
    k.setrunnable(td);
    k.startCpus(sim);
    const ticksBefore = () => k.steps.interrupts.ticks;
    sim.run();
    expect(log).toEqual(['before sleep, i = 1', `after sleep at ${wakeAt}, cursor ${wakeAt}`]);
    // The idle CPU skipped its periodic ticks: only those in the 3 ms of running landed.
    expect(ticksBefore()).toBeLessThanOrEqual(1);
    expect(cpu.idlePs).toBe(wakeAt - blockedAt);
    // Time on the CPU is busy time plus idle time: 3 ms of work, the rest idle.
    expect(Math.round(cpu.t - cpu.idlePs)).toBe(3_000_000);
  });

  it('two threads on one CPU hand it to each other, each resuming where it stopped, deterministically', () => {
    const run = () => {
      const { k, sim, thread } = machine();
      const log: string[] = [];
      const tds: Thread[] = [];
      const pingPong = (me: number) =>
        function* (td: Thread): ThreadCode {
          for (let i = 0; i < 3; i++) {
            yield spend(k, td, 500_000 * (me + 1));
            log.push(`${me}:${i}@${Math.round(td.cpu.t)}`);
            // cpu_switch to the other thread (it is never on a run queue: a direct hand-off).
            td.cpu.curthread = tds[1 - me]!;
            yield OFF_CPU;
          }
          // Thread 0 ends first and hands the CPU to thread 1 on its way out (cpu_throw), which then ends too.
          td.cpu.curthread = me === 0 ? tds[1]! : null;
        };
      tds.push(thread(pingPong(0)), thread(pingPong(1)));
      k.setrunnable(tds[0]!);
      k.startCpus(sim);
      sim.run();
      return log;
    };
    const a = run();
    expect(a).toEqual(['0:0@500000', '1:0@1500000', '0:1@2000000', '1:1@3000000', '0:2@3500000', '1:2@4500000']);
    expect(run()).toEqual(a);
  });

  it('a wake-up of an idle CPU is an engine event at the waker\'s time', () => {
    const { k, sim, thread } = machine('lecture'); // two CPUs
    const cpu1 = k.cpus[1]!;
    let ranAt = -1;
    let wokeAt = -1;
    const other = thread(function* (td) {
      ranAt = sim.now;
      yield spend(k, td, 1_000_000);
    });
    other.cpu = cpu1;
    const waker = thread(function* (td) {
      yield spend(k, td, 3_000_000);
      td.cpu.charge(k.book.id('call'), 10); // the wake-up happens part way into the next piece of work
      wokeAt = td.cpu.t;
      k.setrunnable(other, wokeAt);
      yield td.cpu.flush();
    });
    k.setrunnable(waker);
    k.startCpus(sim);
    sim.run();
    expect(wokeAt).toBeGreaterThan(3_000_000);
    expect(ranAt).toBe(Math.round(wokeAt));
    expect(cpu1.idlePs).toBe(ranAt);
  });

  it('a callout on a busy CPU runs inside the work that crosses its time, at that exact time', () => {
    const { k, sim, thread } = machine();
    const at = 1_234_567.25; // not a whole ps: the cursor is exact, the engine is not involved
    let firedAt = -1;
    let mode = -1;
    const td = thread(function* (td) {
      td.cpu.callout(at, (cpu) => {
        firedAt = cpu.t;
        mode = cpu.mode;
      });
      yield spend(k, td, 5_000_000);
    });
    k.setrunnable(td);
    k.startCpus(sim);
    sim.run();
    expect(firedAt).toBe(at);
    expect(mode).toBe(2); // Mode.Interrupt
    expect(() => td.cpu.callout(0, () => undefined)).toThrow(/a callout must be set for a time not before/);
  });
});
