// /v1/models/:id/policy (admin): set, read and remove a model's policy (scheduling/model-policy.ts).
// D1 holds it; after each write the Registry is told at once, so the next request, spawn or idle
// check follows the new policy.
import { count, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { ModelSource } from "../../shared/protocol/job-operation.js";
import { ModelName, WorkerDevice } from "../../shared/protocol/worker-heartbeat.js";
import { parseRequest } from "../../shared/validation.js";
import { type ModelPolicyRecord, modelPolicies } from "../db/schema.js";
import { toPolicy } from "../registry/policy-records.js";
import type { QueenEnv } from "../env.js";
import { parseParam } from "../http/parse-param.js";
import { readJson } from "../http/read-json.js";
import { registryStub } from "../registry/stub.js";
import { MAX_MODEL_POLICIES, type ModelPolicy } from "../scheduling/model-policy.js";

/** More workers than any one model sensibly wants; a typo (10000) is refused rather than obeyed. */
const MAX_WORKERS_LIMIT = 1000;
/** A year, in seconds: longer is "never" (-1). */
const MAX_KEEP_ALIVE_SECONDS = 365 * 24 * 3600;
const unique = (values: readonly string[]) => new Set(values).size === values.length;

const PolicyBody = z
  .strictObject({
    min_workers: z.number().int().min(0).max(MAX_WORKERS_LIMIT).default(0),
    max_workers: z.number().int().min(1).max(MAX_WORKERS_LIMIT).nullable().default(null),
    preferred_hives: z.array(HiveName).max(64).refine(unique, "must not repeat a hive").default([]),
    worker_types: z.array(WorkerDevice).min(1, "must hold at least one worker type (or be null for any)").refine(unique, "must not repeat a worker type").nullable().default(null),
    keep_alive_seconds: z.number().int().min(-1, "must be -1 (never unload), 0 or more seconds").max(MAX_KEEP_ALIVE_SECONDS).nullable().default(null),
    source: ModelSource.nullable().default(null),
  })
  .refine((body) => body.max_workers === null || body.max_workers >= body.min_workers, { message: "must be at least min_workers", path: ["max_workers"] });

function policyView(policy: ModelPolicy) {
  return {
    object: "model_policy",
    model: policy.model,
    min_workers: policy.minWorkers,
    max_workers: policy.maxWorkers,
    preferred_hives: policy.preferredHives,
    worker_types: policy.workerTypes,
    keep_alive_seconds: policy.keepAliveSeconds,
    source: policy.source,
    updated_at: new Date(policy.updatedAtMs).toISOString(),
  };
}

function notFound(model: string): RbeeError {
  return new RbeeError(404, "model_policy_not_found", `Model '${model}' has no policy; PUT /v1/models/${model}/policy sets one.`, { param: "id" });
}

export const modelPolicyRoutes = new Hono<QueenEnv>()
  .put("/", async (c) => {
    const model = parseParam("id", ModelName, c.req.param("id"));
    const body = parseRequest(PolicyBody, await readJson(c));
    const db = drizzle(c.env.DB);
    const [existing] = await db.select({ model: modelPolicies.model }).from(modelPolicies).where(eq(modelPolicies.model, model)).limit(1);
    if (!existing) {
      const [row] = await db.select({ n: count() }).from(modelPolicies);
      if ((row?.n ?? 0) >= MAX_MODEL_POLICIES) {
        throw new RbeeError(409, "too_many_model_policies", `The queen holds at most ${MAX_MODEL_POLICIES} model policies; delete one first (DELETE /v1/models/:id/policy).`, { param: "id" });
      }
    }
    const record: ModelPolicyRecord = {
      model,
      minWorkers: body.min_workers,
      maxWorkers: body.max_workers,
      preferredHives: body.preferred_hives,
      workerTypes: body.worker_types,
      keepAliveSeconds: body.keep_alive_seconds,
      source: body.source,
      updatedAt: new Date(),
    };
    const { model: _key, ...changes } = record;
    await db.insert(modelPolicies).values(record).onConflictDoUpdate({ target: modelPolicies.model, set: changes });
    const policy = toPolicy(record);
    await registryStub(c.env).policyChanged(model, policy);
    return c.json(policyView(policy));
  })
  .get("/", async (c) => {
    const model = parseParam("id", ModelName, c.req.param("id"));
    const [record] = await drizzle(c.env.DB).select().from(modelPolicies).where(eq(modelPolicies.model, model)).limit(1);
    if (!record) throw notFound(model);
    return c.json(policyView(toPolicy(record)));
  })
  .delete("/", async (c) => {
    const model = parseParam("id", ModelName, c.req.param("id"));
    const [record] = await drizzle(c.env.DB).delete(modelPolicies).where(eq(modelPolicies.model, model)).returning();
    if (!record) throw notFound(model);
    await registryStub(c.env).policyChanged(model, null);
    return c.json({ ...policyView(toPolicy(record)), deleted: true });
  });
