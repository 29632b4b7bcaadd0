// A first-in first-out queue with O(1) push and shift (Array.prototype.shift is O(n)
// on long arrays). Internal to the engine.

/** @internal */
export class Fifo<T> {
  private _items: Array<T | undefined> = [];
  private _head = 0;

  get length(): number {
    return this._items.length - this._head;
  }

  push(item: T): void {
    this._items.push(item);
  }

  /** Removes and returns the oldest item, or undefined if empty. */
  shift(): T | undefined {
    if (this._head === this._items.length) return undefined;
    const item = this._items[this._head];
    this._items[this._head++] = undefined;
    if (this._head === this._items.length) {
      this._items.length = 0;
      this._head = 0;
    } else if (this._head >= 1024 && this._head * 2 >= this._items.length) {
      this._items = this._items.slice(this._head);
      this._head = 0;
    }
    return item;
  }
}
