// Model policies as D1 stores them (model_policies) and as the scheduler reads them: the policy
// routes write and answer with them, and the Registry loads them all when it starts.
import { drizzle } from "drizzle-orm/d1";
import { WorkerDevice } from "../../shared/protocol/worker-heartbeat.js";
import { type ModelPolicyRecord, modelPolicies } from "../db/schema.js";
import { MAX_MODEL_POLICIES, type ModelPolicy } from "../scheduling/model-policy.js";

export function toPolicy(record: ModelPolicyRecord): ModelPolicy {
  return {
    model: record.model,
    minWorkers: record.minWorkers,
    maxWorkers: record.maxWorkers,
    preferredHives: record.preferredHives,
    workerTypes: record.workerTypes === null ? null : WorkerDevice.array().parse(record.workerTypes),
    keepAliveSeconds: record.keepAliveSeconds,
    source: record.source,
    updatedAtMs: record.updatedAt.getTime(),
  };
}

/** Every stored policy, at most MAX_MODEL_POLICIES (the Registry loads them when it starts). */
export async function loadPolicies(db: D1Database): Promise<ModelPolicy[]> {
  return (await drizzle(db).select().from(modelPolicies).limit(MAX_MODEL_POLICIES)).map(toPolicy);
}

