// D1's record of which models each hive has served, for `GET /v1/hives/:name/models`. Written
// when a worker first heartbeats and when it goes — never per heartbeat.
import { asc, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type HiveModelRecord, hiveModels } from "../db/schema.js";

/** Notes that `hiveName` served `model` at `atMs`; the first sighting is kept. */
export async function recordHiveModel(db: D1Database, hiveName: string, model: string, atMs: number): Promise<void> {
  const at = new Date(atMs);
  await drizzle(db)
    .insert(hiveModels)
    .values({ hiveName, model, firstSeenAt: at, lastSeenAt: at })
    .onConflictDoUpdate({ target: [hiveModels.hiveName, hiveModels.model], set: { lastSeenAt: sql`excluded.last_seen_at` } });
}

/** The models `hiveName` has served, by model id. */
export async function listHiveModels(db: D1Database, hiveName: string): Promise<HiveModelRecord[]> {
  return drizzle(db).select().from(hiveModels).where(eq(hiveModels.hiveName, hiveName)).orderBy(asc(hiveModels.model));
}
