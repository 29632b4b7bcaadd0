/**
 * Running calibration/probes/cold-write.c on the host: what one write(2) to /dev/null,
 * and one getppid(2), cost right after a read(2) copy, measured. Node cannot time one system call without
 * its own binding's cost and cold code in the way, so the probe is C (./cc.ts).
 */
import { runCProbe } from './cc.js';

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

/** Build and run the probe over `copySizes`; a string says why it was skipped. */
export function measureColdWrite(copySizes: readonly number[], repeats: number): ColdWriteMeasurement | string {
  const run = runCProbe<Omit<ColdWriteMeasurement, 'compiler'>>(COLD_WRITE_SOURCE, [String(repeats), ...copySizes.map(String)]);
  if (typeof run === 'string') return run;
  const out = run.output;
  if (!Array.isArray(out.rows) || !copySizes.every((b) => out.rows.some((r) => r.copy_bytes === b && COLD_CALLS.every((c) => coldCallNs(r, c) !== undefined)))) {
    return 'the cold-write probe left out a copy size or a call it was given';
  }
  return { compiler: run.compiler, ...out };
}
