// /v1/keys (admin): create API keys (the key is shown once; only its SHA-256 is stored), list
// them without secrets, newest first and a page at a time, read one, change its name, limits or
// expiry (not its scopes or secret), rotate its secret (a leaked key replaced without losing its
// id, limits, usage or stored responses), and revoke one (again: a 200 that says it was already
// revoked). A key may carry `limits` (rpm, tpm, daily_tokens; limits/key-limits.ts) and the
// `models` it may use (auth/key-models.ts). The bootstrap
// RBEE_ADMIN_KEY is not in this list: it is a secret of the deployment, rotated with
// `wrangler secret put`.
import { and, desc, eq, isNull, lt, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { hasUnprintable } from "../../shared/printable.js";
import { parseRequest } from "../../shared/validation.js";
import { ApiKeyId, Scope } from "../auth/authenticated-key.js";
import { forgetKey } from "../auth/key-cache.js";
import { KeyModels } from "../auth/key-models.js";
import { forgetUnknown } from "../auth/unknown-keys.js";
import { newSecret, sha256Hex } from "../auth/secrets.js";
import { type ApiKeyRecord, apiKeys } from "../db/schema.js";
import type { QueenEnv } from "../env.js";
import { listPage, pageLimit } from "../http/list-page.js";
import { MAX_EXPIRES_IN_DAYS } from "../../shared/key-limits.js";
import { type KeyLimits, KeyLimitsRequest, keyLimitsOf, keyLimitsOfRecord, keyLimitsView } from "../limits/key-limits.js";
import { readJson } from "../http/read-json.js";
import { parseParam } from "../http/parse-param.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Keys per page of GET /v1/keys: `limit`, 100 by default, at most 1000. */
const KeyListLimit = pageLimit(100, 1000);

const KeyName = z
  .string()
  .trim()
  .min(1)
  .max(128)
  // A line break, a tab or an escape sequence garbles (or steers) the terminal listing the keys; a
  // text-direction override makes a name read as another.
  .refine((name) => !hasUnprintable(name), "must not hold control characters (line breaks, tabs, escape sequences) or text-direction overrides");

const ExpiresInDays = z.number().int().positive().max(MAX_EXPIRES_IN_DAYS);

const CreateKey = z.strictObject({
  name: KeyName,
  scopes: z.array(Scope).min(1, "must hold at least one scope").refine((scopes) => new Set(scopes).size === scopes.length, "must not repeat a scope"),
  expires_in_days: ExpiresInDays.optional(),
  limits: KeyLimitsRequest.optional(),
  models: KeyModels.nullable().optional(),
});

/**
 * PATCH /v1/keys/:id: what changes, the rest kept. A limit given replaces the key's, null removes
 * it; `expires_in_days` counts from now, null makes the key never expire; `models` replaces the
 * list of models it may use, null lets it use every model. Its scopes and secret
 * stay: a key with other scopes is another key (create it, revoke this one).
 */
const UpdateKey = z
  .strictObject({ name: KeyName.optional(), limits: KeyLimitsRequest.optional(), expires_in_days: ExpiresInDays.nullable().optional(), models: KeyModels.nullable().optional() })
  .refine((update) => Object.keys(update).length > 0, "give at least one of name, limits, expires_in_days, models");

/** A key as the API shows it: never its hash. */
function keyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    object: "api_key",
    name: record.name,
    scopes: record.scopes,
    created_at: record.createdAt.toISOString(),
    expires_at: record.expiresAt?.toISOString() ?? null,
    revoked_at: record.revokedAt?.toISOString() ?? null,
    last_used_at: record.lastUsedAt?.toISOString() ?? null,
    limits: keyLimitsView(keyLimitsOfRecord(record)),
    models: record.models ?? null,
  };
}

function limitColumns(limits: KeyLimits): Pick<ApiKeyRecord, "requestsPerMinute" | "tokensPerMinute" | "tokensPerDay"> {
  return { requestsPerMinute: limits.rpm, tokensPerMinute: limits.tpm, tokensPerDay: limits.dailyTokens };
}

/** The columns an update sets: only those it names (a limit's null is a value, "no limit"). */
function updatedColumns(update: z.infer<typeof UpdateKey>, nowMs: number): Partial<ApiKeyRecord> {
  const { limits } = update;
  return {
    ...(update.name === undefined ? {} : { name: update.name }),
    ...(limits?.rpm === undefined ? {} : { requestsPerMinute: limits.rpm }),
    ...(limits?.tpm === undefined ? {} : { tokensPerMinute: limits.tpm }),
    ...(limits?.daily_tokens === undefined ? {} : { tokensPerDay: limits.daily_tokens }),
    ...(update.expires_in_days === undefined ? {} : { expiresAt: update.expires_in_days === null ? null : new Date(nowMs + update.expires_in_days * DAY_MS) }),
    ...(update.models === undefined ? {} : { models: update.models }),
  };
}

