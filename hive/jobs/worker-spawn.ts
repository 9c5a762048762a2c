// The worker_spawn operation: gets the model into the catalog (downloading it if needed), finds
// a worker build of the asked type (building this repository's when none is installed, or when
// the installed one is of other sources or another checkout's), starts it detached, reports
// `{worker_id, pid, port}` once it listens (before it loads), and ends when the model is loaded,
// or with the worker's own reason why it could not load it. The load has no deadline: it fails
// when the worker goes silent or its progress stands still for the hive's --worker-load-stall-ms
// (default 5 minutes), never merely for taking long. Once loaded, the model's catalog entry
// remembers the name it is served as (../catalog/model/served-names.ts).
import { describeError, RbeeError } from "../../shared/errors.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { modelFilePath } from "../catalog/model/model-artifact.js";
import { noteServedName } from "../catalog/model/served-names.js";
import { spawnWorker } from "../processes/spawn-worker.js";
import { stopProcess } from "../processes/stop-process.js";
import { GITHUB_RELEASES_VENDOR } from "../provisioners/worker/github-releases-vendor.js";
import { relinkHostNodeLlamaCpp } from "../provisioners/worker/host-node-llama-cpp.js";
import { resolveWorker } from "../provisioners/worker/resolve-worker.js";
import { localBuildStaleness } from "../provisioners/worker/local-build-vendor.js";
import { installWorker } from "../provisioners/worker/worker-catalog.js";
import { workerCommand } from "../provisioners/worker/worker-command.js";
import type { JobContext } from "./job-context.js";
import type { HiveServices } from "./hive-services.js";
import { HiveStopping } from "./hive-stopping.js";
import { memoryShortfall } from "./memory-fit.js";
import { provisionModel } from "./model-jobs.js";
import { canonicalModelId } from "../provisioners/model/model-source.js";

/** The shortest time a loading worker may go without a heartbeat before it counts as dead, ms. */
const MIN_LOAD_SILENCE_MS = 15_000;

export async function runWorkerSpawn(
  operation: Extract<HiveOperation, { operation: "worker_spawn" }>,
  context: JobContext,
  services: HiveServices,
): Promise<void> {
  // The model is this job's until its worker runs (then the worker's process holds it): a
  // model_delete meanwhile is refused, rather than remove the file the worker is about to load.
  const release = services.models.use(canonicalModelId(operation.source), context.jobId);
  try {
    await spawn(operation, context, services);
  } finally {
    release();
  }
}

async function spawn(operation: Extract<HiveOperation, { operation: "worker_spawn" }>, context: JobContext, services: HiveServices): Promise<void> {
  const { workerId, model, source } = operation;
  const settings = services.spawnSettings();
  const workerType = operation.workerType ?? settings.defaultWorkerType;

  const modelEntry = await provisionModel(services.models, source, context);
  if (!modelEntry.details) throw new RbeeError(500, "model_incomplete", `model '${modelEntry.id}' has no file details in the catalog; delete it and download it again`);
  const modelPath = modelFilePath(services.models.catalog.folderOf(modelEntry.id), modelEntry.details);
  const shortfall = modelEntry.details.memory && memoryShortfall(modelEntry.details.memory, settings.devices, workerType, operation.device);
  if (shortfall) context.narrate("memory", `warning: ${shortfall}; loading it anyway`);

  let worker = await resolveWorker(services.workers.catalog, workerType);
  if (!worker || (await localBuildStaleness(worker))) {
    // The install's `replace` narration says why an installed one is built again.
    context.narrate("install", worker ? `the installed ${workerType} worker must be built again; building this repository's worker` : `no ${workerType} worker is installed; building this repository's worker`);
    await installWorker(services.workers, { workerType, source: "local" }, context.signal, { narrate: context.narrate, progress: context.progress });
    worker = await resolveWorker(services.workers.catalog, workerType);
    if (!worker) throw new RbeeError(500, "worker_not_installed", `the ${workerType} worker was built but is not available in the catalog`);
  }
  if (worker.details.vendor === GITHUB_RELEASES_VENDOR) {
    // A release loads the node-llama-cpp its installing hive linked beside it, maybe another checkout's.
    const relinked = await relinkHostNodeLlamaCpp(services.workers.catalog.folderOf(worker.id));
    if (relinked) context.narrate("linked", `${worker.id} was installed by another checkout of rbee; it now uses this hive's node-llama-cpp ${relinked.version} (${relinked.folder})`);
  }
  context.signal.throwIfAborted();

  context.narrate("spawn", `starting worker ${workerId} (${worker.id}) for '${model}' from ${modelPath}`);
  const spawned = await spawnWorker({
    workerId,
    modelName: model,
    modelPath,
    launch: workerCommand(services.workers.catalog, worker),
    gpu: workerType,
    deviceIndex: operation.device,
    hiveChannel: settings.hiveChannel,
    secret: settings.workerSecret(workerId),
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    threads: settings.threads,
    parallel: settings.parallel,
    pollUs: settings.pollUs,
    logDir: settings.logDir,
    log: services.log,
    signal: context.signal,
  });
  context.narrate("listening", `worker ${workerId} (pid ${spawned.pid}) listens on 127.0.0.1:${spawned.port}; loading the model (log: ${spawned.logFile})`);
  context.data({ worker_id: workerId, pid: spawned.pid, port: spawned.port });

  let lastReported = -1;
  const ready = await Promise.race([
    services.readiness.waitUntilReady(workerId, {
      signal: context.signal,
      silenceMs: Math.max(MIN_LOAD_SILENCE_MS, 3 * settings.heartbeatIntervalMs),
      stallMs: settings.loadStallMs,
      onLoading: (heartbeat) => {
        const percent = Math.floor((heartbeat.loadProgress ?? 0) * 4) * 25; // every quarter
        if (percent <= lastReported) return;
        lastReported = percent;
        context.narrate("loading", `worker ${workerId} loading: ${percent}%`);
      },
    }),
    spawned.exited,
  ]).catch(async (error: unknown) => {
    // A hive shutting down leaves a loading worker be: the next hive re-attaches it. Cancelled,
    // failed or gone silent, it serves nobody: stop it (it may have exited already).
    if (!(context.signal.reason instanceof HiveStopping)) {
      await stopProcess(spawned.pid, services.workerStopGraceMs, new AbortController().signal, (action, message) => services.log(`worker ${workerId}: ${action}: ${message}`)).catch(() => {});
    }
    throw error;
  });
  // Its exit from now on is news for the queen (while loading, this job's failure says it).
  services.exits.adoptChild(workerId);
  void spawned.ended.then((how) => services.exits.childExited(workerId, spawned.pid, `worker exited (${how})`));
  context.narrate("ready", `worker ${workerId} is ready on ${ready.device ?? "an unknown device"} with ${ready.slotsTotal} slot(s)`);
  // The worker serves either way; without the note its name is only lost once it stops.
  await noteServedName(services.models.catalog, modelEntry.id, model, context.signal).catch((error: unknown) => {
    context.narrate("warning", `could not remember in the catalog that '${modelEntry.id}' is served as '${model}': ${describeError(error)}`);
  });
}
