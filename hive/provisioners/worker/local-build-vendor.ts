// The worker vendor for source `local`: builds this installation's own worker into the catalog,
// versioned as this repository's package.json. Every worker type is the same JavaScript, since
// node-llama-cpp picks its GPU backend at run time: a local `cuda` worker is the `cpu` bundle,
// started with `--gpu cuda` (see worker-command.ts). Its llama.cpp is node-llama-cpp's prebuilt
// binary when that loads here, else one compiled for the backend into the entry
// (llama-build/local-llama-build.ts), which the worker is started with.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { RbeeError } from "../../../shared/errors.js";
import type { FetchRequest, VendorContext, VendorSource } from "../../catalog/vendor-source.js";
import type { WorkerArtifact } from "../../catalog/worker/worker-artifact.js";
import { hostPlatform } from "../../catalog/worker/worker-platform.js";
import { bundleWorker } from "./bundle-worker.js";
import { provideLlamaBuild, type LlamaBuildEnvironment } from "./llama-build/local-llama-build.js";
import { localSourceFingerprint } from "./source-fingerprint.js";
import { parseWorkerId } from "./parse-worker-id.js";
import { LOCAL_SOURCE } from "./worker-source.js";

/** The repository this hive runs from: its worker is what gets built. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const PackageJson = z.object({ version: z.string() });

/** This repository's version (package.json), which local builds carry in their id. */
export async function localWorkerVersion(repoRoot: string = REPO_ROOT): Promise<string> {
  const file = path.join(repoRoot, "package.json");
  return PackageJson.parse(JSON.parse(await readFile(file, "utf8"))).version;
}

/**
 * Why an installed worker, a local build, must be built again before it runs here; undefined when
 * it is current, or not a local build. A build loads node-llama-cpp from the checkout that made it
 * (bundle-worker.ts), so one made by another checkout of rbee sharing this cache (a clone since
 * deleted, a folder since moved) is rebuilt from this one even when the sources are the same.
 */
export async function localBuildStaleness(worker: WorkerArtifact, repoRoot: string = REPO_ROOT): Promise<string | undefined> {
  const details = worker.details;
  if (details?.vendor !== "local-build") return undefined;
  if (details.llamaBuild === undefined) return "it was built before rbee recorded which llama.cpp a worker loads";
  const origin = workerSource(repoRoot);
  if (details.origin !== origin) return `it was built from another checkout of rbee (${details.origin}, not ${origin}), whose node-llama-cpp it loads`;
  if (details.sourceFingerprint !== (await localSourceFingerprint(repoRoot))) return "this repository's worker sources changed since it was built";
  return undefined;
}

/** The worker's entry module in a checkout: what a local build bundles, recorded as its origin. */
function workerSource(repoRoot: string): string {
  return path.join(repoRoot, "worker", "main.ts");
}

export class LocalBuildVendor implements VendorSource<WorkerArtifact> {
  readonly name = "local-build";

  constructor(
    private readonly repoRoot: string = REPO_ROOT,
    /** Where build tools are looked up when llama.cpp must be compiled. */
    private readonly buildEnvironment: LlamaBuildEnvironment = { env: process.env, platform: process.platform },
  ) {}

  supports(source: string): boolean {
    return source === LOCAL_SOURCE;
  }

  async fetch(request: FetchRequest, folder: string, context: VendorContext): Promise<WorkerArtifact> {
    const { workerType, version, platform } = parseWorkerId(request.id);
    const localVersion = await localWorkerVersion(this.repoRoot);
    // A build is of this checkout for this machine; any other version or platform is a mistake.
    if (version !== localVersion || platform !== hostPlatform()) {
      throw new RbeeError(
        400,
        "worker_version_mismatch",
        `a local build is version ${localVersion} for ${hostPlatform()}, but '${request.id}' asks for ${version} for ${platform}; install with source 'local' for this machine, or name a GitHub release (gh:owner/repo@v${version})`,
      );
    }
    // First: the part that can take minutes, or fail for a missing tool before anything is written.
    const llamaBuild = await provideLlamaBuild({ backend: workerType, folder, rebuild: request.rebuild === true }, context, this.buildEnvironment);
    const origin = workerSource(this.repoRoot);
    context.narrate("build", `bundling ${origin} with esbuild into ${folder}`);
    const started = performance.now();
    const sourceFingerprint = await localSourceFingerprint(this.repoRoot);
    const bundle = await bundleWorker(this.repoRoot, folder, context.signal);
    context.narrate("built", `built ${bundle.entry} (${bundle.sizeBytes} bytes) in ${Math.round(performance.now() - started)} ms`);
    return {
      id: request.id,
      status: { state: "available" },
      sizeBytes: bundle.sizeBytes,
      addedAt: new Date().toISOString(),
      details: {
        workerType,
        version,
        platform,
        vendor: this.name,
        origin,
        entry: bundle.entry,
        runtime: "node",
        // Several files, and rebuilt from source on demand: nothing downloaded to verify.
        sha256: null,
        sourceFingerprint,
        llamaBuild,
      },
    };
  }
}
