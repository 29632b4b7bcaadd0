// The hold model (Vaucher and Duval, 1975): the event queue is pre-filled with N
// events; each step pops the earliest and schedules one at now + an exponential
// increment (mean 1, here 1_000_000 ps, rounded to whole ps). Compared on
//   (a) a bare fastpriorityqueue loop over plain {time, seq} objects,
//   (b) the engine with callback events (Simulation.schedule),
//   (c) the engine with N generator processes, each looping `yield delay`,
// in the same run, with REPEATS repeats interleaved (a, b, c, a, b, c, ...) and
// medians reported. Goal at N = 1024: b/a >= 1.0 and c/a >= 0.3.
import FastPriorityQueue from 'fastpriorityqueue';
import { Simulation, SimulationBoundError, deriveRng, exponential, type Rng } from '../src/events/index.js';

const MEAN_PS = 1_000_000;
const SIZES = [16, 1024, 65536];
const OPS = Number(process.env['HOLD_OPS'] ?? 2_000_000);
const REPEATS = Number(process.env['HOLD_REPEATS'] ?? 5);

function increment(rng: Rng): number {
  return Math.round(exponential(rng, MEAN_PS));
}

interface Ev {
  time: number;
  seq: number;
}

/** (a): returns events per second. */
function bare(n: number, ops: number, seed: string): number {
  const rng = deriveRng(seed, 'hold');
  const q = new FastPriorityQueue<Ev>((x, y) => x.time < y.time || (x.time === y.time && x.seq < y.seq));
  let seq = 0;
  for (let i = 0; i < n; i++) q.add({ time: increment(rng), seq: seq++ });
  let now = 0;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const e = q.poll()!;
    now = e.time;
    q.add({ time: now + increment(rng), seq: seq++ });
  }
  const s = (performance.now() - t0) / 1000;
  if (q.size !== n || now <= 0) throw new Error('bare hold loop went wrong');
  return ops / s;
}

/** Runs until the event bound stops it after exactly `ops` more events. */
function runBounded(sim: Simulation): void {
  try {
    sim.run();
  } catch (e) {
    if (!(e instanceof SimulationBoundError && e.bound === 'events')) throw e;
    return;
  }
  throw new Error('hold model ran dry');
}

/** (b): returns events per second. */
function callbacks(n: number, ops: number, seed: string): number {
  const sim = new Simulation({ seed, maxEvents: ops });
  const rng = sim.rng('hold');
  const hold = (): void => sim.schedule(increment(rng), hold);
  for (let i = 0; i < n; i++) sim.schedule(increment(rng), hold);
  const t0 = performance.now();
  runBounded(sim);
  const s = (performance.now() - t0) / 1000;
  if (sim.eventCount !== ops || sim.pendingCount !== n) throw new Error('callback hold model went wrong');
  return ops / s;
}

/** (c): returns events per second. */
function processes(n: number, ops: number, seed: string): number {
  const sim = new Simulation({ seed, maxEvents: n + ops });
  const rng = sim.rng('hold');
  function* holder(): Generator<number, void, unknown> {
    for (;;) yield increment(rng);
  }
  for (let i = 0; i < n; i++) sim.process(holder());
  sim.runUntil(0); // start them: each schedules its first hold, filling the queue
  const t0 = performance.now();
  runBounded(sim);
  const s = (performance.now() - t0) / 1000;
  if (sim.eventCount !== n + ops || sim.pendingCount !== n) throw new Error('process hold model went wrong');
  return ops / s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(evPerS: number): string {
  return `${(evPerS / 1e6).toFixed(2)} M/s`.padStart(11);
}

export default async function (): Promise<void> {
  console.log(`hold model, mean increment ${MEAN_PS} ps, ${OPS} operations per run, median of ${REPEATS} repeats`);
  // Warm-up: let the JIT see every variant at every size once.
  for (const n of SIZES) {
    bare(n, 200_000, 'warm');
    callbacks(n, 200_000, 'warm');
    processes(n, 200_000, 'warm');
  }
  console.log('       N   (a) bare fpq   (b) callbacks  (c) processes   b/a    c/a');
  for (const n of SIZES) {
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const seed = `hold-${n}-${r}`;
      a.push(bare(n, OPS, seed));
      b.push(callbacks(n, OPS, seed));
      c.push(processes(n, OPS, seed));
    }
    const ma = median(a);
    const mb = median(b);
    const mc = median(c);
    console.log(
      `${String(n).padStart(8)}  ${fmt(ma)}    ${fmt(mb)}    ${fmt(mc)}   ${(mb / ma).toFixed(2).padStart(5)}  ${(mc / ma)
        .toFixed(2)
        .padStart(5)}`,
    );
  }
}
