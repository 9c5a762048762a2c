// What the hive tells the queen about its model catalog: each model ready to load, under each
// name clients may use for it (../catalog/model/served-names.ts), with what loading it takes. The
// queen's auto-spawn places by these figures and /v1/models lists them, so a model nobody runs
// yet is still one a client can ask for.
import { type CatalogModel, MAX_CATALOG_MODELS } from "../../shared/protocol/catalog-models.js";
import type { ModelArtifact } from "../catalog/model/model-artifact.js";
import { entriesByName } from "../catalog/model/served-names.js";

/**
 * RAM a worker process takes besides its model: Node, node-llama-cpp and llama.cpp's buffers
 * (~90–110 MiB measured with the tiny model). Counted in `memoryBytes`, so a memory budget of a
 * few hundred MiB holds as many workers as really fit in it.
 */
export const WORKER_PROCESS_BYTES = 128 * 1024 ** 2;

/** Without node-llama-cpp's estimate: the file plus this share for context and buffers. */
const UNESTIMATED_OVERHEAD = 0.2;

/** The catalog's available models as the queen sees them, one per name, at most MAX_CATALOG_MODELS. */
export function catalogFacts(entries: ModelArtifact[]): CatalogModel[] {
  const models: CatalogModel[] = [];
  const available = entries.filter((entry) => entry.status.state === "available" && entry.details);
  for (const [name, entry] of entriesByName(available)) {
    if (!entry.details) continue;
    const sizeBytes = entry.sizeBytes ?? 0;
    const memory = entry.details.memory;
    const fallback = Math.ceil(sizeBytes * (1 + UNESTIMATED_OVERHEAD));
    models.push({
      source: entry.id,
      name,
      sizeBytes,
      memoryBytes: (memory?.cpuOnlyRamBytes ?? fallback) + WORKER_PROCESS_BYTES,
      vramBytes: memory?.fullOffloadVramBytes ?? fallback,
    });
  }
  models.sort((a, b) => a.name.localeCompare(b.name));
  return models.slice(0, MAX_CATALOG_MODELS);
}
