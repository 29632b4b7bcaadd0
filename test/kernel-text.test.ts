// The kernel text map: reading /proc/kallsyms, validating the profile section, and
// what the model does with it (placement, lines fetched, the others after it).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKallsyms, readKallsyms } from '../src/host/kallsyms.js';
import { KERNEL_TEXT_SPAN, loadProfile, validateProfile } from '../src/costmodel/profile.js';
import { ValidationError } from '../src/errors.js';
import { KernelMemory, REGION } from '../src/kernel/machine/layout.js';
import { modelledTextNames } from '../src/workloads/calibrate/text-census.js';

const KALLSYMS = [
  'ffffffff81000000 T _stext',
  'ffffffff81000000 T _text',
  'ffffffff81000100 T vfs_write',
  'ffffffff81000580 t rw_verify_area',
  'ffffffff81000700 D some_data',
  'ffffffff81000740 T write_null',
  'ffffffff81000750 T __do_sys_getppid',
  'ffffffff81000750 T __x64_sys_getppid',
  'ffffffff81000790 T after_getppid',
  'ffffffff81100000 T far_away',
  'ffffffff81200000 T end_of_text',
  'ffffffffc0000000 t mod_fn\t[ext4]',
].join('\n');

describe('parseKallsyms', () => {
  it('gives offsets from _stext and sizes to the next text symbol at a higher address, for the names asked', () => {
    const map = parseKallsyms(KALLSYMS, new Set(['vfs_write', 'rw_verify_area', 'write_null', '__do_sys_getppid', '__x64_sys_getppid', 'far_away', 'end_of_text', 'mod_fn', 'inlined_fn']));
    expect(map).toEqual({
      // Aliases at one address (the syscall wrappers) each get the code that starts there.
      functions: { vfs_write: [0x100, 0x480], rw_verify_area: [0x580, 0x1c0], write_null: [0x740, 0x10], __do_sys_getppid: [0x750, 0x40], __x64_sys_getppid: [0x750, 0x40] },
      // A module's symbol is not the core kernel's.
      missing: ['inlined_fn', 'mod_fn'],
      skipped: { far_away: '1048576 bytes to the next symbol: padding or data follow it', end_of_text: 'the last text symbol: no end to measure it by' },
    });
  });

  it('says why there is no map when the kernel hides addresses', () => {
    const hidden = KALLSYMS.replace(/^[0-9a-f]+/gm, '0000000000000000');
    expect(parseKallsyms(hidden, new Set(['vfs_write']))).toMatch(/hidden \(kernel\.kptr_restrict\)/);
    expect(parseKallsyms('', new Set(['vfs_write']))).toBe('no symbols in /proc/kallsyms');
    expect(parseKallsyms('ffffffff81000700 D some_data', new Set(['vfs_write']))).toBe('no kernel text symbols in /proc/kallsyms');
  });

  it('reads <root>/proc/kallsyms, or says why it cannot', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'l41sim-ksyms-'));
    try {
      expect(readKallsyms(new Set(['vfs_write']), root)).toMatch(/^cannot read \/proc\/kallsyms \(ENOENT\)/);
      fs.mkdirSync(path.join(root, 'proc'));
      fs.writeFileSync(path.join(root, 'proc', 'kallsyms'), KALLSYMS);
      expect(readKallsyms(new Set(['vfs_write']), root)).toEqual({ functions: { vfs_write: [0x100, 0x480] }, missing: [], skipped: {} });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('profile kernel_text', () => {
  const base = JSON.parse(JSON.stringify(loadProfile('host-vm')));
  const withText = (functions: unknown, hot = 0.5) => ({
    ...base,
    kernel_text: { from: 'test', hot_fraction: { value: hot, unit: 'ratio', source: 'assumed', note: 'test' }, functions },
  });
  const refusal = (raw: unknown) => {
    try {
      validateProfile(raw, 'p');
    } catch (e) {
      if (e instanceof ValidationError) return `${e.path}: ${e.problem}`;
      throw e;
    }
    return 'accepted';
  };

  it('accepts a map and refuses bad entries, naming the path', () => {
    expect(validateProfile(withText({ vfs_write: [256, 1152] }), 'p').kernel_text?.functions).toEqual({ vfs_write: [256, 1152] });
    expect(refusal(withText({ vfs_write: [256] }))).toBe('p.kernel_text.functions.vfs_write: 1 numbers');
    expect(refusal(withText({ vfs_write: [-1, 10] }))).toMatch(/^p\.kernel_text\.functions\.vfs_write\[0\]/);
    expect(refusal(withText({ vfs_write: [KERNEL_TEXT_SPAN - 8, 64] }))).toMatch(/^p\.kernel_text\.functions\.vfs_write\[1\]/);
    expect(refusal(withText({ vfs_write: 'x' }))).toMatch(/^p\.kernel_text\.functions\.vfs_write/);
    expect(refusal(withText({}, 0))).toMatch(/^p\.kernel_text\.hot_fraction\.value/);
    expect(refusal(withText({}, 1.5))).toMatch(/^p\.kernel_text\.hot_fraction\.value/);
  });
});

describe('KernelMemory with a text map', () => {
  const text = { from: 'test', hot_fraction: { value: 0.5, unit: 'ratio' as const, source: 'assumed' as const, note: 'test' }, functions: { vfs_write: [0x100, 0x480] as [number, number], write_null: [0x740, 0x10] as [number, number] } };

  it('places mapped functions at their offsets and the others after the map', () => {
    const mem = new KernelMemory(64, text);
    expect(mem.textOf('vfs_write')).toBe(REGION.kernelText + 0x100);
    expect(mem.textOf('write_null')).toBe(REGION.kernelText + 0x740);
    const other = mem.textOf('not_in_map');
    expect(other).toBeGreaterThanOrEqual(REGION.kernelText + 0x750);
    expect(mem.textOf('another')).toBe(other + 17 * 64);
    expect(mem.textNames()).toEqual(['vfs_write', 'write_null', 'not_in_map', 'another']);
  });

  it('fetches the hot fraction of a mapped function, at least a line; the call site decides for the others', () => {
    const mem = new KernelMemory(64, text);
    expect(mem.hotLines('vfs_write')).toBe(9); // 1152 bytes = 18 lines, half of them
    expect(mem.hotLines('write_null')).toBe(1);
    expect(mem.hotLines('not_in_map')).toBeUndefined();
    expect(new KernelMemory(64).hotLines('vfs_write')).toBeUndefined();
  });

  it('refuses to place functions past the end of the text region', () => {
    const nearEnd = { ...text, functions: { last: [KERNEL_TEXT_SPAN - 64, 64] as [number, number] } };
    expect(() => new KernelMemory(64, nearEnd).textOf('unmapped')).toThrow('kernel text region is full');
  });

  it('leaves a profile without a map laid out as before: from the start of the region, 17 lines apart', () => {
    const mem = new KernelMemory(64);
    expect(mem.textOf('a')).toBe(REGION.kernelText);
    expect(mem.textOf('b')).toBe(REGION.kernelText + 17 * 64);
  });
});

describe('modelledTextNames', () => {
  it('names the Linux path the model runs: entry, file I/O, faults, and the hooks slow paths', () => {
    const names = modelledTextNames(loadProfile('host-vm'));
    for (const fn of ['entry_SYSCALL_64', 'do_syscall_64', 'vfs_read', 'vfs_write', 'read_zero', 'exc_page_fault', 'do_anonymous_page', 'path_openat', '__secure_computing', 'do_exit']) {
      expect(names).toContain(fn);
    }
  });

  it('names the FreeBSD path on a FreeBSD profile, none of Linux', () => {
    const names = modelledTextNames(loadProfile('lecture'));
    expect(names).toContain('syscallenter');
    expect(names).toContain('vm_fault');
    expect(names).not.toContain('entry_SYSCALL_64');
  });
});
