import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../src/costmodel/repo.js';
import { run } from '../src/cli/main.js';

/** Run the CLI in-process and capture what it writes to stdout. */
async function stdoutOf(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    expect(await run(['node', 'l41sim', ...args])).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

describe('README', () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');

  it('opens with the two commands a newcomer needs', () => {
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5));
    expect(firstBlock).toContain('npx l41sim workload dd --bs 10m');
    expect(firstBlock).toContain('npm test');
  });

  it("shows the dd example exactly as the command prints it (no number typed in)", async () => {
    const marker = '<!-- example:dd --bs 10m';
    const at = readme.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    const open = readme.indexOf('```\n', at) + 4;
    const shown = readme.slice(open, readme.indexOf('\n```', open));
    expect(shown).toBe((await stdoutOf(['workload', 'dd', '--bs', '10m'])).trimEnd());
  });
});
