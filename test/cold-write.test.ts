// A small call right after a big copy: the model against calibration/probes/cold-write.c's
// measurements on the host-vm profile's machine (calibration/data/host-vm-cold-write.json):
// a write(2) to /dev/null (six runs) and the null call getppid(2) (three runs).
// With the kernel text map (from the host's /proc/kallsyms) the model gives the write after a
// small copy +12% and its penalty beyond the last-level cache -15% (without the map, half of
// it). The map's hot fraction was chosen by hand against the write, so those two checks guard
// the choice rather than test it. getppid was measured after the choice: the model has the
// call after a small copy (+9%) but a third of its penalty beyond the LLC, where the measured
// penalty is as large as the write's (the entry and exit path, not the call's body, is most
// of it). calibration/REPORT.md, "Cold paths", has the tables. Tolerances, stated with each
// check; the getppid penalty's is a guard on a known gap, not agreement.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { measuredColdCalls, modelledColdCalls, SMALL_COPY_BYTES, type ColdWriteData } from '../src/workloads/calibrate/cold-write.js';

const DATA: ColdWriteData = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'calibration', 'data', 'host-vm-cold-write.json'), 'utf8'));
const MiB = 1 << 20;
const profile = loadProfile('host-vm');

describe.each([
  // call, small-copy tolerance, [lowest, highest] modelled/measured penalty beyond the LLC
  ['write', 0.3, [0.65, 1.35]],
  ['getppid', 0.3, [0.25, 1.35]],
] as const)('cold-write: one %s right after a copy', (call, smallTolerance, [low, high]) => {
  const measuredRows = measuredColdCalls(DATA, call);
  const measured = (bytes: number) => measuredRows.get(bytes)!.penalty_ns;
  const rows = modelledColdCalls(profile, call, [SMALL_COPY_BYTES, MiB, 10 * MiB, 64 * MiB]);
  const penalty = (bytes: number) => rows.find((r) => r.copy_bytes === bytes)!.penalty_ns;

  it(`models the call after a small copy within ${100 * smallTolerance}% of the measured one (whole call, untraced)`, () => {
    const modelled = rows.find((r) => r.copy_bytes === SMALL_COPY_BYTES)!.call_after_copy_ns;
    const real = measuredRows.get(SMALL_COPY_BYTES)!.call_after_copy_ns;
    expect(Math.abs(modelled - real) / real).toBeLessThanOrEqual(smallTolerance);
  });

  it('costs more the bigger the copy before it, in the model as measured', () => {
    expect(penalty(MiB)).toBeGreaterThan(0);
    expect(penalty(10 * MiB)).toBeGreaterThan(penalty(MiB));
    expect(penalty(64 * MiB)).toBeGreaterThanOrEqual(penalty(10 * MiB));
    expect(measured(64 * MiB)).toBeGreaterThan(measured(10 * MiB));
    expect(measured(10 * MiB)).toBeGreaterThan(measured(MiB));
  });

  it('leaves a copy that fits in the last-level cache far cheaper than one beyond it', () => {
    expect(penalty(MiB)).toBeLessThan(0.25 * penalty(64 * MiB));
    expect(measured(MiB)).toBeLessThan(0.25 * measured(64 * MiB));
  });

  it(`gives between ${low} and ${high} of the measured penalty beyond the last-level cache`, () => {
    const ratio = penalty(64 * MiB) / measured(64 * MiB);
    expect(ratio).toBeGreaterThanOrEqual(low);
    expect(ratio).toBeLessThanOrEqual(high);
  });
});

describe('cold-write data', () => {
  it('refuses a run without the small copy its penalties are measured against', () => {
    expect(() => measuredColdCalls({ runs: [{ rows: [{ copy_bytes: MiB, cold_write_ns: 1, warm_write_ns: 1 }] }] }, 'write')).toThrow(/no 65536-byte row/);
  });

  it('says so when no run timed the call', () => {
    const rows = [{ copy_bytes: SMALL_COPY_BYTES, cold_write_ns: 300, warm_write_ns: 300 }];
    expect(() => measuredColdCalls({ runs: [{ rows }] }, 'getppid')).toThrow('no cold-write run timed getppid');
  });

  it('reads getppid only from the runs that timed it', () => {
    const rows = [
      { copy_bytes: SMALL_COPY_BYTES, cold_write_ns: 300, warm_write_ns: 300 },
      { copy_bytes: MiB, cold_write_ns: 500, warm_write_ns: 300 },
    ];
    const timed = rows.map((r) => ({ ...r, cold_getppid_ns: r.cold_write_ns - 100, warm_getppid_ns: 200 }));
    const m = measuredColdCalls({ runs: [{ rows }, { rows: timed }] }, 'getppid');
    expect(m.get(MiB)).toEqual({ call_after_copy_ns: 400, penalty_ns: 200 });
  });
});
