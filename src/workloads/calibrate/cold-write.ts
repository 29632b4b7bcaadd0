// The model's side of calibration/probes/cold-write.c: what one write(2) to
// /dev/null costs right after a read(2) copy of a given size, and how much more
// than after a small copy. The probe times whole calls on a real machine; here dd
// with count=2 makes the same calls (read, write, read, write) untraced, and the
// kernel's own ledger gives the second write's whole span, entry to return: the
// call after a copy with the path's code already fetched once, as in the probe's
// steady state.

import { median } from 'simple-statistics';
import type { Profile } from '../../costmodel/profile.js';
import { parseOperands } from '../dd/operands.js';
import { profileFeatures, runDd } from '../dd/run.js';

/** The copy the probe treats as leaving the caches warm: it fits in every L2 it has met. */
export const WARM_COPY_BYTES = 64 * 1024;

export interface ColdWriteRow {
  copy_bytes: number;
  /** The second write of dd count=2 at this block size, entry to return (ns, untraced). */
  write_after_copy_ns: number;
  /** write_after_copy_ns minus the same at WARM_COPY_BYTES. */
  penalty_ns: number;
}

/** The whole time of dd's second write(2) at block size `bytes`, untraced (the kernel's ledger). */
function secondWriteNs(profile: Profile, bytes: number): number {
  const writePs = (count: string) => {
    const run = runDd(parseOperands({ bs: String(bytes), count }), { profile, seed: 'cold-write', features: profileFeatures(profile), scripts: [] });
    return run.kernel.steps.syscalls.get('write')?.ps ?? 0;
  };
  return (writePs('2') - writePs('1')) / 1000;
}

export function modelledColdWrites(profile: Profile, copySizes: readonly number[]): ColdWriteRow[] {
  const warm = secondWriteNs(profile, WARM_COPY_BYTES);
  return copySizes.map((bytes) => {
    const ns = bytes === WARM_COPY_BYTES ? warm : secondWriteNs(profile, bytes);
    return { copy_bytes: bytes, write_after_copy_ns: ns, penalty_ns: ns - warm };
  });
}

/** calibration/data/host-vm-cold-write.json: runs of the probe. */
export interface ColdWriteData {
  runs: { rows: { copy_bytes: number; cold_write_ns: number; warm_write_ns: number }[] }[];
}

/** Per copy size, the measured cold write and its penalty (defined as the model's: minus the cold write after WARM_COPY_BYTES), medians over runs. */
export function measuredColdWrites(data: ColdWriteData): Map<number, { write_after_copy_ns: number; penalty_ns: number }> {
  const perSize = new Map<number, { cold: number[]; penalty: number[] }>();
  for (const run of data.runs) {
    const warm = run.rows.find((r) => r.copy_bytes === WARM_COPY_BYTES);
    if (!warm) throw new Error(`a cold-write run has no ${WARM_COPY_BYTES}-byte row to measure penalties from`);
    for (const r of run.rows) {
      const v = perSize.get(r.copy_bytes) ?? { cold: [], penalty: [] };
      v.cold.push(r.cold_write_ns);
      v.penalty.push(r.cold_write_ns - warm.cold_write_ns);
      perSize.set(r.copy_bytes, v);
    }
  }
  return new Map([...perSize].map(([bytes, v]) => [bytes, { write_after_copy_ns: median(v.cold), penalty_ns: median(v.penalty) }]));
}
