// Counts units against limits in fixed windows: a window opens with the first unit taken after
// the previous one closed, and holds up to the limit's `max`. Fixed windows need one counter
// per limit and give an exact Retry-After; their worst burst (a full window's worth just before
// a window closes and again just after) is twice `max`, which is fine for a floor against floods.
// The RateLimiter Durable Object holds one of these per subject.
import type { Limit, TakeOutcome } from "./limit.js";

interface Window {
  openedAtMs: number;
  windowMs: number;
  used: number;
}

export class FixedWindows {
  /** By limit name. A subject has a handful of limits, so this stays tiny. */
  private readonly windows = new Map<string, Window>();

  /**
   * Takes `cost` units from every limit, or from none when one has no room: a refused request
   * uses up nothing. When several refuse, the answer names the one that frees up last.
   */
  take(limits: readonly Limit[], cost: number, nowMs: number): TakeOutcome {
    let refusal: { limit: Limit; retryAfterMs: number } | undefined;
    const windows: Window[] = [];
    for (const limit of limits) {
      const window = this.windowOf(limit, nowMs);
      windows.push(window);
      if (window.used + cost <= limit.max) continue;
      const retryAfterMs = window.openedAtMs + window.windowMs - nowMs;
      if (!refusal || retryAfterMs > refusal.retryAfterMs) refusal = { limit, retryAfterMs };
    }
    if (refusal) return { ok: false, ...refusal };
    for (const window of windows) window.used += cost;
    return { ok: true };
  }

  /** The open window of `limit`; a new one once the last closed or the limit's window changed. */
  private windowOf(limit: Limit, nowMs: number): Window {
    const current = this.windows.get(limit.name);
    if (current && current.windowMs === limit.windowMs && nowMs < current.openedAtMs + current.windowMs) return current;
    const opened: Window = { openedAtMs: nowMs, windowMs: limit.windowMs, used: 0 };
    this.windows.set(limit.name, opened);
    return opened;
  }
}
