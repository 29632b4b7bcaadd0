// The two checks fast-forward's soundness rests on: a snapshot of the model's
// state sees every change to it (and only to it: declared outputs are collected,
// not compared), and a cache set's journal calls two states equivalent exactly
// when every later access to the set goes the same way.

import { describe, expect, it } from 'vitest';
import { AccessKind, CacheHierarchy } from '../src/kernel/machine/cache.js';
import { CountedMap, CountedSet } from '../src/kernel/steady/counted.js';
import { STEADY, type SteadyDecl } from '../src/kernel/steady/declare.js';
import { Snapshotter, sameState, setOutput, type Snapshot } from '../src/kernel/steady/snapshot.js';

class Counter {
  static readonly [STEADY]: SteadyDecl = { outputs: ['hits', 'byName'], skip: ['scratch'] };
  hits = 0;
  byName = new Map<string, number>();
  scratch = [1, 2, 3];
  flag = 0;
}

function model() {
  const shared = { offset: 0.5 };
  return {
    counter: new Counter(),
    files: [shared, shared],
    pages: new CountedMap<number, number>([[1, 10]]),
    touched: new CountedSet<number>(),
    names: new Map<string, { size: number }>([['a', { size: 1 }]]),
    bytes: new Float64Array([1, Number.NaN]),
  };
}

/** Take a snapshot, apply `change`, take another: whether the two states compare equal. */
function unchangedBy(change: (m: ReturnType<typeof model>) => void): boolean {
  const m = model();
  const s = new Snapshotter(m);
  const a = s.take() as Snapshot;
  change(m);
  const b = s.take() as Snapshot;
  return sameState(a, b);
}

describe('the state snapshot', () => {
  it('is the same when nothing changed (NaN included), and when only declared outputs or skipped fields did', () => {
    expect(unchangedBy(() => {})).toBe(true);
    expect(
      unchangedBy((m) => {
        m.counter.hits += 5;
        m.counter.scratch.push(4);
      }),
    ).toBe(true);
  });

  it('sees a change anywhere in the state', () => {
    expect(unchangedBy((m) => (m.counter.flag = 1))).toBe(false);
    expect(unchangedBy((m) => (m.files[0]!.offset += 1))).toBe(false);
    expect(unchangedBy((m) => (m.files[1] = { offset: 0.5 }))).toBe(false); // no longer shared
    expect(unchangedBy((m) => m.names.get('a')!.size++)).toBe(false);
    expect(unchangedBy((m) => m.names.set('b', { size: 0 }))).toBe(false);
    expect(unchangedBy((m) => (m.bytes[0] = 2))).toBe(false);
    expect(unchangedBy((m) => m.pages.set(1, 10))).toBe(false); // a counted collection: any set() counts
    expect(unchangedBy((m) => m.touched.add(3))).toBe(false);
  });

  it('sees a change of an output container\'s structure (a new key), not of its numbers', () => {
    expect(unchangedBy((m) => m.counter.byName.set('x', 1))).toBe(false);
    const m = model();
    m.counter.byName.set('x', 1);
    const s = new Snapshotter(m);
    const a = s.take() as Snapshot;
    m.counter.byName.set('x', 3);
    const b = s.take() as Snapshot;
    expect(sameState(a, b)).toBe(true);
  });

  it('collects each output with where it lives, so it can be set', () => {
    const m = model();
    m.counter.byName.set('x', 2);
    m.counter.hits = 7;
    const s = new Snapshotter(m).take() as Snapshot;
    const values = s.outputs.slice(0, s.outputCount);
    expect(values).toEqual([7, 2]);
    setOutput(s, 0, 9);
    setOutput(s, 1, 4);
    expect([m.counter.hits, m.counter.byName.get('x')]).toEqual([9, 4]);
  });

  it('refuses what it cannot enumerate', () => {
    expect(new Snapshotter({ held: new WeakMap() }).take()).toMatch(/WeakMap/);
  });
});

describe("a cache set's journal", () => {
  // One level, one set of 2 ways, one CPU: lines 0, 1, 2 all map to the set.
  const cache = () => new CacheHierarchy({ cpus: 1, levels: [{ name: 'L1', sizeBytes: 128, ways: 2, lineBytes: 64, shared: false }] });

  it('calls a set equivalent after a round of accesses that leaves the same lines in the same LRU order, in whichever ways', () => {
    const c = cache();
    for (const line of [0, 1, 2]) c.access(0, line * 64, AccessKind.Read); // ways: 2 in way 0, 1 in way 1; LRU 1 then 2
    c.startJournal();
    // 0 evicts 1 (into way 1), 1 evicts 2 (into way 0), 2 evicts 0 (into way 1): LRU 1 then 2 again, ways swapped.
    for (const line of [0, 1, 2]) c.access(0, line * 64, AccessKind.Read);
    expect(c.stopJournal()).toBe(true);
  });

  it('calls it changed when a line, its dirty bit or the LRU order differs', () => {
    const c = cache();
    for (const line of [0, 1]) c.access(0, line * 64, AccessKind.Read);
    c.startJournal();
    c.access(0, 0, AccessKind.Read); // LRU order 1, 0 (was 0, 1)
    expect(c.stopJournal()).toBe(false);
    c.startJournal();
    c.access(0, 0, AccessKind.Write); // same order as before this journal, now dirty
    expect(c.stopJournal()).toBe(false);
    c.startJournal();
    c.access(0, 2 * 64, AccessKind.Read); // another line
    expect(c.stopJournal()).toBe(false);
    c.startJournal();
    expect(c.stopJournal()).toBe(true); // no access, no change
  });
});
