// The description of a data-cache hierarchy (levels innermost first, each with
// its size, associativity and line size) and its validation, for ./cache.ts.

/** One level of the hierarchy (gem5-style: each parameter with its unit). */
export interface CacheLevelConfig {
  /** Display name, e.g. 'L1D', 'L2', 'L3'. */
  name: string;
  /** Capacity in bytes (per instance). sets = sizeBytes / (ways * lineBytes) must be a positive integer. */
  sizeBytes: number;
  /** Associativity (lines per set). */
  ways: number;
  /** Line size in bytes; a power of two, the same at every level. */
  lineBytes: number;
  /** true: one instance for all CPUs; false: one instance per CPU. */
  shared: boolean;
}

export interface CacheHierarchyConfig {
  /** Number of CPUs; private levels have one instance each. */
  cpus: number;
  /** Levels ordered innermost (L1) first; all share one line size. Memory is behind the last. */
  levels: CacheLevelConfig[];
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 2 ** 30 && (n & (n - 1)) === 0;
}

function fail(field: string, what: string, expected: string): never {
  throw new Error(`${field}: ${what}; expected ${expected}`);
}

function checkCount(field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(field, `${String(v)} is not a positive integer`, 'a positive integer');
}

/**
 * Validates a hierarchy description; throws an Error whose message starts with the
 * offending field (e.g. `levels[1].sizeBytes: ...`).
 *
 * Line size must be a power of two and equal at every level. Size and ways need only
 * give an integer number of sets: real parts have 12-way 48 KiB L1Ds and 20-way L3s,
 * and the model indexes sets by line number modulo sets, which works for any count.
 */
export function validateCacheHierarchyConfig(config: CacheHierarchyConfig): void {
  if (config === null || typeof config !== 'object') fail('cache', 'missing', 'an object with cpus and levels');
  checkCount('cpus', config.cpus);
  if (!Array.isArray(config.levels) || config.levels.length === 0) fail('levels', 'empty or not an array', 'at least one cache level');
  let line: number | undefined;
  config.levels.forEach((l, i) => {
    const f = `levels[${i}]`;
    if (l === null || typeof l !== 'object') fail(f, 'not an object', 'a cache level description');
    if (typeof l.name !== 'string' || l.name === '') fail(`${f}.name`, 'missing', 'a non-empty name such as L1D');
    checkCount(`${f}.sizeBytes`, l.sizeBytes);
    checkCount(`${f}.ways`, l.ways);
    if (!isPowerOfTwo(l.lineBytes)) fail(`${f}.lineBytes`, `${String(l.lineBytes)} is not a power of two`, 'a power of two such as 64');
    if (line !== undefined && l.lineBytes !== line) fail(`${f}.lineBytes`, `${l.lineBytes} differs from levels[0].lineBytes ${line}`, 'one line size for all levels');
    line = l.lineBytes;
    const sets = l.sizeBytes / (l.ways * l.lineBytes);
    if (!Number.isInteger(sets) || sets < 1) {
      fail(`${f}.sizeBytes`, `${l.sizeBytes} bytes / (${l.ways} ways * ${l.lineBytes} B lines) = ${sets} sets`, 'a whole, positive number of sets');
    }
    if (typeof l.shared !== 'boolean') fail(`${f}.shared`, `${String(l.shared)} is not a boolean`, 'true (one instance for all CPUs) or false (one per CPU)');
  });
}
