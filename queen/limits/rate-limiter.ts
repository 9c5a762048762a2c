// RateLimiter implements a Durable Object per rate-limited subject (an API key, a client
// address), named after it, that counts its requests against its limits (check-limits.ts calls
// it). One object per subject spreads a flood over many objects instead of one hot counter.
//
// Request counts live in memory only: a storage write per request would cost more than the
// requests it guards, and an object evicted while idle starts its windows afresh, which only
// ever errs towards letting a client through. Token counts are different: a key's daily budget
// must survive an eviction, so every charge (one per answered request of a key with token limits)
// saves the windows, and a woken object reads them back.
import { DurableObject } from "cloudflare:workers";
import { FixedWindows, type Window } from "./fixed-windows.js";
import type { Limit, LimitUse, ReserveOutcome } from "./limit.js";

const WINDOWS_KEY = "windows";

export class RateLimiter extends DurableObject<Env> {
  private windows = new FixedWindows();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const saved = await ctx.storage.get<Array<[string, Window]>>(WINDOWS_KEY);
      if (saved) this.windows = new FixedWindows(saved);
    });
  }

  /**
   * Takes a request from each of `limits`, and up to `want - 1` more for the caller's isolate to
   * spend without asking (permit-blocks.ts), if all have room; the object's clock decides the window.
   */
  async reserve(limits: Limit[], want: number): Promise<ReserveOutcome> {
    return this.windows.reserve(limits, want, Date.now());
  }

  /** Counts `tokens` spent against the token `limits`, and saves the windows. */
  async charge(limits: Limit[], tokens: number): Promise<void> {
    this.windows.charge(limits, tokens, Date.now());
    await this.ctx.storage.put(WINDOWS_KEY, this.windows.saved());
  }

  /** How much of each of `limits` is used in its open window. */
  async use(limits: Limit[]): Promise<LimitUse[]> {
    return this.windows.use(limits, Date.now());
  }
}
