// The queen's durable records in D1 (drizzle). Live state — which workers are up right now —
// lives in the Registry Durable Object instead; D1 stays off the per-token path. Secrets are
// stored only as SHA-256 hashes; times are Unix milliseconds. Jobs, worker history, models seen
// and usage are pruned daily (queen/retention/prune-records.ts); the *_idx on their times serve it.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();

export const hives = sqliteTable("hives", {
  id: text("id").primaryKey(),
  /** The name a hive connects with (`rbee-hive connect --name`); unique. */
  name: text("name").notNull().unique(),
  /** SHA-256 (hex) of the hive's current token; the token itself is shown once and never stored. */
  tokenHash: text("token_hash").notNull(),
  /** When the token was revoked; a revoked hive cannot connect until it gets a new token. */
  tokenRevokedAt: integer("token_revoked_at", { mode: "timestamp_ms" }),
  /** What the hive said about its machine in its last hello (JSON). */
  capabilities: text("capabilities", { mode: "json" }),
  createdAt: createdAt(),
  firstSeenAt: integer("first_seen_at", { mode: "timestamp_ms" }),
  lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
});

export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** SHA-256 (hex) of the key; the key is shown once, when created. */
  keyHash: text("key_hash").notNull().unique(),
  /** JSON array of scopes: "inference", "admin". */
  scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
  createdAt: createdAt(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  /** Limits an admin set on the key (null: none beyond the queen's floors); queen/limits/key-limits.ts. */
  requestsPerMinute: integer("requests_per_minute"),
  tokensPerMinute: integer("tokens_per_minute"),
  /** Tokens per UTC day. */
  tokensPerDay: integer("tokens_per_day"),
  /** JSON array of the models the key may use (names clients ask for, aliases included); null: every model. */
  models: text("models", { mode: "json" }).$type<string[]>(),
});

export const workerHistory = sqliteTable(
  "worker_history",
  {
    /** The worker id (`wrk_…`). */
    id: text("id").primaryKey(),
    hiveName: text("hive_name").notNull(),
    model: text("model").notNull(),
    pid: integer("pid"),
    port: integer("port"),
    spawnedAt: integer("spawned_at", { mode: "timestamp_ms" }).notNull(),
    stoppedAt: integer("stopped_at", { mode: "timestamp_ms" }),
    /** Why it stopped: deleted, exited, heartbeats_missed, hive_offline, stopped, … (StopReason) */
    stopReason: text("stop_reason"),
  },
  (table) => [index("worker_history_hive_idx").on(table.hiveName), index("worker_history_stopped_idx").on(table.stoppedAt)],
);

export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    /** The operation's `type`, e.g. worker_spawn. */
    operation: text("operation").notNull(),
    hiveName: text("hive_name").notNull(),
    /** The whole operation as submitted (JSON). */
    params: text("params", { mode: "json" }).notNull(),
    /** queued | running | done | error | cancelled */
    status: text("status").notNull(),
    createdAt: createdAt(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
    error: text("error"),
  },
  (table) => [index("jobs_status_idx").on(table.status), index("jobs_ended_idx").on(table.endedAt)],
);

export const hiveModels = sqliteTable(
  "hive_models",
  {
    hiveName: text("hive_name").notNull(),
    model: text("model").notNull(),
    firstSeenAt: integer("first_seen_at", { mode: "timestamp_ms" }).notNull(),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.hiveName, table.model] }), index("hive_models_last_seen_idx").on(table.lastSeenAt)],
);

export const usageDaily = sqliteTable(
  "usage_daily",
  {
    keyId: text("key_id").notNull(),
    /** UTC day, YYYY-MM-DD. */
    day: text("day").notNull(),
    requests: integer("requests").notNull().default(0),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.keyId, table.day] }), index("usage_daily_day_idx").on(table.day)],
);

/** Per-model policy an admin sets (PUT /v1/models/:id/policy); the Registry keeps a copy in memory. */
export const modelPolicies = sqliteTable("model_policies", {
  /** The model's client-facing name. */
  model: text("model").primaryKey(),
  minWorkers: integer("min_workers").notNull().default(0),
  /** null: no cap. */
  maxWorkers: integer("max_workers"),
  /** JSON array of hive names, most preferred first. */
  preferredHives: text("preferred_hives", { mode: "json" }).$type<string[]>().notNull(),
  /** JSON array of cpu/cuda/metal/vulkan; null: any. */
  workerTypes: text("worker_types", { mode: "json" }).$type<string[]>(),
  /** null: the queen's default; -1: never unloaded. */
  keepAliveSeconds: integer("keep_alive_seconds"),
  /** A model source a hive may download; null: only catalog models. */
  source: text("source"),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/** Another name for a model (queen/aliases/): clients asking for `alias` are served `model`. */
export const modelAliases = sqliteTable("model_aliases", {
  alias: text("alias").primaryKey(),
  /** The model (or `model@hive` target) the alias stands for. */
  model: text("model").notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

export type HiveRecord = typeof hives.$inferSelect;
export type ApiKeyRecord = typeof apiKeys.$inferSelect;
export type JobRecord = typeof jobs.$inferSelect;
export type HiveModelRecord = typeof hiveModels.$inferSelect;
export type ModelPolicyRecord = typeof modelPolicies.$inferSelect;
export type ModelAliasRecord = typeof modelAliases.$inferSelect;
