// Records when an API key was last used, at most once a minute per key and off the response's
// path (ctx.waitUntil): `last_used_at` is for people auditing keys, not worth a write a request.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { apiKeys } from "../db/schema.js";

/** Least time between two `last_used_at` writes for one key from one isolate (ms). */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

const lastWrittenAtMs = new Map<string, number>();

export function touchLastUsed(db: D1Database, ctx: Pick<ExecutionContext, "waitUntil">, keyId: string, nowMs = Date.now()): void {
  const last = lastWrittenAtMs.get(keyId);
  if (last !== undefined && nowMs - last < LAST_USED_WRITE_INTERVAL_MS) return;
  lastWrittenAtMs.set(keyId, nowMs);
  ctx.waitUntil(
    drizzle(db)
      .update(apiKeys)
      .set({ lastUsedAt: new Date(nowMs) })
      .where(eq(apiKeys.id, keyId))
      .then(
        () => undefined,
        (error: unknown) => console.warn(`could not record last use of API key ${keyId}: ${String(error)}`),
      ),
  );
}
