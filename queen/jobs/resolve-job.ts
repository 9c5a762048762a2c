// Turns a client's job request into what its hive will be told: which hive runs it and the
// operation with everything the hive cannot know itself (a new worker id; the PID the
// registry knows for a worker to delete). Refuses requests that name no real hive or worker.
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import type { HiveOperation, JobRequest } from "../../shared/protocol/job-operation.js";
import { requireHive } from "../hives/hive-records.js";
import { registryStub } from "../registry/stub.js";

export interface ResolvedJob {
  hiveName: string;
  operation: HiveOperation;
}

export async function resolveJob(env: Env, request: JobRequest): Promise<ResolvedJob> {
  switch (request.operation) {
    case "worker_spawn":
      await requireHive(env.DB, request.hive, "hive");
      return {
        hiveName: request.hive,
        operation: {
          operation: "worker_spawn",
          workerId: newId("wrk"),
          model: request.model,
          source: request.source,
          ...(request.worker_type === undefined ? {} : { workerType: request.worker_type }),
          ...(request.device === undefined ? {} : { device: request.device }),
        },
      };
    case "worker_delete": {
      const worker = await registryStub(env).getWorker(request.worker_id);
      if (!worker || (request.hive !== undefined && worker.hive !== request.hive)) {
        const where = request.hive === undefined ? "" : ` on hive '${request.hive}'`;
        throw new RbeeError(404, "worker_not_found", `No live worker '${request.worker_id}'${where}; GET /v1/workers lists them.`, {
          param: "worker_id",
        });
      }
      return { hiveName: worker.hive, operation: { operation: "worker_delete", workerId: worker.id, pid: worker.pid } };
    }
    case "model_download":
    case "model_delete":
      await requireHive(env.DB, request.hive, "hive");
      return { hiveName: request.hive, operation: { operation: request.operation, model: request.model } };
    case "worker_install":
      await requireHive(env.DB, request.hive, "hive");
      return { hiveName: request.hive, operation: { operation: "worker_install", workerType: request.worker_type, source: request.source, ...(request.rebuild === undefined ? {} : { rebuild: request.rebuild }) } };
    case "model_list":
    case "worker_catalog_list":
    case "hive_check":
      await requireHive(env.DB, request.hive, "hive");
      return { hiveName: request.hive, operation: { operation: request.operation } };
    default: {
      const unreachable: never = request;
      throw new Error(`unknown operation ${JSON.stringify(unreachable)}`);
    }
  }
}
