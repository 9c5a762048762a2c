// Median, min and max of a benchmark's samples; the report prints these rather than means, which
// one run slowed by another process on a shared machine would drag.

export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Summarises at least one sample; an even count takes the mean of the two middle values. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("summarize: expected at least one sample, got none");
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** The `q` quantile (0–1) of at least one sample, nearest rank: p99 of 50 samples is the largest. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new Error("percentile: expected at least one sample, got none");
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
