// The discrete-event engine: a clock, a queue of events ordered by (time, sequence
// number), and processes (generators) that run between events.
//
// The model is SimPy's. An event is a callback or a process wake-up at a time;
// run() pops the earliest event and runs it, until the queue is empty. Events at the
// same time run in the order they were scheduled (the sequence number breaks ties).
// A process is a generator that yields what it is waiting for: a delay, another
// process, or a Waitable. Every wake-up goes through the queue, so the order of
// equal-time events is always the order in which they were scheduled.
//
// Speed (see bench/engine-hold.bench.ts), kept behind this surface: an event is a
// "slot", an integer index. Its time and sequence number live in a growable
// Float64Array, its callback or process in a parallel plain array; freed slots are
// reused. The fastpriorityqueue heap holds slot numbers and compares them by reading
// the typed array, so scheduling allocates nothing. While an event runs its slot
// stays at the top of the heap, and the first event it schedules takes the slot over
// with one sift-down (replaceTop) instead of a pop and a push.
import FastPriorityQueue from 'fastpriorityqueue';
import { deriveRng, type Rng } from './rng.js';
import { MAX_SIM_TIME, SimTimeOverflowError, formatTime, overflowMessage, type SimTime } from './time.js';

/** What a process body may yield: see Process. */
export type Yieldable = number | Process<any> | Waitable<any>;

/** The default SimulationOptions.maxEvents: a safety net against runs that never end. */
export const DEFAULT_MAX_EVENTS = 1_000_000_000;

export interface SimulationOptions {
  /** The run seed; every random stream (Simulation.rng) is derived from it. */
  seed: string;
  /**
   * Time bound, in ps: run() throws SimulationBoundError instead of executing an
   * event later than this. Default MAX_SIM_TIME (no bound).
   */
  maxTime?: SimTime;
  /**
   * Event bound: run() throws SimulationBoundError instead of executing more than
   * this many events in total. Default DEFAULT_MAX_EVENTS (10^9); Infinity disables it.
   */
  maxEvents?: number;
  /** Called with each event's time and sequence number just before it runs (for traces). */
  onEvent?: (time: SimTime, seq: number) => void;
}

/** Thrown by run() and runUntil() when the next event would exceed a bound of the run. */
export class SimulationBoundError extends Error {
  override readonly name = 'SimulationBoundError';
  /** Which bound was hit: SimulationOptions.maxTime or .maxEvents. */
  readonly bound: 'time' | 'events';
  /** The value of that bound. */
  readonly limit: number;
  /** The simulated time the run got to (the time of the last event executed). */
  readonly now: SimTime;
  /** The number of events executed. */
  readonly events: number;

  constructor(bound: 'time' | 'events', limit: number, now: SimTime, events: number, nextTime: SimTime) {
    super(
      bound === 'time'
        ? `simulation stopped at its time bound: the next event is at ${formatTime(nextTime)}, ` +
            `past maxTime = ${formatTime(limit)} (${limit} ps); the run got to ${formatTime(now)} ` +
            `after ${events} events. Raise SimulationOptions.maxTime (at most MAX_SIM_TIME, about 9007 s) to run further.`
        : `simulation stopped at its event bound: ${events} events executed (maxEvents = ${limit}) and more ` +
            `are pending; the run got to ${formatTime(now)}. Raise SimulationOptions.maxEvents ` +
            `(Infinity disables the bound) to run further, or look for a process that loops without blocking.`,
    );
    this.bound = bound;
    this.limit = limit;
    this.now = now;
    this.events = events;
  }
}

/** Thrown out of run() when a process body throws; `cause` is what it threw. */
export class ProcessError extends Error {
  override readonly name = 'ProcessError';
  /** The name of the process that failed. */
  readonly process: string;
  /** The simulated time at which it failed. */
  readonly time: SimTime;

