// /v1/workers: the workers the registry knows (all, per hive, one), starting one on a named hive
// and stopping one. Starting and stopping are jobs on the worker's hive; POST waits for the
// spawn job to end so `npm start` gets `{id, pid, port}` in one call, DELETE answers with the
// job to follow.
import { Hono } from "hono";
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import type { JobRequest } from "../../shared/protocol/job-operation.js";
import { DeviceIndex, ModelSource, WorkerType } from "../../shared/protocol/job-operation.js";
import { ModelName, WorkerId } from "../../shared/protocol/worker-heartbeat.js";
import { parseRequest } from "../../shared/validation.js";
import type { QueenEnv } from "../env.js";
import { readJson } from "../http/read-json.js";
import { parseParam } from "../http/parse-param.js";
import { SpawnedWorkerPayload } from "../jobs/job-effects.js";
import { resolveJob } from "../jobs/resolve-job.js";
import { jobSessionStub } from "../jobs/stub.js";
import { submitJob } from "../jobs/submit-job.js";
import { registryStub } from "../registry/stub.js";

/**
 * How long POST /v1/workers waits for the hive to have the worker loaded (ms). A model that must
 * be downloaded first can take longer: the answer then names the job to follow.
 */
const SPAWN_WAIT_MS = 300_000;

const SpawnWorker = z.object({
  hive: HiveName,
  /** The name clients will use in `model`. */
  model: ModelName,
  /** The model to load, e.g. `hf:org/repo:file.gguf`; the hive downloads it first if needed. */
  source: ModelSource,
  /** Which worker build to run; default: the best the hive can run. */
  worker_type: WorkerType.optional(),
  /** Which GPU of that backend, by index. */
  device: DeviceIndex.optional(),
});

export const workerRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => {
    const hive = c.req.query("hive_id");
    const hiveName = hive === undefined ? undefined : parseParam("hive_id", HiveName, hive);
    return c.json({ object: "list", data: await registryStub(c.env).listWorkers(hiveName) });
  })
  .get("/:id", async (c) => {
    const workerId = parseParam("id", WorkerId, c.req.param("id"));
    const worker = await registryStub(c.env).getWorker(workerId);
    if (!worker) throw new RbeeError(404, "worker_not_found", `No live worker '${workerId}'.`, { param: "id" });
    return c.json(worker);
  })
  .post("/", async (c) => {
    const { hive, model, source, worker_type, device } = parseRequest(SpawnWorker, await readJson(c));
    const request: JobRequest = { operation: "worker_spawn", hive, model, source, worker_type, device };
    const { jobId } = await submitJob(c.env, request, await resolveJob(c.env, request));
    const outcome = await jobSessionStub(c.env, jobId).outcome(SPAWN_WAIT_MS);
    const spawned = SpawnedWorkerPayload.safeParse(outcome.resultJson === null ? null : JSON.parse(outcome.resultJson));
    if (outcome.end?.type === "done" && spawned.success) {
      const { worker_id: id, pid, port } = spawned.data;
      return c.json({ id, hive, model, pid, port, job_id: jobId }, 201);
    }
    if (outcome.end?.type === "error") {
      const status = outcome.end.code === "hive_offline" ? 503 : outcome.end.code === "too_many_workers" ? 409 : 502;
      throw new RbeeError(status, outcome.end.code, `Hive '${hive}' could not start the worker: ${outcome.end.message}`);
    }
    const how = outcome.end ? `the job ended ${outcome.end.type}` : `it did not finish within ${SPAWN_WAIT_MS / 1000} s`;
    throw new RbeeError(504, "worker_spawn_incomplete", `Hive '${hive}' did not report a started worker: ${how}; follow job ${jobId}.`);
  })
  .delete("/:id", async (c) => {
    const workerId = parseParam("id", WorkerId, c.req.param("id"));
    const request: JobRequest = { operation: "worker_delete", worker_id: workerId };
    const submitted = await submitJob(c.env, request, await resolveJob(c.env, request));
    return c.json({ job_id: submitted.jobId, stream_url: submitted.streamPath }, 202);
  });
