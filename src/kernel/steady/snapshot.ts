// A snapshot of the model's state for fast-forward (./fast-forward.ts): everything
// reachable from a root object, walked field by field in a fixed order and written
// down as a flat list (primitives as they are, objects by identity, with markers
// for structure), so two snapshots are equal exactly when the two states are. The
// fields a class declares outputs (./declare.ts) are not state: their numbers are
// collected apart, with where each lives, so fast-forward can add to them.
//
// Speed: fast-forward takes two snapshots per check, a check after every clock
// tick, so the walk allocates little: the lists are reused from one snapshot to
// the next (a Snapshotter keeps two and alternates), and each class's declaration
// is turned once into a table of how to treat each of its fields.

import { CountedMap, CountedSet } from './counted.js';
import { STEADY, type SteadyDecl } from './declare.js';

/** The state of a model, and its outputs, at one moment (valid until its Snapshotter takes the snapshot after next). */
export interface Snapshot {
  /** The state, flat: compare with sameState(). */
  readonly state: unknown[];
  stateLength: number;
  /** Where each numeric output lives: container and key, two entries per output. */
  readonly outputAt: unknown[];
  /** Each numeric output's value. */
  readonly outputs: number[];
  outputCount: number;
  /** The outputs' structure: their containers, keys and non-numeric values. */
  readonly outputShape: unknown[];
  shapeLength: number;
}

// Markers between the values of `state`.
const OBJECT = Symbol('object');
const ARRAY = Symbol('array');
const MAP = Symbol('map');
const SET = Symbol('set');
const SEEN = Symbol('seen');
const SIZE = Symbol('size');
const COUNTED = Symbol('counted');

const enum Field {
  State = 0,
  Output = 1,
  Skip = 2,
  SizeOnly = 3,
}

/** Takes snapshots of what is reachable from one root, alternating between two sets of lists. */
export class Snapshotter {
  private readonly pair: [Snapshot, Snapshot] = [empty(), empty()];
  private next = 0;
  /**
   * The snapshot in which each object was last walked (its generation), kept from
   * one snapshot to the next so the walk allocates nothing for objects it has seen
   * before; generations wrap at 2^30 (the map is cleared then).
   */
  private readonly seen = new Map<object, number>();
  private generation = 0;
  /** Why the walk must stop (set by walkEntry, which forEach calls). */
  private why: string | undefined = undefined;
  private readonly plans = new Map<unknown, Map<string, Field>>();
  private s: Snapshot = this.pair[0];

  constructor(private readonly root: object) {}

  /**
   * Walk everything reachable from the root. Returns the snapshot, or a sentence
   * saying why the state cannot be compared (a WeakMap, WeakSet or WeakRef, whose
   * contents cannot be enumerated).
   */
  take(): Snapshot | string {
    const s = (this.s = this.next === 0 ? this.pair[0] : this.pair[1]);
    this.next ^= 1;
    s.stateLength = 0;
    s.outputCount = 0;
    s.shapeLength = 0;
    if (++this.generation >= 0x4000_0000) {
      this.seen.clear();
      this.generation = 1;
    }
    this.why = undefined;
    const why = this.walk(this.root);
    return why ?? s;
  }

  private push(v: unknown): void {
    this.s.state[this.s.stateLength++] = v;
  }

  private shape(v: unknown): void {
    this.s.outputShape[this.s.shapeLength++] = v;
  }

  /** Walk `x` into the state; a sentence if something in it cannot be compared. */
  private walk(x: unknown): string | undefined {
    if (x === null || typeof x !== 'object') {
      this.push(x); // primitives, and functions by identity
      return undefined;
    }
    if (this.seen.get(x) === this.generation) {
      this.push(SEEN);
      this.push(x);
      return undefined;
    }
    this.seen.set(x, this.generation);
    if (Array.isArray(x)) {
      this.push(ARRAY);
      this.push(x.length);
      for (let i = 0; i < x.length; i++) {
        const why = this.walk(x[i]);
        if (why) return why;
      }
      return undefined;
    }
    if (x instanceof CountedMap || x instanceof CountedSet) {
      // Its entries cannot change in place (./counted.ts): identity and change count say it all.
      this.push(COUNTED);
      this.push(x.changes);
      return undefined;
    }
    if (x instanceof Map) {
      this.push(MAP);
      this.push(x.size);
      x.forEach(this.walkEntry, this);
      return this.why;
    }
    if (x instanceof Set) {
      this.push(SET);
      this.push(x.size);
      x.forEach(this.walkEntry, this);
      return this.why;
    }
    if (ArrayBuffer.isView(x)) {
      const a = x as unknown as ArrayLike<number>;
      this.push(ARRAY);
      this.push(a.length);
      for (let i = 0; i < a.length; i++) this.push(a[i]);
      return undefined;
    }
    if (x instanceof WeakMap || x instanceof WeakSet || x instanceof WeakRef) return `a ${x.constructor.name} (its contents cannot be compared)`;
    const proto = Object.getPrototypeOf(x) as object | null;
    if (proto !== null && proto !== Object.prototype && Object.getPrototypeOf(proto) === GENERATOR_PROTO) {
      // A thread's code: where it is stopped is not visible. The check runs at the
      // thread's own loop boundary, and no other thread runs in the iterations it
      // compares (fast-forward checks that no other engine event ran).
      this.push(x);
      return undefined;
    }
    const ctor = x.constructor;
    const plan = proto === Object.prototype ? null : this.planOf(ctor);
    this.push(OBJECT);
    this.push(ctor);
    const rec = x as Record<string, unknown>;
    for (const key in rec) {
      const f = plan === null ? Field.State : (plan.get(key) ?? Field.State);
      if (f === Field.Skip) continue;
      if (f === Field.Output) {
        this.output(x, key, rec[key]);
        continue;
      }
      this.push(key);
      if (f === Field.SizeOnly) {
        this.push(SIZE);
        this.push((rec[key] as { length: number }).length);
        continue;
      }
      const why = this.walk(rec[key]);
      if (why) return why;
    }
    return undefined;
  }

