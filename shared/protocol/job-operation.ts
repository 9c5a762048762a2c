// Everything the queen can ask a hive to do, as one zod union per audience: `JobRequest` is what
// a client POSTs to /v1/jobs (snake_case, names a hive), `HiveOperation` is what the queen sends
// down the hive's socket in a job_start frame (camelCase like every frame, resolved: a worker
// delete carries the PID the queen's registry knows, because the hive keeps no registry).
import { z } from "zod";
import { idPattern } from "../ids.js";
import { HiveName } from "./hive-name.js";
import { ModelName, WorkerId } from "./worker-heartbeat.js";

export const JobId = z.string().regex(idPattern("job"), "must look like job_<letters and digits>");

/** Where a hive finds a model's weights; only `file:` sources exist until the model catalog. */
export const ModelSource = z.string().startsWith("file:", "only file: model sources are supported so far").max(4096);

const Pid = z.number().int().positive();

// ── client → queen (POST /v1/jobs) ─────────────────────────────────────────────────────────

export const JobRequest = z.discriminatedUnion("operation", [
  z.object({
    operation: z.literal("worker_spawn"),
    hive: HiveName,
    /** The name clients will use in `model`. */
    model: ModelName,
    source: ModelSource,
  }),
  z.object({
    operation: z.literal("worker_delete"),
    /** Optional: when given, the worker must belong to this hive. */
    hive: HiveName.optional(),
    worker_id: WorkerId,
  }),
  z.object({ operation: z.literal("hive_check"), hive: HiveName }),
]);
export type JobRequest = z.infer<typeof JobRequest>;
export type JobOperationName = JobRequest["operation"];

// ── queen → hive (job_start frame) ──────────────────────────────────────────────────────────

export const HiveOperation = z.discriminatedUnion("operation", [
  z.object({ operation: z.literal("worker_spawn"), workerId: WorkerId, model: ModelName, source: ModelSource }),
  z.object({ operation: z.literal("worker_delete"), workerId: WorkerId, pid: Pid }),
  z.object({ operation: z.literal("hive_check") }),
]);
export type HiveOperation = z.infer<typeof HiveOperation>;
