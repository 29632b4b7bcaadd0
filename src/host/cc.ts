// The machine's C compiler, for the probes in calibration/probes/: what Node cannot
// time without its own binding in the way is measured by a small C program, built
// here into a temporary directory and run once. No compiler, a build that fails or a
// probe that prints no JSON each give the reason instead of a result.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoPath } from '../costmodel/repo.js';
import { firstLine } from './error.js';

/** The first of cc, gcc, clang that answers --version. */
export function findCompiler(): string | null {
  for (const cc of ['cc', 'gcc', 'clang']) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return null;
}

export interface ProbeRun<T> {
  /** The compiler that built the probe. */
  compiler: string;
  /** The JSON the probe printed. */
  output: T;
}

/** Build `source` (a path in the repository) with -O2 and run it with `args`; the JSON it printed, or a string saying why there is none. */
export function runCProbe<T>(source: string, args: readonly string[], timeoutMs = 300_000): ProbeRun<T> | string {
  const cc = findCompiler();
  if (!cc) return 'no C compiler (cc, gcc or clang) on PATH';
  const name = path.basename(source, '.c');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `l41sim-${name}-`));
  try {
    const bin = path.join(dir, name);
    const build = spawnSync(cc, ['-O2', '-o', bin, repoPath(source)], { encoding: 'utf8', timeout: 60_000 });
    if (build.status !== 0) return `${cc} could not build ${source}: ${firstLine(build.stderr) || `status ${build.status}`}`;
    const run = spawnSync(bin, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 });
    if (run.status !== 0) return `the ${name} probe failed: ${firstLine(run.stderr) || `status ${run.status ?? run.signal}`}`;
    try {
      return { compiler: cc, output: JSON.parse(run.stdout) as T };
    } catch {
      return `the ${name} probe printed no JSON: ${firstLine(run.stdout) || '(nothing)'}`;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
