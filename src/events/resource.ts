// A resource with a fixed number of units (a CPU, a lock), granted in FIFO order.
import { Fifo } from './fifo.js';
import { Waitable, type Simulation } from './simulation.js';

/**
 * `capacity` identical units. request() returns a Waitable triggered when a unit is
 * granted; requests are granted strictly in the order made (no barging: a request
 * made while others wait queues behind them). release() returns a unit, handing it
 * straight to the oldest waiting request.
 */
export class Resource {
  /** The number of units. */
  readonly capacity: number;
  /** The name used in error messages. */
  readonly name: string;
  private readonly _sim: Simulation;
  private _inUse = 0;
  // Requests waiting for a unit. Invariant: non-empty only when every unit is in use.
  private readonly _queue = new Fifo<Waitable<void>>();

  /** Creates a resource with `capacity` free units. Throws RangeError unless capacity is a positive integer. */
  constructor(sim: Simulation, capacity: number, name = 'resource') {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Resource "${name}": capacity must be a positive integer, got ${capacity}`);
    }
    this._sim = sim;
    this.capacity = capacity;
    this.name = name;
  }

  /**
   * Asks for one unit. Returns a Waitable that is already triggered if a unit was free,
   * else triggered when one is handed over; yield it to wait. Never throws.
   */
  request(): Waitable<void> {
    const w = new Waitable<void>(this._sim);
    if (this._inUse < this.capacity) {
      this._inUse++;
      w.trigger();
    } else {
      this._queue.push(w);
    }
    return w;
  }

  /** Returns one unit, granting it to the oldest waiting request if any. Throws Error if no unit is in use. */
  release(): void {
    if (this._inUse === 0) {
      throw new Error(`Resource "${this.name}": release() without a granted request (no unit is in use)`);
    }
    const next = this._queue.shift();
    if (next !== undefined) next.trigger();
    else this._inUse--;
  }

  /** The number of units granted and not yet released. */
  get inUse(): number {
    return this._inUse;
  }

  /** The number of requests waiting for a unit. */
  get queueLength(): number {
    return this._queue.length;
  }
}
