// What every catalog entry has, whatever it holds (a GGUF model, a worker binary): its id, where
// it stands (available, downloading, failed and why) and its size. Catalogs store one entry per
// folder as `metadata.json`, validated with these schemas whenever it is read back from disk.
import { z } from "zod";

export const ArtifactStatus = z.discriminatedUnion("state", [
  z.object({ state: z.literal("available") }),
  /** `pid` is the process downloading it, so a crashed download is told from a live one. */
  z.object({ state: z.literal("downloading"), pid: z.number().int().positive() }),
  /** `reason` says what went wrong and what to do about it. */
  z.object({ state: z.literal("failed"), reason: z.string() }),
]);
export type ArtifactStatus = z.infer<typeof ArtifactStatus>;

export const ArtifactFields = z.object({
  /** What the user named it by, e.g. `hf:org/repo:file.gguf`; never used as a path. */
  id: z.string().min(1).max(1024),
  status: ArtifactStatus,
  /** Bytes on disk once available; null while unknown. */
  sizeBytes: z.number().int().min(0).nullable(),
  /** ISO 8601. */
  addedAt: z.string(),
  /** What this kind of artifact knows about itself (a GGUF's metadata, a worker's entry point); null until fetched. */
  details: z.unknown(),
});
export type Artifact = z.infer<typeof ArtifactFields>;
