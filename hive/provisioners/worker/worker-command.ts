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
  return worker.details.runtime === "node" ? { command: process.execPath, args: [entry] } : { command: entry, args: [] };
}
