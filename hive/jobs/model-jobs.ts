// The model catalog operations: download a model into the catalog (or find it there), delete
// one (refused while a worker of this machine has it loaded), and list what is there. A model's
// catalog id is its source in one canonical spelling (canonicalModelId), so `file:///m/x.gguf` and
// `file:/m/x.gguf` are one entry, and a pre-signed URL's query never becomes part of an id.
import { RbeeError } from "../../shared/errors.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import type { ArtifactProvisioner } from "../catalog/artifact-provisioner.js";
import type { ModelArtifact } from "../catalog/model/model-artifact.js";
import { modelFilePath } from "../catalog/model/model-artifact.js";
import { canonicalModelId } from "../provisioners/model/model-source.js";
import { findWorkerProcesses, type WorkerInstallations } from "../processes/worker-process-check.js";
import { modelView } from "./catalog-views.js";
import type { JobContext } from "./job-context.js";

const MIB = 1024 * 1024;

/** Gets a model into the catalog, narrating and reporting progress through the job. */
export async function provisionModel(models: ArtifactProvisioner<ModelArtifact>, source: string, context: JobContext): Promise<ModelArtifact> {
  const entry = await models.provision({ id: canonicalModelId(source), source }, context.signal, {
    narrate: context.narrate,
    progress: (bytes, total, rate) => context.progress(bytes, total, rate),
  });
  const details = entry.details;
  if (details) {
    const { gguf } = details;
    const size = entry.sizeBytes === null ? "size unknown" : `${(entry.sizeBytes / MIB).toFixed(1)} MiB`;
    context.narrate(
      "model",
      `${entry.id}: ${gguf.architecture ?? "unknown architecture"}, ${gguf.quantization ?? "unknown quantization"}, ${size}, context ${gguf.contextLength ?? "?"} tokens${gguf.hasChatTemplate ? ", chat template" : ", no chat template"}`,
    );
  }
  return entry;
}

export async function runModelDownload(
  operation: Extract<HiveOperation, { operation: "model_download" }>,
  context: JobContext,
  models: ArtifactProvisioner<ModelArtifact>,
): Promise<void> {
  const entry = await provisionModel(models, operation.model, context);
  context.data({ model: modelView(entry) });
}

export async function runModelDelete(
  operation: Extract<HiveOperation, { operation: "model_delete" }>,
  context: JobContext,
  models: ArtifactProvisioner<ModelArtifact>,
  installations: WorkerInstallations,
): Promise<void> {
  // An entry made before ids were canonical may be under the spelling it was asked with.
  const entry = (await models.catalog.get(canonicalModelId(operation.model))) ?? (await models.catalog.get(operation.model));
  if (!entry) throw new RbeeError(404, "model_not_found", `model '${canonicalModelId(operation.model)}' is not in this hive's catalog; model_list shows what is`);
  const spawning = models.usersOf(entry.id);
  if (spawning.length > 0) {
    throw new RbeeError(409, "model_in_use", `model '${entry.id}' is being started as a worker by job ${spawning.join(", ")}; wait for it to end (or cancel it: DELETE /v1/jobs/${spawning[0]}), then stop that worker first`);
  }
  if (entry.details) {
    const filePath = modelFilePath(models.catalog.folderOf(entry.id), entry.details);
    const users = (await findWorkerProcesses(installations)).filter((worker) => worker.modelPath === filePath);
    if (users.length > 0) {
      const pids = users.map((worker) => `${worker.workerId ?? "?"} (pid ${worker.pid})`).join(", ");
      const stop = users[0]?.workerId === undefined ? "DELETE /v1/workers/:id" : `DELETE /v1/workers/${users[0].workerId}`;
      throw new RbeeError(409, "model_in_use", `model '${entry.id}' is loaded by worker ${pids}; stop the worker first (${stop})`);
    }
  }
  // Under the entry's lock: a download of this model in progress finishes (or fails) first.
  await models.remove(entry.id, context.signal, () => context.narrate("wait", `model '${entry.id}' is being fetched; deleting it once that ends`));
  context.narrate("deleted", `removed model '${entry.id}'${entry.details?.linked ? " (a link: the original file is untouched)" : ""}`);
  context.data({ model: entry.id, deleted: true });
}

export async function runModelList(context: JobContext, models: ArtifactProvisioner<ModelArtifact>): Promise<void> {
  const entries = await models.catalog.list();
  context.narrate("list", entries.length === 0 ? "the model catalog is empty" : `${entries.length} model(s) in the catalog`);
  context.data({ models: entries.map(modelView) });
}
