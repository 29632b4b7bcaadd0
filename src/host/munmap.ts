// munmap(2) of a populated anonymous region, per page, timed by python3 (./python.ts):
// one mmap, a store per page, one munmap timed with time.perf_counter_ns. Node cannot
// unmap a region it chooses.

import { runPythonJson } from './python.js';
import { spreadOf, type Spread } from './stats.js';

export interface MunmapMeasurement {
  bytes: number;
  /** munmap(2) time per populated page, ns. */
  per_page_ns: Spread;
  method: string;
}

/** The pages the script stores to: x86-64's base page. */
const PAGE = 4096;

const MUNMAP_SCRIPT = `
import mmap, time, json, sys
n = int(sys.argv[1]); reps = int(sys.argv[2]); out = []
for r in range(reps + 1):
    m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for off in range(0, n, ${PAGE}):
        m[off] = 1
    t0 = time.perf_counter_ns(); m.close(); t1 = time.perf_counter_ns()
    if r > 0: out.append(t1 - t0)
print(json.dumps(out))
`;

/** Time munmap of `bytes` populated bytes `repeats` times (after one unrecorded run); an Error with python's reason when it cannot. */
export function measureMunmap(bytes: number, repeats: number): MunmapMeasurement {
  const samples = runPythonJson<number[]>(MUNMAP_SCRIPT, [String(bytes), String(repeats)], 60_000).map((ns) => ns / (bytes / PAGE));
  return { bytes, per_page_ns: spreadOf(samples), method: 'python3 mmap.mmap + a store per page + close() (munmap), time.perf_counter_ns' };
}
