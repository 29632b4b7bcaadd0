import { describe, expect, it } from 'vitest';
import {
  Channel,
  MAX_SIM_TIME,
  Resource,
  Simulation,
  SimTimeOverflowError,
  exponential,
  type SimTime,
  type Yieldable,
} from '../src/events/index.js';

describe('event ordering', () => {
  it('runs callbacks in time order and advances the clock', () => {
    const sim = new Simulation({ seed: 's' });
    const log: string[] = [];
    sim.schedule(30, () => log.push(`c@${sim.now}`));
    sim.schedule(10, () => log.push(`a@${sim.now}`));
    sim.schedule(20, () => log.push(`b@${sim.now}`));
    expect(sim.pendingCount).toBe(3);
    sim.run();
    expect(log).toEqual(['a@10', 'b@20', 'c@30']);
    expect(sim.now).toBe(30);
    expect(sim.eventCount).toBe(3);
    expect(sim.pendingCount).toBe(0);
  });

  it('runs equal-time events in the order they were scheduled', () => {
    const sim = new Simulation({ seed: 's' });
    const log: number[] = [];
    for (let i = 0; i < 100; i++) sim.schedule(5, () => log.push(i));
    sim.run();
    expect(log).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('runs a zero-delay event scheduled by an event after the events already due now', () => {
    const sim = new Simulation({ seed: 's' });
    const log: string[] = [];
    sim.schedule(10, () => {
      log.push('first');
      sim.schedule(0, () => log.push('spawned'));
    });
    sim.schedule(10, () => log.push('second'));
    sim.schedule(10, () => log.push('third'));
    sim.run();
    expect(log).toEqual(['first', 'second', 'third', 'spawned']);
  });

  it('keeps order when events schedule several others (slot reuse and queue growth)', () => {
    const sim = new Simulation({ seed: 's' });
    const seen: SimTime[] = [];
    let created = 0;
    const fan = (): void => {
      seen.push(sim.now);
      if (created < 5000) {
        for (const d of [3, 0, 7, 3]) {
          created++;
          sim.schedule(d, fan);
        }
      }
    };
    sim.schedule(0, fan);
    sim.run();
    expect(seen.length).toBe(created + 1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
  });

  it('can be run again after more events are scheduled', () => {
    const sim = new Simulation({ seed: 's' });
    sim.schedule(5, () => undefined);
    sim.run();
    sim.schedule(5, () => undefined);
    sim.run();
    expect(sim.now).toBe(10);
    expect(sim.eventCount).toBe(2);
  });

  it('runUntil runs events up to a time and sets the clock to it', () => {
    const sim = new Simulation({ seed: 's' });
    const log: SimTime[] = [];
    for (const t of [5, 10, 15]) sim.schedule(t, () => log.push(sim.now));
    sim.runUntil(10);
    expect(log).toEqual([5, 10]);
    expect(sim.now).toBe(10);
    sim.runUntil(12);
    expect(sim.now).toBe(12);
    sim.run();
    expect(log).toEqual([5, 10, 15]);
    expect(() => sim.runUntil(3)).toThrow(RangeError);
  });
});

describe('schedule errors', () => {
  it('rejects bad delays and callbacks', () => {
    const sim = new Simulation({ seed: 's' });
    expect(() => sim.schedule(-1, () => undefined)).toThrow(RangeError);
    expect(() => sim.schedule(1.5, () => undefined)).toThrow(RangeError);
    expect(() => sim.schedule(NaN, () => undefined)).toThrow(RangeError);
    expect(() => sim.schedule(1, 'x' as unknown as () => void)).toThrow(TypeError);
    expect(sim.pendingCount).toBe(0);
  });

  it('treats time overflow as an error', () => {
    const sim = new Simulation({ seed: 's' });
    sim.schedule(MAX_SIM_TIME, () => {
      expect(sim.now).toBe(MAX_SIM_TIME);
      expect(() => sim.schedule(1, () => undefined)).toThrow(SimTimeOverflowError);
      sim.schedule(0, () => undefined); // still fine
    });
    sim.run();
    expect(sim.eventCount).toBe(2);
    const other = new Simulation({ seed: 's' });
    other.schedule(10, () => other.schedule(MAX_SIM_TIME - 9, () => undefined));
    expect(() => other.run()).toThrow(SimTimeOverflowError);
  });

  it('refuses to run re-entrantly', () => {
    const sim = new Simulation({ seed: 's' });
    sim.schedule(1, () => sim.run());
    expect(() => sim.run()).toThrow(/already running/);
  });

  it('lets a callback exception out of run() and stays usable', () => {
    const sim = new Simulation({ seed: 's' });
    sim.schedule(1, () => {
      throw new Error('boom');
    });
    sim.schedule(2, () => undefined);
    expect(() => sim.run()).toThrow('boom');
    expect(sim.pendingCount).toBe(1);
    sim.run();
    expect(sim.now).toBe(2);
  });

  it('validates its options', () => {
    expect(() => new Simulation({ seed: 1 as unknown as string })).toThrow(TypeError);
    expect(() => new Simulation({ seed: 's', maxTime: -1 })).toThrow(RangeError);
    expect(() => new Simulation({ seed: 's', maxTime: 0.5 })).toThrow(RangeError);
    expect(() => new Simulation({ seed: 's', maxEvents: -1 })).toThrow(RangeError);
    expect(() => new Simulation({ seed: 's', maxEvents: Infinity })).not.toThrow();
  });
});

/** A small model with processes, a CPU resource, a channel and random delays; returns its trace. */
function traceOf(seed: string): string {
  const lines: string[] = [];
  const sim = new Simulation({ seed, onEvent: (t, seq) => lines.push(`${t} ${seq}`) });
  const cpu = new Resource(sim, 2, 'cpu');
  const jobs = new Channel<number>(sim);
  const rng = sim.rng('work');
  function* producer(): Generator<Yieldable, void, unknown> {
    for (let i = 0; i < 50; i++) {
      yield Math.round(exponential(rng, 1000));
      jobs.put(i);
    }
  }
  function* worker(id: number): Generator<Yieldable, void, any> {
    for (;;) {
      const job: number = yield jobs.get();
      yield cpu.request();
      yield Math.round(exponential(rng, 1500));
      cpu.release();
      lines.push(`worker ${id} did ${job} at ${sim.now}`);
      if (job >= 47) return;
    }
  }
  sim.process(producer(), 'producer');
  for (let w = 0; w < 3; w++) sim.process(worker(w), `worker-${w}`);
  sim.run();
  return lines.join('\n');
}

describe('determinism', () => {
  it('gives byte-identical traces for the same seed', () => {
    const a = traceOf('seed-1');
    expect(a.length).toBeGreaterThan(100);
    expect(traceOf('seed-1')).toBe(a);
  });

  it('gives different traces for different seeds', () => {
    expect(traceOf('seed-2')).not.toBe(traceOf('seed-1'));
  });
});
