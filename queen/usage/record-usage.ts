// Adds requests and their tokens to each key's row for the UTC day in D1 (usage_daily), in
// batches: a request's usage joins this isolate's batch, summed per key and day, and the first
// usage of a batch schedules its write FLUSH_DELAY_MS later under that request's ctx.waitUntil.
// One D1 write per request cost the local queen ~3 ms of CPU per request (a third of all it spent
// relaying one) and would make D1's one writer the ceiling of a busy queen's request rate; a
// batch is one upsert per key and day, however many requests it holds. Each upsert adds to the
// row, so concurrent batches from many isolates add up instead of overwriting each other. Usage
// shows in GET /v1/usage within about a second; a batch that fails to write is logged and lost,
// as a single request's write was.
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { usageDaily } from "../db/schema.js";
import { DeferredFlush } from "../observability/deferred-flush.js";
import type { TokenUsage } from "./token-usage.js";

/** How long a batch collects usage before it is written, ms. */
export const FLUSH_DELAY_MS = 1000;
/** Rows (key and day) a batch holds before it is written at once. */
const MAX_BATCH_ROWS = 100;

interface UsageRow extends TokenUsage {
  keyId: string;
  day: string;
  requests: number;
}

let batch = new Map<string, UsageRow>();
const writer = new DeferredFlush(FLUSH_DELAY_MS);

/** The UTC day of a moment, as usage_daily keys it: YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Counts one request of `keyId` on `day` with its tokens; written with the isolate's next batch. */
export function recordUsage(db: D1Database, waitUntil: (promise: Promise<unknown>) => void, keyId: string, day: string, usage: TokenUsage): void {
  const key = `${keyId}\n${day}`;
  const row = batch.get(key);
  if (row) {
    row.requests += 1;
    row.promptTokens += usage.promptTokens;
    row.completionTokens += usage.completionTokens;
  } else {
    batch.set(key, { keyId, day, requests: 1, ...usage });
  }
  writer.added(waitUntil, () => flush(db), batch.size >= MAX_BATCH_ROWS);
}

/**
 * Writes the batch now rather than when its timer fires: the local queen's clean stop calls it
 * (scripts/local-cloud/queen-entry.ts) before workerd is killed, which would take the batch
 * and its pending waitUntil with it. Cloudflare lets waitUntil finish; nothing else needs this.
 */
export function writeUsageBatchNow(db: D1Database): Promise<void> {
  return flush(db);
}

async function flush(db: D1Database): Promise<void> {
  const rows = [...batch.values()];
  batch = new Map();
  const [first, ...rest] = rows.map((row) => upsert(db, row));
  if (!first) return;
  try {
    await drizzle(db).batch([first, ...rest]);
  } catch (error) {
    const requests = rows.reduce((sum, row) => sum + row.requests, 0);
    console.warn(`could not record the usage of ${requests} request(s) of ${new Set(rows.map((row) => row.keyId)).size} API key(s): ${String(error)}`);
  }
}

function upsert(db: D1Database, row: UsageRow) {
  return drizzle(db)
    .insert(usageDaily)
    .values(row)
    .onConflictDoUpdate({
      target: [usageDaily.keyId, usageDaily.day],
      set: {
        requests: sql`${usageDaily.requests} + excluded.requests`,
        promptTokens: sql`${usageDaily.promptTokens} + excluded.prompt_tokens`,
        completionTokens: sql`${usageDaily.completionTokens} + excluded.completion_tokens`,
      },
    });
}
