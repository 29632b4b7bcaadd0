// Maps and sets that count their changes. Fast-forward's snapshot (./snapshot.ts)
// compares one of these by identity and change count instead of entry by entry,
// which keeps a check cheap when the model holds thousands of pages. Use them only
// for entries that cannot change in place (numbers, strings, frozen records, or
// objects the snapshot walks elsewhere): a change to an entry's insides is not a
// change to the collection.

/** A Map whose set(), delete() and clear() count as changes. */
export class CountedMap<K, V> extends Map<K, V> {
  changes = 0;

  override set(key: K, value: V): this {
    this.changes++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.changes++;
    return super.delete(key);
  }

  override clear(): void {
    this.changes++;
    super.clear();
  }
}

/** A Set whose add(), delete() and clear() count as changes. */
export class CountedSet<T> extends Set<T> {
  changes = 0;

  override add(value: T): this {
    this.changes++;
    return super.add(value);
  }

  override delete(value: T): boolean {
    this.changes++;
    return super.delete(value);
  }

  override clear(): void {
    this.changes++;
    super.clear();
  }
}
