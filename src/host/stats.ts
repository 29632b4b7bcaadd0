// Medians and spreads of repeated measurements, and the labels they are reported under.

import { interquartileRange, max, median, min, quantile } from 'simple-statistics';

/** Median and spread of a set of samples. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  iqr: number;
  n: number;
  samples: number[];
}

/** Median and spread of samples (simple-statistics). */
export function spreadOf(samples: number[]): Spread {
  if (samples.length === 0) return { median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN, iqr: NaN, n: 0, samples: [] };
  const [q1, q3] = quantile(samples, [0.25, 0.75]) as [number, number];
  return {
    median: median(samples),
    min: min(samples),
    max: max(samples),
    q1,
    q3,
    iqr: interquartileRange(samples),
    n: samples.length,
    samples: samples.slice(),
  };
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Human label of a byte size: "64 KiB". */
export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}
