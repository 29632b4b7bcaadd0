/**
 * The running Linux kernel's text map from /proc/kallsyms: for each function the model
 * names, its offset from the start of kernel text (_stext) and its size (the distance
 * to the next text symbol). Only the core kernel's symbols count (no [module] ones).
 * The kernel hides addresses from unprivileged readers (kernel.kptr_restrict): then
 * every address reads 0 and there is no map, with the reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_TEXT_SPAN } from '../profile.js';

/** A symbol farther than this from the next one is followed by padding or data, not its own code. */
const MAX_FUNCTION_BYTES = 64 * 1024;

export interface KernelTextMap {
  functions: Record<string, [number, number]>;
  /** Names asked for that the kernel does not have (inlined, renamed, or in a module). */
  missing: string[];
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
  const stext = text.find((s) => s.name === '_stext')?.addr ?? text[0]!.addr;
  const functions: Record<string, [number, number]> = {};
  for (let i = 0; i + 1 < text.length; i++) {
    const s = text[i]!;
    if (!names.has(s.name) || s.name in functions || s.addr < stext) continue;
    const offset = Number(s.addr - stext);
    const bytes = Number(text[i + 1]!.addr - s.addr);
    if (bytes <= 0 || bytes > MAX_FUNCTION_BYTES || offset + bytes > KERNEL_TEXT_SPAN) continue;
    functions[s.name] = [offset, bytes];
  }
  return { functions, missing: [...names].filter((n) => !(n in functions)).sort() };
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
