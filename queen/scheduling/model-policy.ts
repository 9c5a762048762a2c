// Per-model policy an admin sets (PUT /v1/models/:id/policy, stored in D1's model_policies): how
// many workers the model keeps (min) or may have (max), which hives it prefers, which devices it
// may load on, how long an idle worker stays, and a source a hive may download it from (a
// preferred hive, or any when no online hive has it in its catalog). The Registry keeps every policy in memory (loaded from D1
// when it starts, told of each change by the route); the scheduler's pure parts read them here.
import type { WorkerDevice } from "../../shared/protocol/worker-heartbeat.js";

export interface ModelPolicy {
  model: string;
  /** Workers the scheduler keeps (idle unload never goes below; a set policy starts them). */
  minWorkers: number;
  /** Auto-spawn starts none beyond this many live workers (null: no cap); requests queue instead. */
  maxWorkers: number | null;
  /** Hives ranked first, in this order, among those where the model fits. */
  preferredHives: string[];
  /** Devices a worker may load on (null: any). */
  workerTypes: WorkerDevice[] | null;
  /** An idle worker's keep-alive (null: the queen's default; -1: never unloaded). */
  keepAliveSeconds: number | null;
  /** A model source a preferred hive without the model, or any hive when none online has it, downloads (null: catalog only). */
  source: string | null;
  /** Unix ms. */
  updatedAtMs: number;
}

/** Policies the Registry loads from D1 when it starts; PUT refuses more. */
export const MAX_MODEL_POLICIES = 1000;

/** The policy's keep-alive in ms, or undefined when it leaves it to the queen's default. */
export function policyKeepAliveMs(policy: ModelPolicy | undefined): number | undefined {
  if (policy?.keepAliveSeconds === undefined || policy.keepAliveSeconds === null) return undefined;
  return policy.keepAliveSeconds < 0 ? Number.POSITIVE_INFINITY : policy.keepAliveSeconds * 1000;
}
