// The machine profile, declared once: every section and parameter with its unit, range,
// default (where a neutral value exists) and a one-line description. The declaration
// gives the Profile type (Out<...>), the validation (naming the JSON path of any
// fault) and the `l41sim profiles --params` listing.
//
// Adding a parameter is a one-place change: add a line to its section below,
//
//   kernel_config: section({ ...,
//     sd_read_ns_per_page: param('ns', 'one page read from the SD card', { max: 1e7 }),
//   }),
//
// (a unit cost of a kernel path goes in the COSTS table in costs.ts instead), give it
// a value with provenance in each profile under calibration/ (or a default: a fifth
// argument { value, why } to param(), recorded as assumed with that reason), and read
// it from the model as profile.kernel_config.sd_read_ns_per_page.value. The type, the
// checks, the error messages and the listing follow from the declaration.

import { byKey, Default, flag, list, List, number, oneOf, Optional, record, Section, section, text, tuple, Wrapped, type Out, type Schema } from '../schema.js';
import { COSTS, costsFor, type CostName, type KernelFlavour } from './costs.js';
import { dataFilePathProblem, MAX_FILE_BYTES } from '../kernel/vfs.js';
import { hostFingerprint } from './fingerprint.js';
import { param, PARAMS, type Param, type ParamMeta } from './param.js';

const cacheLevel = section({
  name: text('a level name such as L1D, L2 or L3').describe('the level, as the listing shows it (L1D, L2, L3)'),
  shared: flag().describe('one instance for all CPUs (true) or one per CPU (false)'),
  size_bytes: param('bytes', 'capacity of one instance', { integer: true, min: 1024, max: 2 ** 32 }),
  ways: param('count', 'associativity', { integer: true, min: 1, max: 64 }),
  line_bytes: param('bytes', 'line size (the same at every level)', { integer: true, min: 16, max: 256 }),
  hit_cycles: param('cycles', 'load-to-use latency of a dependent load served by this level', { max: 1e4 }),
  stream_cycles_per_line: param('cycles', 'cost per line of a streaming (prefetched) access served by this level', { max: 1e4 }),
}).refine((c, fail) => {
  const sets = c.size_bytes.value / (c.ways.value * c.line_bytes.value);
  if (!Number.isInteger(sets) || (sets & (sets - 1)) !== 0) {
    fail(['size_bytes', 'value'], `${c.size_bytes.value} bytes over ${c.ways.value} ways of ${c.line_bytes.value}-byte lines is not a power-of-two number of sets`, 'size = sets x ways x line with sets a power of two');
  }
});

const machine = section({
  isa: oneOf(['amd64', 'armv7', 'x86_64']).describe("instruction set: the user programs' address-space layout and system-call ABI"),
  cpus: param('count', 'CPUs; a single-threaded program runs on one, the others are idle', { integer: true, min: 1, max: 256 }),
  clock_hz: param('hz', 'core clock, converting cycle costs to time', { min: 1e6, max: 1e11 }),
  page_bytes: param('bytes', 'base page size', { integer: true, min: 4096, max: 65536, powerOfTwo: true }),
  caches: list(cacheLevel, 'a list of cache levels, L1 first', { problem: 'no cache levels', expected: 'at least an L1D' }).refine((caches, fail) => {
    const line = caches[0]!.line_bytes.value;
    caches.forEach((c, i) => {
      if (c.line_bytes.value !== line) fail([i, 'line_bytes', 'value'], `${c.line_bytes.value} differs from L1's ${line}`, 'one line size for all levels');
    });
  }),
  memory: section({
    latency_ns: param('ns', 'a dependent load that misses every cache', { max: 1e5 }),
    stream_read_ns_per_line: param('ns', 'streaming read of one line from DRAM (bandwidth-bound)', { max: 1e4 }),
    stream_write_ns_per_line: param('ns', 'streaming write of one line to DRAM (bandwidth-bound)', { max: 1e4 }),
  }),
  /** Data TLB: one fully-associative LRU level; the kernel maps itself with large pages. */
  tlb: section({
    entries: param('count', 'data TLB entries (one fully-associative LRU level)', { integer: true, min: 1, max: 1 << 16 }),
    kernel_page_bytes: param('bytes', 'page size the kernel maps itself with (large pages)', { integer: true, min: 4096, max: 1 << 30 }),
    miss_ns: param('ns', "a TLB miss: the page walker's fixed work beyond its loads", { max: 1e5 }),
    walk_loads: param('count', 'page-table loads of one walk, through the data cache', { integer: true, min: 0, max: 32 }),
  }),
  first_touch_ns: param('ns', 'extra cost of the first touch of a physical page the machine has never used (a hypervisor backing guest memory)', { max: 1e7 }, { value: 0, why: 'bare metal: no hypervisor behind the page' }),
});

