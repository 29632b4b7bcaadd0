import { describe, expect, it } from 'vitest';
import { Channel, Resource, Signal, Simulation, type Yieldable } from '../src/events/index.js';

type Body<T = void> = Generator<Yieldable, T, any>;

describe('Signal', () => {
  it('notify wakes the oldest waiter with the value and says whether there was one', () => {
    const sim = new Simulation({ seed: 's' });
    const sig = new Signal<string>(sim);
    const log: string[] = [];
    function* waiter(id: number): Body {
      const v: string = yield sig.wait();
      log.push(`${id}:${v}@${sim.now}`);
    }
    for (const id of [1, 2, 3]) sim.process(waiter(id));
    const results: boolean[] = [];
    sim.schedule(10, () => results.push(sig.notify('x')));
    sim.schedule(20, () => results.push(sig.notify('y')));
    sim.run();
    expect(log).toEqual(['1:x@10', '2:y@20']);
    expect(sig.waiting).toBe(1);
    expect(results).toEqual([true, true]);
  });

  it('notifyAll wakes every current waiter, oldest first, and counts them', () => {
    const sim = new Simulation({ seed: 's' });
    const sig = new Signal<number>(sim);
    const log: string[] = [];
    function* waiter(id: number): Body {
      const v: number = yield sig.wait();
      log.push(`${id}:${v}`);
      yield sig.wait(); // waits again: not woken by the same notifyAll
      log.push(`${id} again`);
    }
    for (const id of [1, 2, 3]) sim.process(waiter(id));
    let count = -1;
    sim.schedule(5, () => (count = sig.notifyAll(7)));
    sim.run();
    expect(count).toBe(3);
    expect(log).toEqual(['1:7', '2:7', '3:7']);
    expect(sig.waiting).toBe(3);
  });

  it('forgets a notification with no waiter', () => {
    const sim = new Simulation({ seed: 's' });
    const sig = new Signal(sim);
    expect(sig.notify()).toBe(false);
    expect(sig.notifyAll()).toBe(0);
    let woken = false;
    function* waiter(): Body {
      yield sig.wait();
      woken = true;
    }
    sim.process(waiter());
    sim.run();
    expect(woken).toBe(false);
  });
});

describe('Channel', () => {
  it('delivers items in FIFO order and buffers without bound', () => {
    const sim = new Simulation({ seed: 's' });
    const ch = new Channel<number>(sim);
    for (let i = 0; i < 2000; i++) ch.put(i);
    expect(ch.length).toBe(2000);
    const got: number[] = [];
    function* consumer(): Body {
      for (let i = 0; i < 2000; i++) got.push(yield ch.get());
    }
    sim.process(consumer());
    sim.run();
    expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(ch.length).toBe(0);
    expect(sim.now).toBe(0);
  });

  it('serves waiting getters in the order they called get()', () => {
    const sim = new Simulation({ seed: 's' });
    const ch = new Channel<string>(sim);
    const log: string[] = [];
    function* getter(id: number, delay: number): Body {
      yield delay;
      const item: string = yield ch.get();
      log.push(`${id} got ${item}@${sim.now}`);
    }
    sim.process(getter(1, 3));
    sim.process(getter(2, 1));
    sim.process(getter(3, 2));
    sim.schedule(10, () => {
      ch.put('a');
      ch.put('b');
    });
    sim.schedule(20, () => ch.put('c'));
    sim.run();
    expect(log).toEqual(['2 got a@10', '3 got b@10', '1 got c@20']);
    expect(ch.waiting).toBe(0);
  });

  it('get() is already triggered when an item is buffered', () => {
    const sim = new Simulation({ seed: 's' });
    const ch = new Channel<number>(sim);
    ch.put(5);
    const w = ch.get();
    expect(w.triggered).toBe(true);
    expect(w.value).toBe(5);
    expect(ch.get().triggered).toBe(false);
    expect(ch.waiting).toBe(1);
  });
});

describe('Resource', () => {
  it('grants up to capacity at once and queues the rest FIFO', () => {
    const sim = new Simulation({ seed: 's' });
    const cpu = new Resource(sim, 2, 'cpu');
    const log: string[] = [];
    function* job(id: number, work: number): Body {
      yield cpu.request();
      log.push(`${id} start@${sim.now}`);
      yield work;
      cpu.release();
      log.push(`${id} end@${sim.now}`);
    }
    sim.process(job(1, 10));
    sim.process(job(2, 30));
    sim.process(job(3, 5));
    sim.process(job(4, 5));
    sim.schedule(1, () => {
      expect(cpu.inUse).toBe(2);
      expect(cpu.queueLength).toBe(2);
    });
    sim.run();
    expect(log).toEqual([
      '1 start@0',
      '2 start@0',
      '1 end@10',
      '3 start@10',
      '3 end@15',
      '4 start@15',
      '4 end@20',
      '2 end@30',
    ]);
    expect(cpu.inUse).toBe(0);
    expect(cpu.queueLength).toBe(0);
  });

  it('never holds more than capacity units, and hands units over without barging', () => {
    const sim = new Simulation({ seed: 's' });
    const res = new Resource(sim, 3);
    const rng = sim.rng('jobs');
    let holding = 0;
    let maxHolding = 0;
    const order: number[] = [];
    const grants: number[] = [];
    function* job(id: number): Body {
      yield Math.floor(rng() * 50);
      order.push(id);
      yield res.request();
      grants.push(id);
      holding++;
      maxHolding = Math.max(maxHolding, holding);
      expect(res.inUse).toBeLessThanOrEqual(3);
      yield 1 + Math.floor(rng() * 20);
      holding--;
      res.release();
    }
    for (let i = 0; i < 200; i++) sim.process(job(i));
    sim.run();
    expect(maxHolding).toBe(3);
    expect(grants).toEqual(order); // granted in request order
  });

  it('a request made while others wait queues behind them even if a unit frees at once', () => {
    const sim = new Simulation({ seed: 's' });
    const lock = new Resource(sim, 1, 'lock');
    const log: string[] = [];
    function* holder(): Body {
      yield lock.request();
      yield 10;
      lock.release();
      yield lock.request(); // queued behind the waiter: it was first
      log.push(`holder again@${sim.now}`);
      lock.release();
    }
    function* waiter(): Body {
      yield 1;
      yield lock.request();
      log.push(`waiter@${sim.now}`);
      yield 5;
      lock.release();
    }
    sim.process(holder());
    sim.process(waiter());
    sim.run();
    expect(log).toEqual(['waiter@10', 'holder again@15']);
  });

  it('throws on release without a hold and on a bad capacity', () => {
    const sim = new Simulation({ seed: 's' });
    const r = new Resource(sim, 1, 'cpu0');
    expect(() => r.release()).toThrow(/cpu0.*release/);
    r.request();
    r.release();
    expect(() => r.release()).toThrow(Error);
    expect(() => new Resource(sim, 0)).toThrow(RangeError);
    expect(() => new Resource(sim, 1.5)).toThrow(RangeError);
  });
});