async function keyRecord(db: ReturnType<typeof drizzle>, id: string): Promise<ApiKeyRecord> {
  const [record] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  if (!record) throw new RbeeError(404, "api_key_not_found", `No API key with id '${id}'.`, { param: "id" });
  return record;
}

export const keyRoutes = new Hono<QueenEnv>()
  .post("/", async (c) => {
    const request = parseRequest(CreateKey, await readJson(c));
    const key = newSecret("rbee_sk_");
    const now = new Date();
    const record: ApiKeyRecord = {
      id: newId("key"),
      name: request.name,
      keyHash: await sha256Hex(key),
      scopes: request.scopes,
      createdAt: now,
      expiresAt: request.expires_in_days === undefined ? null : new Date(now.getTime() + request.expires_in_days * DAY_MS),
      revokedAt: null,
      lastUsedAt: null,
      ...limitColumns(keyLimitsOf(request.limits)),
      models: request.models ?? null,
    };
    await drizzle(c.env.DB).insert(apiKeys).values(record);
    forgetUnknown(record.keyHash);
    // The only time the key itself leaves the queen.
    return c.json({ ...keyView(record), key }, 201);
  })
  .get("/", async (c) => {
    const limit = parseParam("limit", KeyListLimit, c.req.query("limit"));
    const after = parseParam("after", ApiKeyId.optional(), c.req.query("after"));
    const db = drizzle(c.env.DB);
    let olderThanCursor: SQL | undefined;
    if (after !== undefined) {
      // Keyset paging: keys created (or revoked) meanwhile neither repeat nor shift the pages.
      const [cursor] = await db.select({ createdAt: apiKeys.createdAt }).from(apiKeys).where(eq(apiKeys.id, after)).limit(1);
      if (!cursor) throw new RbeeError(400, "invalid_parameter", `Parameter 'after' names no API key ('${after}'); pass the next_after of the previous page.`, { param: "after" });
      olderThanCursor = or(lt(apiKeys.createdAt, cursor.createdAt), and(eq(apiKeys.createdAt, cursor.createdAt), lt(apiKeys.id, after)));
    }
    const rows = await db
      .select()
      .from(apiKeys)
      .where(olderThanCursor)
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(limit + 1);
    return c.json(listPage(rows, limit, keyView, (row) => row.id));
  })
  .get("/:id", async (c) => {
    const id = parseParam("id", ApiKeyId, c.req.param("id"));
    return c.json(keyView(await keyRecord(drizzle(c.env.DB), id)));
  })
  .patch("/:id", async (c) => {
    const id = parseParam("id", ApiKeyId, c.req.param("id"));
    const update = parseRequest(UpdateKey, await readJson(c));
    const columns = updatedColumns(update, Date.now());
    if (Object.keys(columns).length === 0) throw new RbeeError(400, "invalid_request", "Invalid request body: limits: give at least one of rpm, tpm, daily_tokens.", { param: "limits" });
    const db = drizzle(c.env.DB);
    // A revoked key stays as it was revoked: its record is what it was when it stopped working.
    const [updated] = await db
      .update(apiKeys)
      .set(columns)
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (!updated) {
      const record = await keyRecord(db, id);
      throw new RbeeError(409, "api_key_revoked", `API key ${id} was revoked at ${record.revokedAt?.toISOString()}; a revoked key is not changed (create another).`, { param: "id" });
    }
    // This isolate takes the new limits and expiry at once; the others when their cached copy goes stale (30 s).
    forgetKey(id);
    return c.json(keyView(updated));
  })
  .post("/:id/rotate", async (c) => {
    const id = parseParam("id", ApiKeyId, c.req.param("id"));
    const key = newSecret("rbee_sk_");
    const keyHash = await sha256Hex(key);
    const db = drizzle(c.env.DB);
    // One update: the old secret stops working as the new one starts; usage, stored responses and
    // limits belong to the id, which stays.
    const [rotated] = await db
      .update(apiKeys)
      .set({ keyHash })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (!rotated) {
      const record = await keyRecord(db, id);
      throw new RbeeError(409, "api_key_revoked", `API key ${id} was revoked at ${record.revokedAt?.toISOString()}; a revoked key is not given a new secret (create another).`, { param: "id" });
    }
    // The old secret stops at once in this isolate; in others when their cached copy goes stale (30 s).
    forgetKey(id);
    forgetUnknown(keyHash);
    return c.json({ ...keyView(rotated), key });
  })
  .delete("/:id", async (c) => {
    const id = parseParam("id", ApiKeyId, c.req.param("id"));
    const db = drizzle(c.env.DB);
    // Only a key not yet revoked is updated, so of two revocations at once exactly one revokes it,
    // and revoking twice keeps the first time: that is when the key stopped working.
    const [revokedNow] = await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    const record = revokedNow ?? (await keyRecord(db, id));
    forgetKey(id);
    // 200 either way, so a script that revokes a key may run twice; already_revoked tells the
    // second call from the first (rbee keys revoke says "was already revoked at …").
    return c.json({ ...keyView(record), already_revoked: revokedNow === undefined });
  });
