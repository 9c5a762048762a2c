// The models a hive has ready in its catalog, as it reports them in its hello and every
// hive_status: the queen's auto-spawn picks a hive by them, and /v1/models lists them.
import { z } from "zod";
import { Bytes } from "./figures.js";
import { ModelSource } from "./job-operation.js";
import { ModelName } from "./worker-heartbeat.js";

/** Catalog models one hive reports; a hive with more reports the first ones by name. */
export const MAX_CATALOG_MODELS = 256;

export const CatalogModel = z.object({
  /** The catalog id, which is also what a worker_spawn loads: `hf:org/repo:file.gguf`, `file:/…`. */
  source: ModelSource,
  /** The name clients use in `model` (shared/models/model-name.ts derives it from `source`). */
  name: ModelName,
  /** The GGUF's size on disk. */
  sizeBytes: Bytes,
  /** RAM a CPU worker needs to load it: weights, context and the worker process (an estimate). */
  memoryBytes: Bytes,
  /** VRAM a GPU worker needs to load it fully offloaded (an estimate). */
  vramBytes: Bytes,
});
export type CatalogModel = z.infer<typeof CatalogModel>;

export const CatalogModels = z.array(CatalogModel).max(MAX_CATALOG_MODELS);
