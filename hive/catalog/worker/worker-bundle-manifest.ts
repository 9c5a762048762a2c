// `rbee-worker.json`, the file inside a worker release archive that says what the archive is and
// how to start it. `npm run release:worker` writes it; the GitHub-releases vendor reads it back
// after unpacking, and refuses an archive whose manifest disagrees with the id it was asked for.
import { z } from "zod";
import { WorkerType } from "./worker-artifact.js";

export const BUNDLE_MANIFEST_FILE = "rbee-worker.json";

export const WorkerBundleManifest = z.object({
  name: z.literal("rbee-worker"),
  /** Without the `v`, e.g. `0.1.0`. */
  version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/),
  workerType: WorkerType,
  /** The catalog's platform name (`linux`, `macos`, `windows`). */
  platform: z.string(),
  /** The file to start with Node, at the archive's top level. */
  entry: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.m?js$/),
  /**
   * The node-llama-cpp version the bundle was built against. The bundle does not carry it: it is
   * resolved from the hive's own installation on the machine that runs it (see bundle-worker.ts).
   */
  nodeLlamaCpp: z.string(),
});
export type WorkerBundleManifest = z.infer<typeof WorkerBundleManifest>;
