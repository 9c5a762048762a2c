// Charges an answer's tokens (as the usage meter counted them) to its key's token limits, in the
// key's RateLimiter; observability/inference-outcome.ts calls it once the answer is over.
import type { TokenUsage } from "../usage/token-usage.js";
import { keySubject } from "./client-limits.js";
import { type KeyLimits, tokenLimitsOf } from "./key-limits.js";
import { rateLimiterStub } from "./stub.js";

/** Counts an answer's tokens against the key's token limits (called off the response's path). */
export async function chargeTokens(env: Env, keyId: string, limits: KeyLimits, usage: TokenUsage): Promise<void> {
  const tokenLimits = tokenLimitsOf(limits);
  const tokens = usage.promptTokens + usage.completionTokens;
  if (tokenLimits.length === 0 || tokens === 0) return;
  await rateLimiterStub(env, keySubject(keyId).name).charge(tokenLimits, tokens);
}
