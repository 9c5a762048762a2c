// Reads a worker id (`cpu-llm-worker-rbee-v0.1.0-linux`) back into its type, version and platform:
// vendors are handed only the id and the source, and must build or pick exactly what the id names.
// The old platform spellings (`-darwin`, `-win32`) read as `macos` and `windows` (worker-platform.ts).
import { RbeeError } from "../../../shared/errors.js";
import { catalogPlatform } from "../../catalog/worker/worker-platform.js";
import { WorkerType, workerArtifactId } from "../../catalog/worker/worker-artifact.js";

export interface WorkerIdParts {
  workerType: WorkerType;
  /** Without the `v`, e.g. `0.1.0`. */
  version: string;
  /** The catalog's name of the platform the worker is for: `linux`, `macos`, `windows`. */
  platform: string;
}

// The version may hold hyphens (`0.2.0-rc.1`); platforms (`linux`, `macos`, `win32`) never do,
// so the platform is whatever follows the last hyphen.
const WORKER_ID = /^([a-z]+)-llm-worker-rbee-v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)-([a-z0-9]+)$/;

export function parseWorkerId(id: string): WorkerIdParts {
  const match = WORKER_ID.exec(id);
  const workerType = WorkerType.safeParse(match?.[1]);
  const version = match?.[2];
  const platform = match?.[3];
  if (!workerType.success || version === undefined || platform === undefined) {
    throw new RbeeError(
      400,
      "invalid_worker_id",
      `worker id ${JSON.stringify(id.slice(0, 200))} is not of the form <${WorkerType.options.join("|")}>-llm-worker-rbee-v<version>-<platform>, e.g. ${workerArtifactId("cpu", "0.1.0", "linux")}`,
    );
  }
  return { workerType: workerType.data, version, platform: catalogPlatform(platform) };
}

/** The one catalog key of a worker id: `cpu-llm-worker-rbee-v0.1.0-darwin` is `…-macos`. */
export function canonicalWorkerId(id: string): string {
  const { workerType, version, platform } = parseWorkerId(id);
  return workerArtifactId(workerType, version, platform);
}
