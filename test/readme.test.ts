import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../src/costmodel/repo.js';
import { cli } from './helpers/cli.js';


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
    const r = await cli(['workload', 'dd', '--bs', '10m']);
    expect(r.code).toBe(0);
    expect(shown).toBe(r.out.trimEnd());
  });
});
