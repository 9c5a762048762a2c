// The parts of the queen's answers the `rbee` CLI reads, as zod schemas it checks them against.
// Loose objects: a newer queen may add fields, and --json passes them through untouched.
import { z } from "zod";

export function listOf<T extends z.ZodType>(item: T) {
  return z.looseObject({ data: z.array(item) });
}

export const HiveView = z.looseObject({
  name: z.string(),
  online: z.boolean(),
  machine: z.looseObject({ os: z.string(), arch: z.string(), cpu_cores: z.number(), memory_bytes: z.number() }).nullable(),
  devices: z.looseObject({ gpus: z.array(z.looseObject({ name: z.string(), backend: z.string() })), ram_total_bytes: z.number().optional() }).nullable(),
  last_seen_at: z.string().nullable(),
  token_revoked_at: z.string().nullable(),
});

/** The answer to DELETE /v1/hives/{name}/token: the hive, and whether its token was revoked before. */
export const RevokedHiveView = HiveView.extend({ already_revoked: z.boolean() });

export const HiveModelView = z.looseObject({ id: z.string(), serving: z.boolean(), last_seen_at: z.string() });

export const IssuedHiveToken = z.object({ name: z.string(), token: z.string() });

export const WorkerView = z.looseObject({
  id: z.string(),
  hive: z.string(),
  model: z.string(),
  state: z.string(),
  slots_total: z.number(),
  slots_busy: z.number(),
  tokens_per_second: z.number(),
  device: z.string().nullable(),
});

export const SpawnedWorker = z.looseObject({ id: z.string(), hive: z.string(), model: z.string(), pid: z.number(), port: z.number() });

export const ModelView = z.looseObject({ id: z.string(), state: z.string().optional(), hives: z.array(z.string()).optional() });

export const JobView = z.looseObject({
  id: z.string(),
  operation: z.string(),
  hive: z.string(),
  status: z.string(),
  created_at: z.string(),
  ended_at: z.string().nullable(),
});

export const JobAccepted = z.looseObject({ job_id: z.string() });

/** A key's own limits; null: none of that kind. */
export const KeyLimitsView = z.looseObject({ rpm: z.number().nullable(), tpm: z.number().nullable(), daily_tokens: z.number().nullable() });

export const KeyView = z.looseObject({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  // Optional: queens from before key limits send none.
  limits: KeyLimitsView.optional(),
  /** Absent from a queen before keys could be narrowed to models. */
  models: z.array(z.string()).nullable().optional(),
});

export const CreatedKey = KeyView.extend({ key: z.string() });

/** DELETE /v1/keys/:id's answer; already_revoked is missing from queens that did not say. */
export const RevokedKey = KeyView.extend({ revoked_at: z.string(), already_revoked: z.boolean().optional() });

export const UsageRow = z.looseObject({
  key_id: z.string(),
  /** Absent from a queen before names were listed. */
  key_name: z.string().nullable().optional(),
  day: z.string(),
  requests: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
});

export const Health = z.looseObject({ status: z.string() });
