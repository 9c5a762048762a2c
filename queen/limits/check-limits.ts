// Checks a subject's request against its limits: from this isolate's memory when the subject
// was refused lately (recent-refusals.ts) or holds requests reserved earlier (permit-blocks.ts),
// else with one call to its RateLimiter, which reserves the next block. A refusal is a
// 429 `rate_limited` error naming the limit (`insufficient_quota` once a daily budget is spent),
// with Retry-After; callers decide when to throw it,
// so a check can run alongside other work (api-key.ts checks the address while it authenticates).
import { RbeeError } from "../../shared/errors.js";
import type { Limit, ReserveOutcome } from "./limit.js";
import { keepPermits, permitBlockSize, reservationOf, reserveAlone, spendPermit } from "./permit-blocks.js";
import { recentRefusal, rememberRefusal } from "./recent-refusals.js";
import { rateLimiterStub } from "./stub.js";

export interface LimitSubject {
  /** The RateLimiter's name, e.g. `key:key_abc`, `address:203.0.113.7`. */
  name: string;
  /** The subject as a client reads it in an error, e.g. `API key key_abc`. */
  description: string;
}

/** The 429 for `subject` if this isolate saw it refused lately and the window is still closed. */
export function refusedFromMemory(subject: LimitSubject, limits: readonly Limit[], nowMs = Date.now()): RbeeError | undefined {
  const remembered = recentRefusal(subject.name, limits, nowMs);
  return remembered && rateLimited(subject, remembered.limit, remembered.untilMs - nowMs);
}

/** The 429 for `subject` over one of `limits`, or undefined when the request fits every limit. */
export async function checkLimits(env: Env, subject: LimitSubject, limits: readonly Limit[]): Promise<RbeeError | undefined> {
  if (limits.length === 0) return undefined;
  const nowMs = Date.now();
  const remembered = refusedFromMemory(subject, limits, nowMs);
  if (remembered) return remembered;
  const blockSize = permitBlockSize(limits);
  while (!spendPermit(subject.name, limits, Date.now())) {
    // Another request of this subject is reserving: its block may cover this one too. Looked up
    // and started in one turn, so that requests resuming together do not each start one.
    const inFlight = blockSize === 1 ? undefined : reservationOf(subject.name);
    if (!inFlight) return reserve(env, subject, limits, blockSize);
    await inFlight;
    const refused = refusedFromMemory(subject, limits);
    if (refused) return refused;
  }
  return undefined;
}

/** Asks the subject's RateLimiter for a block of `blockSize` requests: this one and the rest to keep. */
async function reserve(env: Env, subject: LimitSubject, limits: readonly Limit[], blockSize: number): Promise<RbeeError | undefined> {
  let outcome: ReserveOutcome;
  try {
    // Kept or remembered within the shared reservation, so the requests waiting on it find the result.
    outcome = await reserveAlone(subject.name, async (): Promise<ReserveOutcome> => {
      const nowMs = Date.now();
      const reserved = await rateLimiterStub(env, subject.name).reserve([...limits], blockSize);
      if (reserved.ok) keepPermits(subject.name, limits, reserved.granted, reserved.untilMs);
      else rememberRefusal(subject.name, { limit: reserved.limit, untilMs: nowMs + reserved.retryAfterMs });
      return reserved;
    });
  } catch (error) {
    // A floor against floods must not take the queen down with it: when the counter cannot be
    // reached, the request goes on, and the queen says so in its log.
    console.warn(`rate limit check for ${subject.name} failed; letting the request through: ${String(error)}`);
    return undefined;
  }
  return outcome.ok ? undefined : rateLimited(subject, outcome.limit, outcome.retryAfterMs);
}

/** A 429 for `limit`: a rate (`rate_limited`), or a budget spent until its window ends (`insufficient_quota`). */
function rateLimited(subject: LimitSubject, limit: Limit, retryAfterMs: number): RbeeError {
  // Retry-After is in whole seconds; rounding up never invites a client back too early.
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const what = `${limit.max} ${limit.unit === "tokens" ? "tokens" : "requests"} per ${formatWindow(limit)}`;
  if (limit.aligned) {
    // OpenAI's code for a spent quota. A retry in a moment is refused the same way, so the SDKs,
    // which would retry a 429 twice within seconds (they cap Retry-After at 60 s), are told not to.
    const resetsAt = new Date(Date.now() + retryAfterSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return new RbeeError(429, "insufficient_quota", `${subject.description} spent its budget '${limit.name}' (${what}); it renews at ${resetsAt}, in ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
      final: true,
    });
  }
  return new RbeeError(429, "rate_limited", `${subject.description} reached the rate limit '${limit.name}' (${what}); retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
}

function formatWindow(limit: Limit): string {
  const { windowMs } = limit;
  if (limit.aligned && windowMs === 86_400_000) return "UTC day";
  if (windowMs === 60_000) return "minute";
  return windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
}
