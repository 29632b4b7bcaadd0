// A VM object (sys/vm/vm_object.c): the resident pages of an anonymous region or
// of a file. An anonymous page is resident once it has been faulted in (first
// touch); a file page is resident in the page cache from the start (the lecture's
// binaries and libraries are cached), so touching it is a soft fault that only maps it.

export class VmObject {
  /** Resident pages: page index within the object -> frame. */
  readonly pages = new Map<number, number>();
  constructor(
    readonly addr: number,
    readonly kind: 'anon' | 'vnode',
    readonly name: string,
  ) {}
}
