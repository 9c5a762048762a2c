// Subjects a RateLimiter refused lately, remembered per isolate until their window frees up, so
// that a client hammering past its limit is refused from memory: no Durable Object call, no D1
// read. Bounded like the unknown-key cache: a flood from many addresses evicts the oldest entries.
import { BoundedMap } from "../../shared/bounded-map.js";
import type { Limit } from "./limit.js";

/** Most refused subjects held at once; the oldest go first. */
const MAX_ENTRIES = 10_000;

interface Refusal {
  limit: Limit;
  untilMs: number;
}

const refusals = new BoundedMap<string, Refusal>(MAX_ENTRIES);

/** The refusal of `subject` still in force for one of `limits`, if any. */
export function recentRefusal(subject: string, limits: readonly Limit[], nowMs: number): Refusal | undefined {
  const refusal = refusals.get(subject);
  if (!refusal) return undefined;
  if (nowMs >= refusal.untilMs) {
    refusals.delete(subject);
    return undefined;
  }
  // Only a limit still being checked refuses: a request under other limits is asked afresh.
  return limits.some((limit) => limit.name === refusal.limit.name) ? refusal : undefined;
}

export function rememberRefusal(subject: string, refusal: Refusal): void {
  refusals.set(subject, refusal);
}