  /** A Map's value and key, or a Set's value (twice), as forEach hands them over. */
  private walkEntry(v: unknown, k: unknown, c: Map<unknown, unknown> | Set<unknown>): void {
    if (this.why !== undefined) return;
    if (c instanceof Map) this.why = this.walk(k);
    this.why ??= this.walk(v);
  }

  /** How the class `ctor` declares its fields (null: no declaration, every field is state). */
  private planOf(ctor: unknown): Map<string, Field> | null {
    let plan = this.plans.get(ctor);
    if (plan === undefined) {
      const decl = (ctor as { [STEADY]?: SteadyDecl } | undefined)?.[STEADY];
      plan = new Map();
      for (const k of decl?.outputs ?? []) plan.set(k, Field.Output);
      for (const k of decl?.skip ?? []) plan.set(k, Field.Skip);
      for (const k of decl?.sizeOnly ?? []) plan.set(k, Field.SizeOnly);
      this.plans.set(ctor, plan);
    }
    return plan.size === 0 ? null : plan;
  }

  private outputEntry(v: unknown, k: unknown, map: Map<unknown, unknown>): void {
    this.output(map, k, v);
  }

  /** Collect the numbers of an output (a number, or a container of numbers) at `container[key]`. */
  private output(container: object, key: unknown, v: unknown): void {
    const s = this.s;
    if (typeof v === 'number') {
      s.outputAt[2 * s.outputCount] = container;
      s.outputAt[2 * s.outputCount + 1] = key;
      s.outputs[s.outputCount++] = v;
      return;
    }
    this.shape(container);
    this.shape(key);
    if (v === null || typeof v !== 'object') {
      this.shape(v);
      return;
    }
    if (this.seen.get(v) === -this.generation) return; // an alias: its numbers are collected once
    this.seen.set(v, -this.generation);
    if (v instanceof Map) {
      this.shape(MAP);
      this.shape(v.size);
      v.forEach(this.outputEntry, this);
    } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const a = v as unknown as ArrayLike<unknown>;
      this.shape(ARRAY);
      this.shape(a.length);
      for (let i = 0; i < a.length; i++) this.output(v, i, a[i]);
    } else {
      this.shape(OBJECT);
      const rec = v as Record<string, unknown>;
      for (const k in rec) this.output(v, k, rec[k]);
    }
  }
}

/** Whether two snapshots' states are the same (their outputs may differ). */
export function sameState(a: Snapshot, b: Snapshot): boolean {
  return (
    sameList(a.state, a.stateLength, b.state, b.stateLength) &&
    sameList(a.outputShape, a.shapeLength, b.outputShape, b.shapeLength) &&
    sameList(a.outputAt, 2 * a.outputCount, b.outputAt, 2 * b.outputCount)
  );
}

/** Set output `i` of `s` (as located when `s` was taken) to `value`. */
export function setOutput(s: Snapshot, i: number, value: number): void {
  const container = s.outputAt[2 * i] as Record<PropertyKey, unknown> | Map<unknown, unknown>;
  const key = s.outputAt[2 * i + 1];
  if (container instanceof Map) container.set(key, value);
  else container[key as PropertyKey] = value;
}

function sameList(a: unknown[], na: number, b: unknown[], nb: number): boolean {
  if (na !== nb) return false;
  for (let i = 0; i < na; i++) if (a[i] !== b[i] && !Object.is(a[i], b[i])) return false;
  return true;
}

function empty(): Snapshot {
  return { state: [], stateLength: 0, outputAt: [], outputs: [], outputCount: 0, outputShape: [], shapeLength: 0 };
}

const GENERATOR_PROTO = Object.getPrototypeOf(Object.getPrototypeOf((function* () {})())) as object;

