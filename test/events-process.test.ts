import { describe, expect, it } from 'vitest';
import {
  MAX_SIM_TIME,
  ProcessError,
  Simulation,
  SimTimeOverflowError,
  Waitable,
  type Process,
  type Yieldable,
} from '../src/events/index.js';

type Body<T = void> = Generator<Yieldable, T, any>;

describe('processes', () => {
  it('start at the current time through the queue, not synchronously', () => {
    const sim = new Simulation({ seed: 's' });
    const log: string[] = [];
    function* body(): Body {
      log.push(`started@${sim.now}`);
    }
    sim.schedule(0, () => log.push('callback scheduled first'));
    const p = sim.process(body(), 'p');
    expect(log).toEqual([]);
    expect(p.done).toBe(false);
    sim.run();
    expect(log).toEqual(['callback scheduled first', 'started@0']);
    expect(p.done).toBe(true);
  });

  it('yield a delay to resume that many ps later', () => {
    const sim = new Simulation({ seed: 's' });
    const times: number[] = [];
    function* body(): Body {
      times.push(sim.now);
      yield 10;
      times.push(sim.now);
      yield 0;
      times.push(sim.now);
      yield 25;
      times.push(sim.now);
    }
    sim.process(body());
    sim.run();
    expect(times).toEqual([0, 10, 10, 35]);
  });

  it('return a value, available as .value once done', () => {
    const sim = new Simulation({ seed: 's' });
    function* body(): Body<number> {
      yield 5;
      return 42;
    }
    const p = sim.process(body(), 'answer');
    expect(p.name).toBe('answer');
    expect(p.value).toBeUndefined();
    sim.run();
    expect(p.done).toBe(true);
    expect(p.value).toBe(42);
  });

  it('get default names', () => {
    const sim = new Simulation({ seed: 's' });
    function* body(): Body {}
    expect(sim.process(body()).name).not.toBe(sim.process(body()).name);
  });

  it('can spawn children and wait for them, receiving their return values', () => {
    const sim = new Simulation({ seed: 's' });
    const log: string[] = [];
    function* child(delay: number, result: string): Body<string> {
      yield delay;
      log.push(`${result} done@${sim.now}`);
      return result;
    }
    function* parent(): Body<string[]> {
      const a = sim.process(child(30, 'a'));
      const b = sim.process(child(10, 'b'));
      const ra: string = yield a; // b finishes first, while parent waits for a
      log.push(`parent got ${ra}@${sim.now}`);
      const rb: string = yield b; // already done: resumes at once
      log.push(`parent got ${rb}@${sim.now}`);
      return [ra, rb];
    }
    const p = sim.process(parent());
    sim.run();
    expect(log).toEqual(['b done@10', 'a done@30', 'parent got a@30', 'parent got b@30']);
    expect(p.value).toEqual(['a', 'b']);
  });

  it('wake every process waiting for the same process, in the order they waited', () => {
    const sim = new Simulation({ seed: 's' });
    const log: string[] = [];
    function* worker(): Body<number> {
      yield 7;
      return 9;
    }
    const w = sim.process(worker());
    function* waiter(id: number): Body {
      const v: number = yield w;
      log.push(`${id} got ${v}@${sim.now}`);
    }
    for (const id of [1, 2, 3]) sim.process(waiter(id));
    sim.run();
    expect(log).toEqual(['1 got 9@7', '2 got 9@7', '3 got 9@7']);
  });

  it('wait on a Waitable and receive the value it is triggered with', () => {
    const sim = new Simulation({ seed: 's' });
    const ready = new Waitable<string>(sim);
    const log: string[] = [];
    function* waiter(id: number): Body {
      const v: string = yield ready;
      log.push(`${id}:${v}@${sim.now}`);
    }
    sim.process(waiter(1));
    sim.process(waiter(2));
    sim.schedule(15, () => ready.trigger('go'));
    sim.schedule(20, () => sim.process(waiter(3))); // already triggered: resumes at once
    sim.run();
    expect(log).toEqual(['1:go@15', '2:go@15', '3:go@20']);
    expect(ready.triggered).toBe(true);
    expect(ready.value).toBe('go');
    expect(() => ready.trigger('again')).toThrow(/already triggered/);
  });

  it('are woken through the queue, after events already due at that time', () => {
    const sim = new Simulation({ seed: 's' });
    const ready = new Waitable<void>(sim);
    const log: string[] = [];
    function* waiter(): Body {
      yield ready;
      log.push('woken');
    }
    sim.process(waiter());
    sim.schedule(5, () => {
      ready.trigger();
      log.push('triggered');
    });
    sim.schedule(5, () => log.push('other event at 5'));
    sim.run();
    expect(log).toEqual(['triggered', 'other event at 5', 'woken']);
  });

  it('interleave with callbacks in scheduling order at equal times', () => {
    const sim = new Simulation({ seed: 's' });
    const log: string[] = [];
    function* p(id: string): Body {
      yield 10;
      log.push(id);
    }
    sim.process(p('p1'));
    sim.schedule(10, () => log.push('cb1')); // scheduled before p1 has yielded its delay
    sim.process(p('p2'));
    sim.run();
    expect(log).toEqual(['cb1', 'p1', 'p2']);
  });
});

