// The worker catalog operations: install a worker build (this repository's, or a GitHub
// release), and list what is installed.
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { installWorker } from "../provisioners/worker/worker-catalog.js";
import { workerView } from "./catalog-views.js";
import type { JobContext } from "./job-context.js";
import type { HiveServices } from "./hive-services.js";

export async function runWorkerInstall(
  operation: Extract<HiveOperation, { operation: "worker_install" }>,
  context: JobContext,
  services: HiveServices,
): Promise<void> {
  const entry = await installWorker(services.workers, { workerType: operation.workerType, source: operation.source, defaultReleaseRepo: services.workerReleaseRepo, rebuild: operation.rebuild }, context.signal, {
    narrate: context.narrate,
    progress: (bytes, total, rate) => context.progress(bytes, total, rate),
  });
  context.narrate("installed", `worker '${entry.id}' is installed`);
  context.data({ worker: workerView(entry) });
}

export async function runWorkerCatalogList(context: JobContext, services: HiveServices): Promise<void> {
  const entries = await services.workers.catalog.list();
  context.narrate("list", entries.length === 0 ? "no worker builds are installed yet (worker_spawn installs this repository's own)" : `${entries.length} worker build(s) installed`);
  context.data({ workers: entries.map(workerView) });
}
