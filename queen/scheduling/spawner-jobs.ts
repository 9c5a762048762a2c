// How the spawner reaches hives: worker_spawn and worker_delete jobs, submitted as the /v1/workers
// routes submit them (a D1 record, a JobSession, the hive's HiveSession). Behind an interface so
// the spawner's logic is tested without hives, and so the Registry DO, which runs it, can give
// the PIDs of its own live workers without calling itself through a stub.
import type { JobRequest } from "../../shared/protocol/job-operation.js";
import type { LiveWorker } from "./contracts.js";
import { jobSessionStub } from "../jobs/stub.js";
import { submitJob } from "../jobs/submit-job.js";
import type { SpawnPlan } from "./spawn-planner.js";

/** How long the spawner follows one spawn job before it stops waiting (a download may run long), ms. */
const SPAWN_FOLLOW_MS = 30 * 60_000;

export type JobEnd = { ok: true } | { ok: false; code: string; message: string };

/** A spawn job its hive cancelled as it stopped (JobEnd's code). */
export const SPAWN_CANCELLED = "worker_spawn_cancelled";
/** A spawn job an admin cancelled (DELETE /v1/jobs/:id): they did not want that worker started. */
export const SPAWN_CANCELLED_BY_ADMIN = "worker_spawn_cancelled_by_admin";

export interface SpawnerJobs {
  /** Submits a worker_spawn for `plan` under the worker id the spawner chose; returns the job id. */
  spawn(plan: SpawnPlan, workerId: string): Promise<string>;
  /** Resolves when the job ended, with how. */
  ended(jobId: string): Promise<JobEnd>;
  /**
   * Submits a worker_delete for `worker` (which the caller knows to be live). `forModel`: the model
   * the stop makes room for; a stop that waits for the worker's requests may reject with
   * SwapAbandoned once that room is no longer wanted.
   */
  stop(worker: LiveWorker, forModel?: string): Promise<void>;
}

/** A swap given up before its worker was stopped: the model it was for needs it no more. */
export class SwapAbandoned extends Error {
  override readonly name = "SwapAbandoned";
}

/** The real jobs, through `env`. `pidOf` gives a live worker's PID (a delete kills by PID). */
export function hiveJobs(env: Env, pidOf: (workerId: string) => number | undefined): SpawnerJobs {
  return {
    async spawn(plan, workerId) {
      const request: JobRequest = {
        operation: "worker_spawn",
        hive: plan.hiveName,
        model: plan.model,
        source: plan.source,
        worker_type: plan.workerType,
        ...(plan.device === undefined ? {} : { device: plan.device }),
      };
      const operation = {
        operation: "worker_spawn" as const,
        workerId,
        model: plan.model,
        source: plan.source,
        workerType: plan.workerType,
        ...(plan.device === undefined ? {} : { device: plan.device }),
      };
      return (await submitJob(env, request, { hiveName: plan.hiveName, operation })).jobId;
    },
    async ended(jobId) {
      const outcome = await jobSessionStub(env, jobId).outcome(SPAWN_FOLLOW_MS);
      if (outcome.end?.type === "done") return { ok: true };
      if (outcome.end?.type === "error") return { ok: false, code: outcome.end.code, message: outcome.end.message };
      // Cancelled: by an admin, or by its hive as it stops (which says so).
      if (outcome.end?.type === "cancelled") {
        const code = outcome.cancelRequested ? SPAWN_CANCELLED_BY_ADMIN : SPAWN_CANCELLED;
        return { ok: false, code, message: `the spawn job was cancelled${outcome.cancelRequested ? " by an admin" : ""}${outcome.end.message === undefined ? "" : `: ${outcome.end.message}`}` };
      }
      return { ok: false, code: "worker_spawn_incomplete", message: "the spawn job did not end in time" };
    },
    async stop(worker) {
      const pid = pidOf(worker.workerId);
      if (pid === undefined) return; // gone meanwhile: nothing to stop
      const request: JobRequest = { operation: "worker_delete", hive: worker.hiveName, worker_id: worker.workerId };
      await submitJob(env, request, { hiveName: worker.hiveName, operation: { operation: "worker_delete", workerId: worker.workerId, pid } });
    },
  };
}
