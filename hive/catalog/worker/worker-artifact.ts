// A worker catalog entry: a runnable llama.cpp worker of one type (cpu, cuda, metal, vulkan),
// version and platform, named like `cpu-llm-worker-rbee-v0.1.0-linux`, and how to start it.
import { z } from "zod";
import { WorkerDevice } from "../../../shared/protocol/worker-heartbeat.js";
import { ArtifactFields } from "../artifact.js";
import { LlamaBuildDetails } from "./llama-build-details.js";

/** The backend a worker build drives; the same names a worker reports as its device. */
export const WorkerType = WorkerDevice;
export type WorkerType = z.infer<typeof WorkerType>;

export const WorkerDetails = z.object({
  workerType: WorkerType,
  /** Without the `v`, e.g. `0.1.0`. */
  version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/),
  /** `process.platform` it runs on, e.g. `linux`. */
  platform: z.string(),
  /** The vendor that provided it: `local-build` or `github-releases`. */
  vendor: z.string(),
  /** Where it came from: a release asset URL, or this repository's path. */
  origin: z.string(),
  /** The file to start, inside the entry's folder. */
  entry: z.string(),
  /** `node`: run `node <entry>`; `native`: execute `<entry>` itself. */
  runtime: z.enum(["node", "native"]),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** Local builds: the fingerprint of the sources built (see source-fingerprint.ts), to notice a stale build. */
  sourceFingerprint: z.string().optional(),
  /** Local builds: the llama.cpp binary the worker loads (prebuilt, or compiled here); see llama-build-details.ts. */
  llamaBuild: LlamaBuildDetails.optional(),
});
export type WorkerDetails = z.infer<typeof WorkerDetails>;

export const WorkerArtifact = ArtifactFields.extend({ details: WorkerDetails.nullable() });
export type WorkerArtifact = z.infer<typeof WorkerArtifact>;

/** `cpu-llm-worker-rbee-v0.1.0-linux`: the catalog id and the release asset name. */
export function workerArtifactId(workerType: WorkerType, version: string, platform: string): string {
  return `${workerType}-llm-worker-rbee-v${version.replace(/^v/, "")}-${platform}`;
}
