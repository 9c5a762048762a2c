// Whether an API key that let a request in a while ago still stands. A request that waited in the
// queue for a worker, or a dashboard feed open for minutes, was admitted by a key that may have
// been revoked, rotated (the secret it came with replaced) or may have expired since, or whose
// token budget the answers before it spent. It is
// asked of D1 itself, not of the isolate's key cache, which a revocation made through another
// isolate reaches only once its entry is stale (key-cache.ts).
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { RbeeError } from "../../shared/errors.js";
import { apiKeys } from "../db/schema.js";
import { checkLimits } from "../limits/check-limits.js";
import { keySubject } from "../limits/client-limits.js";
import { KEY_LIMIT_COLUMNS, tokenLimitsOf } from "../limits/key-limits.js";
import { type AuthenticatedKey, BOOTSTRAP_KEY_ID } from "./authenticated-key.js";
import { forgetKey } from "./key-cache.js";

export function revokedKey(id: string): RbeeError {
  return new RbeeError(401, "api_key_revoked", `API key ${id} was revoked; ask an admin for a new one.`);
}

export function rotatedKey(id: string): RbeeError {
  return new RbeeError(401, "api_key_rotated", `API key ${id} was given a new secret since this request came with the old one; use the new one.`);
}

export function expiredKey(id: string, expiresAtMs: number): RbeeError {
  return new RbeeError(401, "api_key_expired", `API key ${id} expired at ${new Date(expiresAtMs).toISOString()}; ask an admin for a new one.`);
}

/**
 * Why `key` no longer admits a request, or undefined when it still does. `spendsTokens`: the
 * request is about to spend tokens, so the key's token limits (as they are now) must have room.
 * The bootstrap key is a secret, replaced only by a deploy: it stands as long as this isolate does.
 */
export async function keyStanding(env: Env, key: AuthenticatedKey, spendsTokens: boolean, nowMs = Date.now()): Promise<RbeeError | undefined> {
  if (key.id === BOOTSTRAP_KEY_ID) return undefined;
  const [row] = await drizzle(env.DB)
    .select({ keyHash: apiKeys.keyHash, revokedAt: apiKeys.revokedAt, expiresAt: apiKeys.expiresAt, ...KEY_LIMIT_COLUMNS })
    .from(apiKeys)
    .where(eq(apiKeys.id, key.id))
    .limit(1);
  if (!row || row.revokedAt !== null) {
    forgetKey(key.id); // the isolate's next request with it is refused without waiting for the cache to go stale
    return revokedKey(key.id);
  }
  if (key.secretHash !== undefined && row.keyHash !== key.secretHash) return rotatedKey(key.id);
  if (row.expiresAt !== null && row.expiresAt.getTime() <= nowMs) return expiredKey(key.id, row.expiresAt.getTime());
  if (!spendsTokens) return undefined;
  const tokenLimits = tokenLimitsOf(row);
  return tokenLimits.length === 0 ? undefined : checkLimits(env, keySubject(key.id), tokenLimits);
}
