// What a rate limit is, and what checking one answers. The queen's floors against floods (a
// request rate per API key and per client address, client-limits.ts) are limits; so will be the
// limits an admin sets per key (requests or tokens per minute, a daily budget): each is one more
// Limit passed to the same check, counted by the same RateLimiter Durable Object.

export interface Limit {
  /** Names the limit in errors and logs, e.g. `requests_per_key`; its count is kept per name. */
  name: string;
  /** Length of the window the limit counts in, in ms. */
  windowMs: number;
  /** Most units (requests; tokens for a token limit) that fit in one window. */
  max: number;
  /**
   * `tokens`: a token limit, whose cost is known only once the answer is over. Taking checks that
   * the window is not yet spent and takes nothing; the tokens are charged afterwards (charge()).
   * Absent: each take costs its units at once (requests).
   */
  unit?: "tokens";
  /** Windows start at whole multiples of windowMs since the Unix epoch (a UTC day), not at first use. */
  aligned?: true;
}

/** How much of a limit's current window is used, for people watching a key (GET /v1/usage). */
export interface LimitUse {
  name: string;
  max: number;
  used: number;
  /** When the current window closes (ms since the epoch); null when no window is open. */
  resetsAtMs: number | null;
}

/** A limit with no room: which one, and when its window frees up. */
export type Refused = { ok: false; limit: Limit; retryAfterMs: number };

/** The answer to taking `cost` units from some limits: either all had room, or one did not. */
export type TakeOutcome = { ok: true } | Refused;

/**
 * The answer to reserving up to a block of requests (RateLimiter.reserve): `granted` (one or
 * more) were counted, good until `untilMs` (the first of their windows to close); or a refusal.
 */
export type ReserveOutcome = { ok: true; granted: number; untilMs: number } | Refused;
