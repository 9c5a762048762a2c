// Checks a subject's request against its limits: from this isolate's memory when the subject
// was refused lately (recent-refusals.ts) or holds requests reserved earlier (permit-blocks.ts),
// else with one call to its RateLimiter, which reserves the next block. A refusal is a
// 429 `rate_limited` error naming the limit, with Retry-After; callers decide when to throw it,
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

function rateLimited(subject: LimitSubject, limit: Limit, retryAfterMs: number): RbeeError {
  // Retry-After is in whole seconds; rounding up never invites a client back too early.
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new RbeeError(
    429,
    "rate_limited",
    `${subject.description} reached the rate limit '${limit.name}' (${limit.max} per ${formatWindow(limit.windowMs)}); retry in ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}

function formatWindow(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
}
