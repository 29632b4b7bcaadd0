// Locates files of the l41sim checkout at run time, whether the code runs from
// src/ (vitest) or from the compiled dist/src/.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'l41sim') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the l41sim package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function repoPath(...parts: string[]): string {
  return join(repoRoot(), ...parts);
}

let version: string | undefined;

/** The version in l41sim's package.json. */
export function packageVersion(): string {
  return (version ??= (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version);
}
