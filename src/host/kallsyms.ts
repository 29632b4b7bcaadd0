/**
 * The running Linux kernel's text map from /proc/kallsyms: for each function the model
 * names, its offset from the start of kernel text (_stext) and its size (the distance
 * to the next text symbol). Only the core kernel's symbols count (no [module] ones).
 * The kernel hides addresses from unprivileged readers (kernel.kptr_restrict): then
 * every address reads 0 and there is no map, with the reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_TEXT_SPAN } from '../costmodel/profile.js';

/** A symbol farther than this from the next one is followed by padding or data, not its own code. */
const MAX_FUNCTION_BYTES = 64 * 1024;

export interface KernelTextMap {
  functions: Record<string, [number, number]>;
  /** Names asked for that the kernel does not have (inlined, renamed, or in a module). */
  missing: string[];
  /** Names the kernel has but the map leaves out, with why (too big to be one function, outside the text span, the last symbol). */
  skipped: Record<string, string>;
}

export function parseKallsyms(kallsyms: string, names: ReadonlySet<string>): KernelTextMap | string {
  const symbols: { addr: bigint; name: string; isText: boolean }[] = [];
  for (const line of kallsyms.split('\n')) {
    const [addr, type, name, module] = line.split(/\s+/);
    if (!addr || !type || !name || module !== undefined) continue;
    symbols.push({ addr: BigInt(`0x${addr}`), name, isText: type === 't' || type === 'T' });
  }
  if (symbols.length === 0) return 'no symbols in /proc/kallsyms';
  if (symbols.every((s) => s.addr === 0n)) return 'kallsyms addresses are hidden (kernel.kptr_restrict); run as root to read them';
  const text = symbols.filter((s) => s.isText).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  if (text.length === 0) return 'no kernel text symbols in /proc/kallsyms';
  const stext = text.find((s) => s.name === '_stext')?.addr ?? text[0]!.addr;
  const functions: Record<string, [number, number]> = {};
  const skipped: Record<string, string> = {};
  let next = 0; // the first symbol at a higher address than text[i] (aliases share an address)
  for (let i = 0; i < text.length; i++) {
    const s = text[i]!;
    if (!names.has(s.name) || s.name in functions || s.addr < stext) continue;
    next = Math.max(next, i + 1);
    while (next < text.length && text[next]!.addr === s.addr) next++;
    if (next === text.length) {
      skipped[s.name] = 'the last text symbol: no end to measure it by';
      continue;
    }
    const offset = Number(s.addr - stext);
    const bytes = Number(text[next]!.addr - s.addr);
    if (bytes > MAX_FUNCTION_BYTES) skipped[s.name] = `${bytes} bytes to the next symbol: padding or data follow it`;
    else if (offset + bytes > KERNEL_TEXT_SPAN) skipped[s.name] = 'beyond the text span the model has';
    else functions[s.name] = [offset, bytes];
  }
  const found = new Set(text.map((s) => s.name));
  return { functions, missing: [...names].filter((n) => !found.has(n)).sort(), skipped };
}

/** Read the map from `<root>/proc/kallsyms`; a string says why there is none. */
export function readKallsyms(names: ReadonlySet<string>, root = '/'): KernelTextMap | string {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, 'proc', 'kallsyms'), 'utf8');
  } catch (e) {
    return `cannot read /proc/kallsyms (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  return parseKallsyms(text, names);
}
