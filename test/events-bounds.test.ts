import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_EVENTS, Simulation, SimulationBoundError, type Yieldable } from '../src/events/index.js';

type Body<T = void> = Generator<Yieldable, T, any>;

function catchBound(sim: Simulation): SimulationBoundError {
  try {
    sim.run();
  } catch (e) {
    if (e instanceof SimulationBoundError) return e;
    throw e;
  }
  throw new Error('run() ended without hitting a bound');
}

describe('bounds', () => {
  it('a time bound stops the run before the first later event', () => {
    const sim = new Simulation({ seed: 's', maxTime: 100 });
    const ran: number[] = [];
    for (const t of [50, 100, 101, 200]) sim.schedule(t, () => ran.push(t));
    const err = catchBound(sim);
    expect(ran).toEqual([50, 100]);
    expect(err.bound).toBe('time');
    expect(err.limit).toBe(100);
    expect(err.now).toBe(100);
    expect(err.events).toBe(2);
    expect(err.message).toMatch(/time bound/);
    expect(err.message).toMatch(/maxTime/);
    expect(err.message).toMatch(/101 ps/);
    expect(sim.now).toBe(100);
    expect(sim.pendingCount).toBe(2);
  });

  it('an event bound stops the run after exactly that many events', () => {
    const sim = new Simulation({ seed: 's', maxEvents: 5 });
    for (let t = 1; t <= 10; t++) sim.schedule(t, () => undefined);
    const err = catchBound(sim);
    expect(err.bound).toBe('events');
    expect(err.limit).toBe(5);
    expect(err.events).toBe(5);
    expect(err.now).toBe(5);
    expect(sim.eventCount).toBe(5);
    expect(err.message).toMatch(/event bound/);
    expect(err.message).toMatch(/maxEvents = 5/);
  });

  it('a run that ends exactly at a bound is not an error', () => {
    const sim = new Simulation({ seed: 's', maxEvents: 3, maxTime: 3 });
    for (let t = 1; t <= 3; t++) sim.schedule(t, () => undefined);
    expect(() => sim.run()).not.toThrow();
  });

  it('stops an infinite zero-delay process loop (the clock never moves)', () => {
    const sim = new Simulation({ seed: 's', maxEvents: 10_000 });
    function* spinner(): Body {
      for (;;) yield 0;
    }
    sim.process(spinner(), 'spinner');
    const err = catchBound(sim);
    expect(err.bound).toBe('events');
    expect(err.now).toBe(0);
    expect(err.message).toMatch(/loops without blocking/);
  });

  it('stops an infinite process loop at the time bound', () => {
    const sim = new Simulation({ seed: 's', maxTime: 1_000_000 });
    function* ticker(): Body {
      for (;;) yield 1000;
    }
    sim.process(ticker(), 'ticker');
    const err = catchBound(sim);
    expect(err.bound).toBe('time');
    expect(err.now).toBe(1_000_000);
    expect(sim.eventCount).toBe(1001);
  });

  it('has a default event bound so that no run hangs', () => {
    expect(DEFAULT_MAX_EVENTS).toBeGreaterThan(0);
    expect(Number.isFinite(DEFAULT_MAX_EVENTS)).toBe(true);
  });

  it('runUntil past maxTime is a time-bound error', () => {
    const sim = new Simulation({ seed: 's', maxTime: 100 });
    sim.schedule(50, () => undefined);
    expect(() => sim.runUntil(150)).toThrow(SimulationBoundError);
    expect(sim.now).toBe(50);
    expect(sim.eventCount).toBe(1);
  });
});
