// Runs a sweep: expands the config into points, skips the points an earlier run
// finished (from its results file or its journal), runs the rest in parallel on
// worker threads (tinypool, loading the compiled dist/ code), journals each point as
// it finishes, and at the end writes the results (CSV, JSON) atomically and draws
// the plot. The results do not depend on the worker count: every point is a pure
// function of its inputs and rows are ordered by point, not by completion.

import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { repoPath } from '../../costmodel/repo.js';
import { RuntimeFailure } from '../../errors.js';
import { expandPoints, loadSweepProfiles, type HostProfileOptions, type SweepConfig, type SweepPoint } from './config.js';
import { rowFor, runPoint, type Row } from './point.js';
import { Journal, loadFinished, outputPaths, resultsDocument, toCsv, type OutputPaths, type ResultsDocument } from './results.js';
import type { PointTask } from './worker.js';
import type { Outputs } from './workloads.js';

export interface SweepRunOptions {
  /** Worker threads; 0 runs every point on the calling thread. */
  workers: number;
  /** l41sim's version, recorded in every row. */
  version: string;
  /** Ignore (and overwrite) the results of an earlier run. */
  fresh?: boolean;
  /** Called after each finished point (progress display). */
  onProgress?: (done: number, total: number) => void;
  /** Aborts the sweep after the points in flight (SIGINT). */
  signal?: AbortSignal;
  /** Write the results files (the CLI does it itself, with plots). */
  writeFiles?: (doc: ResultsDocument, csv: string, paths: OutputPaths) => void;
  /** How a `host` profile in the config is resolved. */
  host?: HostProfileOptions;
}

export interface SweepOutcome {
  points: SweepPoint[];
  rows: Row[];
  resumed: number;
  ran: number;
  document: ResultsDocument;
  csv: string;
  paths: OutputPaths;
}

/** The compiled worker, which the pool's threads load. */
export function workerPath(): string {
  return repoPath('dist', 'src', 'workloads', 'sweep', 'worker.js');
}

export class SweepInterrupted extends RuntimeFailure {}

export async function runSweep(config: SweepConfig, outDir: string, o: SweepRunOptions): Promise<SweepOutcome> {
  const profiles = loadSweepProfiles(config, o.host);
  const points = expandPoints(config, profiles, o.version);
  mkdirSync(outDir, { recursive: true });
  const paths = outputPaths(outDir, config.name);
  const finished = o.fresh ? new Map<string, Row>() : loadFinished(paths);
  const rows: (Row | undefined)[] = points.map((p) => finished.get(p.key));
  // An earlier row is reused only as this point's row (its index may have moved).
  points.forEach((p, i) => {
    const r = rows[i];
    if (r) rows[i] = { ...r, point: p.index };
  });
  const todo = points.filter((_, i) => rows[i] === undefined);
  const resumed = points.length - todo.length;
  let done = resumed;
  o.onProgress?.(done, points.length);
  const journal = todo.length > 0 ? new Journal(paths.journal) : undefined;
  const finish = (p: SweepPoint, outputs: Outputs) => {
    const row = rowFor(p, outputs, o.version);
    rows[p.index] = row;
    journal?.add(p.key, row);
    done++;
    o.onProgress?.(done, points.length);
  };
  try {
    if (todo.length > 0 && o.workers === 0) {
      for (const p of todo) {
        if (o.signal?.aborted) break;
        finish(p, runPoint(p, profiles.get(p.profile)!.profile));
      }
    } else if (todo.length > 0) {
      await runOnPool(todo, profiles, Math.min(o.workers, todo.length), finish, o.signal);
    }
  } finally {
    journal?.close();
  }
  if (o.signal?.aborted || rows.some((r) => r === undefined)) {
    throw new SweepInterrupted('sweep', `interrupted after ${done} of ${points.length} points (${paths.journal} keeps them)`, 'the same command again, which resumes where this one stopped');
  }
  const complete = rows as Row[];
  const document = resultsDocument({ name: config.name, description: config.description, workload: config.workload, version: o.version }, complete);
  const csv = toCsv(complete, document.columns);
  o.writeFiles?.(document, csv, paths);
  journal?.remove();
  return { points, rows: complete, resumed, ran: todo.length, document, csv, paths };
}

async function runOnPool(
  todo: SweepPoint[],
  profiles: Map<string, { profile: import('../../costmodel/profile.js').Profile }>,
  threads: number,
  finish: (p: SweepPoint, outputs: Outputs) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const filename = workerPath();
  if (!existsSync(filename)) throw new RuntimeFailure('sweep', `the compiled worker ${filename} is missing`, "a built l41sim ('npx tsc -p tsconfig.json' or 'npm install')");
  const { Tinypool } = await import('tinypool');
  const pool = new Tinypool({ filename, minThreads: threads, maxThreads: threads, isolateWorkers: false, idleTimeout: 1000 });
  // On an interrupt (or a failed point) nothing new starts; the points in flight finish and are kept.
  let stopping = false;
  const stop = () => {
    stopping = true;
    pool.cancelPendingTasks();
  };
  signal?.addEventListener('abort', stop, { once: true });
  let failure: unknown;
  try {
    await Promise.all(
      todo.map((p) => {
        const task: PointTask = { point: p, profile: profiles.get(p.profile)!.profile };
        return pool.run(task).then(
          (outputs: Outputs) => finish(p, outputs),
          (err: unknown) => {
            if (stopping && failure === undefined) return; // cancelled before it started
            failure ??= err;
            stop();
          },
        );
      }),
    );
  } finally {
    signal?.removeEventListener('abort', stop);
    await pool.destroy();
  }
  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new RuntimeFailure('sweep', `a point failed: ${message.replace(/\s+/g, ' ')}`, undefined, { cause: failure });
  }
}

/** Worker threads to use by default: one per core. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}
