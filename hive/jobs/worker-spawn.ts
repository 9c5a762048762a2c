// The worker_spawn operation: starts a worker process for a model and reports `{worker_id, pid,
// port}` once it listens. Cancelling it while the worker starts kills that worker.
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { spawnWorker } from "../processes/spawn-worker.js";
import type { JobContext } from "./job-context.js";

export interface WorkerSpawnSettings {
  /** The hive's local channel, where the worker sends its heartbeats. */
  hiveChannelUrl: string;
  heartbeatIntervalMs: number;
  threads: number | undefined;
  log: (line: string) => void;
}

export async function runWorkerSpawn(
  operation: Extract<HiveOperation, { operation: "worker_spawn" }>,
  context: JobContext,
  settings: WorkerSpawnSettings,
): Promise<void> {
  const { workerId, model, source } = operation;
  context.narrate("spawn", `starting worker ${workerId} for model '${model}' from ${source}`);
  const { pid, port } = await spawnWorker({ workerId, model, source, ...settings, signal: context.signal });
  context.narrate("listening", `worker ${workerId} (pid ${pid}) listens on 127.0.0.1:${port}; it heartbeats 'ready' once the model is loaded`);
  context.data({ worker_id: workerId, pid, port });
}
