// The queen's floors against floods from clients: a request rate per API key and per client
// address (RATE_LIMIT_PER_KEY, RATE_LIMIT_PER_ADDRESS per RATE_LIMIT_WINDOW_MS; 0 turns one off).
// api-key.ts applies both to every /v1 request, counting failed authentications against the
// address; the hive socket endpoint counts against the address only (limitAddress).
import { createMiddleware } from "hono/factory";
import type { QueenConfig } from "../config.js";
import type { QueenEnv } from "../env.js";
import { type LimitSubject, checkLimits } from "./check-limits.js";
import { clientAddress } from "./client-address.js";
import { type KeyLimits, requestLimitsOf, tokenLimitsOf } from "./key-limits.js";
import type { Limit } from "./limit.js";

export function keySubject(keyId: string): LimitSubject {
  return { name: `key:${keyId}`, description: `API key ${keyId}` };
}

export function addressSubject(headers: Headers): LimitSubject {
  const address = clientAddress(headers);
  return { name: `address:${address}`, description: `Client address ${address}` };
}

/**
 * The floor every API key gets, and the limits an admin set on it (key-limits.ts); its token
 * limits only where the request spends tokens (`inference` routes).
 */
export function keyLimits(config: QueenConfig, own?: KeyLimits, spendsTokens = false): Limit[] {
  const floor = activeLimit("requests_per_key", config.rateLimitPerKey, config.rateLimitWindowMs);
  if (!own) return floor;
  return [...floor, ...requestLimitsOf(own), ...(spendsTokens ? tokenLimitsOf(own) : [])];
}

export function addressLimits(config: QueenConfig): Limit[] {
  return activeLimit("requests_per_address", config.rateLimitPerAddress, config.rateLimitWindowMs);
}

function activeLimit(name: string, max: number, windowMs: number): Limit[] {
  return max > 0 ? [{ name, windowMs, max }] : [];
}

/** Refuses a request from an address over its limit with 429, before the route does any work. */
export const limitAddress = createMiddleware<QueenEnv>(async (c, next) => {
  const refusal = await checkLimits(c.env, addressSubject(c.req.raw.headers), addressLimits(c.var.config));
  if (refusal) throw refusal;
  await next();
});
