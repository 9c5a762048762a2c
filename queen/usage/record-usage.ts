// Adds one request and its tokens to a key's row for the UTC day in D1 (usage_daily), as one
// upsert, so concurrent requests from many isolates add up instead of overwriting each other.
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { usageDaily } from "../db/schema.js";
import type { TokenUsage } from "./token-usage.js";

/** The UTC day of a moment, as usage_daily keys it: YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export async function recordUsage(db: D1Database, keyId: string, day: string, usage: TokenUsage): Promise<void> {
  await drizzle(db)
    .insert(usageDaily)
    .values({ keyId, day, requests: 1, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens })
    .onConflictDoUpdate({
      target: [usageDaily.keyId, usageDaily.day],
      set: {
        requests: sql`${usageDaily.requests} + 1`,
        promptTokens: sql`${usageDaily.promptTokens} + excluded.prompt_tokens`,
        completionTokens: sql`${usageDaily.completionTokens} + excluded.completion_tokens`,
      },
    });
}
