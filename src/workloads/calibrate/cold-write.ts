// The model's side of calibration/probes/cold-write.c: how much more one
// write(2) to /dev/null costs right after a read(2) copy of a given size than
// after a small one. The probe measures this on a real machine; here dd with
// count=2 makes the same calls (read, write, read, write), and the second write
// is the one after a copy with the path's code already fetched once, as in the
// probe's steady state. Both runs carry the same DTrace probe effect, which the
// difference cancels.

import { median } from 'simple-statistics';
import type { Profile } from '../../costmodel/profile.js';
import { parseOperands } from '../dd/operands.js';
import { profileFeatures, runDd } from '../dd/run.js';

/** The copy the probe treats as leaving the caches warm: it fits in every L2 it has met. */
export const WARM_COPY_BYTES = 64 * 1024;

export interface ColdWriteRow {
  copy_bytes: number;
  /** The second write of dd count=2 at this block size (ns, DTrace-timed). */
  write_after_copy_ns: number;
  /** write_after_copy_ns minus the same at WARM_COPY_BYTES. */
  penalty_ns: number;
}

/** The time of dd's second write(2) at block size `bytes`, under the syscall-time script. */
function secondWriteNs(profile: Profile, bytes: number): number {
  const writeRow = (count: string) => {
    const run = runDd(parseOperands({ bs: String(bytes), count }), { profile, seed: 'cold-write', features: profileFeatures(profile), scripts: ['syscall-time'] });
    return run.kernel.dtrace.keyed('syscall_time').find(([name]) => name === 'write')?.[1] ?? 0;
  };
  return writeRow('2') - writeRow('1');
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

/** The measured penalty per copy size, defined as the model's is: cold write minus cold write after WARM_COPY_BYTES, median over runs. */
export function measuredPenalties(data: ColdWriteData): Map<number, number> {
  const perSize = new Map<number, number[]>();
  for (const run of data.runs) {
    const warm = run.rows.find((r) => r.copy_bytes === WARM_COPY_BYTES);
    if (!warm) throw new Error(`a cold-write run has no ${WARM_COPY_BYTES}-byte row to measure penalties from`);
    for (const r of run.rows) perSize.set(r.copy_bytes, [...(perSize.get(r.copy_bytes) ?? []), r.cold_write_ns - warm.cold_write_ns]);
  }
  return new Map([...perSize].map(([bytes, v]) => [bytes, median(v)]));
}
