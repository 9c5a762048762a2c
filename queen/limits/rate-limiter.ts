// RateLimiter implements a Durable Object per rate-limited subject (an API key, a client
// address), named after it, that counts its requests against its limits (check-limits.ts calls
// it). One object per subject spreads a flood over many objects instead of one hot counter.
//
// Counts live in memory only: a storage write per request would cost more than the requests it
// guards. An object evicted while idle starts its windows afresh, which only ever errs towards
// letting a client through; limits whose count must survive (daily budgets) will need storage.
import { DurableObject } from "cloudflare:workers";
import { FixedWindows } from "./fixed-windows.js";
import type { Limit, TakeOutcome } from "./limit.js";

export class RateLimiter extends DurableObject<Env> {
  private readonly windows = new FixedWindows();

  /** Takes `cost` units from each of `limits` if all have room; the object's clock decides the window. */
  async take(limits: Limit[], cost = 1): Promise<TakeOutcome> {
    return this.windows.take(limits, cost, Date.now());
  }
}
