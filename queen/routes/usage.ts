// GET /v1/usage (admin): requests and tokens per API key per UTC day, optionally for one key
// and a range of days (`?key_id=key_…&from=2026-01-01&to=2026-01-31`, both ends included),
// oldest day first, a page at a time (`limit`, and `after` from the previous page's next_after),
// each row with its key's name.
// `key_limits` says how close each key with limits (or the one asked for) is to them now.
import { and, asc, eq, gt, gte, lte, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { z } from "zod";
import { ApiKeyId, BOOTSTRAP_KEY_ID } from "../auth/authenticated-key.js";
import { apiKeys, usageDaily } from "../db/schema.js";
import { keyLimitUse } from "../limits/key-limit-use.js";
import type { QueenEnv } from "../env.js";
import { listPage, pageLimit } from "../http/list-page.js";
import { parseParam } from "../http/parse-param.js";

const UsageKeyId = z.union([z.literal(BOOTSTRAP_KEY_ID), ApiKeyId], {
  error: `must be an API key id such as key_abc123, or '${BOOTSTRAP_KEY_ID}' for the bootstrap key`,
});

const UtcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a UTC day as YYYY-MM-DD")
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), "must be a real calendar day (YYYY-MM-DD)");

/** Rows per page of GET /v1/usage: `limit`, 1000 by default, at most 10000. */
const UsageListLimit = pageLimit(1000, 10_000);

/** The cursor after one row: its day and key id, as `2026-01-31:key_abc`. */
const UsageCursor = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}:[A-Za-z0-9_]+$/, "must be the next_after of a previous page (YYYY-MM-DD:key id)")
  .transform((cursor) => ({ day: cursor.slice(0, 10), keyId: cursor.slice(11) }));

export const usageRoutes = new Hono<QueenEnv>().get("/", async (c) => {
  const keyId = c.req.query("key_id");
  const keyIdAsked = keyId === undefined ? undefined : parseParam("key_id", UsageKeyId, keyId);
  const from = c.req.query("from");
  const to = c.req.query("to");
  const conditions: SQL[] = [];
  if (keyIdAsked !== undefined) conditions.push(eq(usageDaily.keyId, keyIdAsked));
  if (from !== undefined) conditions.push(gte(usageDaily.day, parseParam("from", UtcDay, from)));
  if (to !== undefined) conditions.push(lte(usageDaily.day, parseParam("to", UtcDay, to)));
  const limit = parseParam("limit", UsageListLimit, c.req.query("limit"));
  const after = parseParam("after", UsageCursor.optional(), c.req.query("after"));
  if (after !== undefined) {
    const laterRow = or(gt(usageDaily.day, after.day), and(eq(usageDaily.day, after.day), gt(usageDaily.keyId, after.keyId)));
    if (laterRow) conditions.push(laterRow);
  }
  // Each row with its key's name, so "who used what" needs no join by hand (the admin key has no row).
  const rows = await drizzle(c.env.DB)
    .select({ usage: usageDaily, keyName: apiKeys.name })
    .from(usageDaily)
    .leftJoin(apiKeys, eq(apiKeys.id, usageDaily.keyId))
    .where(and(...conditions))
    .orderBy(asc(usageDaily.day), asc(usageDaily.keyId))
    .limit(limit + 1);
  const view = ({ usage, keyName }: (typeof rows)[number]) => ({
    key_id: usage.keyId,
    key_name: keyName ?? (usage.keyId === BOOTSTRAP_KEY_ID ? "admin key (RBEE_ADMIN_KEY)" : null),
    day: usage.day,
    requests: usage.requests,
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
  });
  return c.json({ ...listPage(rows, limit, view, ({ usage }) => `${usage.day}:${usage.keyId}`), key_limits: await keyLimitUse(c.env, keyIdAsked) });
});