  constructor(process: string, time: SimTime, cause: unknown) {
    super(`process "${process}" failed at ${formatTime(time)}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.process = process;
    this.time = time;
  }
}

type Target = (() => void) | Process<unknown>;

export class Simulation {
  private _now: SimTime = 0;
  private _events = 0;
  private _nextSeq = 0;
  private _processCount = 0;
  private _running = false;

  // Event slots. Slot s has time _keys[2s], sequence number _keys[2s+1], and runs
  // _targets[s]. Free slots are on the _free stack; _slotCount slots exist.
  private _keys = new Float64Array(2 * 64);
  private _free = new Int32Array(64);
  private _freeTop = 0;
  private _slotCount = 0;
  private readonly _targets: Array<Target | undefined> = [];
  // The slot of the running event while it is still at the top of the heap, else -1.
  private _current = -1;
  private readonly _heap: FastPriorityQueue<number>;

  private readonly _seed: string;
  private readonly _maxTime: SimTime;
  private readonly _maxEvents: number;
  private readonly _onEvent: ((time: SimTime, seq: number) => void) | undefined;
  private readonly _rngs = new Map<string, Rng>();

  /** Creates an empty simulation at time 0. Throws TypeError or RangeError on a bad option. */
  constructor(options: SimulationOptions) {
    if (typeof options?.seed !== 'string') {
      throw new TypeError(`SimulationOptions.seed must be a string, got ${typeof options?.seed}`);
    }
    const maxTime = options.maxTime ?? MAX_SIM_TIME;
    if (!Number.isInteger(maxTime) || maxTime < 0 || maxTime > MAX_SIM_TIME) {
      throw new RangeError(`SimulationOptions.maxTime must be an integer number of ps in 0..${MAX_SIM_TIME}, got ${maxTime}`);
    }
    const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    if (!(maxEvents === Infinity || (Number.isInteger(maxEvents) && maxEvents >= 0))) {
      throw new RangeError(`SimulationOptions.maxEvents must be a non-negative integer or Infinity, got ${maxEvents}`);
    }
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
      throw new TypeError('SimulationOptions.onEvent must be a function');
    }
    this._seed = options.seed;
    this._maxTime = maxTime;
    this._maxEvents = maxEvents;
    this._onEvent = options.onEvent;
    for (let i = 0; i < 64; i++) this._targets.push(undefined);
    this._heap = new FastPriorityQueue<number>((a, b) => {
      const k = this._keys;
      const ta = k[a << 1]!;
      const tb = k[b << 1]!;
      return ta < tb || (ta === tb && k[(a << 1) + 1]! < k[(b << 1) + 1]!);
    });
  }

  /** The current simulated time, in ps. */
  get now(): SimTime {
    return this._now;
  }

  /** The number of events executed so far. */
  get eventCount(): number {
    return this._events;
  }

  /** The number of events scheduled and not yet executed. */
  get pendingCount(): number {
    return this._current >= 0 ? this._heap.size - 1 : this._heap.size;
  }

  /** The time of the earliest event waiting in the queue, other than the one running now (Infinity if none). */
  get nextPendingTime(): SimTime {
    const heap = this._heap as unknown as { array: number[]; size: number };
    const keys = this._keys;
    if (this._current < 0) return heap.size > 0 ? keys[heap.array[0]! << 1]! : Infinity;
    // The running event's slot is still the top of the heap: the next is one of its children.
    let t = Infinity;
    for (let i = 1; i <= 2 && i < heap.size; i++) t = Math.min(t, keys[heap.array[i]! << 1]!);
    return t;
  }

  /** The run seed. */
  get seed(): string {
    return this._seed;
  }

  /**
   * Schedules `callback` to run at now + `delay` ps, after every event already
   * scheduled for that time. Throws RangeError if `delay` is not a non-negative
   * integer, TypeError if `callback` is not a function, and SimTimeOverflowError if
   * now + delay passes MAX_SIM_TIME.
   */
  schedule(delay: SimTime, callback: () => void): void {
    if (!(delay >= 0 && Number.isInteger(delay))) {
      throw new RangeError(`Simulation.schedule: delay must be a non-negative integer number of ps, got ${delay}`);
    }
    if (typeof callback !== 'function') {
      throw new TypeError(`Simulation.schedule: callback must be a function, got ${typeof callback}`);
    }
    const time = this._now + delay;
    if (time > MAX_SIM_TIME) throw new SimTimeOverflowError(overflowMessage(this._now, delay));
    this._enqueue(time, callback);
  }

  /**
   * Starts a process running `body`, a generator object (call the generator function:
   * `sim.process(worker(sim))`). Its first step runs as an event at the current time,
   * not synchronously. `name` (default "process-<n>") appears in error messages.
   * Throws TypeError if `body` is not a generator.
   */
  process<T>(body: Generator<Yieldable, T, any>, name?: string): Process<T> {
    if (typeof (body as { next?: unknown } | null)?.next !== 'function' || typeof body.throw !== 'function') {
      throw new TypeError(
        'Simulation.process: body must be a generator object; call the generator function, e.g. sim.process(worker(sim))',
      );
    }
    const p = new Process<T>(this, body, name ?? `process-${++this._processCount}`);
    this._enqueue(this._now, p as Process<unknown>);
    return p;
  }

  /**
   * Runs events in (time, sequence) order until the queue is empty. Throws
   * SimulationBoundError if the next event is past maxTime or would be one more than
   * maxEvents (the event stays queued), ProcessError if a process body throws, whatever
   * a callback throws, and Error if called while already running.
   */
  run(): void {
    this._runTo(Infinity);
  }

  /**
   * Runs every event at or before `time`, then sets the clock to `time` (if it is
   * later). Throws RangeError if `time` is not an integer in now..MAX_SIM_TIME,
   * SimulationBoundError if `time` is past maxTime, and otherwise what run() throws.
   */
  runUntil(time: SimTime): void {
    if (!Number.isInteger(time) || time < this._now || time > MAX_SIM_TIME) {
      throw new RangeError(`Simulation.runUntil: time must be an integer number of ps in ${this._now}..${MAX_SIM_TIME}, got ${time}`);
    }
    this._runTo(time);
    if (time > this._maxTime) {
      throw new SimulationBoundError('time', this._maxTime, this._now, this._events, time);
    }
    this._now = time;
  }

  /**
   * Returns the random stream named `stream`, derived from the run seed with
   * deriveRng. The same name returns the same generator object, so two components
   * that ask for one stream share it rather than draw identical numbers.
   */
  rng(stream: string): Rng {
    let r = this._rngs.get(stream);
    if (r === undefined) {
      r = deriveRng(this._seed, stream);
      this._rngs.set(stream, r);
    }
    return r;
  }

  private _runTo(until: number): void {
    if (this._running) throw new Error('Simulation.run: already running (called from inside an event or a process)');
    this._running = true;
    const heap = this._heap;
    const targets = this._targets;
    const maxTime = this._maxTime;
    const maxEvents = this._maxEvents;
    const onEvent = this._onEvent;
    try {
      while (heap.size !== 0) {
        const slot = heap.peek()!;
        const keys = this._keys;
        const time = keys[slot << 1]!;
        if (time > until) break;
        if (time > maxTime) throw new SimulationBoundError('time', maxTime, this._now, this._events, time);
        if (this._events >= maxEvents) throw new SimulationBoundError('events', maxEvents, this._now, this._events, time);
        const target = targets[slot]!;
        targets[slot] = undefined;
        this._now = time;
        this._events++;
        // The slot stays at the top of the heap: the first _enqueue takes it over.
        this._current = slot;
        if (onEvent !== undefined) onEvent(time, keys[(slot << 1) + 1]!);
        if (typeof target === 'function') target();
        else target._resume();
        if (this._current >= 0) this._dropCurrent();
      }
    } finally {
      if (this._current >= 0) this._dropCurrent();
      this._running = false;
    }
  }

  /** Removes the running event's slot (still the top of the heap) and frees it. */
  private _dropCurrent(): void {
    this._heap.poll();
    this._free[this._freeTop++] = this._current;
    this._current = -1;
  }

  /** @internal Queues `target` at `time` (already checked) with the next sequence number. */
  _enqueue(time: SimTime, target: Target): void {
    const seq = this._nextSeq++;
    let slot = this._current;
    if (slot >= 0) {
      // Reuse the running event's slot, which is the top of the heap: (time, seq) is
      // not earlier than its old key, so one sift-down restores the heap.
      this._current = -1;
      this._keys[slot << 1] = time;
      this._keys[(slot << 1) + 1] = seq;
      this._targets[slot] = target;
      this._heap.replaceTop(slot);
      return;
    }
    slot = this._freeTop > 0 ? this._free[--this._freeTop]! : this._newSlot();
    this._keys[slot << 1] = time;
    this._keys[(slot << 1) + 1] = seq;
    this._targets[slot] = target;
    this._heap.add(slot);
  }

  /** @internal Wakes process `p` at the current time, sending it `value`. */
  _wake(p: Process<unknown>, value: unknown): void {
    p._send = value;
    p._sendIsError = false;
    this._enqueue(this._now, p);
  }

  /** @internal Wakes process `p` at the current time by throwing `error` into it. */
  _wakeWithError(p: Process<unknown>, error: unknown): void {
    p._send = error;
    p._sendIsError = true;
    this._enqueue(this._now, p);
  }

  private _newSlot(): number {
    const slot = this._slotCount++;
    if (slot >= this._free.length) {
      const capacity = this._free.length * 2;
      const keys = new Float64Array(2 * capacity);
      keys.set(this._keys);
      this._keys = keys;
      const free = new Int32Array(capacity);
      free.set(this._free);
      this._free = free;
      for (let i = this._targets.length; i < capacity; i++) this._targets.push(undefined);
    }
    return slot;
  }
}

/**
 * A one-shot event a process can wait for: `yield waitable` resumes the process, at
 * the current time and through the queue, once the Waitable is triggered, receiving
 * its value. Signal, Channel and Resource hand these out; create one directly to wait
 * for a condition of your own.
 */
export class Waitable<T = void> {
  /** @internal */
  readonly _sim: Simulation;
  private _triggered = false;
  private _value: T | undefined = undefined;
  private _waiters: Process<unknown>[] | null = null;

  /** Creates an untriggered Waitable in `sim`. Never throws. */
  constructor(sim: Simulation) {
    this._sim = sim;
  }

  /** Whether trigger() has been called. */
  get triggered(): boolean {
    return this._triggered;
  }

  /** The value it was triggered with (undefined until then). */
  get value(): T | undefined {
    return this._value;
  }

  /**
   * Triggers it with `value`: every process waiting on it is woken at the current
   * time, in the order they started waiting; processes that yield it later resume at
   * once (through the queue). Throws Error if it was already triggered.
   */
  trigger(value: T): void {
    if (this._triggered) throw new Error('Waitable.trigger: already triggered (a Waitable fires once)');
    this._triggered = true;
    this._value = value;
    const waiters = this._waiters;
    if (waiters !== null) {
      this._waiters = null;
      for (const p of waiters) this._sim._wake(p, value);
    }
  }

  /** @internal Makes `p` wait for this (or wakes it now if already triggered). */
  _addWaiter(p: Process<unknown>): void {
    if (this._triggered) this._sim._wake(p, this._value);
    else if (this._waiters === null) this._waiters = [p];
    else this._waiters.push(p);
  }
}

/**
 * A running generator, created by Simulation.process. Each value the body yields says
 * what it waits for:
 *   - a number: resume after that many ps (a non-negative integer);
 *   - a Process: resume when it finishes, receiving its return value;
 *   - a Waitable: resume when it is triggered, receiving its value.
 * A bad yield (a negative or fractional delay, a delay past MAX_SIM_TIME, the process
 * itself, anything else) is thrown back into the body at the yield as a TypeError or
 * SimTimeOverflowError. If the body throws, run() throws a ProcessError naming it.
 */
export class Process<T = unknown> {
  /** The name given to Simulation.process (or "process-<n>"). */
  readonly name: string;
  /** @internal What the next resume sends into (or throws into) the body. */
  _send: unknown = undefined;
  /** @internal */
  _sendIsError = false;
  private readonly _sim: Simulation;
  private readonly _body: Generator<Yieldable, T, any>;
  private _done = false;
  private _failed = false;
  private _error: unknown = undefined;
  private _value: T | undefined = undefined;
  private _joiners: Process<unknown>[] | null = null;

  /** @internal Use Simulation.process. */
  constructor(sim: Simulation, body: Generator<Yieldable, T, any>, name: string) {
    this._sim = sim;
    this._body = body;
    this.name = name;
  }

  /** Whether the body has returned (or thrown). */
  get done(): boolean {
    return this._done;
  }

  /** The body's return value, once done (undefined before, or if it threw). */
  get value(): T | undefined {
    return this._value;
  }

  /** @internal Runs the body up to its next yield, then queues its wake-up. */
  _resume(): void {
    const sim = this._sim;
    const body = this._body;
    let send = this._send;
    let throwing = this._sendIsError;
    this._send = undefined;
    this._sendIsError = false;
    for (;;) {
      let r: IteratorResult<Yieldable, T>;
      try {
        r = throwing ? body.throw(send) : body.next(send);
      } catch (e) {
        this._fail(e);
        throw new ProcessError(this.name, sim.now, e);
      }
      if (r.done === true) {
        this._finish(r.value);
        return;
      }
      const y = r.value;
      if (typeof y === 'number') {
        // The hot path: a delay. No allocation here.
        if (y >= 0 && Number.isInteger(y)) {
          const time = sim.now + y;
          if (time <= MAX_SIM_TIME) {
            sim._enqueue(time, this as Process<unknown>);
            return;
          }
          send = new SimTimeOverflowError(overflowMessage(sim.now, y));
        } else {
          send = new TypeError(`process "${this.name}" yielded the delay ${y}; a delay must be a non-negative integer number of ps`);
        }
      } else if (y instanceof Waitable) {
        if (y._sim === sim) {
          y._addWaiter(this as Process<unknown>);
          return;
        }
        send = new TypeError(`process "${this.name}" yielded a Waitable of another Simulation`);
      } else if (y instanceof Process) {
        if (y !== this && y._sim === sim) {
          y._join(this as Process<unknown>);
          return;
        }
        send = new TypeError(
          y === this
            ? `process "${this.name}" yielded itself; a process cannot wait for its own end`
            : `process "${this.name}" yielded process "${y.name}" of another Simulation`,
        );
      } else {
        send = new TypeError(
          `process "${this.name}" yielded ${describe(y)}; a process may yield a delay in ps (non-negative integer), a Process or a Waitable`,
        );
      }
      throwing = true;
    }
  }

  /** @internal Makes `p` wait for this process to end. */
  _join(p: Process<unknown>): void {
    if (this._failed) {
      this._sim._wakeWithError(p, new Error(`process "${p.name}" waited for process "${this.name}", which failed`, { cause: this._error }));
    } else if (this._done) {
      this._sim._wake(p, this._value);
    } else if (this._joiners === null) {
      this._joiners = [p];
    } else {
      this._joiners.push(p);
    }
  }

  private _finish(value: T): void {
    this._done = true;
    this._value = value;
    const joiners = this._joiners;
    if (joiners !== null) {
      this._joiners = null;
      for (const p of joiners) this._sim._wake(p, value);
    }
  }

  private _fail(error: unknown): void {
    this._done = true;
    this._failed = true;
    this._error = error;
    const joiners = this._joiners;
    if (joiners !== null) {
      this._joiners = null;
      for (const p of joiners) {
        this._sim._wakeWithError(p, new Error(`process "${p.name}" waited for process "${this.name}", which failed`, { cause: error }));
      }
    }
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x === 'string') return `the string ${JSON.stringify(x)}`;
  if (typeof x === 'object') return `an object (${(x as object).constructor?.name ?? 'Object'})`;
  return `${typeof x} ${String(x)}`;
}
