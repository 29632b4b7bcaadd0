// How a kernel class tells fast-forward (./fast-forward.ts) what its fields are.
// Fast-forward compares the model's state before and after a loop iteration: every
// field of every object reachable from the running process is state, compared as
// it is, unless its class declares it otherwise here. A class declares
//
//   static readonly [STEADY]: SteadyDecl = { outputs: ['hits'], skip: ['profile'] };
//
// - outputs: accumulated results that nothing in the model reads to decide what to
//   do (counters, totals of time, DTrace aggregations). Fast-forward adds k times
//   their change over one iteration. Each must be a count (whole increments) or a
//   sum of durations measured on a CPU's cursor (./fast-forward.ts says why that
//   keeps the sums exact).
// - skip: constants of the run (the profile, the cost book), objects that
//   fast-forward checks in its own way (the caches, the TLB, the cursor), and
//   aliases of arrays declared elsewhere.
// - sizeOnly: a record that only grows and is never read back by the model (the
//   exported timeline): only its length is state, so a loop that is still
//   recording it does not fast-forward.
// A field nobody declares is compared in full. Forgetting to declare an output
// makes fast-forward refuse the loops that change it (safe, and seen in the
// benchmarks); declaring state an output or a skip would make it unsound.
//
// The kernel's read and write paths declare one more thing, while fast-forward
// checks an iteration: a file offset the iteration moves on, the window of offsets
// within which the call does the same but for the data it copies, and that stream of
// data (StrideDecl, Kernel.declareFileStride; ./stride.ts). Code that reads a file's
// offset in a loop and decides on it otherwise than through such a copy must not
// declare it.

import type { AccessKind } from '../machine/cache.js';
import type { OpenFile } from '../vfs.js';

/** What fast-forward did in a run (the kernel keeps it, for reports and benchmarks). */
export interface FastForwardStats {
  /** Iterations simulated with the check on. */
  checks: number;
  /** Jumps made, and the iterations they covered in all. */
  jumps: number;
  skipped: number;
}

/** A moving part of a loop iteration, as the kernel's read or write path declares it. */
export interface StrideDecl {
  /** The open file whose offset the iteration moves on. */
  file: OpenFile;
  /** Its offset when the iteration came to this read or write. */
  start: number;
  /** The offsets the iteration may find there and do the same but for its stream: lo..hi. */
  lo: number;
  hi: number;
  /** The stream of file data the call copies: its physical address at `start`, its bytes, read or written. */
  addr: number;
  bytes: number;
  kind: AccessKind.Read | AccessKind.Write;
}

/** Where the kernel's read and write paths declare their moving streams while fast-forward checks an iteration (./stride.ts). */
export interface StrideDeclarations {
  declare(d: StrideDecl): void;
}

/** The key of a class's static declaration. */
export const STEADY: unique symbol = Symbol('l41sim.steady');

export interface SteadyDecl {
  readonly outputs?: readonly string[];
  readonly skip?: readonly string[];
  readonly sizeOnly?: readonly string[];
}
