// How the scheduler counts memory: the headroom a model must leave free when it loads, and how
// sizes are written in messages a person reads.

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export interface HeadroomRule {
  /** Share of the model's estimate kept free on top of it (estimates are estimates). */
  fraction: number;
  /** Least headroom, in bytes. */
  minBytes: number;
}

/** 10% of the estimate, at least 16 MiB: small enough for tiny test budgets, real for real models. */
export const DEFAULT_HEADROOM: HeadroomRule = { fraction: 0.1, minBytes: 16 * MIB };

/** What loading a model of `needBytes` takes free: the estimate plus its headroom. */
export function withHeadroom(needBytes: number, rule: HeadroomRule = DEFAULT_HEADROOM): number {
  return needBytes + Math.max(Math.ceil(needBytes * rule.fraction), rule.minBytes);
}

/** `4.1 GiB`, or `512 MiB` below a GiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  return `${Math.round(bytes / MIB)} MiB`;
}

/** The rough load time /v1/models shows for a model not loaded yet: 1 s per GiB plus 2 s to start the worker. */
export function estimatedLoadSeconds(sizeBytes: number): number {
  return Math.ceil(sizeBytes / GIB + 2);
}
