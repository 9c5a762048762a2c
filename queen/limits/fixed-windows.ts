// Counts units against limits in fixed windows: a window opens with the first unit taken after
// the previous one closed (or, for an `aligned` limit, at the last multiple of its length since
// the epoch: a UTC day), and holds up to the limit's `max`. Fixed windows need one counter
// per limit and give an exact Retry-After; their worst burst (a full window's worth just before
// a window closes and again just after) is twice `max`, which is fine for a floor against floods.
// The RateLimiter Durable Object holds one of these per subject.
import type { Limit, LimitUse, ReserveOutcome, TakeOutcome } from "./limit.js";

export interface Window {
  openedAtMs: number;
  windowMs: number;
  used: number;
}

export class FixedWindows {
  /** By limit name. A subject has a handful of limits, so this stays tiny. */
  private readonly windows = new Map<string, Window>();

  constructor(saved: ReadonlyArray<[string, Window]> = []) {
    for (const [name, window] of saved) this.windows.set(name, window);
  }

  /**
   * Takes `cost` units from every request limit, or from none when one has no room: a refused
   * request uses up nothing. A token limit only refuses, once its window is spent (see Limit.unit).
   * When several refuse, the answer names the one that frees up last.
   */
  take(limits: readonly Limit[], cost: number, nowMs: number): TakeOutcome {
    let refusal: { limit: Limit; retryAfterMs: number } | undefined;
    const windows: Window[] = [];
    for (const limit of limits) {
      const window = this.windowOf(limit, nowMs);
      const fits = limit.unit === "tokens" ? window.used < limit.max : window.used + cost <= limit.max;
      if (limit.unit !== "tokens") windows.push(window);
      if (fits) continue;
      const retryAfterMs = window.openedAtMs + window.windowMs - nowMs;
      if (!refusal || retryAfterMs > refusal.retryAfterMs) refusal = { limit, retryAfterMs };
    }
    if (refusal) return { ok: false, ...refusal };
    for (const window of windows) window.used += cost;
    return { ok: true };
  }

  /**
   * Takes as many requests as every limit has room for, up to `want`, for an isolate to spend
   * without asking again (permit-blocks.ts): at least one, or the refusal take() would give.
   * Token limits refuse as in take() and grant nothing: a block of requests is counted against
   * request limits only.
   */
  reserve(limits: readonly Limit[], want: number, nowMs: number): ReserveOutcome {
    const first = this.take(limits, 1, nowMs);
    if (!first.ok) return first;
    const counted = limits.filter((limit) => limit.unit !== "tokens");
    // Token limits alone count nothing, so there is no block to hand out: this request only.
    if (counted.length === 0) return { ok: true, granted: 1, untilMs: nowMs };
    const open = counted.map((limit) => ({ max: limit.max, window: this.windowOf(limit, nowMs) }));
    const extra = Math.max(0, Math.min(want - 1, ...open.map(({ max, window }) => max - window.used)));
    for (const { window } of open) window.used += extra;
    return { ok: true, granted: 1 + extra, untilMs: Math.min(...open.map(({ window }) => window.openedAtMs + window.windowMs)) };
  }

  /** Adds `cost` to every limit's window, room or not: tokens already spent are counted. */
  charge(limits: readonly Limit[], cost: number, nowMs: number): void {
    for (const limit of limits) this.windowOf(limit, nowMs).used += cost;
  }

  /** How much of each limit's open window is used; a closed window reads as unused. */
  use(limits: readonly Limit[], nowMs: number): LimitUse[] {
    return limits.map((limit) => {
      const window = this.openWindow(limit, nowMs);
      return { name: limit.name, max: limit.max, used: window?.used ?? 0, resetsAtMs: window ? window.openedAtMs + window.windowMs : null };
    });
  }

  /** The windows as saved in storage (RateLimiter keeps token windows across evictions). */
  saved(): Array<[string, Window]> {
    return [...this.windows];
  }

  private openWindow(limit: Limit, nowMs: number): Window | undefined {
    const current = this.windows.get(limit.name);
    if (current && current.windowMs === limit.windowMs && nowMs < current.openedAtMs + current.windowMs) return current;
    return undefined;
  }

  /** The open window of `limit`; a new one once the last closed or the limit's window changed. */
  private windowOf(limit: Limit, nowMs: number): Window {
    const current = this.openWindow(limit, nowMs);
    if (current) return current;
    const openedAtMs = limit.aligned ? nowMs - (nowMs % limit.windowMs) : nowMs;
    const opened: Window = { openedAtMs, windowMs: limit.windowMs, used: 0 };
    this.windows.set(limit.name, opened);
    return opened;
  }
}