describe('process errors', () => {
  it('propagate out of run() with the process name', () => {
    const sim = new Simulation({ seed: 's' });
    function* body(): Body {
      yield 3;
      throw new Error('disk on fire');
    }
    sim.process(body(), 'disk-daemon');
    let caught: unknown;
    try {
      sim.run();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ProcessError);
    const err = caught as ProcessError;
    expect(err.message).toContain('disk-daemon');
    expect(err.message).toContain('disk on fire');
    expect(err.process).toBe('disk-daemon');
    expect(err.time).toBe(3);
    expect((err.cause as Error).message).toBe('disk on fire');
  });

  it('throw a TypeError into the body for a bad yield, which the body may catch', () => {
    const sim = new Simulation({ seed: 's' });
    const caught: string[] = [];
    function* body(): Body {
      for (const bad of [-1, 0.5, NaN, 'soon', null, {}] as unknown[]) {
        try {
          yield bad as Yieldable;
        } catch (e) {
          caught.push((e as Error).name);
        }
      }
      yield 1;
    }
    sim.process(body(), 'careless');
    sim.run();
    expect(caught).toEqual(Array(6).fill('TypeError'));
    expect(sim.now).toBe(1);
  });

  it('report an uncaught bad yield as a ProcessError', () => {
    const sim = new Simulation({ seed: 's' });
    function* body(): Body {
      yield -5;
    }
    sim.process(body(), 'negative');
    expect(() => sim.run()).toThrow(/negative.*non-negative integer/);
  });

  it('do not let a process wait for itself', () => {
    const sim = new Simulation({ seed: 's' });
    const box: { self?: Process<void> } = {};
    function* body(): Body {
      yield box.self!;
    }
    box.self = sim.process(body(), 'narcissus');
    expect(() => sim.run()).toThrow(/narcissus.*itself/);
  });

  it('treat a delay past the end of time as a SimTimeOverflowError', () => {
    const sim = new Simulation({ seed: 's' });
    let caught: unknown;
    function* body(): Body {
      yield 10;
      try {
        yield MAX_SIM_TIME;
      } catch (e) {
        caught = e;
      }
    }
    sim.process(body());
    sim.run();
    expect(caught).toBeInstanceOf(SimTimeOverflowError);
  });

  it('throw into processes waiting for a process that failed', () => {
    const sim = new Simulation({ seed: 's' });
    function* failing(): Body {
      yield 2;
      throw new Error('child broke');
    }
    let seen: unknown;
    function* parent(): Body {
      try {
        yield child;
      } catch (e) {
        seen = e;
      }
    }
    const child = sim.process(failing(), 'child');
    sim.process(parent(), 'parent');
    expect(() => sim.run()).toThrow(ProcessError);
    sim.run(); // the parent's wake-up is still queued
    expect((seen as Error).message).toMatch(/waited for process "child", which failed/);
  });

  it('reject things that are not generators', () => {
    const sim = new Simulation({ seed: 's' });
    function* body(): Body {}
    expect(() => sim.process(body as unknown as Body)).toThrow(/generator object/);
  });
});
