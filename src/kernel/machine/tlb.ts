// A data TLB: one fully-associative level with CLOCK (second-chance) replacement,
// the pseudo-LRU that hardware TLBs approximate. The kernel's own data and text
// are mapped with large pages (amd64's 2 MiB direct map, ARM's 1 MiB sections);
// user pages are 4 KiB. A big copy walks thousands of user pages, so it evicts the
// kernel's entries, and the next system call pays a page walk for each kernel
// page it touches (on a virtual machine, a two-dimensional walk).
//
// Speed: a lookup is the model's second most frequent operation (tens per system
// call), so the entries are found through an open-addressing hash of their keys in
// typed arrays (linear probing, backward-shift deletion) rather than a Map of
// doubles; which entry holds which page, and every replacement, are the same.

/** Keys are page base addresses: at least 4 KiB-aligned, below 2^53. */
const KEY_GRAIN = 4096;

export class Tlb {
  private readonly keys: Float64Array;
  private readonly referenced: Uint8Array;
  /** Hash index: slot + 1 of the entry whose key hashes here (after probing), 0 if empty. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  private used = 0;
  private hand = 0;
  misses = 0;
  hits = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`TLB capacity ${capacity} is not a positive integer`);
    this.keys = new Float64Array(capacity);
    this.referenced = new Uint8Array(capacity);
    let size = 8;
    while (size < 4 * capacity) size *= 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
  }

  /** Look a page up; a miss inserts it, replacing the first entry not referenced since the hand last passed it. Returns true on a hit. */
  lookup(key: number): boolean {
    const i = this.find(key);
    if (i >= 0) {
      this.referenced[this.index[i]! - 1] = 1;
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
      const old = this.keys[victim]!;
      if (old === old) this.unindex(this.find(old)); // NaN: the slot's entry was invalidated
    }
    this.keys[victim] = key;
    this.referenced[victim] = 0;
    this.insert(key, victim);
    return false;
  }

  /** Drop one page's entry (pmap_remove's invalidation, a flushed temporary mapping). */
  invalidate(key: number): void {
    const i = this.find(key);
    if (i < 0) return;
    const slot = this.index[i]! - 1;
    this.unindex(i);
    // The slot stays in the ring, unreferenced and holding a key nobody looks up: the next replacement takes it.
    this.keys[slot] = Number.NaN;
    this.referenced[slot] = 0;
  }

  /** The hash index position holding `key`, or -1. */
  private find(key: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const s = index[i]!;
      if (s === 0) return -1;
      if (this.keys[s - 1] === key) return i;
    }
  }

  private insert(key: number, slot: number): void {
    const mask = this.mask;
    let i = this.home(key);
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = slot + 1;
  }

  /** Empty index position `i`, moving later entries of its probe run back so every entry stays reachable. */
  private unindex(i: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = i;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.home(this.keys[index[j]! - 1]!);
      // Entry j may move to the hole if its home is not cyclically in (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = index[j]!;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  private home(key: number): number {
    const page = Math.floor(key / KEY_GRAIN);
    const lo = page % 0x4000_0000;
    const hi = (page - lo) / 0x4000_0000;
    // Fibonacci hashing: the product's top bits.
    return Math.imul(lo ^ Math.imul(hi, 0x27d4_eb2d), 0x9e37_79b1 | 0) >>> this.shift;
  }
}
