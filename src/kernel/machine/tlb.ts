// A data TLB: one fully-associative level with LRU replacement. The kernel's own
// data and text are mapped with large pages (amd64's 2 MiB direct map, ARM's 1 MiB
// sections); user pages are 4 KiB. A big copy walks thousands of user pages, so
// it evicts the kernel's entries, and the next system call pays a page walk for
// each kernel page it touches: on a virtual machine, a two-dimensional walk. That
// cost, not the cache misses alone, is what makes the lecture's write() after a
// 10 MiB read several times slower than the other small calls.

export class Tlb {
  /** Page key -> nothing; Map iteration order is the LRU order (oldest first). */
  private readonly entries = new Map<number, true>();
  misses = 0;
  hits = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`TLB capacity ${capacity} is not a positive integer`);
  }

  /** Look a page up; a miss inserts it (evicting the least recently used). Returns true on a hit. */
  lookup(key: number): boolean {
    const e = this.entries;
    if (e.delete(key)) {
      e.set(key, true);
      this.hits++;
      return true;
    }
    this.misses++;
    if (e.size >= this.capacity) e.delete(e.keys().next().value!);
    e.set(key, true);
    return false;
  }

  flush(): void {
    this.entries.clear();
  }
}
