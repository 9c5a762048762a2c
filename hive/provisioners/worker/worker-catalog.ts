// The hive's worker catalog: worker binaries by type, version and platform under
// `<cacheDir>/workers`, filled by two vendors (this repository's own build, GitHub releases).
// The hive creates one provisioner at start and installs through `installWorker`, which turns
// "a cuda worker from gh:org/rbee@v0.2.0" into the id this machine needs.
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import { ArtifactProvisioner, type ProvisionListener } from "../../catalog/artifact-provisioner.js";
import { FilesystemCatalog } from "../../catalog/filesystem-catalog.js";
import { WorkerArtifact, workerArtifactId, WorkerType } from "../../catalog/worker/worker-artifact.js";
import { hostPlatform } from "../../catalog/worker/worker-platform.js";
import { GitHubReleasesVendor } from "./github-releases-vendor.js";
import { LocalBuildVendor, localBuildStaleness, localWorkerVersion } from "./local-build-vendor.js";
import { formatWorkerSource, parseWorkerSource, WORKER_SOURCE_FORMS } from "./worker-source.js";

export const DEFAULTS = {
  /** GitHub's REST API; `RBEE_GITHUB_API_URL` or `githubApiUrl` point elsewhere (GitHub Enterprise, tests). */
  githubApiUrl: "https://api.github.com",
  /** The catalog's folder under the hive's cache folder. */
  folderName: "workers",
} as const;

export interface WorkerCatalogOptions {
  /** The hive's cache folder, e.g. `~/.cache/rbee`; workers live in `<cacheDir>/workers`. */
  cacheDir: string;
  /** Overrides `RBEE_GITHUB_API_URL` and the default, `https://api.github.com`. */
  githubApiUrl?: string | undefined;
  /** Where `GITHUB_TOKEN`, `RBEE_GITHUB_API_URL` and the tools a local llama.cpp build needs (PATH, CXX, CUDA_PATH, VULKAN_SDK) are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export function createWorkerProvisioner(options: WorkerCatalogOptions): ArtifactProvisioner<WorkerArtifact> {
  const env = options.env ?? process.env;
  const apiUrl = checkApiUrl(options.githubApiUrl ?? env.RBEE_GITHUB_API_URL ?? DEFAULTS.githubApiUrl);
  const catalog = new FilesystemCatalog<WorkerArtifact>(path.join(options.cacheDir, DEFAULTS.folderName), WorkerArtifact, "worker", options.log);
  const vendors = [new LocalBuildVendor(undefined, { env, platform: process.platform }), new GitHubReleasesVendor({ apiUrl, token: env.GITHUB_TOKEN || undefined })];
  return new ArtifactProvisioner(catalog, vendors, "worker", WORKER_SOURCE_FORMS);
}

export interface InstallWorkerRequest {
  workerType: WorkerType;
  /** `local`, or a release in any spelling worker-source.ts reads (`gh:owner/repo@tag`, a URL, a worker id). */
  source: string;
  /** Local builds: compile llama.cpp for the backend even when a prebuilt binary or an earlier build loads. */
  rebuild?: boolean;
  /** `owner/repo` for sources that name no repository (the hive's --worker-release-repo). */
  defaultReleaseRepo?: string | undefined;
}

/**
 * Installs a worker of `workerType` for this platform from `source`, or returns the one already
 * installed (narrated as `cached`). Hostile sources are refused here, before anything is fetched
 * or written.
 */
export async function installWorker(
  provisioner: ArtifactProvisioner<WorkerArtifact>,
  request: InstallWorkerRequest,
  signal: AbortSignal,
  listener: ProvisionListener,
): Promise<WorkerArtifact> {
  const workerType = WorkerType.safeParse(request.workerType);
  if (!workerType.success) {
    throw new RbeeError(400, "invalid_worker_type", `worker type ${JSON.stringify(request.workerType)} is not one of ${WorkerType.options.join(", ")}`);
  }
  const source = parseWorkerSource(request.source, { releaseRepo: request.defaultReleaseRepo });
  const platform = hostPlatform();
  if (source.kind === "github" && source.workerType !== undefined && source.workerType !== workerType.data) {
    throw new RbeeError(400, "worker_type_mismatch", `worker source '${request.source}' is a ${source.workerType} worker, but worker type ${workerType.data} was asked for; ask for worker type ${source.workerType}, or name the release (gh:${source.owner}/${source.repo}@${source.tag})`);
  }
  if (source.kind === "github" && source.platform !== undefined && source.platform !== platform) {
    throw new RbeeError(400, "worker_platform_mismatch", `worker source '${request.source}' is for ${source.platform}, but this hive runs on ${platform}; name the ${platform} build, or the release (gh:${source.owner}/${source.repo}@${source.tag})`);
  }
  const version = source.kind === "github" ? source.version : await localWorkerVersion();
  // The catalog key is built here, never taken from the source: every spelling of one worker is one entry.
  const id = workerArtifactId(workerType.data, version, platform);
  const formatted = formatWorkerSource(source);
  const vendor = provisioner.vendorFor(formatted).name;
  const rebuild = request.rebuild === true && source.kind === "local";
  return provisioner.provision({ id, source: formatted, rebuild }, signal, listener, {
    // A local build and a release of one version share an id: asking for one replaces the other.
    replaceIf: async (installed) => {
      if (rebuild) return "a rebuild of llama.cpp was asked for";
      if (installed.details?.vendor !== vendor) return `it was installed from ${installed.details?.vendor ?? "an unknown vendor"}, and ${vendor} was asked for`;
      return localBuildStaleness(installed);
    },
  });
}

function checkApiUrl(raw: string): string {
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
    throw new RbeeError(400, "invalid_github_api_url", `GitHub API URL '${raw}' (githubApiUrl or RBEE_GITHUB_API_URL) is not an http(s) URL; use e.g. ${DEFAULTS.githubApiUrl}`);
  }
  return raw.replace(/\/+$/, "");
}
