// How to start an installed worker: the executable and the arguments that come before the
// worker's own flags. Node scripts run under the hive's own Node (process.execPath), so a worker
// never depends on which `node` is first on PATH.
import { resolveInside } from "../../catalog/artifact-id.js";
import type { ArtifactCatalog } from "../../catalog/artifact-catalog.js";
import type { WorkerArtifact } from "../../catalog/worker/worker-artifact.js";
import type { InstalledWorker } from "./resolve-worker.js";

export interface WorkerCommand {
  command: string;
  /** Put the worker's flags (`--model …`) after these. */
  args: string[];
}

export function workerCommand(catalog: ArtifactCatalog<WorkerArtifact>, worker: InstalledWorker): WorkerCommand {
  // metadata.json is read back from disk: its entry must still be one file inside the entry's folder.
  const entry = resolveInside(catalog.folderOf(worker.id), worker.details.entry);
  if (worker.details.runtime !== "node") return { command: entry, args: [] };
  // A llama.cpp compiled for this machine lives in the entry; the worker loads it instead of node-llama-cpp's prebuilt one.
  const llama = worker.details.llamaBuild;
  const build = llama?.kind === "compiled" ? ["--llama-build", resolveInside(catalog.folderOf(worker.id), llama.folder)] : [];
  return { command: process.execPath, args: [entry, ...build] };
}
