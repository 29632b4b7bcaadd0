import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { bootKernel } from '../src/kernel/boot.js';
import { AccessKind } from '../src/kernel/machine/cache.js';
import { Tlb } from '../src/kernel/machine/tlb.js';

describe('Tlb', () => {
  it('hits a page it holds and misses one it does not', () => {
    const t = new Tlb(4);
    expect(t.lookup(1)).toBe(false);
    expect(t.lookup(1)).toBe(true);
    expect(t.lookup(2)).toBe(false);
    expect([t.hits, t.misses]).toEqual([1, 2]);
  });

  it('evicts the least recently used entry when full', () => {
    const t = new Tlb(3);
    for (const k of [1, 2, 3]) t.lookup(k);
    t.lookup(1); // 1 is now the most recent; 2 the least
    t.lookup(4); // evicts 2
    expect(t.lookup(1)).toBe(true);
    expect(t.lookup(3)).toBe(true);
    expect(t.lookup(2)).toBe(false);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Tlb(0)).toThrow(RangeError);
    expect(() => new Tlb(1.5)).toThrow(RangeError);
  });
});

describe('the CPU translates through the TLB', () => {
  const profile = loadProfile('lecture');
  const boot = () => bootKernel(profile, { seed: 't', features: new Set(), scripts: [] });

  it('a kernel word read after a 10 MiB user copy needs a page walk; read again it does not', () => {
    const k = boot();
    const cpu = k.cpus[0]!;
    const flag = k.globals.audit_enabled;
    cpu.load(flag);
    const walks = () => k.usage.counts[k.book.id('tlb.miss')]!;
    const before = walks();
    cpu.load(flag);
    expect(walks()).toBe(before);
    // Stream 10 MiB through user frames: 2560 4 KiB pages, more than the TLB holds.
    cpu.stream(0x1_0000_0000, 10 * 1024 * 1024, AccessKind.Write);
    const afterCopy = walks();
    expect(afterCopy - before).toBeGreaterThanOrEqual(2560);
    cpu.load(flag);
    expect(walks()).toBe(afterCopy + 1);
    cpu.load(flag);
    expect(walks()).toBe(afterCopy + 1);
  });

  it('kernel objects in one zone share a large page; different zones do not', () => {
    const k = boot();
    const cpu = k.cpus[0]!;
    const walks = () => k.usage.counts[k.book.id('tlb.miss')]!;
    const a = k.mem.alloc('proc', 64);
    const b = k.mem.alloc('proc', 64);
    const c = k.mem.alloc('vnode', 64);
    cpu.load(a);
    const w = walks();
    cpu.load(b);
    expect(walks()).toBe(w);
    cpu.load(c);
    expect(walks()).toBe(w + 1);
  });
});

/** The CLOCK TLB written plainly (a Map of keys to ring slots), to check the hash-indexed one against. */
class RefTlb {
  private readonly slots = new Map<number, number>();
  private readonly keys: number[] = [];
  private readonly referenced: number[] = [];
  private hand = 0;
  hits = 0;
  misses = 0;
  constructor(readonly capacity: number) {}
  lookup(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.referenced[slot] = 1;
      this.hits++;
      return true;
    }
    this.misses++;
    let victim: number;
    if (this.keys.length < this.capacity) victim = this.keys.length;
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
  invalidate(key: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.keys[slot] = Number.NaN;
    this.referenced[slot] = 0;
  }
}

describe('Tlb against a plain reference', () => {
  it('hits, misses and replaces as the reference does, for random lookups and invalidations', () => {
    // Keys from a small pool of 4 KiB and 2 MiB pages, some above 2^32 and near 2^47, so the hash collides and wraps.
    const arbKey = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((i) => i * 4096),
      fc.integer({ min: 0, max: 20 }).map((i) => 0x7fff_ffff_f000 - i * 4096),
      fc.integer({ min: 0, max: 10 }).map((i) => 2 ** 32 + i * 2 * 1024 * 1024),
    );
    const arbOp = fc.record({ key: arbKey, invalidate: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(arbOp, { maxLength: 400 }), (capacity, ops) => {
        const t = new Tlb(capacity);
        const r = new RefTlb(capacity);
        for (const op of ops) {
          if (op.invalidate) {
            t.invalidate(op.key);
            r.invalidate(op.key);
          } else expect(t.lookup(op.key)).toBe(r.lookup(op.key));
        }
        expect([t.hits, t.misses]).toEqual([r.hits, r.misses]);
      }),
    );
  });
});
