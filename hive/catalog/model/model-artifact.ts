// A model catalog entry: the common artifact fields plus what rbee read from the GGUF itself
// (never from the file name), an estimate of the memory a worker needs to load it, and the names
// its workers were started under (./served-names.ts).
import { z } from "zod";
import { ModelName } from "../../../shared/protocol/worker-heartbeat.js";
import { ArtifactFields } from "../artifact.js";
import { resolveInside } from "../artifact-id.js";

export const GgufSummary = z.object({
  architecture: z.string().nullable(),
  /** `general.name`, when the file has one. */
  name: z.string().nullable(),
  /** Tokens the model was trained with (`<arch>.context_length`). */
  contextLength: z.number().int().positive().nullable(),
  /** Sum of every tensor's elements. */
  parameterCount: z.number().int().min(0).nullable(),
  /** The file type, e.g. `MOSTLY_Q4_K_M`, `ALL_F32`. */
  quantization: z.string().nullable(),
  /** Whether the file carries a `tokenizer.chat_template`. */
  hasChatTemplate: z.boolean(),
});
export type GgufSummary = z.infer<typeof GgufSummary>;

/** node-llama-cpp's estimate of what loading the model takes, in bytes. */
export const MemoryEstimate = z.object({
  /** Context size the estimate assumes (what a worker picks by default). */
  contextSize: z.number().int().positive(),
  /** RAM for the weights and context with every layer on the CPU. */
  cpuOnlyRamBytes: z.number().int().min(0),
  /** VRAM for the weights and context with every layer offloaded to a GPU. */
  fullOffloadVramBytes: z.number().int().min(0),
});
export type MemoryEstimate = z.infer<typeof MemoryEstimate>;

export const ModelDetails = z.object({
  /** The vendor that fetched it, e.g. `hugging-face`, `https`, `file`. */
  vendor: z.string(),
  /** The GGUF's name inside the entry's folder. */
  fileName: z.string(),
  /** Where it came from: the URL it was downloaded from, or the local path. */
  origin: z.string(),
  /** Lowercase hex of the file's SHA-256 (verified against the hub's when the hub sent one). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** True when the entry links to a file elsewhere on this machine instead of holding a copy. */
  linked: z.boolean(),
  gguf: GgufSummary,
  memory: MemoryEstimate.nullable(),
});
export type ModelDetails = z.infer<typeof ModelDetails>;

/** Most names an entry remembers; a name served longer ago than the last this many is forgotten. */
export const MAX_SERVED_NAMES = 8;

/** A name a worker of this model was started under, and when (ISO 8601). */
export const ServedName = z.object({ name: ModelName, at: z.string() });
export type ServedName = z.infer<typeof ServedName>;

export const ModelArtifact = ArtifactFields.extend({
  details: ModelDetails.nullable(),
  /** The names workers of it were started under, the latest first; absent until one was. */
  servedAs: z.array(ServedName).max(MAX_SERVED_NAMES).optional(),
});
export type ModelArtifact = z.infer<typeof ModelArtifact>;

/** The GGUF to load for an available entry; metadata read back from disk must still name a file inside its folder. */
export function modelFilePath(folder: string, details: ModelDetails): string {
  return resolveInside(folder, details.fileName);
}
