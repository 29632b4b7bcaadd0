// The model's side of calibration/probes/cold-write.c: what one small system call
// costs right after a read(2) copy of a given size, and how much more than after a
// small copy. The probe times whole calls on a real machine: a write(2) to /dev/null
// and the null call, getppid(2). Here, untraced, with whole spans from the kernel's
// own ledger:
// - write: dd count=2 makes the same calls (read, write, read, write); its second
//   write is the call after a copy with the path's code fetched once before, as in
//   the probe's steady state;
// - getppid: the fast-path program's cold calls, each right after its read(2) copy; the
//   last of a few, after warm calls, so that it is the steady state the probe's rounds
//   reach, not a first call's compulsory misses;
// The two programs differ around the call (dd charges clock interrupts, the fast-path
// program prices them at 0 and uses FreeBSD's user layout); the spans compared are the
// kernel's, entry to return, where that makes little difference.

import { median } from 'simple-statistics';
import { coldCallNs, type ColdCall, type ColdWriteProbeRow } from '../../host/cold-write.js';
import type { Profile } from '../../costmodel/profile.js';
import { parseOperands } from '../dd/operands.js';
import { runDd } from '../dd/run.js';
import { profileFeatures } from '../../kernel/hooks.js';
import { runFastpath } from '../fastpath.js';

/** The small copy penalties are measured against: it fits in every L2 the probe has met. */
export const SMALL_COPY_BYTES = 64 * 1024;

export interface ColdCallRow {
  copy_bytes: number;
  /** The call right after a copy of this size, entry to return (ns, untraced). */
  call_after_copy_ns: number;
  /** call_after_copy_ns minus the same at SMALL_COPY_BYTES. */
  penalty_ns: number;
}

/** The whole time of dd's second write(2) at block size `bytes`. */
function secondWriteNs(profile: Profile, bytes: number): number {
  const writes = (count: string) => {
    const run = runDd(parseOperands({ bs: String(bytes), count }), { profile, seed: 'cold-write', features: profileFeatures(profile), scripts: [] });
    return run.kernel.steps.syscalls.get('write') ?? { count: 0, ps: 0 };
  };
  const one = writes('1');
  const two = writes('2');
  // The difference is one call only if the second block adds exactly one write (dd's own
  // summary writes, if any, are in both runs).
  if (two.count !== one.count + 1) throw new Error(`dd count=2 made ${two.count - one.count} more writes than count=1, not one`);
  return (two.ps - one.ps) / 1000;
}

/** The whole time of the null call right after a read(2) copy of `bytes`, in the steady state of repeated rounds. */
function nullCallAfterCopyNs(profile: Profile, bytes: number): number {
  const run = runFastpath({ profile, seed: 'cold-write', features: profileFeatures(profile), calls: 3, warmup: 0, copyBytes: bytes, coldRounds: 2 });
  if (run.syscall !== 'getppid') throw new Error(`profile '${profile.name}' models ${run.syscall}, not getppid, as its null call`);
  return run.cold.at(-1)!.ps / 1000;
}

export function modelledColdCalls(profile: Profile, call: ColdCall, copySizes: readonly number[]): ColdCallRow[] {
  const timeOf = (bytes: number) => (call === 'write' ? secondWriteNs(profile, bytes) : nullCallAfterCopyNs(profile, bytes));
  const small = timeOf(SMALL_COPY_BYTES);
  return copySizes.map((bytes) => {
    const ns = bytes === SMALL_COPY_BYTES ? small : timeOf(bytes);
    return { copy_bytes: bytes, call_after_copy_ns: ns, penalty_ns: ns - small };
  });
}

/** calibration/data/host-vm-cold-write.json: runs of the probe (runs from before it timed getppid have only write). */
export interface ColdWriteData {
  runs: { rows: ColdWriteProbeRow[] }[];
}

/**
 * Per copy size, the measured call right after the copy and its penalty (defined as the
 * model's: minus the same after SMALL_COPY_BYTES), medians over the runs that timed the call.
 */
export function measuredColdCalls(data: ColdWriteData, call: ColdCall): Map<number, { call_after_copy_ns: number; penalty_ns: number }> {
  const perSize = new Map<number, { cold: number[]; penalty: number[] }>();
  for (const run of data.runs) {
    if (!run.rows.every((r) => coldCallNs(r, call) !== undefined)) continue;
    const small = run.rows.find((r) => r.copy_bytes === SMALL_COPY_BYTES);
    if (!small) throw new Error(`a cold-write run has no ${SMALL_COPY_BYTES}-byte row to measure penalties from`);
    for (const r of run.rows) {
      const v = perSize.get(r.copy_bytes) ?? { cold: [], penalty: [] };
      v.cold.push(coldCallNs(r, call)!);
      v.penalty.push(coldCallNs(r, call)! - coldCallNs(small, call)!);
      perSize.set(r.copy_bytes, v);
    }
  }
  if (perSize.size === 0) throw new Error(`no cold-write run timed ${call}`);
  return new Map([...perSize].map(([bytes, v]) => [bytes, { call_after_copy_ns: median(v.cold), penalty_ns: median(v.penalty) }]));
}
