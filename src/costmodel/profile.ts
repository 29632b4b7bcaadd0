// A profile: the modelled machine, its kernel and userland, and every unit cost,
// each with provenance. Profiles are JSON files in calibration/; this module
// declares their schema, validates them at the edge (naming the JSON path of any
// fault) and loads them. A profile that fails validation is refused whole.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { COSTS, costsFor, type CostName, type KernelFlavour } from './costs.js';
import { parseFingerprint, type MachineFingerprint } from './fingerprint.js';
import { parseParam, type Param, type Unit } from './param.js';
import { repoPath } from './repo.js';
import {
  ValidationError,
  expectArray,
  expectBoolean,
  expectKeys,
  expectNumber,
  expectObject,
  expectOneOf,
  expectString,
} from './validate.js';

export interface CacheLevelProfile {
  name: string;
  shared: boolean;
  size_bytes: Param;
  ways: Param;
  line_bytes: Param;
  /** Load-to-use latency of a dependent load served by this level. */
  hit_cycles: Param;
  /** Cost per line of a streaming (prefetched) access served by this level. */
  stream_cycles_per_line: Param;
}

export interface MachineProfile {
  isa: 'amd64' | 'armv7' | 'x86_64';
  cpus: Param;
  clock_hz: Param;
  page_bytes: Param;
  caches: CacheLevelProfile[];
  memory: {
    /** A dependent load that misses every cache. */
    latency_ns: Param;
    /** Streaming read and write cost per line from/to DRAM (bandwidth-bound). */
    stream_read_ns_per_line: Param;
    stream_write_ns_per_line: Param;
  };
  /** Data TLB: one fully-associative LRU level; the kernel maps itself with large pages. */
  tlb: { entries: Param; kernel_page_bytes: Param; miss_ns: Param; walk_loads: Param };
  /** Extra cost of the first touch of a physical page the machine has never used (e.g. a hypervisor backing guest memory); 0 on bare metal. */
  first_touch_ns: Param;
}

export interface KernelConfig {
  hz: Param;
  stathz: Param;
  /** FreeBSD debug options; Linux profiles set both false. */
  invariants: boolean;
  witness: boolean;
  /** /dev/zero's source region per uiomove (FreeBSD ZERO_REGION_SIZE); Linux clears in page-sized chunks. */
  zero_chunk_bytes: Param;
  /** Lock operations taken per clock tick by the rest of the system (callouts, other threads); lockstat sees them. */
  background_lock_ops_per_tick: Param;
}

export type DdFlavour = 'freebsd' | 'gnu';
export type AllocatorKind = 'jemalloc' | 'glibc';

export interface UserlandProfile {
  dd: DdFlavour;
  allocator: AllocatorKind;
  /** jemalloc's debug junk filling (opt_junk): new allocations are memset in user mode. */
  junk_fill: boolean;
  /** Anonymous pages first touched in user mode during start-up (run-time linker, libc, stack, allocator metadata): each faults once. */
  startup_user_pages: Param;
  /** The locale environment (LANG, LC_ALL, LC_*) the userland was measured in; a modelled GNU dd runs in it. */
  environment?: Record<string, string>;
}

/** The largest kernel text a map may place functions in (the model's kernel text region). */
export const KERNEL_TEXT_SPAN = 48 * 1024 * 1024;

/**
 * Where the kernel's functions are and how big (a Linux host's /proc/kallsyms), so
 * code fetches land on the real kernel's lines and pages: the cache sets and TLB
 * entries a path uses, and how many lines it fetches when cold. Without it, each
 * modelled function is placed next to the last and fetches the few lines its call
 * site names.
 */
export interface KernelText {
  /** Where the map was read: file, host and date. */
  from: string;
  /** The part of a function's lines its common path runs (ratio, 0-1). */
  hot_fraction: Param;
  /** Function name -> [offset from the start of kernel text, size in bytes]. */
  functions: Record<string, [number, number]>;
}

