// Builds a model catalog entry for a GGUF that a vendor just put into the entry's folder: the
// file's size and the facts read from its header. Every model vendor ends with this.
import { stat } from "node:fs/promises";
import path from "node:path";
import type { ModelArtifact } from "./model-artifact.js";
import { readGgufSummary } from "./read-gguf-summary.js";

export interface FetchedModelFile {
  id: string;
  /** `hugging-face`, `https`, `file`. */
  vendor: string;
  folder: string;
  /** The GGUF's name inside `folder` (a copy, or a symlink when `linked`). */
  fileName: string;
  /** The URL it was downloaded from, or the path it was copied or linked from. */
  origin: string;
  sha256: string | null;
  linked: boolean;
}

export async function modelEntry(file: FetchedModelFile): Promise<ModelArtifact> {
  const filePath = path.join(file.folder, file.fileName);
  const { size } = await stat(filePath); // follows a link: the size of the model, not of the link
  const { gguf, memory } = await readGgufSummary(filePath);
  return {
    id: file.id,
    status: { state: "available" },
    sizeBytes: size,
    addedAt: new Date().toISOString(),
    details: {
      vendor: file.vendor,
      fileName: file.fileName,
      origin: file.origin,
      sha256: file.sha256,
      linked: file.linked,
      gguf,
      memory,
    },
  };
}
