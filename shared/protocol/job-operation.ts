// Everything the queen can ask a hive to do, as one zod union per audience: `JobRequest` is what
// a client POSTs to /v1/jobs (snake_case, names a hive), `HiveOperation` is what the queen sends
// down the hive's socket in a job_start frame (camelCase like every frame, resolved: a worker
// delete carries the PID the queen's registry knows, because the hive keeps no registry).
import { z } from "zod";
import { idPattern } from "../ids.js";
import { BARE_HUGGING_FACE_ID } from "../models/bare-model-id.js";
import { HiveName } from "./hive-name.js";
import { ModelName, WorkerDevice, WorkerId } from "./worker-heartbeat.js";

export const JobId = z.string().regex(idPattern("job"), "must look like job_<letters and digits>");

/**
 * Where a hive gets a model, which is also its id in the hive's model catalog. The queen checks
 * the scheme; the hive parses the rest (and refuses anything that could become a path).
 */
export const ModelSource = z
  .string()
  .max(1024, "must be at most 1024 characters")
  .refine(
    (value) => /^(hf:|https:\/\/|http:\/\/|file:)./.test(value) || BARE_HUGGING_FACE_ID.test(value),
    "must be hf:org/repo[:file.gguf | :QUANT], org/repo (Hugging Face), https://…/file.gguf or file:/path/file.gguf",
  );

/** Which llama.cpp build a worker runs: the backend it was built for. */
export const WorkerType = WorkerDevice;

/** Where a worker build comes from: this installation's own build, or a GitHub release (the hive reads the details). */
export const WorkerSource = z
  .string()
  .max(512)
  .refine(
    (value) => value === "local" || /^gh:[^/\s]+\/[^@\s]+@\S+$/i.test(value) || /^https:\/\/(www\.)?github\.com\/\S+$/.test(value) || /^[A-Za-z0-9][A-Za-z0-9.+-]*$/.test(value),
    "must be 'local', gh:owner/repo@tag, a https://github.com/owner/repo/releases/… URL, or a worker id or tag in the hive's default release repository",
  );

/** A GPU's index within its backend (0 for the first CUDA device). */
export const DeviceIndex = z.number().int().min(0).max(63);

const Pid = z.number().int().positive();

// ── client → queen (POST /v1/jobs) ─────────────────────────────────────────────────────────

export const JobRequest = z.discriminatedUnion("operation", [
  z.object({
    operation: z.literal("worker_spawn"),
    hive: HiveName,
    /** The name clients will use in `model`. */
    model: ModelName,
    /** The model to load; the hive downloads it into its catalog first when it is missing. */
    source: ModelSource,
    /** Default: the best the hive can run (a GPU backend when it has one, else cpu). */
    worker_type: WorkerType.optional(),
    device: DeviceIndex.optional(),
  }),
  z.object({
    operation: z.literal("worker_delete"),
    /** Optional: when given, the worker must belong to this hive. */
    hive: HiveName.optional(),
    worker_id: WorkerId,
  }),
  z.object({ operation: z.literal("model_download"), hive: HiveName, model: ModelSource }),
  z.object({ operation: z.literal("model_delete"), hive: HiveName, model: ModelSource }),
  z.object({ operation: z.literal("model_list"), hive: HiveName }),
  z.object({
    operation: z.literal("worker_install"),
    hive: HiveName,
    worker_type: WorkerType.default("cpu"),
    source: WorkerSource.default("local"),
    /** Source `local`: compile llama.cpp for the backend even when a prebuilt binary loads (or an earlier build does). */
    rebuild: z.boolean().optional(),
  }),
  z.object({ operation: z.literal("worker_catalog_list"), hive: HiveName }),
  z.object({ operation: z.literal("hive_check"), hive: HiveName }),
]);
export type JobRequest = z.infer<typeof JobRequest>;
export type JobOperationName = JobRequest["operation"];

// ── queen → hive (job_start frame) ──────────────────────────────────────────────────────────

export const HiveOperation = z.discriminatedUnion("operation", [
  z.object({
    operation: z.literal("worker_spawn"),
    workerId: WorkerId,
    model: ModelName,
    source: ModelSource,
    workerType: WorkerType.optional(),
    device: DeviceIndex.optional(),
  }),
  z.object({ operation: z.literal("worker_delete"), workerId: WorkerId, pid: Pid }),
  z.object({ operation: z.literal("model_download"), model: ModelSource }),
  z.object({ operation: z.literal("model_delete"), model: ModelSource }),
  z.object({ operation: z.literal("model_list") }),
  z.object({ operation: z.literal("worker_install"), workerType: WorkerType, source: WorkerSource, rebuild: z.boolean().optional() }),
  z.object({ operation: z.literal("worker_catalog_list") }),
  z.object({ operation: z.literal("hive_check") }),
]);
export type HiveOperation = z.infer<typeof HiveOperation>;