const kernelConfig = section({
  hz: param('hz', 'clock interrupts per second (hardclock)', { min: 10, max: 100000 }),
  stathz: param('hz', 'statistics clock: user and system time are sampled at this rate', { min: 1, max: 100000 }),
  invariants: flag().default(false).describe('FreeBSD INVARIANTS (KASSERTs); false on Linux'),
  witness: flag().default(false).describe('FreeBSD WITNESS (lock-order checking); false on Linux'),
  zero_chunk_bytes: param('bytes', "/dev/zero's source region per uiomove (FreeBSD ZERO_REGION_SIZE); Linux clears in page-sized chunks", { integer: true, min: 512, max: 1 << 30 }),
  background_lock_ops_per_tick: param('count', 'lock operations per clock tick by the rest of the system (callouts, other threads); lockstat sees them', { max: 1e6 }),
});

const userland = section({
  dd: oneOf(['freebsd', 'gnu']).describe("which dd: FreeBSD's or GNU coreutils'"),
  allocator: oneOf(['jemalloc', 'glibc']).describe("the C library's malloc"),
  junk_fill: flag().default(false).describe("jemalloc's debug junk filling (opt_junk): new allocations are memset in user mode"),
  startup_user_pages: param('pages', 'anonymous pages first touched in user mode during start-up (run-time linker, libc, stack, allocator metadata): each faults once', { integer: true, max: 1 << 20 }),
  environment: record(text('a string', { empty: true }))
    .refine((env, fail) => {
      for (const key of Object.keys(env)) if (!/^(LANG|LANGUAGE|LC_[A-Z]+)$/.test(key)) fail([key], 'not a locale variable', 'LANG, LANGUAGE, LC_ALL or another LC_* name');
    })
    .optional()
    .describe('the locale environment (LANG, LC_*) the userland was measured in; a modelled GNU dd runs in it'),
});

/** A data file the machine has before a run starts, its pages in the buffer cache (the lab's /data/iofile, as io-static -c left it). */
const dataFile = section({
  path: text('an absolute path outside the system directories')
    .refine((path, fail) => {
      const problem = dataFilePathProblem(path);
      if (problem) fail([], ...problem);
    })
    .describe('where the file is (its directories are made)'),
  bytes: number({ integer: true, min: 0, max: MAX_FILE_BYTES }).describe('its size in bytes'),
  note: text().optional().describe('what the file is, and where its size comes from'),
});

/** The largest kernel text a map may place functions in (the model's kernel text region). */
export const KERNEL_TEXT_SPAN = 48 * 1024 * 1024;

const PLACEMENT = `[offset, bytes]: integers, offset + bytes within ${KERNEL_TEXT_SPAN / (1024 * 1024)} MiB`;
const placement = tuple([number({ integer: true, min: 0, max: KERNEL_TEXT_SPAN - 1 }), number({ integer: true, min: 1, max: KERNEL_TEXT_SPAN })], PLACEMENT).refine(([offset, bytes], fail) => {
  if (offset + bytes > KERNEL_TEXT_SPAN) fail([1], `${bytes} is out of range`, `an integer >= 1 and <= ${KERNEL_TEXT_SPAN - offset}`);
});

/**
 * Where the kernel's functions are and how big (a Linux host's /proc/kallsyms), so
 * code fetches land on the real kernel's lines and pages: the cache sets and TLB
 * entries a path uses, and how many lines it fetches when cold. Without it, each
 * modelled function is placed next to the last and fetches the few lines its call
 * site names.
 */
const kernelText = section({
  from: text('where the map was read: file, host and date').describe('where the map was read: file, host and date'),
  hot_fraction: param('ratio', "the part of a function's lines its common path runs", { min: 0.01, max: 1 }),
  functions: record(placement).describe('function name -> [offset from the start of kernel text, size in bytes]'),
});

