// An unbounded FIFO channel between processes.
import { Fifo } from './fifo.js';
import { Waitable, type Simulation } from './simulation.js';

/**
 * An unbounded first-in first-out queue of items. put() never blocks; get() returns
 * a Waitable for the next item, and getters are served in the order they called get().
 */
export class Channel<T> {
  private readonly _sim: Simulation;
  private readonly _items = new Fifo<T>();
  // Getters waiting for an item. Invariant: _items or _getters is empty.
  private readonly _getters = new Fifo<Waitable<T>>();

  /** Creates an empty channel in `sim`. Never throws. */
  constructor(sim: Simulation) {
    this._sim = sim;
  }

  /** Adds `item`: hands it to the oldest waiting getter, or buffers it. Never throws. */
  put(item: T): void {
    const getter = this._getters.shift();
    if (getter !== undefined) getter.trigger(item);
    else this._items.push(item);
  }

  /**
   * Returns a Waitable for the next item: already triggered with the oldest buffered
   * item if there is one, else triggered by a later put(). Never throws.
   */
  get(): Waitable<T> {
    const w = new Waitable<T>(this._sim);
    if (this._items.length > 0) w.trigger(this._items.shift() as T);
    else this._getters.push(w);
    return w;
  }

  /** The number of buffered items (put and not yet taken). */
  get length(): number {
    return this._items.length;
  }

  /** The number of getters waiting for an item. */
  get waiting(): number {
    return this._getters.length;
  }
}
