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
