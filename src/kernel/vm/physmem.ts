// Physical page frames. Freed frames go to the head of a LIFO free list and are
// reused first (warm in the cache, already backed by the hypervisor); fresh frames
// come from above everything handed out so far. `touched` remembers which frames
// the machine has ever accessed, for the profile's first-touch cost.

import { REGION } from '../machine/layout.js';
import { CountedSet } from '../steady/counted.js';

export class PhysMem {
  private readonly free: number[] = [];
  private nextFresh = 0;
  private readonly touched = new CountedSet<number>();
  allocated = 0;

  constructor(readonly pageBytes: number) {}

  alloc(): number {
    this.allocated++;
    return this.free.pop() ?? this.nextFresh++;
  }

  release(frame: number): void {
    this.allocated--;
    this.free.push(frame);
  }

  /** Physical address of the first byte of a frame. */
  addr(frame: number): number {
    return REGION.frames + frame * this.pageBytes;
  }

  /** Marks the frame touched; true if this is the first touch ever. */
  firstTouch(frame: number): boolean {
    if (this.touched.has(frame)) return false;
    this.touched.add(frame);
    return true;
  }
}
