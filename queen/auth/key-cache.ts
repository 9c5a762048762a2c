// A short-lived, in-isolate cache of API keys by hash, so that a busy client's requests don't
// each cost a D1 read. Entries live KEY_CACHE_TTL_MS: a key revoked through this isolate stops
// working at once (the revoke route evicts it here), a key revoked through another isolate
// stops working within that TTL. Expiry needs no freshness: it is checked on every request.
// Keys D1 does not know are remembered apart (unknown-keys.ts), for UNKNOWN_KEY_CACHE_MS.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { apiKeys } from "../db/schema.js";
import { type KeyLimits, keyLimitsOfRecord } from "../limits/key-limits.js";
import { Scope } from "./authenticated-key.js";
import { isKnownUnknown, rememberUnknown } from "./unknown-keys.js";

/** How long a key looked up in D1 is trusted without asking again (ms). */
export const KEY_CACHE_TTL_MS = 30_000;
/** Most keys held at once; the oldest go first. Bounds memory whatever clients present. */
const KEY_CACHE_MAX_ENTRIES = 1000;

export interface CachedKey {
  id: string;
  scopes: Scope[];
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  limits: KeyLimits;
  /** The only models it may use; null: every model. */
  models: string[] | null;
}

interface Entry {
  key: CachedKey;
  fetchedAtMs: number;
}

// Module state is per isolate: each isolate (and each test worker) has its own cache.
const entries = new Map<string, Entry>();

// Scopes and models come back from JSON columns: re-validate rather than trust what the table holds.
const StoredScopes = z.array(Scope);
const StoredModels = z.array(z.string()).nullable();

/**
 * The key whose SHA-256 is `keyHash`, from the cache or D1; undefined if there is none. A hash
 * D1 did not know is answered from memory for `unknownKeyCacheMs` (0: asked again every time).
 */
export async function lookUpKey(db: D1Database, keyHash: string, unknownKeyCacheMs: number, nowMs = Date.now()): Promise<CachedKey | undefined> {
  const cached = entries.get(keyHash);
  if (cached && nowMs - cached.fetchedAtMs < KEY_CACHE_TTL_MS) return cached.key;
  entries.delete(keyHash);
  if (isKnownUnknown(keyHash, unknownKeyCacheMs, nowMs)) return undefined;
  const [row] = await drizzle(db).select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash)).limit(1);
  if (!row) {
    if (unknownKeyCacheMs > 0) rememberUnknown(keyHash, nowMs);
    return undefined;
  }
  const scopes = StoredScopes.safeParse(row.scopes);
  const models = StoredModels.safeParse(row.models);
  const key: CachedKey = {
    id: row.id,
    scopes: scopes.success ? scopes.data : [],
    expiresAtMs: row.expiresAt?.getTime() ?? null,
    revokedAtMs: row.revokedAt?.getTime() ?? null,
    limits: keyLimitsOfRecord(row),
    // A list that does not read as one admits nothing rather than everything.
    models: models.success ? models.data : [],
  };
  if (entries.size >= KEY_CACHE_MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  entries.set(keyHash, { key, fetchedAtMs: nowMs });
  return key;
}

/** Marks a key revoked in this isolate's cache, so the revocation needs no TTL to take effect here. */
export function forgetKey(id: string): void {
  for (const [hash, entry] of entries) if (entry.key.id === id) entries.delete(hash);
}
