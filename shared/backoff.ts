// Reconnect delays: capped exponential backoff with jitter, so a thousand hives that lost the
// queen in the same deploy spread their reconnects over a window instead of arriving in the
// same second. The first retry after a connection that had been up is spread uniformly over a
// window of seconds (every hive lost it at the same instant); later ones use "equal jitter",
// which keeps a floor of half the ceiling, so no retry is ever immediate.

export interface BackoffOptions {
  /** Delay ceiling for the first retry, in ms. */
  baseMs: number;
  /** Largest delay ever returned, in ms. */
  maxMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Delay before retry number `attempt` (0-based): uniform in [c/2, c], c = min(maxMs, baseMs·2^attempt). */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Delay before the first retry after a working connection dropped: uniform in [0, spreadMs]. */
export function firstRetryDelayMs(spreadMs: number, random: () => number = Math.random): number {
  return Math.round(random() * spreadMs);
}
