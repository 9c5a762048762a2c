// What the queen does about a job's events besides logging them: a spawned worker gets its
// worker_history row, a deleted one leaves the registry at once instead of after three missed
// heartbeats. Kept apart from JobSession, which stays ignorant of what operations mean.
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import type { JobEvent } from "../../shared/protocol/job-event.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { workerHistory } from "../db/schema.js";
import { registryStub } from "../registry/stub.js";

/** The data payload of a worker_spawn job, as the hive's worker-spawn operation sends it. */
export const SpawnedWorkerPayload = z.object({
  worker_id: z.string(),
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
});

export async function applyJobEffects(env: Env, hiveName: string, operation: HiveOperation, event: JobEvent): Promise<void> {
  switch (operation.operation) {
    case "worker_spawn": {
      if (event.type !== "data") return;
      const spawned = SpawnedWorkerPayload.safeParse(event.payload);
      if (!spawned.success) return;
      await drizzle(env.DB)
        .insert(workerHistory)
        .values({ id: operation.workerId, hiveName, model: operation.model, pid: spawned.data.pid, port: spawned.data.port, spawnedAt: new Date() })
        .onConflictDoNothing();
      return;
    }
    case "worker_delete":
      if (event.type === "done") await registryStub(env).dropWorker(operation.workerId, "deleted");
      return;
    case "model_download":
    case "model_delete":
    case "model_list":
    case "worker_install":
    case "worker_catalog_list":
    case "hive_check":
      return; // the hive's catalogs are its own; the queen only relays what they say
    default: {
      const unreachable: never = operation;
      throw new Error(`unknown operation ${JSON.stringify(unreachable)}`);
    }
  }
}
