/**
 * Running calibration/probes/cold-write.c on the host: what one write(2) to /dev/null,
 * and one getppid(2), cost right after a read(2) copy, measured. Node cannot time one system call without
 * its own binding's cost and cold code in the way, so the probe is C, built with the
 * host's compiler into a temporary directory. No compiler, or a build that fails, skips
 * the measurement with the reason; nothing about it is guessed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoPath } from '../repo.js';
import { firstLine } from './probe.js';

export const COLD_WRITE_SOURCE = 'calibration/probes/cold-write.c';

/**
 * One copy size of a probe run: the write right after the copy ("cold") and the one
 * after that ("warm"), then the same for getppid after another copy. Runs recorded
 * before the probe timed getppid have no getppid fields.
 */
export interface ColdWriteProbeRow {
  copy_bytes: number;
  cold_write_ns: number;
  warm_write_ns: number;
  cold_getppid_ns?: number;
  warm_getppid_ns?: number;
}

/** The calls the probe times after each copy. */
export const COLD_CALLS = ['write', 'getppid'] as const;
export type ColdCall = (typeof COLD_CALLS)[number];

/** A row's time of `call` right after the copy; undefined in runs from before the probe timed it. */
export function coldCallNs(row: ColdWriteProbeRow, call: ColdCall): number | undefined {
  return call === 'write' ? row.cold_write_ns : row.cold_getppid_ns;
}

export interface ColdWriteMeasurement {
  compiler: string;
  repeats: number;
  rows: ColdWriteProbeRow[];
}

/** The first of cc, gcc, clang that answers --version. */
export function findCompiler(): string | null {
  for (const cc of ['cc', 'gcc', 'clang']) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return null;
}

/** Build and run the probe over `copySizes`; a string says why it was skipped. */
export function measureColdWrite(copySizes: readonly number[], repeats: number): ColdWriteMeasurement | string {
  const cc = findCompiler();
  if (!cc) return 'no C compiler (cc, gcc or clang) on PATH';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l41sim-cold-write-'));
  try {
    const bin = path.join(dir, 'cold-write');
    const build = spawnSync(cc, ['-O2', '-o', bin, repoPath(COLD_WRITE_SOURCE)], { encoding: 'utf8', timeout: 60_000 });
    if (build.status !== 0) return `${cc} could not build ${COLD_WRITE_SOURCE}: ${firstLine(build.stderr) || `status ${build.status}`}`;
    const run = spawnSync(bin, [String(repeats), ...copySizes.map(String)], { encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) return `the cold-write probe failed: ${firstLine(run.stderr) || `status ${run.status ?? run.signal}`}`;
    let out: Omit<ColdWriteMeasurement, 'compiler'>;
    try {
      out = JSON.parse(run.stdout);
    } catch {
      return `the cold-write probe printed no JSON: ${firstLine(run.stdout) || '(nothing)'}`;
    }
    if (!Array.isArray(out.rows) || !copySizes.every((b) => out.rows.some((r) => r.copy_bytes === b && COLD_CALLS.every((c) => coldCallNs(r, c) !== undefined)))) {
      return 'the cold-write probe left out a copy size or a call it was given';
    }
    return { compiler: cc, ...out };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
