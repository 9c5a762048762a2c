// The queen's durable records in D1 (drizzle). Live state — which workers are up right now —
// lives in the Registry Durable Object instead; D1 stays off the per-request path.
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const hives = sqliteTable("hives", {
  id: text("id").primaryKey(),
  /** The name a hive connects with (`rbee-hive connect --name`); unique. */
  name: text("name").notNull().unique(),
  /** SHA-256 (hex) of the hive's token; the token itself is shown once and never stored. */
  tokenHash: text("token_hash").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
});

export type HiveRecord = typeof hives.$inferSelect;
