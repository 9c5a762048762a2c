// The worker vendor for sources `gh:owner/repo@tag`: finds the release's asset named like the worker
// id (release-asset-names.ts: `cpu-llm-worker-rbee-v0.1.0-linux.tar.gz`, a release archive, with or
// without the version, as a native executable, or a `.mjs`/`.js` Node script), downloads it into
// the catalog, resumably, checked against GitHub's sha256 digest, and unpacks an archive.
import { chmod } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import { checkSafeSegment, printable } from "../../catalog/artifact-id.js";
import type { VendorContext, VendorSource } from "../../catalog/vendor-source.js";
import type { WorkerArtifact, WorkerDetails } from "../../catalog/worker/worker-artifact.js";
import { type DownloadGaveUp, downloadResumable } from "../download/resumable-download.js";
import { fetchGitHubRelease, type GitHubReleaseAsset } from "./github-release.js";
import { parseWorkerId, type WorkerIdParts } from "./parse-worker-id.js";
import { type AssetForm, releaseAssetNames } from "./release-asset-names.js";
import { unpackWorkerArchive } from "./unpack-worker-archive.js";
import { GITHUB_PREFIX, parseWorkerSource } from "./worker-source.js";

/** The vendor name a release's catalog entry records. */
export const GITHUB_RELEASES_VENDOR = "github-releases";

/** Assets named in the message when none fits; releases with every platform can have dozens. */
const MAX_LISTED_ASSETS = 40;

/** A download that failed every retry keeps its part, so installing again resumes it. */
const WORKER_DOWNLOAD_GAVE_UP: DownloadGaveUp = { code: "worker_download_failed", resumeBy: "installing the worker again" };

export interface GitHubReleasesOptions {
  /** e.g. `https://api.github.com`. */
  apiUrl: string;
  token: string | undefined;
}

export class GitHubReleasesVendor implements VendorSource<WorkerArtifact> {
  readonly name = GITHUB_RELEASES_VENDOR;
  private readonly apiUrl: string;

  constructor(private readonly options: GitHubReleasesOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
  }

  supports(source: string): boolean {
    return source.slice(0, GITHUB_PREFIX.length).toLowerCase() === GITHUB_PREFIX;
  }

  async fetch(request: { id: string; source: string }, folder: string, context: VendorContext): Promise<WorkerArtifact> {
    const source = parseWorkerSource(request.source);
    if (source.kind !== "github") throw new RbeeError(400, "invalid_worker_source", `'${request.source}' is not a GitHub release source`);
    const wanted = parseWorkerId(request.id);
    const { workerType, version, platform } = wanted;
    const named = `${source.owner}/${source.repo}@${source.tag}`;
    if (version !== source.version) {
      throw new RbeeError(400, "worker_version_mismatch", `'${request.id}' is version ${version}, but release ${named} is version ${source.version}; name the release tagged v${version}`);
    }
    context.narrate("resolve", `looking up release ${named} on ${this.apiUrl}`);
    const { owner, repo, tag } = source;
    const release = await fetchGitHubRelease({ apiUrl: this.apiUrl, token: this.options.token, owner, repo, tag, signal: context.signal });
    const { asset, form } = pickAsset(release.assets, wanted, request.id, named);
    // The asset name is the id plus a known suffix, so it is a safe file name; checked anyway.
    const fileName = checkSafeSegment(asset.name, "release asset");
    const expectedSha256 = sha256Of(asset.digest);
    if (expectedSha256 === null) context.narrate("unverified", `GitHub gives no sha256 digest for ${asset.name}; only its size is checked and its sha256 recorded`);
    context.narrate("download", `downloading ${asset.name} (${asset.size} bytes) from ${asset.browser_download_url}`);
    const url = checkHttpUrl(asset.browser_download_url);
    const file = await downloadResumable(
      {
        url,
        headers: { "user-agent": "rbee-hive" },
        folder,
        fileName,
        expectedSha256,
        expectedBytes: asset.size,
        label: url,
        refusal: (response) => new RbeeError(502, "worker_download_failed", `downloading ${url} answered ${response.status} ${response.statusText}; try again later`),
        gaveUp: WORKER_DOWNLOAD_GAVE_UP,
      },
      context,
    );
    if (expectedSha256 === null) context.narrate("downloaded", `${asset.name}: sha256 ${file.sha256} (GitHub published none to compare)`);
    else context.narrate("verified", `${asset.name}: sha256 ${file.sha256} matches GitHub's digest`);
    if (form === "native") await chmod(path.join(folder, fileName), 0o755);
    const entry = form === "archive" ? await unpackWorkerArchive(folder, fileName, wanted, context) : fileName;
    const runtime: WorkerDetails["runtime"] = form === "native" ? "native" : "node";
    return {
      id: request.id,
      status: { state: "available" },
      sizeBytes: file.bytes,
      addedAt: new Date().toISOString(),
      details: { workerType, version, platform, vendor: this.name, origin: asset.browser_download_url, entry, runtime, sha256: file.sha256 },
    };
  }
}

function pickAsset(assets: readonly GitHubReleaseAsset[], wanted: WorkerIdParts, id: string, named: string): { asset: GitHubReleaseAsset; form: AssetForm } {
  for (const candidate of releaseAssetNames(wanted.workerType, wanted.version, wanted.platform)) {
    const asset = assets.find((each) => each.name === candidate.name);
    if (asset) return { asset, form: candidate.form };
  }
  const names = assets.slice(0, MAX_LISTED_ASSETS).map((asset) => printable(asset.name));
  if (assets.length > MAX_LISTED_ASSETS) names.push(`and ${assets.length - MAX_LISTED_ASSETS} more`);
  const existing = assets.length === 0 ? "it has no assets" : `it has ${names.join(", ")}`;
  throw new RbeeError(
    404,
    "worker_asset_not_found",
    `release ${named} has no asset named ${id}.tar.gz (nor ${id}, ${id}.mjs, ${id}.js, nor these without the version, like ${wanted.workerType}-llm-worker-rbee-${wanted.platform}.tar.gz); ${existing}. Pick a worker type and platform that release was built for`,
  );
}


/** The download URL comes from GitHub's answer; only http(s) is fetched, whatever it says. */
function checkHttpUrl(url: string): string {
  if (!/^https?:\/\//.test(url)) throw new RbeeError(502, "worker_download_failed", `refusing to download '${url}': only http and https URLs are fetched`);
  return url;
}

/** The hex of a `sha256:<hex>` digest; null when absent or of another algorithm. */
function sha256Of(digest: string | null | undefined): string | null {
  const match = /^sha256:([0-9a-fA-F]{64})$/.exec(digest ?? "");
  return match?.[1]?.toLowerCase() ?? null;
}
