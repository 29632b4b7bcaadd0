// The installed command, run as a user runs it: `node bin/l41sim.js ...` on the compiled
// dist/ (built by `npm test`'s pretest step, or here if it is missing).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/cli/run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});

function l41sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one line an error must be, with no stack trace. */
function expectOneErrorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^l41sim: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? '';
}

describe('l41sim', () => {
  it('--help describes the tool, lists every subcommand and exits 0', () => {
    const r = l41sim('--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: l41sim /);
    expect(r.stdout).toContain('Discrete-event simulator');
    for (const cmd of createProgram().commands) expect(r.stdout).toContain(`  ${cmd.name()}`);
    expect(r.stdout).toContain('--version');
    expect(r.stdout).toContain('--debug');
  });

  it('--version and -V print the package version and exit 0', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = l41sim(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });

  it('with no arguments prints the help on stderr and exits 2', () => {
    const r = l41sim();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: l41sim /);
  });

  it('refuses an unknown command with one line and exit 2', () => {
    const r = l41sim('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(expectOneErrorLine(r.stderr)).toMatch(/^l41sim: unknown command 'frobnicate'/);
  });

  it('refuses an unknown option with one line and exit 2', () => {
    const r = l41sim('--frobnicate');
    expect(r.status).toBe(2);
    expect(expectOneErrorLine(r.stderr)).toBe("l41sim: unknown option '--frobnicate'; see 'l41sim --help'");
  });

  it('with --debug follows the error line with its stack trace', () => {
    const r = l41sim('--debug', 'frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^l41sim: unknown command 'frobnicate'/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('help <command> works for every subcommand', () => {
    for (const cmd of createProgram().commands) {
      const r = l41sim('help', cmd.name());
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: l41sim ${cmd.name()}`);
    }
  });
});
