// A VM object (sys/vm/vm_object.c): the resident pages of an anonymous region or
// of a file. An anonymous page is resident once it has been faulted in (first
// touch); a file page is resident in the page cache from the start (the lecture's
// binaries and libraries are cached), so touching it is a soft fault that only maps it.

import { CountedMap } from '../steady/counted.js';

export class VmObject {
  /** Resident pages: page index within the object -> frame. */
  readonly pages = new CountedMap<number, number>();
  private addr_: number | (() => number);

  /** `addr`: the object's kernel address, or the allocator to call the first time it is needed. */
  constructor(
    addr: number | (() => number),
    readonly kind: 'anon' | 'vnode',
    readonly name: string,
  ) {
    this.addr_ = addr;
  }

  /** Where the object lives in kernel memory (its lock, its page tree). */
  get addr(): number {
    if (typeof this.addr_ === 'function') this.addr_ = this.addr_();
    return this.addr_;
  }
}