/**
 * A flavour's unit costs: exactly the COSTS its kernel path charges. The type says
 * every cost is there, as the path of that flavour only reads its own.
 */
function costs(kernel: KernelFlavour) {
  const shape = Object.fromEntries(costsFor(kernel).map((name) => [name, param(COSTS[name].unit, COSTS[name].doc, { max: 1e9 })]));
  return section(shape) as unknown as Schema<Record<CostName, Param>>;
}

/** The whole profile of a machine running a `kernel` flavour. */
function profileOf(kernel: KernelFlavour) {
  const schema = section(
    {
      name: text().describe('the profile name (its file stem)'),
      description: text().describe('the machine, its kernel and userland, in a sentence or two'),
      kernel: oneOf([kernel]).describe('the kernel path the model runs: freebsd or linux'),
      userland,
      machine,
      kernel_config: kernelConfig,
      costs: costs(kernel),
      files: list(dataFile, 'a list of data files')
        .optional()
        .describe("data files on the machine before a run (the lab's /data/iofile): with the system's own files and /dev, all that its programs find"),
      limitations: list(text(), 'a list of strings').describe('what the model does not capture for this machine'),
      kernel_text: kernelText.optional(),
      fingerprint: hostFingerprint.optional(),
      generated_by: text().optional().describe('the command that wrote the file (not part of the model)'),
    },
  );
  if (kernel === 'freebsd') return schema;
  return schema.refine((p, fail) => {
    if (p.kernel_config.invariants || p.kernel_config.witness) fail(['kernel_config'], 'INVARIANTS/WITNESS are FreeBSD options', 'false for a linux kernel');
  });
}

export const PROFILE_SCHEMAS = { freebsd: profileOf('freebsd'), linux: profileOf('linux') };

/** A profile document: its kernel flavour picks its schema. */
export const profileDocument = byKey<Out<ReturnType<typeof profileOf>>>('kernel', PROFILE_SCHEMAS);

/** A validated profile: the file without `generated_by`, which is not part of the model (nor of its hash). */
export type Profile = Omit<Out<typeof profileDocument>, 'generated_by'>;
export type MachineProfile = Profile['machine'];
export type CacheLevelProfile = MachineProfile['caches'][number];
export type KernelConfig = Profile['kernel_config'];
export type UserlandProfile = Profile['userland'];
export type DdFlavour = UserlandProfile['dd'];
export type AllocatorKind = UserlandProfile['allocator'];
export type KernelText = NonNullable<Profile['kernel_text']>;

/** A declared value of a profile: a parameter (with its declaration) or a setting (a switch, a name). */
export interface ProfileEntry {
  /** JSON path in the profile, e.g. machine.caches[0].size_bytes. */
  path: string;
  doc: string;
  param?: { value: Param; meta: ParamMeta };
  setting?: string | number | boolean;
}

/** Every parameter and setting of a profile, in declared order (top-level names and texts aside). */
export function profileEntries(profile: Profile): ProfileEntry[] {
  const out: ProfileEntry[] = [];
  // `doc` is a wrapper's description (flag().default(false).describe(...)), for the value it wraps.
  const walk = (schema: Schema<unknown>, value: unknown, path: string, doc = schema.doc): void => {
    const meta = PARAMS.get(schema);
    if (meta) out.push({ path, doc: meta.doc, param: { value: value as Param, meta } });
    else if (value === undefined) return;
    else if (schema instanceof Optional || schema instanceof Default || schema instanceof Wrapped) walk(schema.inner, value, path, doc ?? schema.inner.doc);
    else if (schema instanceof Section) for (const [key, s] of Object.entries(schema.shape as Record<string, Schema<unknown>>)) walk(s, (value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    else if (schema instanceof List) (value as unknown[]).forEach((v, i) => walk(schema.item, v, `${path}[${i}]`));
    else if (path.includes('.') && doc !== undefined && ['string', 'number', 'boolean'].includes(typeof value)) out.push({ path, doc, setting: value as string | number | boolean });
  };
  walk(PROFILE_SCHEMAS[profile.kernel], profile, '');
  return out;
}
