// Builds a model catalog entry for a GGUF that a vendor just put into the entry's folder: the
// file's size and the facts read from its header. Every model vendor ends with this.
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
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
  const { gguf, memory } = await readGgufSummary(filePath).catch(async (error: unknown) => {
    // The file arrived whole and is not a GGUF: nothing a later attempt could resume from. Deleted
    // (for a link, only the link), a first fetch leaves no failed entry behind; the job's error says why.
    if (error instanceof RbeeError && error.code === "invalid_gguf") await rm(filePath, { force: true });
    throw error;
  });
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
