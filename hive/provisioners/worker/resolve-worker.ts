// Picks which installed worker the hive starts for a worker type: the newest version that is
// available for this platform. Entries still downloading, failed ones and other platforms' are
// passed over, as are entries whose metadata has no details (a first fetch that never finished).
import type { ArtifactCatalog } from "../../catalog/artifact-catalog.js";
import type { WorkerArtifact, WorkerDetails, WorkerType } from "../../catalog/worker/worker-artifact.js";
import { catalogPlatform, hostPlatform } from "../../catalog/worker/worker-platform.js";
import { compareVersions } from "./compare-versions.js";

/** An available worker entry, with the details that say how to start it. */
export type InstalledWorker = WorkerArtifact & { details: WorkerDetails };

export async function resolveWorker(
  catalog: ArtifactCatalog<WorkerArtifact>,
  workerType: WorkerType,
  platform: string = hostPlatform(),
): Promise<InstalledWorker | undefined> {
  const candidates = (await catalog.list()).filter(
    (entry): entry is InstalledWorker =>
      entry.status.state === "available" && entry.details !== null && entry.details.workerType === workerType && catalogPlatform(entry.details.platform) === catalogPlatform(platform),
  );
  // Newest first. One version has one id whichever vendor built it: installing it from the other replaces it.
  candidates.sort((a, b) => compareVersions(b.details.version, a.details.version) || b.addedAt.localeCompare(a.addedAt));
  return candidates[0];
}
