// dd's operands, checked at the edge: sizes parse as FreeBSD dd parses them, and a
// copy that would never end (an endless input with no count) is refused.

import { UsageError } from '../../errors.js';
import { parseDdOffset, parseDdSize } from '../ddsize.js';

export interface DdOperands {
  inputPath: string;
  outputPath: string;
  ibs: number;
  obs: number;
  /** bs= was given: each input block is written as it was read (no reblocking). */
  bsGiven: boolean;
  /** Input blocks to copy; null copies until end of input. */
  count: number | null;
  skip: number;
  seek: number;
}

export interface DdOperandText {
  bs?: string;
  ibs?: string;
  obs?: string;
  count?: string;
  skip?: string;
  seek?: string;
  if?: string;
  of?: string;
}

/** The largest block the model accepts: 1 GiB (dd allocates ibs + obs - 1 bytes, all of it touched). */
export const MAX_BLOCK_BYTES = 1 << 30;
/** The largest total copy the model accepts by default (simulated bytes, not host memory). */
export const MAX_TOTAL_BYTES = 4 * (1 << 30);

const ENDLESS = new Set(['/dev/zero']);

/** `dd`: whose semantics, FreeBSD's (count=0 copies until end of input) or GNU's (count=0 copies nothing). */
export function parseOperands(t: DdOperandText, dd: 'freebsd' | 'gnu' = 'freebsd'): DdOperands {
  const size = (field: string, text: string | undefined, dflt: number) =>
    text === undefined ? dflt : parseDdSize(field, text, { min: 1, max: MAX_BLOCK_BYTES });
  const bs = t.bs === undefined ? undefined : size('--bs', t.bs, 512);
  const ibs = bs ?? size('--ibs', t.ibs, 512);
  const obs = bs ?? size('--obs', t.obs, 512);
  const count = t.count === undefined ? null : parseDdSize('--count', t.count, { min: 0, max: Number.MAX_SAFE_INTEGER });
  const ops: DdOperands = {
    inputPath: t.if ?? '/dev/zero',
    outputPath: t.of ?? '/dev/null',
    ibs,
    obs,
    bsGiven: bs !== undefined,
    // FreeBSD dd: count=0 means "until end of input", like no count at all; GNU dd copies nothing.
    count: count === null || (count === 0 && dd === 'freebsd') ? null : count,
    skip: t.skip === undefined ? 0 : parseDdOffset('--skip', t.skip, { min: 0, max: Number.MAX_SAFE_INTEGER }),
    seek: t.seek === undefined ? 0 : parseDdOffset('--seek', t.seek, { min: 0, max: Number.MAX_SAFE_INTEGER }),
  };
  for (const [field, path] of [['--if', ops.inputPath], ['--of', ops.outputPath]] as const) {
    if (!path.startsWith('/')) throw new UsageError(field, `'${path}' is not an absolute path`, 'a path such as /dev/zero, /dev/null or /tmp/file');
  }
  if (ops.count === null && ENDLESS.has(ops.inputPath)) {
    throw new UsageError('--count', `reading ${ops.inputPath} with no count (or count=0) would never end`, 'a count of at least 1 block');
  }
  const total = (ops.count ?? 0) * ops.ibs + ops.skip * ops.ibs;
  if (total > MAX_TOTAL_BYTES) {
    throw new UsageError('--count', `${ops.count} blocks of ${ops.ibs} bytes is more than the model runs by default (${MAX_TOTAL_BYTES / (1 << 30)} GiB)`, 'a smaller count or block size');
  }
  return ops;
}

/**
 * dd's simulated events, an upper bound: its start-up (about 135 events for FreeBSD
 * dd, 210 for GNU dd with its locale), two per block (read and write) and the pages
 * of its buffers.
 */
export function ddEventEstimate(op: DdOperands): number {
  return 300 + 2 * ((op.count ?? 0) + op.skip) + Math.ceil((op.ibs + op.obs) / 4096);
}
