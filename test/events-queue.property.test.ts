// Property tests of the queue discipline: whatever is scheduled, events run in
// (time, scheduling order), checked against a plain sort-based reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Channel, Resource, Simulation, type SimTime, type Yieldable } from '../src/events/index.js';

interface Plan {
  /** Delays of the events scheduled before the run. */
  initial: number[];
  /** children[id]: delays of the events that event `id` schedules when it runs. */
  children: number[][];
}

interface Executed {
  id: number;
  time: SimTime;
}

/** The reference: a list re-sorted by (time, scheduling order) before every pop. */
function reference(plan: Plan): Executed[] {
  let pending: Array<{ time: SimTime; order: number; id: number }> = [];
  let order = 0;
  let nextId = 0;
  const add = (time: SimTime): void => {
    pending.push({ time, order: order++, id: nextId++ });
  };
  for (const d of plan.initial) add(d);
  const out: Executed[] = [];
  while (pending.length > 0) {
    pending = [...pending].sort((x, y) => x.time - y.time || x.order - y.order);
    const e = pending.shift()!;
    out.push({ id: e.id, time: e.time });
    for (const d of plan.children[e.id] ?? []) add(e.time + d);
  }
  return out;
}

function engine(plan: Plan): { executed: Executed[]; trace: Array<[SimTime, number]> } {
  const trace: Array<[SimTime, number]> = [];
  const sim = new Simulation({ seed: 'p', onEvent: (t, seq) => trace.push([t, seq]) });
  const executed: Executed[] = [];
  let nextId = 0;
  const add = (delay: number): void => {
    const id = nextId++;
    sim.schedule(delay, () => {
      executed.push({ id, time: sim.now });
      for (const d of plan.children[id] ?? []) add(d);
    });
  };
  for (const d of plan.initial) add(d);
  sim.run();
  return { executed, trace };
}

// Small delays, so that many events tie.
const delay = fc.integer({ min: 0, max: 6 });
const planArb: fc.Arbitrary<Plan> = fc.record({
  initial: fc.array(delay, { minLength: 1, maxLength: 40 }),
  children: fc.array(fc.array(delay, { maxLength: 4 }), { maxLength: 120 }),
});

describe('queue discipline (property)', () => {
  it('callbacks run in the same order as the sort-based reference', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        expect(engine(plan).executed).toEqual(reference(plan));
      }),
      { numRuns: 300 },
    );
  });

  it('execution times never decrease and equal times run in scheduling order', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const { executed, trace } = engine(plan);
        expect(trace.length).toBe(executed.length);
        for (let i = 1; i < trace.length; i++) {
          const [t0, s0] = trace[i - 1]!;
          const [t1, s1] = trace[i]!;
          expect(t1).toBeGreaterThanOrEqual(t0);
          if (t1 === t0) {
            expect(s1).toBeGreaterThan(s0);
            expect(executed[i]!.id).toBeGreaterThan(executed[i - 1]!.id); // ids are handed out in scheduling order
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('process wake-ups follow the same discipline as callbacks', () => {
    // Each process p runs a script of delays; every step is one event.
    const scripts = fc.array(fc.array(delay, { maxLength: 8 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(scripts, (plans) => {
        const sim = new Simulation({ seed: 'p' });
        const got: string[] = [];
        function* proc(p: number, script: number[]): Generator<Yieldable, number, unknown> {
          got.push(`${p}.0@${sim.now}`);
          for (let i = 0; i < script.length; i++) {
            yield script[i]!;
            got.push(`${p}.${i + 1}@${sim.now}`);
          }
          return p;
        }
        const procs = plans.map((s, p) => sim.process(proc(p, s)));
        sim.run();
        expect(procs.map((p) => p.value)).toEqual(plans.map((_, p) => p));

        // Reference: each step is an event scheduled when the previous step ran.
        let pending: Array<{ time: number; order: number; p: number; step: number }> = [];
        let order = 0;
        plans.forEach((_, p) => pending.push({ time: 0, order: order++, p, step: 0 }));
        const want: string[] = [];
        while (pending.length > 0) {
          pending = [...pending].sort((x, y) => x.time - y.time || x.order - y.order);
          const e = pending.shift()!;
          want.push(`${e.p}.${e.step}@${e.time}`);
          const d = plans[e.p]![e.step];
          if (d !== undefined) pending.push({ time: e.time + d, order: order++, p: e.p, step: e.step + 1 });
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('a Resource behaves as a FIFO multi-server queue', () => {
    const jobs = fc.array(fc.record({ arrival: fc.integer({ min: 0, max: 30 }), service: fc.integer({ min: 0, max: 10 }) }), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(jobs, fc.integer({ min: 1, max: 4 }), (js, capacity) => {
        const sim = new Simulation({ seed: 'p' });
        const res = new Resource(sim, capacity);
        const start: number[] = [];
        function* job(i: number): Generator<Yieldable, void, unknown> {
          yield js[i]!.arrival;
          yield res.request();
          expect(res.inUse).toBeLessThanOrEqual(capacity);
          start[i] = sim.now;
          yield js[i]!.service;
          res.release();
        }
        js.forEach((_, i) => sim.process(job(i)));
        sim.run();
        expect(res.inUse).toBe(0);

        // Reference: in arrival order (ties by index), each job takes the unit that frees first.
        const byArrival = js.map((j, i) => ({ ...j, i })).sort((x, y) => x.arrival - y.arrival || x.i - y.i);
        const free = Array<number>(capacity).fill(0);
        const want: number[] = [];
        for (const j of byArrival) {
          let k = 0;
          for (let u = 1; u < capacity; u++) if (free[u]! < free[k]!) k = u;
          const s = Math.max(j.arrival, free[k]!);
          want[j.i] = s;
          free[k] = s + j.service;
        }
        expect(start).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('a Channel delivers every item once, in put order', () => {
    const ops = fc.array(fc.record({ at: fc.integer({ min: 0, max: 20 }), put: fc.boolean() }), { maxLength: 60 });
    fc.assert(
      fc.property(ops, (os) => {
        const sim = new Simulation({ seed: 'p' });
        const ch = new Channel<number>(sim);
        const received: number[] = [];
        let puts = 0;
        let putSoFar = 0; // items are numbered in the order they are put
        for (const o of os) {
          if (o.put) {
            puts++;
            sim.schedule(o.at, () => ch.put(putSoFar++));
          } else {
            sim.process(
              (function* (): Generator<Yieldable, void, any> {
                yield o.at;
                received.push(yield ch.get());
              })(),
            );
          }
        }
        sim.run();
        const gets = os.length - puts;
        expect(received).toEqual(Array.from({ length: Math.min(puts, gets) }, (_, i) => i));
        expect(ch.length).toBe(Math.max(0, puts - gets));
      }),
      { numRuns: 300 },
    );
  });
});