export interface Profile {
  name: string;
  description: string;
  kernel: KernelFlavour;
  userland: UserlandProfile;
  machine: MachineProfile;
  kernel_config: KernelConfig;
  costs: Record<CostName, Param>;
  /** Free text: what the model does not capture for this machine. */
  limitations: string[];
  kernel_text?: KernelText;
  /** The machine a host profile was measured on (see ./fingerprint.ts). */
  fingerprint?: MachineFingerprint;
}

const TOP_KEYS = ['name', 'description', 'kernel', 'userland', 'machine', 'kernel_config', 'costs', 'limitations', 'kernel_text', 'fingerprint', 'generated_by'] as const;

export function validateProfile(raw: unknown, origin = 'profile'): Profile {
  const obj = expectObject(raw, origin);
  expectKeys(obj, origin, TOP_KEYS);
  const kernel = expectOneOf(obj.kernel, `${origin}.kernel`, ['freebsd', 'linux'] as const);
  const profile: Profile = {
    name: expectString(obj.name, `${origin}.name`),
    description: expectString(obj.description, `${origin}.description`),
    kernel,
    userland: parseUserland(obj.userland, `${origin}.userland`),
    machine: parseMachine(obj.machine, `${origin}.machine`),
    kernel_config: parseKernelConfig(obj.kernel_config, `${origin}.kernel_config`),
    costs: parseCosts(obj.costs, `${origin}.costs`, kernel),
    limitations: expectArray(obj.limitations, `${origin}.limitations`).map((l, i) => expectString(l, `${origin}.limitations[${i}]`)),
  };
  if (profile.kernel === 'linux' && (profile.kernel_config.invariants || profile.kernel_config.witness)) {
    throw new ValidationError(`${origin}.kernel_config`, 'INVARIANTS/WITNESS are FreeBSD options', 'false for a linux kernel');
  }
  if (obj.kernel_text !== undefined) profile.kernel_text = parseKernelText(obj.kernel_text, `${origin}.kernel_text`);
  if (obj.fingerprint !== undefined) profile.fingerprint = parseFingerprint(obj.fingerprint, `${origin}.fingerprint`);
  return profile;
}

function parseKernelText(raw: unknown, path: string): KernelText {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, ['from', 'hot_fraction', 'functions']);
  const functions: Record<string, [number, number]> = {};
  const expected = `[offset, bytes]: integers, offset + bytes within ${KERNEL_TEXT_SPAN / (1024 * 1024)} MiB`;
  for (const [name, v] of Object.entries(expectObject(obj.functions, `${path}.functions`))) {
    const at = `${path}.functions.${name}`;
    const pair = expectArray(v, at, expected);
    if (pair.length !== 2) throw new ValidationError(at, `${pair.length} numbers`, expected);
    const offset = expectNumber(pair[0], `${at}[0]`, { integer: true, min: 0, max: KERNEL_TEXT_SPAN - 1 });
    const bytes = expectNumber(pair[1], `${at}[1]`, { integer: true, min: 1, max: KERNEL_TEXT_SPAN - offset });
    functions[name] = [offset, bytes];
  }
  return {
    from: expectString(obj.from, `${path}.from`),
    hot_fraction: parseParam(obj.hot_fraction, `${path}.hot_fraction`, 'ratio', { min: 0.01, max: 1 }),
    functions,
  };
}

function parseUserland(raw: unknown, path: string): UserlandProfile {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, ['dd', 'allocator', 'junk_fill', 'startup_user_pages', 'environment']);
  const userland: UserlandProfile = {
    dd: expectOneOf(obj.dd, `${path}.dd`, ['freebsd', 'gnu'] as const),
    allocator: expectOneOf(obj.allocator, `${path}.allocator`, ['jemalloc', 'glibc'] as const),
    junk_fill: expectBoolean(obj.junk_fill, `${path}.junk_fill`),
    startup_user_pages: parseParam(obj.startup_user_pages, `${path}.startup_user_pages`, 'pages', { integer: true, max: 1 << 20 }),
  };
  if (obj.environment !== undefined) {
    const env = expectObject(obj.environment, `${path}.environment`);
    userland.environment = Object.fromEntries(
      Object.entries(env).map(([k, v]) => {
        if (!/^(LANG|LANGUAGE|LC_[A-Z]+)$/.test(k)) throw new ValidationError(`${path}.environment.${k}`, 'not a locale variable', 'LANG, LANGUAGE, LC_ALL or another LC_* name');
        return [k, typeof v === 'string' ? v : expectString(v, `${path}.environment.${k}`)];
      }),
    );
  }
  return userland;
}

