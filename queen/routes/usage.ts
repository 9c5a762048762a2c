// GET /v1/usage (admin): requests and tokens per API key per UTC day, optionally for one key
// and a range of days (`?key_id=key_…&from=2026-01-01&to=2026-01-31`, both ends included).
import { and, asc, eq, gte, lte, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { z } from "zod";
import { ApiKeyId, BOOTSTRAP_KEY_ID } from "../auth/authenticated-key.js";
import { usageDaily } from "../db/schema.js";
import type { QueenEnv } from "../env.js";
import { parseParam } from "../http/parse-param.js";

const UsageKeyId = z.union([z.literal(BOOTSTRAP_KEY_ID), ApiKeyId], {
  error: `must be an API key id such as key_abc123, or '${BOOTSTRAP_KEY_ID}' for the bootstrap key`,
});

const UtcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a UTC day as YYYY-MM-DD")
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), "must be a real calendar day (YYYY-MM-DD)");

export const usageRoutes = new Hono<QueenEnv>().get("/", async (c) => {
  const keyId = c.req.query("key_id");
  const from = c.req.query("from");
  const to = c.req.query("to");
  const conditions: SQL[] = [];
  if (keyId !== undefined) conditions.push(eq(usageDaily.keyId, parseParam("key_id", UsageKeyId, keyId)));
  if (from !== undefined) conditions.push(gte(usageDaily.day, parseParam("from", UtcDay, from)));
  if (to !== undefined) conditions.push(lte(usageDaily.day, parseParam("to", UtcDay, to)));
  const rows = await drizzle(c.env.DB)
    .select()
    .from(usageDaily)
    .where(and(...conditions))
    .orderBy(asc(usageDaily.day), asc(usageDaily.keyId));
  return c.json({
    object: "list",
    data: rows.map((row) => ({
      key_id: row.keyId,
      day: row.day,
      requests: row.requests,
      prompt_tokens: row.promptTokens,
      completion_tokens: row.completionTokens,
    })),
  });
});
