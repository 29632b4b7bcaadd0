// A data TLB: one fully-associative level with CLOCK (second-chance) replacement,
// the pseudo-LRU that hardware TLBs approximate. The kernel's own data and text
// are mapped with large pages (amd64's 2 MiB direct map, ARM's 1 MiB sections);
// user pages are 4 KiB. A big copy walks thousands of user pages, so it evicts the
// kernel's entries, and the next system call pays a page walk for each kernel
// page it touches (on a virtual machine, a two-dimensional walk).

export class Tlb {
  /** Page key -> slot in the ring. */
  private readonly slots = new Map<number, number>();
  private readonly keys: Float64Array;
  private readonly referenced: Uint8Array;
  private used = 0;
  private hand = 0;
  misses = 0;
  hits = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`TLB capacity ${capacity} is not a positive integer`);
    this.keys = new Float64Array(capacity);
    this.referenced = new Uint8Array(capacity);
  }

  /** Look a page up; a miss inserts it, replacing the first entry not referenced since the hand last passed it. Returns true on a hit. */
  lookup(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.referenced[slot] = 1;
      this.hits++;
      return true;
    }
    this.misses++;
    let victim: number;
    if (this.used < this.capacity) victim = this.used++;
    else {
      while (this.referenced[this.hand] === 1) {
        this.referenced[this.hand] = 0;
        this.hand = (this.hand + 1) % this.capacity;
      }
      victim = this.hand;
      this.hand = (this.hand + 1) % this.capacity;
      this.slots.delete(this.keys[victim]!);
    }
    this.keys[victim] = key;
    this.referenced[victim] = 0;
    this.slots.set(key, victim);
    return false;
  }

  /** Drop one page's entry (pmap_remove's invalidation, a flushed temporary mapping). */
  invalidate(key: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    // The slot stays in the ring, unreferenced and holding a key nobody looks up: the next replacement takes it.
    this.keys[slot] = Number.NaN;
    this.referenced[slot] = 0;
  }
}