function parseMachine(raw: unknown, path: string): MachineProfile {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, ['isa', 'cpus', 'clock_hz', 'page_bytes', 'caches', 'memory', 'tlb', 'first_touch_ns']);
  const tlb = expectObject(obj.tlb, `${path}.tlb`);
  expectKeys(tlb, `${path}.tlb`, ['entries', 'kernel_page_bytes', 'miss_ns', 'walk_loads']);
  const caches = expectArray(obj.caches, `${path}.caches`, 'a list of cache levels, L1 first').map((c, i) => parseCache(c, `${path}.caches[${i}]`));
  if (caches.length === 0) throw new ValidationError(`${path}.caches`, 'no cache levels', 'at least an L1D');
  const line = caches[0]!.line_bytes.value;
  caches.forEach((c, i) => {
    if (c.line_bytes.value !== line) throw new ValidationError(`${path}.caches[${i}].line_bytes.value`, `${c.line_bytes.value} differs from L1's ${line}`, 'one line size for all levels');
  });
  const memory = expectObject(obj.memory, `${path}.memory`);
  expectKeys(memory, `${path}.memory`, ['latency_ns', 'stream_read_ns_per_line', 'stream_write_ns_per_line']);
  const page = parseParam(obj.page_bytes, `${path}.page_bytes`, 'bytes', { integer: true, min: 4096, max: 65536 });
  if ((page.value & (page.value - 1)) !== 0) throw new ValidationError(`${path}.page_bytes.value`, `${page.value} is not a power of two`, 'a power of two from 4096 to 65536');
  return {
    isa: expectOneOf(obj.isa, `${path}.isa`, ['amd64', 'armv7', 'x86_64'] as const),
    cpus: parseParam(obj.cpus, `${path}.cpus`, 'count', { integer: true, min: 1, max: 256 }),
    clock_hz: parseParam(obj.clock_hz, `${path}.clock_hz`, 'hz', { min: 1e6, max: 1e11 }),
    page_bytes: page,
    caches,
    memory: {
      latency_ns: parseParam(memory.latency_ns, `${path}.memory.latency_ns`, 'ns', { max: 1e5 }),
      stream_read_ns_per_line: parseParam(memory.stream_read_ns_per_line, `${path}.memory.stream_read_ns_per_line`, 'ns', { max: 1e4 }),
      stream_write_ns_per_line: parseParam(memory.stream_write_ns_per_line, `${path}.memory.stream_write_ns_per_line`, 'ns', { max: 1e4 }),
    },
    tlb: {
      entries: parseParam(tlb.entries, `${path}.tlb.entries`, 'count', { integer: true, min: 1, max: 1 << 16 }),
      kernel_page_bytes: parseParam(tlb.kernel_page_bytes, `${path}.tlb.kernel_page_bytes`, 'bytes', { integer: true, min: 4096, max: 1 << 30 }),
      miss_ns: parseParam(tlb.miss_ns, `${path}.tlb.miss_ns`, 'ns', { max: 1e5 }),
      walk_loads: parseParam(tlb.walk_loads, `${path}.tlb.walk_loads`, 'count', { integer: true, min: 0, max: 32 }),
    },
    first_touch_ns: parseParam(obj.first_touch_ns, `${path}.first_touch_ns`, 'ns', { max: 1e7 }),
  };
}

