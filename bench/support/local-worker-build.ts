// Builds this repository's worker into a fresh worker catalog the way the hive does on its first
// spawn (installWorker with source `local`), times the build, and says how to start the result.
import { performance } from "node:perf_hooks";
import type { WorkerLaunch } from "../../hive/processes/spawn-worker.js";
import { localBuildStaleness } from "../../hive/provisioners/worker/local-build-vendor.js";
import { resolveWorker, type InstalledWorker } from "../../hive/provisioners/worker/resolve-worker.js";
import { createWorkerProvisioner, installWorker } from "../../hive/provisioners/worker/worker-catalog.js";
import { workerCommand } from "../../hive/provisioners/worker/worker-command.js";

export interface LocalWorkerBuild {
  worker: InstalledWorker;
  launch: WorkerLaunch;
  /** installWorker into the empty catalog, from call to return, in ms. */
  installMs: number;
  /** Of that, the vendor's `build` → `built` narration: fingerprinting the sources and esbuild, in ms. */
  bundleMs: number;
  /**
   * What the hive does before every spawn once a build is installed (resolveWorker, then
   * localBuildStaleness, which fingerprints the worker's sources again), in ms.
   */
  catalogCheckMs: number;
}

/** `cacheDir` should be empty: a build already in its catalog would be reused, and not timed. */
export async function buildLocalWorker(cacheDir: string, signal: AbortSignal): Promise<LocalWorkerBuild> {
  // env {}: a GITHUB_TOKEN or RBEE_GITHUB_API_URL of the caller has nothing to do with a local build.
  const provisioner = createWorkerProvisioner({ cacheDir, env: {} });
  const narratedAt = new Map<string, number>();
  const listener = { narrate: (action: string) => void narratedAt.set(action, performance.now()), progress: () => {} };

  const installStarted = performance.now();
  await installWorker(provisioner, { workerType: "cpu", source: "local" }, signal, listener);
  const installMs = performance.now() - installStarted;
  const build = narratedAt.get("build");
  const built = narratedAt.get("built");
  if (build === undefined || built === undefined) {
    throw new Error(`expected installWorker to build into the empty catalog ${cacheDir}, but it narrated ${[...narratedAt.keys()].join(", ")}`);
  }

  const checkStarted = performance.now();
  const worker = await resolveWorker(provisioner.catalog, "cpu");
  if (!worker) throw new Error(`the cpu worker was built into ${cacheDir} but resolveWorker does not find it`);
  const stale = await localBuildStaleness(worker);
  if (stale) throw new Error(`the build in ${cacheDir} is already stale (${stale}): did the worker's sources change during the build?`);
  const catalogCheckMs = performance.now() - checkStarted;

  return { worker, launch: workerCommand(provisioner.catalog, worker), installMs, bundleMs: built - build, catalogCheckMs };
}
