// A condition processes wait on until another process (or callback) notifies it.
import { Fifo } from './fifo.js';
import { Waitable, type Simulation } from './simulation.js';

/**
 * A condition variable: wait() returns a Waitable that a later notify() or notifyAll()
 * triggers. A notification with no one waiting is lost (nothing is remembered).
 */
export class Signal<T = void> {
  private readonly _sim: Simulation;
  private readonly _waiters = new Fifo<Waitable<T>>();

  /** Creates a signal in `sim` with no waiters. Never throws. */
  constructor(sim: Simulation) {
    this._sim = sim;
  }

  /** Returns a Waitable triggered by a later notification; waiters are served oldest first. Never throws. */
  wait(): Waitable<T> {
    const w = new Waitable<T>(this._sim);
    this._waiters.push(w);
    return w;
  }

  /** Wakes the oldest waiter with `value`; returns whether there was one. Never throws. */
  notify(value: T): boolean {
    const w = this._waiters.shift();
    if (w === undefined) return false;
    w.trigger(value);
    return true;
  }

  /** Wakes every current waiter with `value`, oldest first; returns how many. Never throws. */
  notifyAll(value: T): number {
    let n = 0;
    for (let w = this._waiters.shift(); w !== undefined; w = this._waiters.shift()) {
      w.trigger(value);
      n++;
    }
    return n;
  }

  /** The number of waiters not yet notified. */
  get waiting(): number {
    return this._waiters.length;
  }
}