function parseCache(raw: unknown, path: string): CacheLevelProfile {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, ['name', 'shared', 'size_bytes', 'ways', 'line_bytes', 'hit_cycles', 'stream_cycles_per_line']);
  const level: CacheLevelProfile = {
    name: expectString(obj.name, `${path}.name`),
    shared: expectBoolean(obj.shared, `${path}.shared`),
    size_bytes: parseParam(obj.size_bytes, `${path}.size_bytes`, 'bytes', { integer: true, min: 1024, max: 2 ** 32 }),
    ways: parseParam(obj.ways, `${path}.ways`, 'count', { integer: true, min: 1, max: 64 }),
    line_bytes: parseParam(obj.line_bytes, `${path}.line_bytes`, 'bytes', { integer: true, min: 16, max: 256 }),
    hit_cycles: parseParam(obj.hit_cycles, `${path}.hit_cycles`, 'cycles', { max: 1e4 }),
    stream_cycles_per_line: parseParam(obj.stream_cycles_per_line, `${path}.stream_cycles_per_line`, 'cycles', { max: 1e4 }),
  };
  const sets = level.size_bytes.value / (level.ways.value * level.line_bytes.value);
  if (!Number.isInteger(sets) || (sets & (sets - 1)) !== 0) {
    throw new ValidationError(`${path}.size_bytes.value`, `${level.size_bytes.value} bytes over ${level.ways.value} ways of ${level.line_bytes.value}-byte lines is not a power-of-two number of sets`, 'size = sets x ways x line with sets a power of two');
  }
  return level;
}

function parseKernelConfig(raw: unknown, path: string): KernelConfig {
  const obj = expectObject(raw, path);
  expectKeys(obj, path, ['hz', 'stathz', 'invariants', 'witness', 'zero_chunk_bytes', 'background_lock_ops_per_tick']);
  return {
    hz: parseParam(obj.hz, `${path}.hz`, 'hz', { min: 10, max: 100000 }),
    stathz: parseParam(obj.stathz, `${path}.stathz`, 'hz', { min: 1, max: 100000 }),
    invariants: expectBoolean(obj.invariants, `${path}.invariants`),
    witness: expectBoolean(obj.witness, `${path}.witness`),
    zero_chunk_bytes: parseParam(obj.zero_chunk_bytes, `${path}.zero_chunk_bytes`, 'bytes', { integer: true, min: 512, max: 1 << 30 }),
    background_lock_ops_per_tick: parseParam(obj.background_lock_ops_per_tick, `${path}.background_lock_ops_per_tick`, 'count', { max: 1e6 }),
  };
}

function parseCosts(raw: unknown, path: string, kernel: KernelFlavour): Record<CostName, Param> {
  const obj = expectObject(raw, path);
  const wanted = costsFor(kernel);
  expectKeys(obj, path, wanted);
  const out = {} as Record<CostName, Param>;
  for (const name of wanted) {
    if (obj[name] === undefined) throw new ValidationError(`${path}.${name}`, 'missing', `a ${COSTS[name].unit} parameter: ${COSTS[name].doc}`);
    out[name] = parseParam(obj[name], `${path}.${name}`, COSTS[name].unit as Unit, { max: 1e9 });
  }
  return out;
}

// ---- Loading -----------------------------------------------------------------


export function calibrationDir(): string {
  return repoPath('calibration');
}

/** The file behind a profile name. (`host`, this machine's profile, is resolved by src/workloads/host-profile.ts before loading.) */
export function profilePath(name: string): string {
  return join(calibrationDir(), `${name}.json`);
}

/** Shipped and calibrated profile names (file stems in calibration/ that hold profiles). */
export function listProfileNames(): string[] {
  return readdirSync(calibrationDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadProfile(name: string): Profile {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ValidationError('--profile', `'${name}' is not a profile name`, `one of ${[...listProfileNames(), 'host'].join(', ')}`);
  }
  const path = profilePath(name);
  if (!existsSync(path)) {
    throw new ValidationError('--profile', `no profile named '${name}'`, `one of ${[...listProfileNames(), 'host'].join(', ')}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ValidationError(path, `cannot read the profile (${e.code ?? e.message})`, 'a readable profile document (JSON)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(path, `not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`, 'a profile document');
  }
  return validateProfile(raw, name);
}

/** A short stable hash of a profile's content, recorded with results. */
export function profileHash(profile: Profile): string {
  return createHash('sha256').update(JSON.stringify(profile)).digest('hex').slice(0, 12);
}
