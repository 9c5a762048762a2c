// The RateLimiter of one subject (`key:<id>`, `address:<ip>`), by name: every isolate counts
// that subject's requests in the same object.
export function rateLimiterStub(env: Env, subject: string): DurableObjectStub<import("./rate-limiter.js").RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(subject));
}
