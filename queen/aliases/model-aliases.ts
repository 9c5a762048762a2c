// Model aliases: another name an admin gives a model (routes/aliases.ts), kept in D1
// (model_aliases) and read by the inference routes before they take a lease, so a client asking
// for `coder` is served the model the alias names. Each isolate holds the whole table for
// ALIAS_CACHE_MS (one D1 read per isolate per interval, not per request); a change made through
// one isolate takes effect there at once and in the others within that time.
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { ModelName } from "../../shared/protocol/worker-heartbeat.js";
import { modelAliases } from "../db/schema.js";
import { parseModelTarget } from "../scheduling/model-target.js";

/** How long an isolate trusts its copy of the alias table, ms. */
export const ALIAS_CACHE_MS = 10_000;
/** Most aliases a queen holds; the whole table is read at once. */
export const MAX_ALIASES = 1000;

/** An alias's name: a model name without '@', which would read as a hive pin (`model@hive`). */
export const AliasName = ModelName.refine((name) => !name.includes("@"), "must not contain '@' (model@hive pins a hive)");

export const AliasBody = z.strictObject({ model: ModelName });

let cached: { aliases: Map<string, string>; readAtMs: number } | undefined;

/** Every alias and the model it names. */
export async function aliasTable(db: D1Database, nowMs = Date.now()): Promise<ReadonlyMap<string, string>> {
  if (cached && nowMs - cached.readAtMs < ALIAS_CACHE_MS) return cached.aliases;
  const rows = await drizzle(db).select().from(modelAliases).limit(MAX_ALIASES);
  cached = { aliases: new Map(rows.map((row) => [row.alias, row.model])), readAtMs: nowMs };
  return cached.aliases;
}

/** Drops this isolate's copy, after a change made through it. */
export function forgetAliases(): void {
  cached = undefined;
}

/**
 * The model a request for `requested` is served: the alias's target, `target@hive` for
 * `alias@hive` (when the alias names no hive itself), or `requested` unchanged.
 */
export async function resolveAlias(db: D1Database, requested: string): Promise<string> {
  const aliases = await aliasTable(db);
  const exact = aliases.get(requested);
  if (exact !== undefined) return exact;
  const { model, hive } = parseModelTarget(requested);
  const target = hive === undefined ? undefined : aliases.get(model);
  if (target === undefined || parseModelTarget(target).hive !== undefined) return requested;
  return `${target}@${hive}`;
}
