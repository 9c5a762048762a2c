// D1's record of workers coming and going: worker_history's stop time and reason, hive_models'
// last sighting. Written by HiveSessions when a worker appears or goes (and by the Registry for a
// deletion), never per heartbeat. Bookkeeping: a D1 hiccup is logged, never allowed to keep a
// dead worker live or to refuse a live one.
import { and, eq, inArray, isNull, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { workerHistory } from "../db/schema.js";
import { recordHiveModel } from "../hives/hive-models.js";
import type { StopReason } from "./worker-report.js";

/** D1 binds at most 100 parameters a statement. */
const D1_BATCH = 90;

export async function noteHiveModel(db: D1Database, hiveName: string, model: string, atMs: number): Promise<void> {
  try {
    await recordHiveModel(db, hiveName, model, atMs);
  } catch (error) {
    console.error(`could not record model ${model} of hive ${hiveName}`, error);
  }
}

/** Stamps the stop of `workerIds` (still open, or closed with `overriding`) in worker_history. */
export async function recordStops(db: D1Database, workerIds: string[], reason: StopReason, overriding?: StopReason): Promise<void> {
  const open = isNull(workerHistory.stoppedAt);
  for (let start = 0; start < workerIds.length; start += D1_BATCH) {
    const batch = workerIds.slice(start, start + D1_BATCH);
    try {
      await drizzle(db)
        .update(workerHistory)
        .set({ stoppedAt: new Date(), stopReason: reason })
        .where(and(inArray(workerHistory.id, batch), overriding ? or(open, eq(workerHistory.stopReason, overriding)) : open));
    } catch (error) {
      console.error(`could not record the stop of ${batch.length} worker(s) in worker_history`, error);
    }
  }
}
