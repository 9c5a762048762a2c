// How close each API key with limits is to them, for GET /v1/usage: each limit's max, what its
// open window used, what remains and when the window resets, read from the key's RateLimiter.
// Only unrevoked keys with limits are asked, at most MAX_KEYS_SHOWN of them, one DO call each.
import { and, eq, isNotNull, isNull, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { apiKeys } from "../db/schema.js";
import { keySubject } from "./client-limits.js";
import { KEY_LIMIT_COLUMNS, type KeyLimits, requestLimitsOf, tokenLimitsOf } from "./key-limits.js";
import { rateLimiterStub } from "./stub.js";

/** Most keys whose limits one GET /v1/usage shows; ask for one with `key_id` beyond that. */
export const MAX_KEYS_SHOWN = 100;

export interface KeyLimitUseView {
  key_id: string;
  limits: Array<{ name: string; max: number; used: number; remaining: number; resets_at: string | null }>;
}

export async function keyLimitUse(env: Env, keyId?: string): Promise<KeyLimitUseView[]> {
  const limited = or(isNotNull(apiKeys.requestsPerMinute), isNotNull(apiKeys.tokensPerMinute), isNotNull(apiKeys.tokensPerDay));
  const conditions: Array<SQL | undefined> = [limited, isNull(apiKeys.revokedAt)];
  if (keyId !== undefined) conditions.push(eq(apiKeys.id, keyId));
  const rows = await drizzle(env.DB)
    .select({ id: apiKeys.id, ...KEY_LIMIT_COLUMNS })
    .from(apiKeys)
    .where(and(...conditions))
    .orderBy(apiKeys.id)
    .limit(MAX_KEYS_SHOWN);
  return Promise.all(
    rows.map(async (row) => {
      const limits: KeyLimits = row;
      const use = await rateLimiterStub(env, keySubject(row.id).name).use([...requestLimitsOf(limits), ...tokenLimitsOf(limits)]);
      return {
        key_id: row.id,
        limits: use.map((limit) => ({
          name: limit.name,
          max: limit.max,
          used: limit.used,
          remaining: Math.max(0, limit.max - limit.used),
          resets_at: limit.resetsAtMs === null ? null : new Date(limit.resetsAtMs).toISOString(),
        })),
      };
    }),
  );
}
