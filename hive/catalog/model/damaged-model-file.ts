// Whether a model entry's file on disk is still the one the catalog recorded. A file deleted or
// cut short after its download (by hand, another tool, a disk that filled) was listed as
// available, and the worker started on it died (SIGBUS on a truncated file's pages) while every
// new ask answered "already in the catalog". Such an entry is fetched again instead: a download
// re-checks a finished file by its SHA-256 and resumes or starts over, a `file:` entry links its
// file afresh (or says it is gone, naming the user's path). The size is what is compared, one
// stat per ask; hashing gigabytes on every spawn would cost minutes.
import { stat } from "node:fs/promises";
import { type ModelArtifact, modelFilePath } from "./model-artifact.js";

export async function damagedModelFile(entry: ModelArtifact, folder: string): Promise<string | undefined> {
  if (entry.details === null) return undefined;
  const filePath = modelFilePath(folder, entry.details);
  // A linked entry's file is the user's own, at its origin.
  const shown = entry.details.linked ? entry.details.origin : filePath;
  const info = await stat(filePath).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) return info.code === "ENOENT" ? `its file ${shown} is gone` : `its file ${shown} cannot be read (${info.code ?? info.message})`;
  if (entry.sizeBytes !== null && info.size !== entry.sizeBytes) return `its file ${shown} has ${info.size} bytes, not the ${entry.sizeBytes} it was fetched with`;
  return undefined;
}
