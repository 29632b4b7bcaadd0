// The model's side of calibration/probes/cold-write.c: what one write(2) to
// /dev/null costs right after a read(2) copy of a given size, and how much more
// than after a small copy. The probe times whole calls on a real machine; here dd
// with count=2 makes the same calls (read, write, read, write) untraced, and the
// kernel's own ledger gives the second write's whole span, entry to return: the
// call after a copy with the path's code already fetched once, as in the probe's
// steady state.

import { median } from 'simple-statistics';
import type { ColdWriteProbeRow } from '../../costmodel/host/cold-write-probe.js';
import type { Profile } from '../../costmodel/profile.js';
import { parseOperands } from '../dd/operands.js';
import { profileFeatures, runDd } from '../dd/run.js';

/** The small copy penalties are measured against: it fits in every L2 the probe has met. */
export const SMALL_COPY_BYTES = 64 * 1024;

export interface ColdWriteRow {
  copy_bytes: number;
  /** The second write of dd count=2 at this block size, entry to return (ns, untraced). */
  write_after_copy_ns: number;
  /** write_after_copy_ns minus the same at SMALL_COPY_BYTES. */
  penalty_ns: number;
}

/** The whole time of dd's second write(2) at block size `bytes`, untraced (the kernel's ledger). */
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

export function modelledColdWrites(profile: Profile, copySizes: readonly number[]): ColdWriteRow[] {
  const warm = secondWriteNs(profile, SMALL_COPY_BYTES);
  return copySizes.map((bytes) => {
    const ns = bytes === SMALL_COPY_BYTES ? warm : secondWriteNs(profile, bytes);
    return { copy_bytes: bytes, write_after_copy_ns: ns, penalty_ns: ns - warm };
  });
}

/** calibration/data/host-vm-cold-write.json: runs of the probe. */
export interface ColdWriteData {
  runs: { rows: ColdWriteProbeRow[] }[];
}

/** Per copy size, the measured cold write and its penalty (defined as the model's: minus the cold write after SMALL_COPY_BYTES), medians over runs. */
export function measuredColdWrites(data: ColdWriteData): Map<number, { write_after_copy_ns: number; penalty_ns: number }> {
  const perSize = new Map<number, { cold: number[]; penalty: number[] }>();
  for (const run of data.runs) {
    const warm = run.rows.find((r) => r.copy_bytes === SMALL_COPY_BYTES);
    if (!warm) throw new Error(`a cold-write run has no ${SMALL_COPY_BYTES}-byte row to measure penalties from`);
    for (const r of run.rows) {
      const v = perSize.get(r.copy_bytes) ?? { cold: [], penalty: [] };
      v.cold.push(r.cold_write_ns);
      v.penalty.push(r.cold_write_ns - warm.cold_write_ns);
      perSize.set(r.copy_bytes, v);
    }
  }
  return new Map([...perSize].map(([bytes, v]) => [bytes, { write_after_copy_ns: median(v.cold), penalty_ns: median(v.penalty) }]));
}
