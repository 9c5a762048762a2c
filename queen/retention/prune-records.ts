// Retention of the queen's growing D1 tables, run daily by the Cron Trigger in wrangler.toml
// (queen/index.ts `scheduled`): finished jobs, stopped workers' history, models no hive has
// started or stopped a worker with lately, and old daily usage. Keys, hives and unfinished jobs
// are never pruned. How long each is kept is in the queen's config (DEFAULTS in queen/config.ts).
import { and, inArray, isNotNull, lt, notExists, notInArray, sql, type SQL } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { QueenConfig } from "../config.js";
import { hiveModels, jobs, usageDaily, workerHistory } from "../db/schema.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows deleted per statement: D1 limits how long one statement may run. */
const BATCH_ROWS = 1000;
/** Statements per table per run; a backlog larger than this is worked off over the next days. */
const MAX_BATCHES = 50;

export interface PrunedRows {
  jobs: number;
  workerHistory: number;
  hiveModels: number;
  usageDaily: number;
}

export type RetentionDays = Pick<QueenConfig, "jobRetentionDays" | "workerHistoryRetentionDays" | "hiveModelRetentionDays" | "usageRetentionDays">;

/** Deletes what is older than its retention as of `nowMs`; says how many rows of each table went. */
export async function pruneRecords(db: D1Database, days: RetentionDays, nowMs: number): Promise<PrunedRows> {
  const orm = drizzle(db);
  const before = (retentionDays: number) => new Date(nowMs - retentionDays * DAY_MS);
  const stillServed = orm
    .select({ one: sql`1` })
    .from(workerHistory)
    .where(and(sql`${workerHistory.hiveName} = ${hiveModels.hiveName}`, sql`${workerHistory.model} = ${hiveModels.model}`, sql`${workerHistory.stoppedAt} IS NULL`));
  return {
    jobs: await deleteBatched(orm, jobs, and(notInArray(jobs.status, ["queued", "running"]), lt(jobs.endedAt, before(days.jobRetentionDays)))),
    workerHistory: await deleteBatched(orm, workerHistory, and(isNotNull(workerHistory.stoppedAt), lt(workerHistory.stoppedAt, before(days.workerHistoryRetentionDays)))),
    // A model a worker still serves stays, however long ago that worker started.
    hiveModels: await deleteBatched(orm, hiveModels, and(lt(hiveModels.lastSeenAt, before(days.hiveModelRetentionDays)), notExists(stillServed))),
    usageDaily: await deleteBatched(orm, usageDaily, lt(usageDaily.day, before(days.usageRetentionDays).toISOString().slice(0, 10))),
  };
}

async function deleteBatched(orm: DrizzleD1Database, table: SQLiteTable, where: SQL | undefined): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const rowids = orm.select({ rowid: sql`rowid` }).from(table).where(where).limit(BATCH_ROWS);
    const result = await orm.delete(table).where(inArray(sql`rowid`, rowids));
    deleted += result.meta.changes;
    if (result.meta.changes < BATCH_ROWS) break;
  }
  return deleted;
}
